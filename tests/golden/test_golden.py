"""Journals written by this and earlier library versions still replay with today's code.

``tests/golden/<versions>/`` holds what the adapters journaled (see ``record.py``). For every set:
model responses decode and re-send their items exactly as journaled, LLM responses decode to the
same record, session state is handed to the model as stored, and a streamed run replays the same
events. The set of the installed versions must round-trip byte for byte and decode strictly (no
lenient fallback); older sets may need the lenient decoder, which is the point of keeping them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from agents import Agent, RunConfig, Runner
from agents.items import ModelResponse
from restate.serde import DefaultSerde

from integrations.litellm import LLMResponse
from integrations.openai_agents import ModelResponseSerde, RestateSession
from integrations.openai_agents._stream import replay_as_stream
from integrations.testing import ScriptedModel, text

from .record import GOLDEN, FakeObjectContext, record, version_dir

SETS = sorted(path for path in GOLDEN.iterdir() if path.is_dir() and not path.name.startswith("__"))
CURRENT = version_dir()


def payloads(prefix: str) -> list[tuple[Path, Any]]:
    found = []
    for directory in SETS:
        for path in sorted(directory.glob(f"{prefix}.*.json")):
            found.append((path, json.loads(path.read_text())["payload"]))
    return found


def ids(cases: list[tuple[Path, Any]]) -> list[str]:
    return [f"{path.parent.name[:40]}/{path.stem}" for path, _ in cases]


def assert_contains(golden: Any, today: Any, where: str = "") -> None:
    """Every field of the golden value is in today's value, equal (today may add fields)."""
    if isinstance(golden, dict):
        assert isinstance(today, dict), where
        for key, value in golden.items():
            assert key in today, f"{where}.{key} missing"
            assert_contains(value, today[key], f"{where}.{key}")
    elif isinstance(golden, list):
        assert isinstance(today, list) and len(today) == len(golden), where
        for index, (old, new) in enumerate(zip(golden, today, strict=False)):
            assert_contains(old, new, f"{where}[{index}]")
    else:
        assert golden == today, f"{where}: {golden!r} != {today!r}"


@pytest.fixture
def no_lenient_warnings(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.WARNING)
    yield
    assert [r.getMessage() for r in caplog.records if "decoded leniently" in r.getMessage()] == []


def test_the_installed_versions_have_a_golden_set() -> None:
    assert CURRENT in SETS, f"run: .venv/bin/python -m tests.golden.record (no golden set for {CURRENT.name})"


async def test_recording_today_gives_the_current_set_byte_for_byte() -> None:
    recorded = await record()
    stored = {path.stem: json.loads(path.read_text())["payload"] for path in CURRENT.glob("*.json")}
    assert recorded == stored


MODEL_RESPONSES = payloads("model_response")


@pytest.mark.parametrize(("path", "payload"), MODEL_RESPONSES, ids=ids(MODEL_RESPONSES))
def test_model_responses_replay_as_journaled(
    path: Path, payload: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    serde = ModelResponseSerde()
    journaled = json.dumps(payload, separators=(",", ":")).encode()
    caplog.set_level(logging.WARNING)
    response = serde.deserialize(journaled)
    assert isinstance(response, ModelResponse)
    # the SDK re-sends output items to the model with exclude_unset: exactly what was journaled
    resent = [item.model_dump(mode="json", by_alias=True, exclude_unset=True) for item in response.output]
    assert resent == payload["output"]
    assert (response.response_id, response.request_id) == (payload["response_id"], payload["request_id"])
    assert_contains(
        {key: payload["usage"][key] for key in ("requests", "input_tokens", "output_tokens", "total_tokens")},
        vars(response.usage),
    )
    if path.parent == CURRENT:
        assert serde.serialize(response) == journaled
        assert not [r for r in caplog.records if "decoded leniently" in r.getMessage()]


LLM_RESPONSES = payloads("llm_response")


@pytest.mark.parametrize(("path", "payload"), LLM_RESPONSES, ids=ids(LLM_RESPONSES))
def test_llm_responses_replay_as_journaled(
    path: Path, payload: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    serde = DefaultSerde[LLMResponse]().with_maybe_type(LLMResponse)  # what ctx.run_typed(..., llm_call) uses
    journaled = json.dumps(payload).encode()
    caplog.set_level(logging.WARNING)
    response = serde.deserialize(journaled)
    assert isinstance(response, LLMResponse)
    assert_contains(payload, json.loads(response.model_dump_json()))
    names = [call["function"]["name"] for call in payload["tool_calls"]]
    assert [call.function.name for call in response.tool_calls] == names
    if payload["parsed"] is not None:
        assert response.parsed == payload["parsed"]
    if path.parent == CURRENT:
        assert json.loads(serde.serialize(response)) == payload
        assert not [r for r in caplog.records if "decoded leniently" in r.getMessage()]


SESSIONS = payloads("session")


@pytest.mark.parametrize(("path", "payload"), SESSIONS, ids=ids(SESSIONS))
async def test_session_state_is_sent_to_the_model_as_stored(path: Path, payload: dict[str, Any]) -> None:
    layout: Literal["list", "append"] = "append" if path.stem.endswith("append_layout") else "list"
    ctx = FakeObjectContext("alice", payload)
    stored = await RestateSession.history(ctx.restate, layout=layout)
    assert len(stored) == 4 and stored[0] == {"content": "Weather in Oslo?", "role": "user"}

    session = await RestateSession.create(session_id="alice", ctx=ctx.restate, layout=layout)
    model = ScriptedModel(text("next answer"))  # records the input the SDK sent it
    result = await Runner.run(
        Agent(name="Weather", instructions="You report the weather."),
        "And tomorrow?",
        session=session,
        run_config=RunConfig(model=model, tracing_disabled=True),
    )
    assert result.final_output == "next answer"
    sent = [
        json.loads(json.dumps(item, default=lambda o: o.model_dump(exclude_unset=True)))
        for item in model.calls[0].items
    ]
    assert sent[: len(stored)] == stored  # the earlier turn reaches the model exactly as stored
    assert sent[len(stored)] == {"content": "And tomorrow?", "role": "user"}
    history = await RestateSession.history(ctx.restate, layout=layout)
    assert history[: len(stored)] == stored and len(history) == len(stored) + 2


STREAMS = payloads("stream")


@pytest.mark.parametrize(("path", "payload"), STREAMS, ids=ids(STREAMS))
async def test_streamed_runs_replay_the_same_events(path: Path, payload: list[Any]) -> None:
    source = path.parent / f"model_response.{path.stem.split('.', 1)[1]}.json"
    response = ModelResponseSerde().deserialize(json.dumps(json.loads(source.read_text())["payload"]).encode())
    assert response is not None
    events = [event.model_dump(mode="json", exclude_unset=True) async for event in replay_as_stream(response, "gpt-4o")]
    if path.parent == CURRENT:
        assert events == payload
    else:
        assert_contains(payload, events)
