"""The scripted model server streams both OpenAI APIs, word by word, and holds a stream at a gate."""

from __future__ import annotations

import asyncio

import pytest
from agents.items import TResponseStreamEvent
from agents.models.interface import Model
from agents.models.openai_chatcompletions import OpenAIChatCompletionsModel
from agents.models.openai_responses import OpenAIResponsesModel
from openai import AsyncOpenAI
from openai.types.responses import (
    ResponseCompletedEvent,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseTextDeltaEvent,
)

from integrations.testing import ModelCall, Pace, ScriptedModelServer, text, tool_call


def _model(api: str, server: ScriptedModelServer) -> Model:
    client = AsyncOpenAI(base_url=server.base_url, api_key="sk-scripted", max_retries=0)
    if api == "chat":
        return OpenAIChatCompletionsModel(model="gpt-4o", openai_client=client)
    return OpenAIResponsesModel(model="gpt-4o", openai_client=client)


async def _events(model: Model) -> list[TResponseStreamEvent]:
    stream = ModelCall.plain("hi").stream_response(model)
    return [event async for event in stream]


@pytest.mark.parametrize("api", ["responses", "chat"])
async def test_text_and_tool_calls_stream_as_the_real_clients_expect(api: str) -> None:
    with ScriptedModelServer() as server:
        server.enqueue(text("Fog over  Oslo."), tool_call("get_weather", {"city": "Oslo"}, call_id="call_1"))
        model = _model(api, server)

        answer = await _events(model)
        deltas = [e.delta for e in answer if isinstance(e, ResponseTextDeltaEvent)]
        assert deltas == ["Fog ", "over  ", "Oslo."]
        (done,) = [e for e in answer if isinstance(e, ResponseCompletedEvent)]
        message = done.response.output[0]
        assert isinstance(message, ResponseOutputMessage) and isinstance(message.content[0], ResponseOutputText)
        assert message.content[0].text == "Fog over  Oslo."

        call = await _events(model)
        (done,) = [e for e in call if isinstance(e, ResponseCompletedEvent)]
        (item,) = done.response.output
        assert isinstance(item, ResponseFunctionToolCall)
        assert (item.type, item.name, item.call_id, item.arguments) == (
            "function_call",
            "get_weather",
            "call_1",
            '{"city": "Oslo"}',
        )
        assert all(r.body.get("stream") is True for r in server.requests)


async def test_a_held_stream_waits_at_its_gate_after_the_chosen_chunk() -> None:
    with ScriptedModelServer() as server:
        server.enqueue(text("one two three four", pace=Pace(hold_after=2, gate="g")))
        seen: list[str] = []

        async def consume() -> None:
            async for event in ModelCall.plain("hi").stream_response(_model("responses", server)):
                if isinstance(event, ResponseTextDeltaEvent):
                    seen.append(event.delta)

        reading = asyncio.create_task(consume())
        for _ in range(500):  # the stream reaches its gate
            if server.held("g") == 1 and len(seen) == 2:
                break
            await asyncio.sleep(0.01)
        assert (server.held("g"), seen) == (1, ["one ", "two "])
        server.open_gate("g")
        await asyncio.wait_for(reading, 30)
        assert seen == ["one ", "two ", "three ", "four"] and server.held("g") == 0
