"""ADK runs as replay-safe OpenTelemetry spans: invocation, agent, model call and tool call.

When tracing is on (``integrations.tracing.enable_tracing()``, or ``DURABLE_AGENTS_OTEL=1`` for
``durable-agents serve``), ``DurablePlugin`` reports each run's spans from ADK's callbacks to the
toolkit's engine (``integrations.tracing.ReplaySafeSpans``), the one that exports the OpenAI
adapter's spans:

- ``invocation <app>`` (the run, ``before_run_callback`` .. ``after_run_callback``), with
- ``invoke_agent <agent>`` per agent run (a sub-agent under the agent that runs it), and under it
- ``chat <model>`` per model call (``before_model_callback`` .. ``after_model_callback``: around the
  journaled step) and ``execute_tool <tool>`` per tool call (confirmation waits included).

Every span is reported on every attempt, as the callbacks run again while Restate replays; the engine
exports it once, from the attempt in which it ends without replaying, under an id derived from the
invocation, its parent and its place among its siblings (an agent's name and how many runs of it came
before; a tool call's journaled function-call id), so the tree is the same whichever attempt exports
each part. A model call whose step is replayed from the journal is no new span; a failed attempt
Restate retries inside the step is part of the one model-call span. A callback raising or the run
ending with an error closes the span with that error (``on_*_error_callback``); a suspension closes
nothing (the next attempt finishes the span).

ADK's own OpenTelemetry spans (``google.adk.telemetry``: ``invocation``, ``invoke_agent``,
``call_llm``, ``execute_tool``, ...) are neither bridged nor suppressed. They go to the *global*
tracer provider, which ``enable_tracing`` never sets (the engine exports through a private one), so by
default they are not recorded at all. They are not bridged because ADK creates them from module-level
tracers bound at import in many of its modules, with random ids, on every attempt: each replay would
re-create the whole tree, and making them replay-safe means intercepting ADK internals that change
between releases, for spans that say what these say. They are not suppressed because an app that
installs a global provider on purpose (ADK's ``--trace_to_cloud``, Cloud Trace) asked for them; it
then gets ADK's spans once per attempt, which is ADK's behaviour under any replaying engine.
"""

from __future__ import annotations

from typing import NamedTuple

from google.adk.agents.base_agent import BaseAgent
from google.adk.agents.callback_context import CallbackContext
from google.adk.agents.invocation_context import InvocationContext
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.tools.base_tool import BaseTool
from google.adk.tools.tool_context import ToolContext
from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from .._context import running_context
from ..tracing import active_spans
from ._scope import invocation_scope

__all__ = [
    "agent_ended",
    "agent_started",
    "model_ended",
    "model_started",
    "run_ended",
    "run_started",
    "tool_ended",
    "tool_started",
]


def _open_keys() -> dict[str, str] | None:
    """The spans this attempt of the invocation started and has not ended (key -> what the end needs
    to know, the model's name for a model call); ``None``: tracing is off."""
    if active_spans() is None:
        return None
    ctx = running_context()
    scope = invocation_scope(ctx) if ctx is not None else None
    return scope.spans if scope is not None else None


class _Place(NamedTuple):
    """Where a span sits in the tree: its own key (until it ends), its trace's root and its parent.

    A span's start and its end (separate callbacks) look its place up with the same function, so
    the two always name the same span under the same parent."""

    key: str
    root: str
    parent: str | None


def _root(invocation_id: str) -> str:
    return f"adk:{invocation_id}"


def _agent_key(invocation_id: str, agent_name: str) -> str:
    return f"adk:{invocation_id}:agent:{agent_name}"


def _start(place: _Place, kind: str, identity: str) -> None:
    spans, keys = active_spans(), _open_keys()
    if spans is None or keys is None:
        return
    keys[place.key] = identity
    spans.start(place.key, place.root, place.parent if place.parent in keys else None, kind, identity)


def _end(
    place: _Place, name: str, kind: SpanKind, attributes: dict[str, AttributeValue], error: BaseException | None
) -> None:
    spans, keys = active_spans(), _open_keys()
    if spans is None or keys is None or place.key not in keys:
        return
    del keys[place.key]
    message = f"{type(error).__name__}: {error}" if error is not None else None
    spans.end(place.key, place.root, place.parent if place.parent in keys else None, name, kind, attributes, message)


