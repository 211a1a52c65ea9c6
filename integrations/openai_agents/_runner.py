"""``DurableRunner``: ``Runner`` with the durable provider and safe defaults wired in."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

import restate
from agents import Agent, RunConfig, Runner
from agents.exceptions import (
    AgentsException,
    InputGuardrailTripwireTriggered,
    MaxTurnsExceeded,
    ModelBehaviorError,
    ModelRefusalError,
    OutputGuardrailTripwireTriggered,
    ToolInputGuardrailTripwireTriggered,
    ToolOutputGuardrailTripwireTriggered,
)
from agents.guardrail import GuardrailFunctionOutput, InputGuardrail, OutputGuardrail
from agents.items import TResponseInputItem
from agents.lifecycle import RunHooks
from agents.memory.session import Session
from agents.models.interface import Model
from agents.result import RunResult, RunResultStreaming
from agents.run import DEFAULT_MAX_TURNS
from agents.run_config import CallModelData, CallModelInputFilter, ModelInputData, ToolExecutionConfig
from agents.run_context import RunContextWrapper
from agents.run_error_handlers import RunErrorHandlers
from agents.run_state import RunState
from agents.util._types import MaybeAwaitable

from .._context import running_context
from ..budget import TokenBudget
from ..retry import StepRetry
from ._approvals import ApprovalPolicy, resolve_approvals
from ._hooks import journaled_hooks, make_agent_hooks_durable
from ._mcp import make_mcp_durable
from ._model import DurableModel
from ._nested import ActiveRun, durable_run, install_nested_runner, running_durably
from ._provider import DurableModelCalls
from ._reachable import reachable_agents
from ._scope import in_step, invocation_scope
from ._tool_errors import AgentTerminalError, terminal_sdk_error
from ._tool_journal import classify_guardrail, journaled_guardrail

if TYPE_CHECKING:
    from ..streams import TopicPublisher

T = TypeVar("T")

DEFAULT_APPROVALS = ApprovalPolicy()
"""Print each pending approval's resolve command and wait without a timeout."""


def _journal_guard(user_filter: CallModelInputFilter | None, run_model_is_set: bool) -> CallModelInputFilter:
    """Fail loudly before an agent's own ``Model`` instance is called outside the journal."""

    async def guard(data: CallModelData[Any]) -> ModelInputData:
        model = data.agent.model
        if not run_model_is_set and isinstance(model, Model) and not isinstance(model, DurableModel):
            raise AgentTerminalError(
                f"agent {data.agent.name!r} has its own model instance {type(model).__name__}, which would "
                "call the provider without journaling it; wrap it: Agent(model=DurableModel(...))",
                status_code=500,
            )
        if user_filter is None:
            return data.model_data
        result = user_filter(data)
        return await result if inspect.isawaitable(result) else result

    return guard


GuardrailFunction = Callable[[RunContextWrapper[Any], Agent[Any], Any], MaybeAwaitable[GuardrailFunctionOutput]]

_GUARDRAIL_TURN: ContextVar[asyncio.Lock | None] = ContextVar("durable_guardrail_turn", default=None)
"""Per run: lets one guardrail at a time run, in list order (set by DurableRunner)."""


def _one_at_a_time(function: GuardrailFunction, name: str) -> GuardrailFunction:
    """The SDK starts a run's guardrails as concurrent tasks. A guardrail that journals steps (e.g. asks
    a model) would then race its siblings for the journal's order, and a replay could hand one the
    other's recorded answer. Under DurableRunner each guardrail waits for the one listed before it:
    the tasks start in list order and the lock's waiters are woken in order. A guardrail that does
    no durable steps of its own is journaled as one step (``journaled_guardrail``), so a replay
    neither runs it again nor can trip where the first run did not."""
    if getattr(function, "_durable_one_at_a_time", False):
        return function

    async def run(context: RunContextWrapper[Any], agent: Agent[Any], value: Any) -> GuardrailFunctionOutput:
        ctx = running_context()
        if ctx is not None and in_step() is None and classify_guardrail(function) == "journaled":
            return await journaled_guardrail(ctx, name, function, context, agent, value)
        outcome = function(context, agent, value)
        return await outcome if inspect.isawaitable(outcome) else outcome

    @functools.wraps(function)
    async def guarded(context: RunContextWrapper[Any], agent: Agent[Any], value: Any) -> GuardrailFunctionOutput:
        lock = _GUARDRAIL_TURN.get()
        if lock is None:
            return await run(context, agent, value)
        async with lock:
            return await run(context, agent, value)

    guarded._durable_one_at_a_time = True  # type: ignore[attr-defined]
    return guarded


