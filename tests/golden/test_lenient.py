"""A journal written before an SDK upgrade still decodes after it: leniently, with one warning.

The payloads are the current golden ones, changed the way an upgrade changes them: a field the
reading SDK does not know (added by the writer's version, or removed from the reader's), and a
field the journal lacks (optional for the writer, required or new for the reader).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from agents.items import ModelResponse
from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage, ResponseOutputText
from restate import TerminalError
from restate.serde import DefaultSerde

import integrations._warn as logged_once
import integrations.openai_agents._serde as agents_serde
from integrations.litellm import LLMResponse
from integrations.openai_agents import ModelResponseSerde

from .record import version_dir

CURRENT = version_dir()


def golden(stem: str) -> Any:
    return json.loads((CURRENT / f"{stem}.json").read_text())["payload"]


@pytest.fixture
def warnings_(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[str]]]:
    """The lenient-decoding warnings logged during the test (the logged-once memory starts empty)."""
    logged_once._warned.clear()
    caplog.set_level(logging.WARNING)
    yield lambda: [r.getMessage() for r in caplog.records if "decoded leniently" in r.getMessage()]
    logged_once._warned.clear()


def decode(payload: Any) -> ModelResponse:
    response = ModelResponseSerde().deserialize(json.dumps(payload).encode())
    assert response is not None
    return response


def first_text(response: ModelResponse) -> str:
    """The text of the response's first output item, a message."""
    message = response.output[0]
    assert isinstance(message, ResponseOutputMessage)
    part = message.content[0]
    assert isinstance(part, ResponseOutputText)
    return part.text


def resent(response: ModelResponse) -> list[dict[str, Any]]:
    """The items as the SDK sends them to the model in the next request."""
    return [item.model_dump(mode="json", by_alias=True, exclude_unset=True) for item in response.output]


# --- ModelResponse (openai-agents) -----------------------------------------------------------------
def test_unknown_fields_decode_and_warn_once(warnings_: Callable[[], list[str]]) -> None:
    payload = copy.deepcopy(golden("model_response.responses_text"))
    payload["output"][0]["verbosity_hint"] = "low"  # written by a newer SDK / removed from this one
    payload["output"][0]["content"][0]["citations_v2"] = []
    payload["usage"]["cost_micros"] = 12
    payload["served_by"] = "eu-1"

    response = decode(payload)
    assert resent(response) == payload["output"]  # unknown item fields are kept and re-sent as journaled
    assert first_text(response) == "Oslo is sunny, 21 degrees."
    assert response.usage.total_tokens == payload["usage"]["total_tokens"]
    assert len(warnings_()) == 3  # item fields, usage field, ModelResponse field
    decode(payload)
    assert len(warnings_()) == 3  # logged once per process, not on every replay


def test_a_field_the_journal_lacks_is_left_unset_and_not_re_sent(warnings_: Callable[[], list[str]]) -> None:
    payload = copy.deepcopy(golden("model_response.responses_text"))
    del payload["output"][0]["status"]  # required by this SDK, absent from an older one's journal
    for key in ("request_id", "raw_usage"):
        del payload[key]
    del payload["usage"]["input_tokens_details"]

    response = decode(payload)
    assert resent(response) == payload["output"]
    assert first_text(response) == "Oslo is sunny, 21 degrees."
    message = response.output[0]
    assert isinstance(message, ResponseOutputMessage)
    status: object = message.status  # typed as this SDK's Literal; the older journal had none
    assert status is None
    assert response.request_id is None and response.usage.input_tokens_details.cached_tokens == 0
    (warning,) = warnings_()
    assert "message item does not validate" in warning and "status: missing" in warning
    decode(payload)
    assert len(warnings_()) == 1


def test_a_value_this_sdk_no_longer_accepts_is_kept_as_journaled(warnings_: Callable[[], list[str]]) -> None:
    payload = copy.deepcopy(golden("model_response.responses_tool_call"))
    payload["output"][0]["status"] = "paused"  # a status value this SDK's Literal does not list
    response = decode(payload)
    assert resent(response) == payload["output"]
    call = response.output[0]
    assert isinstance(call, ResponseFunctionToolCall)
    assert call.name == "get_weather" and call.call_id == "call_golden_1"
    assert len(warnings_()) == 1


def test_a_field_the_sdk_removed_from_model_response_is_dropped(
    warnings_: Callable[[], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    @dataclasses.dataclass
    class OlderModelResponse:  # ModelResponse as if request_id and raw_usage had been removed
        output: list[Any]
        usage: Any
        response_id: str | None

    monkeypatch.setattr(agents_serde, "ModelResponse", OlderModelResponse)
    payload = golden("model_response.responses_tool_call")
    response = agents_serde.load_response(payload)
    assert isinstance(response, OlderModelResponse) and response.response_id == payload["response_id"]
    assert warnings_() and "['raw_usage', 'request_id']" in warnings_()[0]


def test_an_unknown_item_type_fails_terminally_instead_of_retrying_forever(warnings_: Callable[[], list[str]]) -> None:
    payload = copy.deepcopy(golden("model_response.responses_text"))
    payload["output"].append({"type": "hologram", "id": "h_1"})
    with pytest.raises(TerminalError, match="output\\[1\\] has type 'hologram'"):
        decode(payload)


# --- LLMResponse (LiteLLM) --------------------------------------------------------------------------
def llm_decode(payload: Any) -> LLMResponse:
    response = DefaultSerde[LLMResponse]().with_maybe_type(LLMResponse).deserialize(json.dumps(payload).encode())
    assert isinstance(response, LLMResponse)
    return response


def test_llm_response_unknown_fields_are_dropped_with_one_warning(warnings_: Callable[[], list[str]]) -> None:
    original = golden("llm_response.tool_calls")
    payload = copy.deepcopy(original)
    payload["system_fingerprint"] = "fp_1"
    payload["tool_calls"][0]["index"] = 0
    payload["usage"]["cost"] = 0.001
    response = llm_decode(payload)
    assert json.loads(response.model_dump_json()) == original
    assert len(warnings_()) == 3
    llm_decode(payload)
    assert len(warnings_()) == 3


def test_llm_response_missing_or_no_longer_valid_optional_fields_get_defaults(
    warnings_: Callable[[], list[str]],
) -> None:
    original = golden("llm_response.structured")
    payload = copy.deepcopy(original)
    del payload["finish_reason"]  # written by a version without these fields
    del payload["refusal"]
    payload["model"] = {"name": "gpt-4o"}  # a shape this version no longer accepts
    response = llm_decode(payload)
    assert (response.finish_reason, response.refusal, response.model) == (None, None, None)
    assert response.parsed == original["parsed"] and response.content == original["content"]
    assert len(warnings_()) == 2  # lacking fields; no longer valid field
