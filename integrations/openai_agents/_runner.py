"""``DurableRunner``: ``Runner`` with the durable provider and safe defaults wired in."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar

import restate
from agents import Agent, RunConfig, Runner
from agents.exceptions import (
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

from ..budget import TokenBudget
from ..retry import StepRetry
from ._approvals import ApprovalPolicy, resolve_approvals
from ._mcp import make_mcp_durable, reachable_agents
from ._model import DurableModel
from ._provider import DurableModelCalls
from ._tool_errors import AgentTerminalError

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


def _one_at_a_time(function: GuardrailFunction) -> GuardrailFunction:
    """The SDK starts a run's guardrails as concurrent tasks. A guardrail that journals steps (e.g. asks
    a model) would then race its siblings for the journal's order, and a replay could hand one the
    other's recorded answer. Under DurableRunner each guardrail waits for the one listed before it:
    the tasks start in list order and the lock's waiters are woken in order."""
    if getattr(function, "_durable_one_at_a_time", False):
        return function

    @functools.wraps(function)
    async def guarded(context: RunContextWrapper[Any], agent: Agent[Any], value: Any) -> GuardrailFunctionOutput:
        lock = _GUARDRAIL_TURN.get()
        if lock is None:
            outcome = function(context, agent, value)
            return await outcome if inspect.isawaitable(outcome) else outcome
        async with lock:
            outcome = function(context, agent, value)
            return await outcome if inspect.isawaitable(outcome) else outcome

    guarded._durable_one_at_a_time = True  # type: ignore[attr-defined]
    return guarded


def _durable_input_guardrail(guardrail: InputGuardrail[Any]) -> InputGuardrail[Any]:
    """Before the model call, not beside it: a parallel guardrail races the model call for the journal
    (and pays for a model answer a tripped guardrail throws away)."""
    function = _one_at_a_time(guardrail.guardrail_function)
    if function is guardrail.guardrail_function and not guardrail.run_in_parallel:
        return guardrail
    return dataclasses.replace(guardrail, guardrail_function=function, name=guardrail.get_name(), run_in_parallel=False)


def _durable_output_guardrail(guardrail: OutputGuardrail[Any]) -> OutputGuardrail[Any]:
    function = _one_at_a_time(guardrail.guardrail_function)
    if function is guardrail.guardrail_function:
        return guardrail
    return dataclasses.replace(guardrail, guardrail_function=function, name=guardrail.get_name())


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
    sequential_tools: bool = True,
    token_budget: TokenBudget | None = None,
) -> RunConfig:
    """A copy of ``run_config`` whose every model call is journaled.

    - names resolve through :class:`DurableModelCalls` (wrapping the config's own provider), whose
      model steps retry as ``retry`` says (default: 3 attempts; ``StepRetry`` also bounds each attempt);
    - a ``Model`` instance in ``run_config.model`` is wrapped in :class:`DurableModel`;
    - an agent's own un-journaled ``Model`` instance fails the run with a ``TerminalError``;
    - ``token_budget`` caps the tokens of the run's model calls (``TokenBudgetExceeded``);
    - ``sequential_tools`` runs the function tools of one model turn one at a time, in the order the
      model listed them, so tools with several journaled steps keep a deterministic journal order;
    - the config's own guardrails run one at a time, input guardrails before the model call.
    """
    config = run_config or RunConfig()
    provider = config.model_provider
    if not isinstance(provider, DurableModelCalls):
        provider = DurableModelCalls(ctx, retry=retry, provider=provider, token_budget=token_budget)
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


def _prepare(
    starting_agent: Agent[Any],
    input: object,
    context: restate.Context,
    run_config: RunConfig | None,
    retry: StepRetry | None,
    sequential_tools: bool,
    token_budget: TokenBudget | None,
) -> RunConfig:
    """What both DurableRunner entry points do first: reject bad input, journal MCP servers, build
    the durable config."""
    if not isinstance(input, (str, list, RunState)):
        raise AgentTerminalError(
            "agent input must be a string or a list of input items (or a RunState to resume), "
            f"got {type(input).__name__}",
            status_code=400,
        )
    for agent in (starting_agent, input._current_agent if isinstance(input, RunState) else None):
        if agent is not None:
            make_mcp_durable(agent)
            make_guardrails_durable(agent)
    return durable_run_config(
        context, run_config, retry=retry, sequential_tools=sequential_tools, token_budget=token_budget
    )


def _stopped_by(error: Exception) -> AgentTerminalError | None:
    """A run the SDK stopped for a reason a retry cannot change, as a ``TerminalError``.

    Everything that decides these (guardrail results, model answers) is journaled, so a replay
    would stop at the same place: Restate must not retry the invocation forever.
    """
    if isinstance(error, InputGuardrailTripwireTriggered):
        name = error.guardrail_result.guardrail.get_name()
        return AgentTerminalError(f"input guardrail {name!r} tripped: the agent did not answer", status_code=400)
    if isinstance(error, OutputGuardrailTripwireTriggered):
        name = error.guardrail_result.guardrail.get_name()
        agent = error.guardrail_result.agent.name
        return AgentTerminalError(
            f"output guardrail {name!r} tripped on the answer of agent {agent!r}: the answer was withheld",
            status_code=500,
        )
    if isinstance(error, (ToolInputGuardrailTripwireTriggered, ToolOutputGuardrailTripwireTriggered)):
        kind = "input" if isinstance(error, ToolInputGuardrailTripwireTriggered) else "output"
        name = error.guardrail.get_name()
        return AgentTerminalError(f"tool {kind} guardrail {name!r} tripped: the run was stopped", status_code=500)
    if isinstance(error, MaxTurnsExceeded):
        return AgentTerminalError(f"the agent run stopped: {error.message}", status_code=500)
    if isinstance(error, ModelRefusalError):
        return AgentTerminalError(f"the model refused: {error}", status_code=422)
    if isinstance(error, ModelBehaviorError):
        return AgentTerminalError(f"the model answered something the agent cannot run: {error.message}")
    return None