def _durable_input_guardrail(guardrail: InputGuardrail[Any]) -> InputGuardrail[Any]:
    """Before the model call, not beside it: a parallel guardrail races the model call for the journal
    (and pays for a model answer a tripped guardrail throws away)."""
    function = _one_at_a_time(guardrail.guardrail_function, guardrail.get_name())
    if function is guardrail.guardrail_function and not guardrail.run_in_parallel:
        return guardrail
    return dataclasses.replace(guardrail, guardrail_function=function, name=guardrail.get_name(), run_in_parallel=False)


def _durable_output_guardrail(guardrail: OutputGuardrail[Any]) -> OutputGuardrail[Any]:
    function = _one_at_a_time(guardrail.guardrail_function, guardrail.get_name())
    if function is guardrail.guardrail_function:
        return guardrail
    return dataclasses.replace(guardrail, guardrail_function=function, name=guardrail.get_name())


def make_agents_durable(agent: Agent[Any]) -> None:
    """Journal the MCP servers, guardrail order and agent hooks of ``agent`` and every agent reachable
    from it (each agent is changed once, in place; outside Restate the changes behave as before)."""
    make_mcp_durable(agent)
    make_guardrails_durable(agent)
    for reachable in reachable_agents(agent):
        if isinstance(reachable, Agent):
            make_agent_hooks_durable(reachable)


def make_guardrails_durable(agent: Agent[Any]) -> None:
    """Run the guardrails of ``agent`` and every agent reachable from it deterministically: input
    guardrails before the model call, and one guardrail at a time, in list order. Each agent's
    guardrail lists are replaced once by such copies (same names, same functions inside)."""
    for reachable in reachable_agents(agent):
        if not isinstance(reachable, Agent):
            continue
        inputs = [_durable_input_guardrail(guardrail) for guardrail in reachable.input_guardrails]
        if any(new is not old for new, old in zip(inputs, reachable.input_guardrails, strict=True)):
            reachable.input_guardrails = inputs
        outputs = [_durable_output_guardrail(guardrail) for guardrail in reachable.output_guardrails]
        if any(new is not old for new, old in zip(outputs, reachable.output_guardrails, strict=True)):
            reachable.output_guardrails = outputs


def durable_run_config(
    ctx: restate.Context,
    run_config: RunConfig | None = None,
    *,
    retry: StepRetry | None = None,
    sequential_tools: bool = False,
    token_budget: TokenBudget | None = None,
    events: TopicPublisher | None = None,
) -> RunConfig:
    """A copy of ``run_config`` whose every model call is journaled.

    - names resolve through :class:`DurableModelCalls` (wrapping the config's own provider), whose
      model steps retry as ``retry`` says (default: 3 attempts; ``StepRetry`` also bounds each attempt);
    - a ``Model`` instance in ``run_config.model`` is wrapped in :class:`DurableModel`;
    - an agent's own un-journaled ``Model`` instance fails the run with a ``TerminalError``;
    - ``token_budget`` caps the tokens of the run's model calls (``TokenBudgetExceeded``);
    - a model turn's function tools run concurrently, as in the SDK, with a journal order that does not
      depend on which finished first (see ``_turns.ToolTurn``); ``sequential_tools=True`` runs them
      one at a time, in the order the model listed them;
    - the config's own guardrails run one at a time, input guardrails before the model call;
    - ``events`` (a ``TopicPublisher``) streams every model call live to its topic, exactly as
      ``DurableModelCalls(ctx, events=...)`` does.
    """
    config = run_config or RunConfig()
    provider = config.model_provider
    if not isinstance(provider, DurableModelCalls):
        provider = DurableModelCalls(ctx, retry=retry, provider=provider, token_budget=token_budget, events=events)
    elif events is not None and provider.events is not events:
        raise ValueError(
            "events= and the run config's DurableModelCalls(events=...) name two publishers: pass one of them"
        )
    model = config.model
    if isinstance(model, Model) and not isinstance(model, DurableModel):
        model = provider.wrap(model)
    tool_execution = config.tool_execution
    if sequential_tools and tool_execution is None:
        tool_execution = ToolExecutionConfig(max_function_tool_concurrency=1)
    return dataclasses.replace(
        config,
        model=model,
        model_provider=provider,
        tool_execution=tool_execution,
        call_model_input_filter=_journal_guard(config.call_model_input_filter, model is not None),
        input_guardrails=[_durable_input_guardrail(guardrail) for guardrail in config.input_guardrails or []],
        output_guardrails=[_durable_output_guardrail(guardrail) for guardrail in config.output_guardrails or []],
    )


