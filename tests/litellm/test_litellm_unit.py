"""``integrations.litellm`` without a Restate server: message shapes, the journal round trip,
structured output, options on the wire, tenacity retries in plain scripts, and the budget."""

from __future__ import annotations

import inspect
import json

import pytest
from litellm.exceptions import AuthenticationError, ServiceUnavailableError
from pydantic import BaseModel
from restate.serde import DefaultSerde

from integrations.litellm import (
    LLMResponse,
    Message,
    StructuredOutputError,
    TokenBudget,
    TokenBudgetExceeded,
    Usage,
    llm_call,
    token_budget,
    tool,
    tool_result,
)
from integrations.litellm._messages import normalise_messages
from integrations.litellm._retry import in_restate_step
from integrations.testing import ScriptedModelServer, error, text, tool_call


@pytest.fixture
def model(model_server: ScriptedModelServer, monkeypatch: pytest.MonkeyPatch) -> ScriptedModelServer:
    for name, value in model_server.client_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DURABLE_AGENTS_LLM_MODEL", raising=False)
    return model_server


class Ticket(BaseModel):
    title: str
    priority: int


# -- shapes ----------------------------------------------------------------------------------


def test_tool_and_tool_result_shapes() -> None:
    assert tool("ping", "Check liveness") == {
        "type": "function",
        "function": {
            "name": "ping",
            "description": "Check liveness",
            "parameters": {"type": "object", "properties": {}},
        },
    }
    schema = Ticket.model_json_schema()
    assert tool("file", "File a ticket", schema)["function"]["parameters"] == schema

    assert tool_result("call_1", "ping", "pong") == {
        "role": "tool",
        "tool_call_id": "call_1",
        "name": "ping",
        "content": "pong",
    }
    assert json.loads(tool_result("call_2", "db", {"plan": "pro", "seats": 3})["content"]) == {
        "plan": "pro",
        "seats": 3,
    }
    assert json.loads(tool_result("call_3", "file", Ticket(title="x", priority=1))["content"]) == {
        "title": "x",
        "priority": 1,
    }


def test_model_dump_is_a_chat_message_and_json_is_the_full_record() -> None:
    with_tools = LLMResponse.model_validate_json(
        json.dumps(
            {
                "content": None,
                "tool_calls": [{"id": "c1", "function": {"name": "ping", "arguments": "{}"}}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
                "parsed": None,
                "model": "gpt-4o",
                "finish_reason": "tool_calls",
            }
        )
    )
    assert with_tools.model_dump() == {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "ping", "arguments": "{}"}}],
    }
    plain = LLMResponse(content="hi")
    assert plain.model_dump() == {"role": "assistant", "content": "hi"}  # no empty tool_calls, no None junk
    assert LLMResponse().model_dump() == {"role": "assistant", "content": ""}

    record = json.loads(with_tools.model_dump_json())
    assert record["usage"]["total_tokens"] == 5 and record["finish_reason"] == "tool_calls"


def test_restate_default_serde_round_trips_llm_call_results() -> None:
    """What ``ctx.run_typed`` does without a type_hint: serde chosen from the return annotation."""
    hint = inspect.signature(llm_call, eval_str=True).return_annotation
    assert hint is LLMResponse
    serde = DefaultSerde[LLMResponse]().with_maybe_type(hint)
    original = LLMResponse(
        content='{"title": "t", "priority": 2}',
        usage=Usage(prompt_tokens=7, completion_tokens=4, total_tokens=11),
        parsed={"title": "t", "priority": 2},
        finish_reason="stop",
    )
    restored = serde.deserialize(serde.serialize(original))
    assert isinstance(restored, LLMResponse)
    assert restored == original
    assert restored.parsed_as(Ticket) == Ticket(title="t", priority=2)


def test_messages_are_normalised() -> None:
    assert normalise_messages("hello") == [{"role": "user", "content": "hello"}]
    response = LLMResponse(content="hi", usage=Usage(total_tokens=4))
    as_json = json.loads(response.model_dump_json())  # someone appended the full record
    assert normalise_messages([{"role": "user", "content": "q"}, response, as_json]) == [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "hi"},
        {"role": "assistant", "content": "hi"},
    ]
    with pytest.raises(TypeError, match=r"messages\[0\]"):
        normalise_messages([42])  # type: ignore[list-item]


# -- against the scripted model, no Restate ---------------------------------------------------


