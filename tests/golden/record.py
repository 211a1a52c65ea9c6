"""Record the journal payloads the adapters write: ``.venv/bin/python -m tests.golden.record``.

Writes one directory per set of library versions, ``tests/golden/<versions>/``, holding exactly what
goes into a Restate journal or Virtual Object state, produced by the real SDK code paths against
the scripted model server (no network):

- ``model_response.*.json``: ``ModelResponseSerde`` payloads of the Responses API, Chat Completions
  and LiteLLM models (text, a tool call), and one response with every output item type;
- ``llm_response.*.json``: ``llm_call`` results as Restate's default serde journals them;
- ``session.*.json``: ``RestateSession`` state after a turn with a tool call (both layouts);
- ``stream.*.json``: the events a durable streamed run replays for a journaled response.

Run it after upgrading openai-agents, openai, litellm or pydantic: it adds a new directory and
leaves the old ones alone, so ``test_golden.py`` keeps proving that journals written by earlier
versions still replay. Re-running it for the same versions rewrites that directory identically.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib.metadata
import json
import os
from pathlib import Path
from typing import Any, Literal, cast

import restate
from pydantic import BaseModel

os.environ.setdefault("OPENAI_AGENTS_DISABLE_TRACING", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

GOLDEN = Path(__file__).resolve().parent
LIBRARIES = ("openai-agents", "openai", "litellm", "pydantic")
API_KEY = "sk-golden-offline"


def versions() -> dict[str, str]:
    return {name: importlib.metadata.version(name) for name in LIBRARIES}


def version_dir(found: dict[str, str] | None = None) -> Path:
    found = found or versions()
    return GOLDEN / "_".join(f"{name}-{found[name]}" for name in LIBRARIES)


class Weather(BaseModel):
    city: str
    temperature: float


class FakeObjectContext:
    """Just enough of ``restate.ObjectContext`` for ``RestateSession``: state in a dict."""

    def __init__(self, key: str, state: dict[str, Any] | None = None) -> None:
        self._key = key
        self.state: dict[str, Any] = dict(state or {})

    @property
    def restate(self) -> restate.ObjectContext:
        """This fake typed as the ``restate.ObjectContext`` it stands in for."""
        return cast(restate.ObjectContext, self)

    def key(self) -> str:
        return self._key

    async def get(self, name: str, type_hint: Any = None) -> Any:
        return json.loads(json.dumps(self.state[name])) if name in self.state else None

    def set(self, name: str, value: Any) -> None:
        self.state[name] = json.loads(json.dumps(value))  # what Restate's JSON serde stores

    def clear(self, name: str) -> None:
        self.state.pop(name, None)


def _json(payload: bytes) -> Any:
    return json.loads(payload)


async def _model_responses(base_url: str, model_server: Any) -> dict[str, Any]:
    from agents import OpenAIChatCompletionsModel, OpenAIResponsesModel
    from agents.extensions.models.litellm_model import LitellmModel
    from openai import AsyncOpenAI

    from integrations.openai_agents import ModelResponseSerde
    from integrations.testing import ModelCall, text, tool_call

    client = AsyncOpenAI(base_url=base_url, api_key=API_KEY)
    models = {
        "responses": OpenAIResponsesModel("gpt-4o", client),
        "chat": OpenAIChatCompletionsModel("gpt-4o", client),
        "litellm": LitellmModel("openai/gpt-4o", base_url=base_url, api_key=API_KEY),
    }
    serde = ModelResponseSerde()
    recorded: dict[str, Any] = {}
    for api, model in models.items():
        for shape, reply in (
            ("text", text("Oslo is sunny, 21 degrees.")),
            ("tool_call", tool_call("get_weather", {"city": "Oslo"}, call_id="call_golden_1")),
        ):
            model_server.enqueue(reply)
            call = ModelCall.plain("What is the weather in Oslo?", system_instructions="You report the weather.")
            response = await call.get_response(model)
            recorded[f"model_response.{api}_{shape}"] = _json(serde.serialize(response))
    await client.close()
    recorded["model_response.all_item_types"] = _json(serde.serialize(_every_item_type()))
    return recorded


def _every_item_type() -> Any:
    from agents.items import ModelResponse

    from tests.openai_agents.test_serde import detailed_usage, every_item

    usage = detailed_usage(cached_tokens=20, reasoning_tokens=5)
    return ModelResponse(
        output=every_item(), usage=usage, response_id="resp_golden", request_id="req_golden", raw_usage=None
    )


async def _llm_responses(base_url: str, model_server: Any) -> dict[str, Any]:
    from restate.serde import DefaultSerde

    from integrations.litellm import LLMResponse, llm_call
    from integrations.testing import ToolCall, text, tool_calls

    serde = DefaultSerde[LLMResponse]().with_maybe_type(LLMResponse)  # what ctx.run_typed(..., llm_call) journals
    weather_tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
    call = functools.partial(llm_call, model="openai/gpt-4o", api_base=base_url, api_key=API_KEY)
    recorded: dict[str, Any] = {}
    model_server.enqueue(text("Oslo is sunny."))
    recorded["llm_response.text"] = _json(serde.serialize(await call("Weather in Oslo?")))
    both = (ToolCall("get_weather", {"city": "Oslo"}, "call_a"), ToolCall("get_weather", {"city": "Rome"}, "call_b"))
    model_server.enqueue(tool_calls(*both))
    answer = await call("Weather in Oslo and Rome?", tools=[weather_tool])
    recorded["llm_response.tool_calls"] = _json(serde.serialize(answer))
    model_server.enqueue(text(json.dumps({"city": "Oslo", "temperature": 21.5})))
    answer = await call("Weather in Oslo as JSON", response_format=Weather)
    recorded["llm_response.structured"] = _json(serde.serialize(answer))
    return recorded


async def _sessions(base_url: str, model_server: Any) -> dict[str, Any]:
    from agents import Agent, OpenAIResponsesModel, RunConfig, Runner, function_tool
    from openai import AsyncOpenAI

    from integrations.openai_agents import RestateSession
    from integrations.testing import text, tool_call

    @function_tool
    def get_weather(city: str) -> str:
        """Current weather of a city."""
        return f"{city}: sunny, 21 degrees"

    client = AsyncOpenAI(base_url=base_url, api_key=API_KEY)
    agent = Agent(name="Weather", instructions="You report the weather.", tools=[get_weather])
    recorded: dict[str, Any] = {}
    layouts: tuple[Literal["list", "append"], ...] = ("list", "append")
    for layout in layouts:
        ctx = FakeObjectContext("alice")
        model_server.enqueue(
            tool_call("get_weather", {"city": "Oslo"}, call_id="call_golden_s"), text("Sunny in Oslo.")
        )
        session = await RestateSession.create(session_id="alice", ctx=ctx.restate, layout=layout)
        await Runner.run(
            agent,
            "Weather in Oslo?",
            session=session,
            run_config=RunConfig(model=OpenAIResponsesModel("gpt-4o", client), tracing_disabled=True),
        )
        recorded[f"session.{layout}_layout"] = ctx.state
    await client.close()
    return recorded


async def _streams(responses: dict[str, Any]) -> dict[str, Any]:
    from integrations.openai_agents._serde import load_response
    from integrations.openai_agents._stream import replay_as_stream

    recorded: dict[str, Any] = {}
    for shape in ("responses_text", "responses_tool_call", "chat_tool_call"):
        response = load_response(responses[f"model_response.{shape}"])
        events = [event async for event in replay_as_stream(response, "gpt-4o")]
        recorded[f"stream.{shape}"] = [event.model_dump(mode="json", exclude_unset=True) for event in events]
    return recorded


async def record() -> dict[str, Any]:
    """Every golden payload, keyed by file stem."""
    from integrations.testing import ScriptedModelServer

    with ScriptedModelServer() as model_server:
        payloads = await _model_responses(model_server.base_url, model_server)
        payloads.update(await _llm_responses(model_server.base_url, model_server))
        payloads.update(await _sessions(model_server.base_url, model_server))
    payloads.update(await _streams(payloads))
    return payloads


def render(payload: Any, found: dict[str, str]) -> str:
    return json.dumps({"written_by": found, "payload": payload}, indent=2) + "\n"  # payload keys in journal order


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    found = versions()
    target = version_dir(found)
    target.mkdir(parents=True, exist_ok=True)
    for stem, payload in sorted(asyncio.run(record()).items()):
        (target / f"{stem}.json").write_text(render(payload, found))
    print(f"wrote {target.relative_to(GOLDEN.parent.parent)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