async def _terminal_on_stop(run: Awaitable[T]) -> T:
    token = _GUARDRAIL_TURN.set(asyncio.Lock())
    try:
        return await run
    except (
        InputGuardrailTripwireTriggered,
        OutputGuardrailTripwireTriggered,
        ToolInputGuardrailTripwireTriggered,
        ToolOutputGuardrailTripwireTriggered,
        MaxTurnsExceeded,
        ModelBehaviorError,
        ModelRefusalError,
    ) as error:
        terminal = _stopped_by(error)
        assert terminal is not None
        terminal.run_data = getattr(error, "run_data", None)
        raise terminal from error
    finally:
        _GUARDRAIL_TURN.reset(token)


class DurableRunner:
    """Run an agent inside a Restate handler with every model call, MCP request and approval journaled.

    ``context`` is the handler's Restate context; it is also the run context the tools receive
    (``wrapper.context``), as in the Restate quickstart. Every other parameter of ``Runner.run`` is
    passed through unchanged. An ``input`` that is neither a string, a list of items nor a
    ``RunState`` fails with a 400 ``TerminalError``: bad input must not be retried forever.

    - The agents' MCP servers (``Agent(mcp_servers=[...])``) are journaled: tools are listed once
      per turn and every tool call is one step (see ``DurableMCPServer``).
    - Tool calls that need approval (``needs_approval``) are resolved in the same invocation, per
      ``approvals`` (see ``ApprovalPolicy``): the invocation suspends until a human resolves the
      printed awakeable, then the run resumes with the SDK's ``RunState.approve``/``reject``. Pass
      ``approvals=None`` to get the interrupted result back instead, as from ``Runner.run``.
    - A guardrail tripwire, ``MaxTurnsExceeded``, ``ModelRefusalError`` or ``ModelBehaviorError`` (e.g.
      the model called a tool that does not exist) ends the invocation with a ``TerminalError`` (``AgentTerminalError``,
      its ``__cause__`` is the SDK's exception): a retry would replay the same journal and stop at
      the same place.
    """

    @staticmethod
    async def run(
        starting_agent: Agent[Any],
        input: str | list[TResponseInputItem] | RunState[Any],
        *,
        context: restate.Context,
        max_turns: int = DEFAULT_MAX_TURNS,
        hooks: RunHooks[Any] | None = None,
        run_config: RunConfig | None = None,
        error_handlers: RunErrorHandlers[Any] | None = None,
        previous_response_id: str | None = None,
        auto_previous_response_id: bool = False,
        conversation_id: str | None = None,
        session: Session | None = None,
        retry: StepRetry | None = None,
        sequential_tools: bool = True,
        token_budget: TokenBudget | None = None,
        approvals: ApprovalPolicy | None = DEFAULT_APPROVALS,
    ) -> RunResult:
        config = _prepare(starting_agent, input, context, run_config, retry, sequential_tools, token_budget)
        result = await _terminal_on_stop(
            Runner.run(
                starting_agent,
                input,
                context=context,
                max_turns=max_turns,
                hooks=hooks,
                run_config=config,
                error_handlers=error_handlers,
                previous_response_id=previous_response_id,
                auto_previous_response_id=auto_previous_response_id,
                conversation_id=conversation_id,
                session=session,
            )
        )
        while approvals is not None and result.interruptions:
            state = await resolve_approvals(context, result, approvals)
            # The state carries the conversation settings and max_turns of the interrupted run.
            result = await _terminal_on_stop(
                Runner.run(
                    starting_agent,
                    state,
                    context=context,
                    hooks=hooks,
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
        context: restate.Context,
        max_turns: int = DEFAULT_MAX_TURNS,
        hooks: RunHooks[Any] | None = None,
        run_config: RunConfig | None = None,
        error_handlers: RunErrorHandlers[Any] | None = None,
        previous_response_id: str | None = None,
        auto_previous_response_id: bool = False,
        conversation_id: str | None = None,
        session: Session | None = None,
        retry: StepRetry | None = None,
        sequential_tools: bool = True,
        token_budget: TokenBudget | None = None,
    ) -> RunResultStreaming:
        """Streamed run: each model response is journaled whole, then replayed as stream events.

        Approvals are not resolved here: a streamed result with ``interruptions`` is resumed with
        ``DurableRunner.run(agent, result.to_state(), ...)``, which waits for the decisions. Guardrail
        tripwires surface from ``stream_events()`` as the SDK raises them; catch them and raise a
        ``restate.TerminalError`` so the invocation is not retried.
        """
        config = _prepare(starting_agent, input, context, run_config, retry, sequential_tools, token_budget)
        token = _GUARDRAIL_TURN.set(asyncio.Lock())  # the streaming task copies the context when it starts
        try:
            return Runner.run_streamed(
                starting_agent,
                input,
                context=context,
                max_turns=max_turns,
                hooks=hooks,
                run_config=config,
                previous_response_id=previous_response_id,
                auto_previous_response_id=auto_previous_response_id,
                conversation_id=conversation_id,
                session=session,
                error_handlers=error_handlers,
            )
        finally:
            _GUARDRAIL_TURN.reset(token)
