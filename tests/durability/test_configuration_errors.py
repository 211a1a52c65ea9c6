"""A provider that cannot even be addressed (no API key, a malformed base URL, an unknown model
prefix) fails the invocation at once, with a message naming what to set, instead of retrying."""

from __future__ import annotations

import asyncio

import httpx2
import openai
import pytest

from integrations.errors import ErrorKind, classify_provider_error
from integrations.openai_agents._unbuilt import UnbuiltModel
from integrations.runtime import IngressError, RestateServer, Stack
from integrations.testing import ModelCall
from integrations.testing.pytest_plugin import ServeFactory

from ..conftest import REPO_ROOT

README_APP = f"{REPO_ROOT}/tests/apps/readme_style_app.py:app"
LITELLM_APP = f"{REPO_ROOT}/examples/tool_routing.py:app"
NO_KEY = {"OPENAI_API_KEY": None}


def failure(stack: Stack, service: str, handler: str, payload: object) -> IngressError:
    with pytest.raises(IngressError) as refused:
        stack.ingress.call(service, handler, payload)
    return refused.value


def retries(server: RestateServer, service: str) -> list[int]:
    rows = server.query(f"SELECT retry_count FROM sys_invocation WHERE target_service_name = '{service}'")
    return [row.get("retry_count", 0) for row in rows]


@pytest.mark.parametrize("replay", [False, True], ids=["normal", "always-replay"])
def test_no_api_key_fails_at_once_naming_the_variable(
    restate_server: RestateServer, replay_server: RestateServer, serve: ServeFactory, replay: bool
) -> None:
    server = replay_server if replay else restate_server
    stack = serve(server, README_APP, env=NO_KEY)
    error = failure(stack, "ReadmeAgent", "run", "hello")
    assert error.message.startswith("step 'LLM call: ") and "OPENAI_API_KEY is not set: set it" in error.message
    assert retries(server, "ReadmeAgent") == [0]  # not one retry


def test_a_malformed_base_url_fails_at_once_naming_the_variable(
    restate_server: RestateServer, serve: ServeFactory
) -> None:
    stack = serve(restate_server, README_APP, env={"OPENAI_BASE_URL": "localhost:1/v1"})
    error = failure(stack, "ReadmeAgent", "run", "hello")
    assert "check OPENAI_BASE_URL" in error.message


def test_litellm_without_a_key_fails_at_once(restate_server: RestateServer, serve: ServeFactory) -> None:
    stack = serve(restate_server, LITELLM_APP, env=NO_KEY)
    error = failure(stack, "SupportAgent", "route", {"message": "hi"})
    assert "OPENAI_API_KEY is not set: set it" in error.message and "not retried" in error.message
    assert retries(restate_server, "SupportAgent") == [0]


def test_the_table_knows_configuration_errors() -> None:
    missing = openai.OpenAIError("Missing credentials. Please pass an `api_key`, or set the `OPENAI_API_KEY` variable.")
    verdict = classify_provider_error(missing)
    assert verdict is not None and verdict.kind is ErrorKind.CONFIGURATION and verdict.terminal
    assert "OPENAI_API_KEY" in (verdict.fix or "")

    connection = openai.APIConnectionError(request=httpx2.Request("POST", "http://x"))
    connection.__cause__ = httpx2.UnsupportedProtocol("Request URL has an unsupported protocol 'localhost://'.")
    verdict = classify_provider_error(connection)
    assert verdict is not None and verdict.kind is ErrorKind.CONFIGURATION and "OPENAI_BASE_URL" in (verdict.fix or "")

    refused = openai.APIConnectionError(request=httpx2.Request("POST", "http://x"))
    refused.__cause__ = httpx2.ConnectError("connection refused")
    verdict = classify_provider_error(refused)
    assert verdict is not None and verdict.kind is ErrorKind.CONNECTION and not verdict.terminal  # may heal


def test_a_build_error_the_table_does_not_know_is_terminal_and_named() -> None:
    from restate.exceptions import TerminalError

    model = UnbuiltModel("foo/bar", RuntimeError("the client factory broke"))
    assert model.model == "foo/bar"
    with pytest.raises(TerminalError, match="cannot build the model 'foo/bar': the client factory broke"):
        asyncio.run(ModelCall.plain("hi").get_response(model))
    assert UnbuiltModel("openai/gpt-4o", RuntimeError("x")).model == "gpt-4o"  # the step keeps its name
