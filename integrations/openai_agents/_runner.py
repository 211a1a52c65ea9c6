"""``DurableRunner``: ``Runner`` with the durable provider and safe defaults wired in."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import restate
from agents import Agent, RunConfig, Runner
from agents.items import TResponseInputItem
from agents.lifecycle import RunHooks
from agents.memory.session import Session
from agents.models.interface import Model
from agents.result import RunResult, RunResultStreaming
from agents.run import DEFAULT_MAX_TURNS
from agents.run_config import CallModelData, CallModelInputFilter, ModelInputData, ToolExecutionConfig

from ..budget import TokenBudget
from ..retry import StepRetry
from ._model import DurableModel
from ._provider import DurableModelCalls
from ._tool_errors import AgentTerminalError


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
      model listed them, so tools with several journaled steps keep a deterministic journal order.
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
    )


def _prepare(
    input: object,
    context: restate.Context,
    run_config: RunConfig | None,
    retry: StepRetry | None,
    sequential_tools: bool,
    token_budget: TokenBudget | None,
) -> RunConfig:
    """What both DurableRunner entry points do first: reject bad input, build the durable config."""
    if not isinstance(input, (str, list)):
        raise AgentTerminalError(
            f"agent input must be a string or a list of input items, got {type(input).__name__}", status_code=400
        )
    return durable_run_config(
        context, run_config, retry=retry, sequential_tools=sequential_tools, token_budget=token_budget
    )


class DurableRunner:
    """Run an agent inside a Restate handler with every model call journaled.

    ``context`` is the handler's Restate context; it is also the run context the tools receive
    (``wrapper.context``), as in the Restate quickstart. An ``input`` that is neither a string nor a
    list of items fails with a 400 ``TerminalError``: bad input must not be retried forever.
    """

    @staticmethod
    async def run(
        starting_agent: Agent[Any],
        input: str | list[TResponseInputItem],
        *,
        context: restate.Context,
        run_config: RunConfig | None = None,
        session: Session | None = None,
        hooks: RunHooks[Any] | None = None,
        max_turns: int = DEFAULT_MAX_TURNS,
        retry: StepRetry | None = None,
        sequential_tools: bool = True,
        token_budget: TokenBudget | None = None,
    ) -> RunResult:
        config = _prepare(input, context, run_config, retry, sequential_tools, token_budget)
        return await Runner.run(
            starting_agent,
            input,
            context=context,
            run_config=config,
            session=session,
            hooks=hooks,
            max_turns=max_turns,
        )

    @staticmethod
    def run_streamed(
        starting_agent: Agent[Any],
        input: str | list[TResponseInputItem],
        *,
        context: restate.Context,
        run_config: RunConfig | None = None,
        session: Session | None = None,
        hooks: RunHooks[Any] | None = None,
        max_turns: int = DEFAULT_MAX_TURNS,
        retry: StepRetry | None = None,
        sequential_tools: bool = True,
        token_budget: TokenBudget | None = None,
    ) -> RunResultStreaming:
        """Streamed run: each model response is journaled whole, then replayed as stream events."""
        config = _prepare(input, context, run_config, retry, sequential_tools, token_budget)
        return Runner.run_streamed(
            starting_agent,
            input,
            context=context,
            run_config=config,
            session=session,
            hooks=hooks,
            max_turns=max_turns,
        )
