"""A step whose output is too large for the journal fails with a TerminalError naming the step and
the limit, at once, instead of being retried (and its model call paid) again and again.

The first test pins down what restate-server 1.7 itself does with such a step (the reason for the
check); the others go through the toolkit's three journaling sites with the real default limit:
a journaled tool, a model response through the Agents SDK adapter, and an ``llm_call`` step.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Optional

import httpx
import pytest
from pydantic import BaseModel
from restate import TerminalError
from restate.serde import Serde

from integrations._journal import (
    DEFAULT_MAX_STEP_BYTES,
    MAX_STEP_BYTES_ENV,
    journal_limited,
    journal_sized,
    max_step_bytes,
)
from integrations.runtime import IngressError, RestateServer, Stack, wait_until
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, text, tool_call

from ..conftest import APPS, Effects

APP = f"{APPS}/oversized_app.py:app"
MiB = 1024 * 1024
TOO_BIG = 40 * MiB
SERVER_LIMIT = 33816576
"""What restate-server 1.7.12 reports as its message size limit: 32 MiB ``message-size-limit`` + 256 KiB."""


def invocation(server: RestateServer, invocation_id: str) -> dict[str, Any]:
    rows = server.query(
        "SELECT status, retry_count, last_failure, last_failure_error_code, completion_result, completion_failure "
        f"FROM sys_invocation WHERE id = '{invocation_id}'"
    )
    return rows[0]


def failed_at_once(stack: Stack, server: RestateServer, invocation_id: str) -> str:
    """The invocation's error: it must fail for good on its first attempt, not be retried."""

    def settled() -> bool:
        row = invocation(server, invocation_id)
        assert "last_failure" not in row and int(row.get("retry_count") or 0) <= 1, f"retried: {row}"
        return bool(row["status"] == "completed")

    wait_until(settled, timeout=60, what="the invocation to fail")
    assert invocation(server, invocation_id)["completion_result"] == "failure"
    with pytest.raises(IngressError) as failure:
        stack.ingress.attach(invocation_id)
    return failure.value.message


def scripted(request: ModelRequest) -> Reply:
    """``report`` asks for the 40 MiB report; a number N gets N bytes of answer."""
    if request.tool_outputs():
        return text("read it")
    if "report" in request.last_user_text:
        return tool_call("fetch_report", {"size": TOO_BIG})
    return text("m" * int(request.last_user_text))


LOWERED = 4 * MiB
"""The limit of the second stack: the model answers over it stay small enough to be quick."""


@dataclass
class Stacks:
    default: Stack
    """Served with the default limit."""
    lowered: Stack
    """Served with ``DURABLE_AGENTS_MAX_STEP_BYTES`` = :data:`LOWERED`."""
    model: ScriptedModelServer
    effects: Effects


@pytest.fixture(scope="module")
def stacks(restate_server: RestateServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stacks]:
    base = tmp_path_factory.mktemp("step-size")
    effects = Effects(base / "effects.log")
    model = ScriptedModelServer(scripted).start()
    env = {**model.client_env(), "EFFECTS_FILE": str(effects.path), "GATE_DIR": str(base)}

    def start(limit: dict[str, str], name: str) -> Stack:
        return Stack(restate_server, APP, env=env | limit, log_dir=base / name).start()

    with ThreadPoolExecutor(2) as pool:
        default, lowered = pool.map(start, [{}, {MAX_STEP_BYTES_ENV: str(LOWERED)}], ["default", "lowered"])
    yield Stacks(default, lowered, model, effects)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(Stack.stop, [default, lowered]))
    model.stop()


@pytest.fixture
def served(stacks: Stacks, restate_server: RestateServer) -> Stacks:
    stacks.model.reset(scripted)
    return stacks


