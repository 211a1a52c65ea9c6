"""Unit tests of the ADK adapter without a server: the journal format of LlmResponse (exact, and
lenient after an ADK upgrade), tool classification, approval decisions and loud failures."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator

import pytest
import restate
from google.adk.agents import LlmAgent
from google.adk.models._capabilities import LlmCapabilities
from google.adk.models.base_llm import BaseLlm
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.tools.agent_tool import AgentTool
from google.adk.tools.function_tool import FunctionTool
from google.genai import types

from integrations.google_adk import (
    DurableLlm,
    LlmResponsesSerde,
    classify_tool,
    confirmation_of,
    not_journaled,
    restate_context,
)
from integrations.google_adk._branches import branch_baton
from integrations.google_adk._model import durable_llm_of

SERDE = LlmResponsesSerde()


class EchoLlm(BaseLlm):
    """A model that never needs a provider (LiteLLM's lazy import alone takes seconds)."""

    @property
    def capabilities(self) -> LlmCapabilities:
        return LlmCapabilities(output_schema_and_tools=True)

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        yield LlmResponse(content=types.Content(role="model", parts=[types.Part(text="echo")]))


def _response() -> LlmResponse:
    return LlmResponse(
        content=types.Content(
            role="model",
            parts=[
                types.Part(text="Let me check."),
                types.Part(function_call=types.FunctionCall(id="call-1", name="get_weather", args={"city": "Paris"})),
                types.Part(inline_data=types.Blob(mime_type="image/png", data=b"\x89PNG\x00\xff")),
            ],
        ),
        usage_metadata=types.GenerateContentResponseUsageMetadata(
            prompt_token_count=10, candidates_token_count=5, total_token_count=15
        ),
        finish_reason=types.FinishReason.STOP,
        custom_metadata={"trace": [1, 2]},
        model_version="gpt-test",
    )


def test_responses_round_trip_exactly_with_the_same_fields_set() -> None:
    original = [_response(), LlmResponse(content=types.Content(role="model", parts=[types.Part(text="done")]))]
    replayed = SERDE.deserialize(SERDE.serialize(original))
    assert replayed == original
    assert replayed is not None
    assert [r.model_fields_set for r in replayed] == [r.model_fields_set for r in original]
    assert replayed[0].content is not None and replayed[0].content.parts is not None
    assert replayed[0].content.parts[2].inline_data is not None
    assert replayed[0].content.parts[2].inline_data.data == b"\x89PNG\x00\xff"


def test_fields_a_newer_adk_wrote_are_dropped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    data = json.loads(SERDE.serialize([_response()]))
    data[0]["thoughtSignatureV9"] = "abc"  # a field this ADK does not know
    data[0]["content"]["parts"][0]["futureFlag"] = True  # and one inside google-genai's types
    data[0]["avgLogprobs"] = "not a number"  # a value it no longer accepts
    with caplog.at_level(logging.WARNING):
        replayed = SERDE.deserialize(json.dumps(data).encode())
    assert replayed is not None
    response = replayed[0]
    assert response.content is not None and response.content.parts is not None
    assert response.content.parts[0].text == "Let me check."
    assert response.get_function_calls()[0].args == {"city": "Paris"}
    assert response.avg_logprobs is None and response.finish_reason == types.FinishReason.STOP
    assert response.usage_metadata is not None and response.usage_metadata.total_token_count == 15
    assert "thoughtSignatureV9" in caplog.text and "futureFlag" in caplog.text and "avgLogprobs" in caplog.text


def test_a_journal_entry_that_is_no_list_of_responses_fails_terminally() -> None:
    with pytest.raises(restate.TerminalError, match="not a list"):
        SERDE.deserialize(b'{"content": {}}')
    with pytest.raises(restate.TerminalError, match="not an object"):
        SERDE.deserialize(b'["text"]')


async def get_weather(city: str) -> str:
    """Weather."""
    return city


async def book(city: str) -> str:
    """Books with its own steps."""
    return await restate_context().run_typed("book", lambda: city)


def test_plain_tools_are_journaled_and_tools_with_their_own_steps_are_not() -> None:
    assert classify_tool(FunctionTool(get_weather)) == "journaled"
    assert classify_tool(FunctionTool(book)) == "own-steps"

    async def fresh(city: str) -> str:
        """Must run on every attempt."""
        return city

    assert classify_tool(FunctionTool(not_journaled(fresh))) == "own-steps"
    assert classify_tool(not_journaled(FunctionTool(get_weather))) == "own-steps"
    assert classify_tool(AgentTool(agent=LlmAgent(name="helper", model="gemini-2.5-flash"))) == "own-steps"


def test_approval_decisions() -> None:
    assert confirmation_of(True).confirmed is True
    assert confirmation_of(False).confirmed is False
    assert confirmation_of("Approve").confirmed is True
    assert confirmation_of("no way").confirmed is False
    decision = confirmation_of({"confirmed": True, "payload": {"limit": 5}})
    assert decision.confirmed is True and decision.payload == {"limit": 5}
    with pytest.raises(restate.TerminalError, match="neither"):
        confirmation_of(42)


def test_models_that_cannot_be_journaled_fail_loudly() -> None:
    llm = EchoLlm(model="openai/gpt-test")
    durable = DurableLlm(llm)
    assert durable.model == "openai/gpt-test" and durable.step == "LLM call: openai/gpt-test"
    assert durable.capabilities == llm.capabilities
    with pytest.raises(TypeError, match="already durable"):
        DurableLlm(durable)
    with pytest.raises(restate.TerminalError, match="registry knows no model"):
        DurableLlm("no-such-model-family-7")
    with pytest.raises(restate.TerminalError, match="live"):
        durable.connect(LlmRequest())


async def test_a_durable_model_outside_a_handler_says_why() -> None:
    with pytest.raises(RuntimeError, match="outside a Restate handler"):
        async for _ in DurableLlm(EchoLlm(model="openai/gpt-test")).generate_content_async(LlmRequest()):
            pass


def test_the_plugin_wraps_an_agents_own_model_once_and_leaves_inherited_ones() -> None:
    agent = LlmAgent(name="a", model=EchoLlm(model="openai/gpt-test"))
    first = durable_llm_of(agent)
    assert isinstance(agent.model, DurableLlm) and durable_llm_of(agent) is first
    assert durable_llm_of(LlmAgent(name="child")) is None


def test_a_durable_litellm_model_leaves_retrying_to_the_step() -> None:
    from google.adk.models.lite_llm import LiteLlm

    inner = LiteLlm(model="openai/gpt-test", api_key="sk-test", max_retries=5)
    durable = DurableLlm(inner)
    assert durable.llm is inner
    assert inner._additional_args["num_retries"] == 0 and inner._additional_args["max_retries"] == 0


async def test_parallel_agent_branches_take_the_baton_in_sub_agent_order() -> None:
    baton = branch_baton(["north", "south", "east"])
    order: list[str] = []

    async def branch(name: str) -> None:
        async with baton.participate(name):
            order.append(name)
            await asyncio.sleep(0)  # not a durable await: the holder keeps the baton

    await asyncio.gather(branch("east"), branch("south"), branch("north"))  # arriving in reverse
    assert order == ["north", "south", "east"] and baton.complete
    assert not baton.expects("west")
