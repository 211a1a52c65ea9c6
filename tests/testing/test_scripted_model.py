"""The test kit's in-process ``ScriptedModel``: each reply builder through a real ``Runner.run``."""

from __future__ import annotations

import asyncio

import openai
import pytest
from agents import Agent, RunConfig, Runner, function_tool
from openai.types.responses import ResponseTextDeltaEvent
from pydantic import BaseModel
from restate.exceptions import TerminalError

from integrations.errors import classify_provider_error, to_restate_error
from integrations.testing import (
    ModelCall,
    Pace,
    ScriptedModel,
    error,
    handoff,
    structured,
    text,
    tool_call,
    tool_calls,
)

CONFIG = RunConfig(tracing_disabled=True)


@function_tool
def get_weather(city: str) -> str:
    """The weather in ``city``."""
    return f"sunny in {city}"


async def test_tool_call_then_text_records_every_call() -> None:
    model = ScriptedModel(tool_call("get_weather", {"city": "Paris"}), text("It is sunny in Paris."))
    agent = Agent(name="Weather", instructions="Report the weather.", tools=[get_weather], model=model)
    result = await Runner.run(agent, "Weather in Paris?", run_config=CONFIG)
    assert result.final_output == "It is sunny in Paris."
    assert model.request_count == 2
    first, second = model.calls
    assert first.last_user_text == "Weather in Paris?" and first.system_instructions == "Report the weather."
    assert [tool.name for tool in first.tools] == ["get_weather"]
    assert first.function_outputs() == 0 and second.function_outputs() == 1
    outputs = [item for item in second.items if isinstance(item, dict) and item.get("type") == "function_call_output"]
    assert outputs[0]["output"] == "sunny in Paris"


async def test_parallel_tool_calls_and_the_echo_default() -> None:
    model = ScriptedModel(tool_calls(("get_weather", {"city": "Oslo"}), ("get_weather", {"city": "Rome"})))
    agent = Agent(name="Weather", tools=[get_weather], model=model)
    result = await Runner.run(agent, "Two cities", run_config=CONFIG)
    assert result.final_output == "echo: Two cities"  # the script ran out: the responder echoes
    assert model.calls[1].function_outputs() == 2


async def test_handoff_reaches_the_named_agent() -> None:
    billing_model = ScriptedModel(text("Your invoice is on its way."))
    billing = Agent(name="Billing Agent", model=billing_model)
    triage_model = ScriptedModel(handoff("Billing Agent"))
    triage = Agent(name="Triage", handoffs=[billing], model=triage_model)
    result = await Runner.run(triage, "Where is my invoice?", run_config=CONFIG)
    assert result.last_agent is billing
    assert result.final_output == "Your invoice is on its way."
    assert triage_model.request_count == 1 and billing_model.request_count == 1


class Forecast(BaseModel):
    city: str
    celsius: float


async def test_structured_output_is_parsed_into_the_output_type() -> None:
    model = ScriptedModel(structured(Forecast(city="Oslo", celsius=-3.5)))
    agent = Agent(name="Forecaster", output_type=Forecast, model=model)
    result = await Runner.run(agent, "Oslo?", run_config=CONFIG)
    assert result.final_output == Forecast(city="Oslo", celsius=-3.5)
    assert model.calls[0].output_schema is not None


@pytest.mark.parametrize(
    ("status", "exception", "retryable"),
    [
        (429, openai.RateLimitError, True),
        (401, openai.AuthenticationError, False),
        (503, openai.InternalServerError, True),
    ],
)
async def test_error_replies_raise_what_the_openai_client_raises(
    status: int, exception: type[Exception], retryable: bool
) -> None:
    model = ScriptedModel(error(status, "scripted failure", retry_after=2))
    agent = Agent(name="Any", model=model)
    with pytest.raises(exception) as raised:
        await Runner.run(agent, "hi", run_config=CONFIG)
    verdict = classify_provider_error(raised.value)
    assert verdict is not None and verdict.terminal is not retryable
    assert status != 429 or verdict.retry_after is not None  # Retry-After reaches the table
    assert isinstance(to_restate_error(raised.value), TerminalError) is not retryable


async def test_an_exception_in_the_script_is_raised_as_is() -> None:
    model = ScriptedModel(ValueError("broken tool schema"))
    with pytest.raises(ValueError, match="broken tool schema"):
        await Runner.run(Agent(name="Any", model=model), "hi", run_config=CONFIG)


async def test_a_responder_answers_from_the_call() -> None:
    def responder(call: ModelCall) -> object:
        return text(f"{len(call.tools)} tools, turn {call.function_outputs()}")

    model = ScriptedModel(responder=responder)  # type: ignore[arg-type]
    result = await Runner.run(Agent(name="Any", tools=[get_weather], model=model), "hi", run_config=CONFIG)
    assert result.final_output == "1 tools, turn 0"


async def test_streamed_text_arrives_word_by_word_and_holds_at_a_gate() -> None:
    model = ScriptedModel(text("one two three four", pace=Pace(hold_after=2)))
    result = Runner.run_streamed(Agent(name="Any", model=model), "count", run_config=CONFIG)
    deltas: list[str] = []

    async def consume() -> None:
        async for event in result.stream_events():
            if event.type == "raw_response_event" and isinstance(event.data, ResponseTextDeltaEvent):
                deltas.append(event.data.delta)

    consumer = asyncio.create_task(consume())
    while model.held() == 0:  # noqa: ASYNC110 - the stream stops after its second word until the gate opens
        await asyncio.sleep(0.01)
    assert deltas == ["one ", "two "]
    model.open_gate()
    await consumer
    assert deltas == ["one ", "two ", "three ", "four"]
    assert result.final_output == "one two three four"
