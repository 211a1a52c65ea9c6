"""Plain ``Runner.run`` calls made inside a durable run are durable too.

SDK code nests runs: a guardrail asks a checker agent (``await Runner.run(checker, input)``), a tool
delegates to another agent. Inside a ``DurableRunner`` run those nested runs must journal their
model calls as well, or every replay pays for them again. ``Runner.run`` delegates to the SDK's
default ``AgentRunner``; :func:`install_nested_runner` puts one in front of it that, while a durable
run is active in the current task and the nested run has no durable config of its own, runs it
through ``DurableRunner`` with the outer run's retry and budget settings. Anywhere else (no durable
run, inside a step journaled whole, a config that is already durable) it hands the call to the
runner that was there before, unchanged.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

import restate
from agents import run as _sdk_run
from agents.agent import Agent
from agents.items import TResponseInputItem
from agents.lifecycle import RunHooks
from agents.memory.session import Session
from agents.result import RunResult, RunResultStreaming
from agents.run import AgentRunner, RunOptions
from agents.run_config import RunConfig
from agents.run_error_handlers import RunErrorHandlers
from agents.run_state import RunState
from typing_extensions import Unpack

from .._context import bound
from ._provider import DurableModelCalls
from ._scope import in_step

if TYPE_CHECKING:
    from ..budget import TokenBudget
    from ..retry import StepRetry

__all__ = ["ActiveRun", "install_nested_runner", "running_durably"]


@dataclass(frozen=True)
class ActiveRun:
    """The settings of the durable run the current task is part of, for the runs nested in it."""

    context: restate.Context
    retry: StepRetry | None
    sequential_tools: bool
    token_budget: TokenBudget | None


_ACTIVE: ContextVar[ActiveRun | None] = ContextVar("durable_agents_active_run", default=None)


def active_run() -> ActiveRun | None:
    return _ACTIVE.get()


def running_durably() -> bool:
    """Whether the current task runs inside a ``DurableRunner`` run."""
    return _ACTIVE.get() is not None


def durable_run(active: ActiveRun) -> AbstractContextManager[None]:
    """Inside the block, plain runs of this task are nested in ``active`` (``running_durably()``)."""
    return bound(_ACTIVE, active)


def _needs_durability(run_config: RunConfig | dict[str, Any] | None) -> ActiveRun | None:
    active = _ACTIVE.get()
    if active is None or in_step() is not None:
        return None
    if isinstance(run_config, RunConfig) and isinstance(run_config.model_provider, DurableModelCalls):
        return None
    return active


class _DurableOptions(TypedDict):
    """``DurableRunner.run``'s options for a nested run (its parameters of the same names)."""

    context: object
    max_turns: int
    hooks: RunHooks[Any] | None
    run_config: RunConfig | None
    error_handlers: RunErrorHandlers[Any] | None
    previous_response_id: str | None
    auto_previous_response_id: bool
    conversation_id: str | None
    session: Session | None
    retry: StepRetry | None
    sequential_tools: bool
    token_budget: TokenBudget | None


def _durable_options(kwargs: RunOptions[Any], run_config: RunConfig | None, active: ActiveRun) -> _DurableOptions:
    """The plain run's options, in the outer durable run's context and with its settings."""
    return _DurableOptions(
        context=kwargs.get("context") or active.context,
        max_turns=kwargs.get("max_turns") or _sdk_run.DEFAULT_MAX_TURNS,
        hooks=kwargs.get("hooks"),
        run_config=run_config,
        error_handlers=kwargs.get("error_handlers"),
        previous_response_id=kwargs.get("previous_response_id"),
        auto_previous_response_id=kwargs.get("auto_previous_response_id", False),
        conversation_id=kwargs.get("conversation_id"),
        session=kwargs.get("session"),
        retry=active.retry,
        sequential_tools=active.sequential_tools,
        token_budget=active.token_budget,
    )


class NestedDurableRunner(AgentRunner):
    """The SDK's default runner, making runs nested in a durable run durable (module docstring)."""

    def __init__(self, fallback: AgentRunner) -> None:
        super().__init__()
        self.fallback = fallback

    async def run(
        self,
        starting_agent: Agent[Any],
        input: str | list[TResponseInputItem] | RunState[Any],
        **kwargs: Unpack[RunOptions[Any]],
    ) -> RunResult:
        run_config = kwargs.get("run_config")
        active = _needs_durability(run_config)
        if active is None or isinstance(run_config, dict):
            return await self.fallback.run(starting_agent, input, **kwargs)
        from ._runner import DurableRunner  # the runner module installs this one: import at call time

        # a nested plain run returns its interruptions, as it would without Restate: approvals=None
        return await DurableRunner.run(
            starting_agent, input, **_durable_options(kwargs, run_config, active), approvals=None
        )

    def run_streamed(
        self,
        starting_agent: Agent[Any],
        input: str | list[TResponseInputItem] | RunState[Any],
        **kwargs: Unpack[RunOptions[Any]],
    ) -> RunResultStreaming:
        run_config = kwargs.get("run_config")
        active = _needs_durability(run_config)
        if active is None or isinstance(run_config, dict):
            return self.fallback.run_streamed(starting_agent, input, **kwargs)
        from ._runner import DurableRunner

        return DurableRunner.run_streamed(starting_agent, input, **_durable_options(kwargs, run_config, active))


def install_nested_runner() -> None:
    """Put :class:`NestedDurableRunner` in front of the SDK's default runner (once per process).

    The SDK reads its default runner at every ``Runner.run`` call, so this takes effect at once and
    changes nothing for runs outside a durable run.
    """
    current = _sdk_run.get_default_agent_runner()
    if not isinstance(current, NestedDurableRunner):
        _sdk_run.set_default_agent_runner(NestedDurableRunner(current))