# -- the run -------------------------------------------------------------------------------------------


def _run_place(invocation_context: InvocationContext) -> _Place:
    root = _root(invocation_context.invocation_id)
    return _Place(root, root, None)


def run_started(invocation_context: InvocationContext) -> None:
    _start(_run_place(invocation_context), "trace", invocation_context.app_name)


def run_ended(invocation_context: InvocationContext, error: BaseException | None = None) -> None:
    attributes: dict[str, AttributeValue] = {
        "adk.app.name": invocation_context.app_name,
        "adk.session.id": invocation_context.session.id,
    }
    if invocation_context.agent is not None:
        attributes["gen_ai.agent.name"] = invocation_context.agent.name
    name = f"invocation {invocation_context.app_name}"
    _end(_run_place(invocation_context), name, SpanKind.INTERNAL, attributes, error)


# -- agents --------------------------------------------------------------------------------------------


def _agent_place(agent: BaseAgent, callback_context: CallbackContext) -> _Place:
    """Under the agent running ``agent`` (its parent in the tree), or the run when that one is not running."""
    invocation = callback_context.invocation_id
    parent = agent.parent_agent
    parent_key = _agent_key(invocation, parent.name) if parent is not None else _root(invocation)
    return _Place(_agent_key(invocation, agent.name), _root(invocation), parent_key)


def agent_started(agent: BaseAgent, callback_context: CallbackContext) -> None:
    _start(_agent_place(agent, callback_context), "agent", agent.name)


def agent_ended(agent: BaseAgent, callback_context: CallbackContext, error: BaseException | None = None) -> None:
    attributes: dict[str, AttributeValue] = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent.name}
    _end(_agent_place(agent, callback_context), f"invoke_agent {agent.name}", SpanKind.INTERNAL, attributes, error)


# -- model calls ---------------------------------------------------------------------------------------


def _call_place(invocation_id: str, agent_name: str, call: str) -> _Place:
    """A model or tool call (``call``: ``model:<agent>``, ``tool:<call id>``) under the agent making it."""
    return _Place(f"adk:{invocation_id}:{call}", _root(invocation_id), _agent_key(invocation_id, agent_name))


def _model_place(callback_context: CallbackContext) -> _Place:
    agent = callback_context.agent_name
    return _call_place(callback_context.invocation_id, agent, f"model:{agent}")


def model_started(callback_context: CallbackContext, llm_request: LlmRequest) -> None:
    _start(_model_place(callback_context), "model", llm_request.model or "")


def model_ended(
    callback_context: CallbackContext, llm_response: LlmResponse | None, error: BaseException | None = None
) -> None:
    place = _model_place(callback_context)
    keys = _open_keys()
    model = (keys or {}).get(place.key, "")
    attributes: dict[str, AttributeValue] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.agent.name": callback_context.agent_name,
    }
    if model:
        attributes["gen_ai.request.model"] = model
    usage = llm_response.usage_metadata if llm_response is not None else None
    if usage is not None:
        counts = (("input_tokens", usage.prompt_token_count), ("output_tokens", usage.candidates_token_count))
        for ours, tokens in counts:
            if isinstance(tokens, int):
                attributes[f"gen_ai.usage.{ours}"] = tokens
    if llm_response is not None and llm_response.finish_reason is not None:
        attributes["gen_ai.response.finish_reasons"] = [str(llm_response.finish_reason.value)]
    _end(place, f"chat {model}" if model else "chat", SpanKind.CLIENT, attributes, error)


# -- tool calls ----------------------------------------------------------------------------------------


def _tool_place(tool_context: ToolContext) -> _Place:
    call_id = tool_context.function_call_id or ""
    return _call_place(tool_context.invocation_id, tool_context.agent_name, f"tool:{call_id}")


def tool_started(tool: BaseTool, tool_context: ToolContext) -> None:
    identity = tool_context.function_call_id or tool.name  # journaled: the same on every attempt
    _start(_tool_place(tool_context), "tool", identity)


def tool_ended(tool: BaseTool, tool_context: ToolContext, error: BaseException | None = None) -> None:
    attributes: dict[str, AttributeValue] = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": tool.name,
        "gen_ai.tool.call.id": tool_context.function_call_id or "",
    }
    _end(_tool_place(tool_context), f"execute_tool {tool.name}", SpanKind.INTERNAL, attributes, error)