async def test_llm_call_round_trip_with_tools_and_options(model: ScriptedModelServer) -> None:
    model.enqueue(tool_call("ping", {"host": "a"}, call_id="call_x"), text("all good"))
    tools = [tool("ping", "Check a host", {"type": "object", "properties": {"host": {"type": "string"}}})]
    messages: list[Message] = [{"role": "user", "content": "is host a up?"}]

    first = await llm_call(messages, tools=tools, temperature=0.2, max_tokens=50, seed=7, tool_choice="auto")
    assert first.content is None
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in first.tool_calls] == [
        ("call_x", "ping", {"host": "a"})
    ]
    assert first.usage.total_tokens == 15 and first.finish_reason == "tool_calls"

    messages.append(first.model_dump())
    messages.append(tool_result("call_x", "ping", {"up": True}))
    second = await llm_call(messages, tools=tools)
    assert second.content == "all good" and second.tool_calls == []

    sent = model.requests[0].body
    assert sent["model"] == "gpt-4o"  # the default openai/gpt-4o, routed to $OPENAI_BASE_URL
    assert (sent["temperature"], sent["max_tokens"], sent["seed"], sent["tool_choice"]) == (0.2, 50, 7, "auto")
    assert model.requests[1].tool_outputs() == ['{"up": true}']


async def test_model_from_environment(model: ScriptedModelServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DURABLE_AGENTS_LLM_MODEL", "openai/gpt-4o-mini")
    await llm_call("hi")
    await llm_call("hi", model="openai/o3")
    assert [r.model for r in model.requests] == ["gpt-4o-mini", "o3"]


async def test_structured_output(model: ScriptedModelServer) -> None:
    model.enqueue(text('{"title": "Login broken", "priority": 1}'), text("not json at all"))

    response = await llm_call("file a ticket", response_format=Ticket)

    assert response.parsed == {"title": "Login broken", "priority": 1}
    assert response.parsed_as(Ticket) == Ticket(title="Login broken", priority=1)
    schema = model.requests[0].body["response_format"]
    assert schema["type"] == "json_schema" and schema["json_schema"]["name"] == "Ticket"

    with pytest.raises(StructuredOutputError):
        await llm_call("file a ticket", response_format=Ticket)


async def test_outside_restate_tenacity_retries_retryable_errors(model: ScriptedModelServer) -> None:
    assert not in_restate_step()
    model.enqueue(error(429, "slow down", retry_after=0.5), error(500, "boom"), text("third time lucky"))

    response = await llm_call("hi")

    assert response.content == "third time lucky"
    assert len(model.requests) == 3
    assert model.requests[1].received_at - model.requests[0].received_at >= 0.5  # Retry-After honoured


async def test_outside_restate_terminal_errors_are_not_retried(model: ScriptedModelServer) -> None:
    model.enqueue(error(401, "bad key"))
    with pytest.raises(AuthenticationError):
        await llm_call("hi")
    assert len(model.requests) == 1


async def test_outside_restate_attempts_are_bounded(model: ScriptedModelServer) -> None:
    model.responder = lambda request: error(503, "unavailable", retry_after=0)
    with pytest.raises(ServiceUnavailableError):
        await llm_call("hi", max_attempts=3)
    assert len(model.requests) == 3


# -- budget -----------------------------------------------------------------------------------


def _used(tokens: int) -> LLMResponse:
    return LLMResponse(content="x", usage=Usage(total_tokens=tokens))


def test_token_budget_counts_and_names_itself() -> None:
    budget = TokenBudget(100, name="triage")
    budget.charge(_used(60))
    budget.charge(_used(40))  # exactly at the limit is allowed
    assert (budget.used, budget.remaining, budget.calls) == (100, 0, 2)
    with pytest.raises(TokenBudgetExceeded) as exceeded:
        budget.charge(_used(1))
    assert "token budget 'triage' exceeded: 101 tokens used, limit 100" in str(exceeded.value)
    with pytest.raises(ValueError, match="max_tokens must be positive"):
        TokenBudget(0)


def test_token_budget_is_shared_per_context() -> None:
    class FakeContext:  # any object standing for one invocation attempt
        pass

    ctx, other = FakeContext(), FakeContext()
    assert token_budget(ctx, 50) is token_budget(ctx, 50)
    assert token_budget(other, 50) is not token_budget(ctx, 50)
    assert token_budget(ctx, 50, name="other") is not token_budget(ctx, 50)
    with pytest.raises(ValueError, match="already exists"):
        token_budget(ctx, 60)