def test_without_the_check_restate_refuses_the_message_and_retries_the_step(
    restate_server: RestateServer, served: Stacks
) -> None:
    served.default.server.register(served.default.services[0].uri)
    invocation_id = served.default.ingress.send("Oversized", "raw_step", TOO_BIG)
    try:
        wait_until(
            lambda: int(invocation(restate_server, invocation_id).get("retry_count") or 0) >= 2,
            timeout=60,
            what="the oversized step to be retried",
        )
        row = invocation(restate_server, invocation_id)
        assert row["status"] != "completed"
        assert row["last_failure_error_code"] == "RT0003"
        assert f"hit message size limit: {TOO_BIG + 9} >= {SERVER_LIMIT}" in row["last_failure"], row
        assert served.effects.count(f"produce:{TOO_BIG}") >= 2  # every retry runs the step again
    finally:
        httpx.patch(f"{restate_server.admin_url}/invocations/{invocation_id}/kill", timeout=30).raise_for_status()
    assert DEFAULT_MAX_STEP_BYTES < SERVER_LIMIT


def test_a_journaled_tool_answer_over_the_default_limit_fails_its_step_once(
    restate_server: RestateServer, served: Stacks
) -> None:
    served.default.server.register(served.default.services[0].uri)
    invocation_id = served.default.ingress.send("Oversized", "agent_run", "Fetch the big report")

    message = failed_at_once(served.default, restate_server, invocation_id)
    assert message.startswith(f"step 'Tool: fetch_report' produced {TOO_BIG + 2:,} bytes (40.0 MiB) of output, ")
    assert "more than the 32,505,856 bytes (31.0 MiB) a journal entry may hold" in message
    assert MAX_STEP_BYTES_ENV in message
    assert served.effects.count(f"fetch_report:{TOO_BIG}") == 1
    assert len(served.model.requests) == 1


LOWERED_TEXT = f"more than the {LOWERED:,} bytes (4.0 MiB) a journal entry may hold"


@pytest.mark.parametrize(
    ("handler", "step"),
    [("agent_run", "step 'LLM call: gpt-4o'"), ("llm", "the step running llm_call")],
    ids=["agents-sdk-model-response", "llm_call-response"],
)
def test_a_model_response_over_the_limit_fails_its_step_once(
    restate_server: RestateServer, served: Stacks, handler: str, step: str
) -> None:
    """Through the Agents SDK adapter (``agent_run``) and through an ``llm_call`` step (``llm``)."""
    served.lowered.server.register(served.lowered.services[0].uri)
    assert served.lowered.ingress.call("Oversized", handler, str(LOWERED - 4096)) == "m" * 100  # fits
    invocation_id = served.lowered.ingress.send("Oversized", handler, str(LOWERED))

    message = failed_at_once(served.lowered, restate_server, invocation_id)
    assert message.startswith(f"{step} produced ") and LOWERED_TEXT in message, message
    assert len(served.model.requests) == 2  # one each: the model was not asked again


# -- the helper itself, without a server ---------------------------------------------------------------


class Weather(BaseModel):
    city: str


def test_journal_limited_keeps_the_serde_run_typed_would_choose(monkeypatch: pytest.MonkeyPatch) -> None:
    serde: Serde[Weather | None] = journal_limited("Tool: weather", type_hint=Optional[Weather])  # noqa: UP045 - as hints come
    assert serde.deserialize(serde.serialize(Weather(city="Oslo"))) == Weather(city="Oslo")
    monkeypatch.setenv(MAX_STEP_BYTES_ENV, "20")
    with pytest.raises(TerminalError) as failure:
        serde.serialize(Weather(city="Llanfairpwllgwyngyll"))
    assert failure.value.message.startswith(
        "step 'Tool: weather' produced 31 bytes (0.0 MiB) of output, more than the 20"
    )


def test_journal_sized_checks_only_inside_a_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_STEP_BYTES_ENV, "1")
    response = Weather(city="Oslo")
    assert journal_sized(response, "the step running llm_call") is response  # no journal: nothing to check


@pytest.mark.parametrize("value", ["many", "0", "-5"])
def test_a_bad_limit_in_the_environment_is_reported(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(MAX_STEP_BYTES_ENV, value)
    with pytest.raises(ValueError, match=MAX_STEP_BYTES_ENV):
        max_step_bytes()