def _check_input(input: object) -> None:
    """Refuse input the SDK cannot run, before anything else (a 400 no retry can fix)."""
    if not isinstance(input, (str, list, RunState)):
        raise AgentTerminalError(
            "agent input must be a string or a list of input items (or a RunState to resume), "
            f"got {type(input).__name__}",
            status_code=400,
        )


def _prepare(
    starting_agent: Agent[Any],
    input: object,
    context: restate.Context,
    run_config: RunConfig | None,
    retry: StepRetry | None,
    sequential_tools: bool,
    token_budget: TokenBudget | None,
    events: TopicPublisher | None,
) -> RunConfig:
    """What both DurableRunner entry points do first: reject bad input, journal MCP servers, hooks
    and guardrail order, build the durable config, make ``events`` the invocation's publisher."""
    _check_input(input)
    for agent in (starting_agent, input._current_agent if isinstance(input, RunState) else None):
        if agent is not None:
            make_agents_durable(agent)
    install_nested_runner()
    config = durable_run_config(
        context, run_config, retry=retry, sequential_tools=sequential_tools, token_budget=token_budget, events=events
    )
    publisher = _publisher_of(config)
    if publisher is not None:
        publisher.attach(context)  # tools find it: current_publisher(ctx), await_approval(ctx, question)
    scope = invocation_scope(context)
    if scope is not None:
        tool_execution = config.tool_execution
        scope.concurrency_limit = tool_execution.max_function_tool_concurrency if tool_execution else None
    return config


def _publisher_of(config: RunConfig) -> TopicPublisher | None:
    """The run's event publisher: ``events=`` or the config's ``DurableModelCalls(events=...)``."""
    provider = config.model_provider
    return provider.events if isinstance(provider, DurableModelCalls) else None


def _restate_context(context: object) -> restate.Context:
    """The Restate context of a run whose ``context`` may be the user's own run context object."""
    if isinstance(context, restate.Context):
        return context
    ctx = running_context()
    if ctx is None:
        raise RuntimeError(
            "DurableRunner runs inside a Restate handler: pass the handler's context as context=ctx, or "
            "call it from a handler when passing your own context object"
        )
    return ctx


def _input_tripped(error: InputGuardrailTripwireTriggered) -> tuple[str, int]:
    name = error.guardrail_result.guardrail.get_name()
    return f"input guardrail {name!r} tripped: the agent did not answer", 400


def _output_tripped(error: OutputGuardrailTripwireTriggered) -> tuple[str, int]:
    name = error.guardrail_result.guardrail.get_name()
    agent = error.guardrail_result.agent.name
    return f"output guardrail {name!r} tripped on the answer of agent {agent!r}: the answer was withheld", 500


def _tool_tripped(kind: str) -> Callable[[Any], tuple[str, int]]:
    def reason(error: ToolInputGuardrailTripwireTriggered | ToolOutputGuardrailTripwireTriggered) -> tuple[str, int]:
        return f"tool {kind} guardrail {error.guardrail.get_name()!r} tripped: the run was stopped", 500

    return reason


_STOP_REASONS: tuple[tuple[type[AgentsException], Callable[[Any], tuple[str, int]]], ...] = (
    (InputGuardrailTripwireTriggered, _input_tripped),
    (OutputGuardrailTripwireTriggered, _output_tripped),
    (ToolInputGuardrailTripwireTriggered, _tool_tripped("input")),
    (ToolOutputGuardrailTripwireTriggered, _tool_tripped("output")),
    (MaxTurnsExceeded, lambda error: (f"the agent run stopped: {error.message}", 500)),
    (ModelRefusalError, lambda error: (f"the model refused: {error}", 422)),  # before its base class
    (ModelBehaviorError, lambda error: (f"the model answered something the agent cannot run: {error.message}", 500)),
)
"""The SDK's exceptions that stop a run for a reason a retry cannot change, each with its message and
status code; the first matching class wins.

Everything that decides these (guardrail results, model answers) is journaled, so a replay
would stop at the same place: Restate must not retry the invocation forever.
"""

_STOPS = tuple(kind for kind, _ in _STOP_REASONS)


def _stop_reason(error: Exception) -> tuple[str, int] | None:
    """Why the SDK stopped a run, and the status code to end with (``None``: not a stop)."""
    for kind, reason in _STOP_REASONS:
        if isinstance(error, kind):
            return reason(error)
    return None


def _stopped_by(error: Exception) -> AgentTerminalError | None:
    """The SDK's own exception, as an instance of its class that is also a ``TerminalError``.

    User code catches it exactly as the SDK documents (``except InputGuardrailTripwireTriggered``);
    uncaught, the invocation ends terminally with a message saying why, and is not retried.
    """
    reason = _stop_reason(error)
    if reason is None or not isinstance(error, _STOPS):
        return None
    message, status_code = reason
    return terminal_sdk_error(error, message, status_code)


async def _terminal_on_stop(run: Awaitable[T]) -> T:
    token = _GUARDRAIL_TURN.set(asyncio.Lock())
    try:
        return await run
    except _STOPS as error:
        terminal = _stopped_by(error)
        assert terminal is not None
        raise terminal from None
    finally:
        _GUARDRAIL_TURN.reset(token)


class DurableRunner:
    """``Runner`` for a Restate handler: the same run, with every model call, tool call, hook, MCP
    request and approval journaled, so a replay returns what the first attempt saw.

    ``context`` is the handler's Restate context (then it is also the run context the tools receive,
    ``wrapper.context``, as in the Restate quickstart) or your own run context object, as with
    ``Runner.run``; the Restate context is then found through ``restate.extensions.current_context()``.
    Every other parameter of ``Runner.run`` is passed through. An ``input`` that is neither a string,
    a list of items nor a ``RunState`` fails with a 400 ``TerminalError``: bad input must not be
    retried forever.

    - Plain function tools are journaled as one step each (a replay never runs a finished body again);
      tools that take the Restate context do their own steps (see ``_tool_journal``). A turn's tool
      calls run concurrently, with a journal order independent of timing; ``sequential_tools=True``
      runs them one at a time.
    - ``hooks`` and the agents' ``AgentHooks`` fire once per event, however often the run is replayed.
    - The agents' MCP servers (``Agent(mcp_servers=[...])``) are journaled: tools are listed once
      per turn and every tool call is one step (see ``DurableMCPServer``).
    - Tool calls that need approval (``needs_approval``) are resolved in the same invocation, per
      ``approvals`` (see ``ApprovalPolicy``): the invocation suspends until a human resolves the
      printed awakeable, then the run resumes with the SDK's ``RunState.approve``/``reject``. Pass
      ``approvals=None`` to get the interrupted result back instead, as from ``Runner.run``.
    - ``events=TopicPublisher(topic)`` streams the run live to a topic (text deltas, tool calls and
      results, approvals, the answer; see docs/chat.md), the same events as
      ``DurableModelCalls(ctx, events=...)``. Inside the run a tool reaches it with
      ``integrations.streams.current_publisher(ctx)``; ``await_approval(ctx, question)`` uses it.
    - A guardrail tripwire, ``MaxTurnsExceeded``, ``ModelRefusalError`` or ``ModelBehaviorError`` is
      raised as the SDK's own exception class (``except InputGuardrailTripwireTriggered`` works as
      documented); the instance is also a ``TerminalError``, so uncaught it ends the invocation
      without a retry (a retry would replay the same journal and stop at the same place).
    - Runs gathered in one handler (``asyncio.gather(DurableRunner.run(a, ...), ...)``) run one after
      another, in the order they were started: concurrently, their steps would reach the journal in
      an order set by timing. Plain ``Runner.run`` calls nested in a guardrail or tool are durable too.
    """

    @staticmethod
    async def run(
        starting_agent: Agent[Any],
        input: str | list[TResponseInputItem] | RunState[Any],
        *,
        context: object,
        max_turns: int = DEFAULT_MAX_TURNS,
        hooks: RunHooks[Any] | None = None,
        run_config: RunConfig | None = None,
        error_handlers: RunErrorHandlers[Any] | None = None,
        previous_response_id: str | None = None,
        auto_previous_response_id: bool = False,
        conversation_id: str | None = None,
        session: Session | None = None,
        retry: StepRetry | None = None,
        sequential_tools: bool = False,
        token_budget: TokenBudget | None = None,
        approvals: ApprovalPolicy | None = DEFAULT_APPROVALS,
        events: TopicPublisher | None = None,
    ) -> RunResult:
        _check_input(input)
        ctx = _restate_context(context)
        scope = invocation_scope(ctx)
        in_order = scope.top_level_run() if scope is not None and not running_durably() else _unordered()
        async with in_order:  # takes the run's place in line before its first await
            config = _prepare(starting_agent, input, ctx, run_config, retry, sequential_tools, token_budget, events)
            publisher = _publisher_of(config)
            journaled = journaled_hooks(hooks)
            with durable_run(ActiveRun(ctx, retry, sequential_tools, token_budget)):
                result = await _terminal_on_stop(
                    Runner.run(
                        starting_agent,
                        input,
                        context=context,
                        max_turns=max_turns,
                        hooks=journaled,
                        run_config=config,
                        error_handlers=error_handlers,
                        previous_response_id=previous_response_id,
                        auto_previous_response_id=auto_previous_response_id,
                        conversation_id=conversation_id,
                        session=session,
                    )
                )
                while approvals is not None and result.interruptions:
                    state = await resolve_approvals(ctx, result, approvals, publisher)
                    # The state carries the conversation settings and max_turns of the interrupted run.
                    result = await _terminal_on_stop(
                        Runner.run(
                            starting_agent,
                            state,
                            context=context,
                            hooks=journaled,
                            run_config=config,
                            error_handlers=error_handlers,
                            session=session,
                        )
                    )
        return result

    @staticmethod
    def run_streamed(
        starting_agent: Agent[Any],
        input: str | list[TResponseInputItem] | RunState[Any],
        *,
        context: object,
        max_turns: int = DEFAULT_MAX_TURNS,
        hooks: RunHooks[Any] | None = None,
        run_config: RunConfig | None = None,
        error_handlers: RunErrorHandlers[Any] | None = None,
        previous_response_id: str | None = None,
        auto_previous_response_id: bool = False,
        conversation_id: str | None = None,
        session: Session | None = None,
        retry: StepRetry | None = None,
        sequential_tools: bool = False,
        token_budget: TokenBudget | None = None,
        events: TopicPublisher | None = None,
    ) -> RunResultStreaming:
        """Streamed run: each model response is journaled whole, then replayed as stream events.

        Approvals are not resolved here: a streamed result with ``interruptions`` is resumed with
        ``DurableRunner.run(agent, result.to_state(), ...)``, which waits for the decisions. Guardrail
        tripwires surface from ``stream_events()`` as the SDK raises them, as the SDK's classes; raise
        a ``restate.TerminalError`` (or let them escape: they are terminal) so the invocation is not
        retried. Streamed runs are not put in line with other runs of the handler: start them one at a
        time.
        """
        _check_input(input)
        ctx = _restate_context(context)
        config = _prepare(starting_agent, input, ctx, run_config, retry, sequential_tools, token_budget, events)
        token = _GUARDRAIL_TURN.set(asyncio.Lock())  # the streaming task copies the context when it starts
        try:
            with durable_run(ActiveRun(ctx, retry, sequential_tools, token_budget)):
                return Runner.run_streamed(
                    starting_agent,
                    input,
                    context=context,
                    max_turns=max_turns,
                    hooks=journaled_hooks(hooks),
                    run_config=config,
                    previous_response_id=previous_response_id,
                    auto_previous_response_id=auto_previous_response_id,
                    conversation_id=conversation_id,
                    session=session,
                    error_handlers=error_handlers,
                )
        finally:
            _GUARDRAIL_TURN.reset(token)


@asynccontextmanager
async def _unordered() -> AsyncIterator[None]:
    yield
