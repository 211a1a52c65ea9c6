"""``DurablePlugin``: one ADK plugin makes a whole agent tree durable inside a Restate handler.

ADK's plugins see every agent, model call and tool call of a ``Runner``, sub-agents and
``AgentTool`` children included (an ``AgentTool`` hands its parent's plugins to its own runner).
The plugin:

- makes every ``LlmAgent``'s model a :class:`DurableLlm` when the agent starts (once; agents that
  inherit their parent's model inherit its durable one): each model call is a journaled step and
  the tools it offers are journaled by default;
- points ADK's id, clock and random providers at the invocation (``_platform``), so the events a
  replay rebuilds are equal to the first ones;
- moves a ``ParallelAgent``'s branches through a baton (``_branches``): they run concurrently, and
  their model calls, tools and session writes reach the journal in the same order on every replay;
- moves the tool calls of one model response through a baton (``integrations._tool_turns``): they
  run concurrently, and their durable actions reach the journal in the model's order on every replay;
- resolves ADK's tool confirmation (``FunctionTool(require_confirmation=...)``) with a Restate
  awakeable: the ready-to-run resolve command is printed once, the handler suspends until a person
  runs it (or ``approval_timeout`` passes: rejected), and the decision is journaled; with a
  topic attached (``integrations.streams``) it is announced as ``approval``/``approval_done``, so
  the chat page shows Approve/Reject buttons and who decided;
- publishes each tool's result to the invocation's topic, if any (``_live``);
- reports the run, its agents, model calls and tool calls as replay-safe OpenTelemetry spans when
  tracing is on (``_tracing``, whose docstring says why ADK's own spans are left alone);
- leaves tool errors to ADK's own handling: a ``TerminalError`` (or a journaled tool's
  ``ToolFailed``) that no ``on_tool_error_callback`` answers is re-raised by ADK and ends the run.
  (The plugin does not re-raise it itself: ADK wraps an exception raised in a plugin callback in a
  ``RuntimeError``; restate-sdk 1.3.0 still finds a ``TerminalError`` in its cause chain and fails
  the run, but with ADK's wrapper around it.) Suspensions are no ``Exception`` and pass every
  callback untouched.

Put it first in the plugin list: ADK asks plugins in order and stops at the first that answers.
"""

from __future__ import annotations

import asyncio
import datetime
import json
from datetime import timedelta
from typing import Any

import restate
from google.adk.agents.base_agent import BaseAgent
from google.adk.agents.callback_context import CallbackContext
from google.adk.agents.invocation_context import InvocationContext
from google.adk.agents.llm_agent import LlmAgent
from google.adk.agents.parallel_agent import ParallelAgent
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.plugins.base_plugin import BasePlugin
from google.adk.tools.agent_tool import AgentTool
from google.adk.tools.base_tool import BaseTool
from google.adk.tools.tool_confirmation import ToolConfirmation
from google.adk.tools.tool_context import ToolContext
from google.genai import types

from .._context import running_context
from .._tool_turns import install_baton
from ..awakeables import announce, reject_command, resolve_command, waiting_label
from ..retry import StepRetry
from . import _tracing as tracing
from ._live import publish_tool_result, publisher_of
from ._model import durable_llm_of
from ._platform import use_restate_platform
from ._scope import invocation_scope

__all__ = ["APPROVAL_TIMED_OUT", "DurablePlugin", "confirmation_of"]

APPROVAL_TIMED_OUT = "no decision within the approval timeout"
"""The hint of the rejection an approval that timed out gets."""

_APPROVE_WORDS = frozenset({"true", "yes", "y", "approve", "approved", "ok"})


def confirmation_of(decision: Any) -> ToolConfirmation:
    """A resolved awakeable's payload as ADK's ``ToolConfirmation``.

    ``true`` / ``false``, a word (``"approve"``, ``"yes"``; anything else rejects), an object with
    ``confirmed`` and optionally ``payload`` / ``hint``, or the chat page's answer
    ``{"approved": true|false, "by": "<who>", "message": "<reason>"}`` (its reason becomes the hint).
    """
    if isinstance(decision, bool):
        return ToolConfirmation(confirmed=decision)
    if isinstance(decision, str):
        return ToolConfirmation(confirmed=decision.strip().lower() in _APPROVE_WORDS, hint=decision)
    if isinstance(decision, dict) and "confirmed" in decision:
        return ToolConfirmation.model_validate(decision)
    if isinstance(decision, dict) and isinstance(decision.get("approved"), bool):
        reason = decision.get("message") or decision.get("reason") or ""
        return ToolConfirmation(confirmed=decision["approved"], hint=str(reason)[:500])
    raise restate.TerminalError(
        f"approval decision {decision!r} is neither true/false, a word, an object with 'confirmed', nor "
        "one with 'approved'",
        400,
    )


def _decided_by(decision: Any) -> str:
    """Who answered, as the resolver named themselves (the chat page sends ``by``)."""
    by = decision.get("by") if isinstance(decision, dict) else None
    return by[:200] if isinstance(by, str) else ""


class DurablePlugin(BasePlugin):
    """Make every agent of a ``Runner`` durable (see the module docstring).

    ``retry`` is the model steps' ``StepRetry``; ``tool_retry`` the journaled tools' (retryable
    errors only); ``max_tokens`` a token budget per invocation (``TokenBudgetExceeded`` past it);
    ``approval_timeout`` rejects a confirmation nobody decided in time.
    """

    def __init__(
        self,
        *,
        retry: StepRetry | None = None,
        tool_retry: StepRetry | None = None,
        max_tokens: int | None = None,
        approval_timeout: timedelta | None = None,
        name: str = "durable_agents",
    ) -> None:
        super().__init__(name=name)
        self.retry = retry
        self.tool_retry = tool_retry
        self.max_tokens = max_tokens
        self.approval_timeout = approval_timeout

    # -- run and agents ------------------------------------------------------------------------

    async def before_run_callback(self, *, invocation_context: InvocationContext) -> types.Content | None:
        ctx = running_context()
        if ctx is None:
            raise restate.TerminalError(
                "DurablePlugin runs outside a Restate handler: run the ADK Runner inside a handler", 500
            )
        scope = invocation_scope(ctx)
        if scope is not None:
            install_baton()  # before the first durable await: a branch's model step may park on a baton
            scope.plugin_active = True
            scope.retry, scope.tool_retry, scope.max_tokens = self.retry, self.tool_retry, self.max_tokens
        await use_restate_platform(ctx)
        if isinstance(invocation_context.agent, BaseAgent):
            self._make_durable(invocation_context.agent)
        tracing.run_started(invocation_context)
        return None

    async def after_run_callback(self, *, invocation_context: InvocationContext) -> None:
        tracing.run_ended(invocation_context)

    async def on_run_error_callback(self, *, invocation_context: InvocationContext, error: Exception) -> None:
        tracing.run_ended(invocation_context, error)

    def _make_durable(self, agent: BaseAgent) -> None:
        """Wrap the models of ``agent``'s tree, agents used as tools included: ADK may run a copy of an
        agent (wrapped again in ``before_agent_callback``) while compaction asks the original's model."""
        if isinstance(agent, LlmAgent):
            durable_llm_of(agent)
            for tool in agent.tools:
                if isinstance(tool, AgentTool):
                    self._make_durable(tool.agent)
        for sub_agent in agent.sub_agents:
            self._make_durable(sub_agent)

    async def before_agent_callback(
        self, *, agent: BaseAgent, callback_context: CallbackContext
    ) -> types.Content | None:
        if isinstance(agent, LlmAgent):
            durable_llm_of(agent)
        await self._enter_branch(agent, callback_context)  # before its span: the wait is not the agent's
        tracing.agent_started(agent, callback_context)
        return None

    async def after_agent_callback(
        self, *, agent: BaseAgent, callback_context: CallbackContext
    ) -> types.Content | None:
        tracing.agent_ended(agent, callback_context)
        return None

    async def on_agent_error_callback(
        self, *, agent: BaseAgent, callback_context: CallbackContext, error: Exception
    ) -> None:
        tracing.agent_ended(agent, callback_context, error)

    # -- model calls (the durable model journals them; the plugin only traces them) ----------------

    async def before_model_callback(
        self, *, callback_context: CallbackContext, llm_request: LlmRequest
    ) -> LlmResponse | None:
        tracing.model_started(callback_context, llm_request)
        return None

    async def after_model_callback(
        self, *, callback_context: CallbackContext, llm_response: LlmResponse
    ) -> LlmResponse | None:
        tracing.model_ended(callback_context, llm_response)
        return None

    async def on_model_error_callback(
        self, *, callback_context: CallbackContext, llm_request: LlmRequest, error: Exception
    ) -> LlmResponse | None:
        tracing.model_ended(callback_context, None, error)
        return None

    # -- the branches of a ParallelAgent ------------------------------------------------------------

    @staticmethod
    def _branch_key(agent: BaseAgent, callback_context: CallbackContext) -> tuple[str, int] | None:
        parent = agent.parent_agent
        if not isinstance(parent, ParallelAgent):
            return None
        return (callback_context.invocation_id, id(parent))

    async def _enter_branch(self, agent: BaseAgent, callback_context: CallbackContext) -> None:
        """Take part in the baton of ``agent``'s parallel run (``_branches``) until the branch's task
        ends; run once the baton is ours."""
        ctx = running_context()
        key = self._branch_key(agent, callback_context)
        scope = invocation_scope(ctx) if ctx is not None and key is not None else None
        task = asyncio.current_task()
        if scope is None or key is None or agent.parent_agent is None or task is None:
            return
        ended = callback_context._invocation_context.end_of_agents  # the branches ADK starts (resumed runs skip some)
        order = [sub.name for sub in agent.parent_agent.sub_agents if not ended.get(sub.name)]
        baton = scope.branch_baton(key, order)
        if not baton.expects(agent.name):
            return
        # left when the task ends, after ADK consumed the branch's last event (``_branches``)
        task.add_done_callback(lambda _: baton.release(agent.name))
        await baton.enter(agent.name)

    # -- tools ----------------------------------------------------------------------------------

    async def before_tool_callback(
        self, *, tool: BaseTool, tool_args: dict[str, Any], tool_context: ToolContext
    ) -> dict[str, Any] | None:
        ctx = running_context()
        if ctx is None:
            return None
        tracing.tool_started(tool, tool_context)
        await self._enter_turn(ctx, tool_context)
        if tool_context.tool_confirmation is None and await tool.check_require_confirmation(tool_args, tool_context):
            tool_context.tool_confirmation = await self._decision(ctx, tool, tool_args)
        return None

    async def after_tool_callback(
        self, *, tool: BaseTool, tool_args: dict[str, Any], tool_context: ToolContext, result: dict[str, Any]
    ) -> dict[str, Any] | None:
        ctx = running_context()
        answered: dict[str, Any] | None = None
        if ctx is not None:
            answered = await self._confirm_requested(ctx, tool, tool_args, tool_context)
            # still holding the turn's baton: parallel calls publish in the model's order
            publish_tool_result(ctx, tool_context.function_call_id or "", answered or result)
        await self._leave_turn(tool_context)
        tracing.tool_ended(tool, tool_context)
        return answered

    async def _confirm_requested(
        self, ctx: restate.Context, tool: BaseTool, tool_args: dict[str, Any], tool_context: ToolContext
    ) -> dict[str, Any] | None:
        """A tool that called ``tool_context.request_confirmation()`` itself: ask over an awakeable,
        then run the tool again with ``tool_context.tool_confirmation`` set, as plain ADK does when
        the confirmation arrives in a later request. Without this, ADK would end the invocation and
        wait for a request that a Restate handler never sends. The request is taken off the event's
        actions, so ADK does not pause; the second run is a journaled step of its own (a replay
        returns the first run's request from the journal and asks the same awakeable again)."""
        call_id = tool_context.function_call_id or ""
        answered: dict[str, Any] | None = None
        while (requested := tool_context.actions.requested_tool_confirmations.pop(call_id, None)) is not None:
            tool_context.tool_confirmation = await self._decision(ctx, tool, tool_args, hint=requested.hint)
            again = await tool.run_async(args=tool_args, tool_context=tool_context)
            answered = again if isinstance(again, dict) else {"result": again}
        return answered

    async def on_tool_error_callback(
        self, *, tool: BaseTool, tool_args: dict[str, Any], tool_context: ToolContext, error: Exception
    ) -> dict[str, Any] | None:
        await self._leave_turn(tool_context)
        tracing.tool_ended(tool, tool_context, error)
        return None  # ADK re-raises the error when no callback answers: a TerminalError ends the run

    # -- the baton of one model response's tool calls ---------------------------------------------

    async def _enter_turn(self, ctx: restate.Context, tool_context: ToolContext) -> None:
        scope = invocation_scope(ctx)
        call_id = tool_context.function_call_id
        if scope is None or not scope.plugin_active or not call_id:
            return
        participation = scope.turn_for(call_id).participate(call_id)
        await participation.__aenter__()
        scope.held[call_id] = participation

    async def _leave_turn(self, tool_context: ToolContext) -> None:
        ctx = running_context()
        scope = invocation_scope(ctx) if ctx is not None else None
        participation = scope.held.pop(tool_context.function_call_id or "", None) if scope is not None else None
        if participation is not None:
            await participation.__aexit__(None, None, None)

    # -- approvals ------------------------------------------------------------------------------

    async def _decision(
        self, ctx: restate.Context, tool: BaseTool, tool_args: dict[str, Any], *, hint: str = ""
    ) -> ToolConfirmation:
        awakeable_id, decision = ctx.awakeable(type_hint=object)
        arguments = json.dumps(tool_args, sort_keys=True, default=str)
        asked = f"{tool.name}({arguments})" + (f" - {hint}" if hint else "")  # the tool's own hint, if it gave one

        who = waiting_label(ctx)  # service and invocation id: two pending approvals are told apart

        def notify() -> str:
            announce(
                f"{who} approval: {asked} waits for a decision:\n"
                f"{who}   approve: {resolve_command(awakeable_id, True)}\n"
                f"{who}   reject: {resolve_command(awakeable_id, False)}\n"
                f"{who}   (or: {reject_command(awakeable_id, 'reason')})"
            )
            return awakeable_id  # journaled: `durable-agents up` and `pending` list the wait at once

        await ctx.run_typed(f"Approval request: {tool.name}", notify)
        publisher = publisher_of(ctx)
        step = f"approval {awakeable_id}"
        if publisher is not None:  # the chat page shows Approve/Reject for it
            announced = {"awakeable_id": awakeable_id, "question": asked, "tool": tool.name}
            publisher.send(ctx, [("approval", step, {**announced, "arguments": arguments})])
        by = ""
        try:
            if self.approval_timeout is None:
                value = await decision
                confirmation, by = confirmation_of(value), _decided_by(value)
            else:
                match await restate.select(decision=decision, timeout=ctx.sleep(self.approval_timeout)):
                    case ["decision", value]:
                        confirmation, by = confirmation_of(value), _decided_by(value)
                    case _:
                        confirmation = ToolConfirmation(confirmed=False, hint=APPROVAL_TIMED_OUT)
        except restate.TerminalError as rejected:  # the reject command: a rejection with its reason
            confirmation = ToolConfirmation(confirmed=False, hint=rejected.message)
        if publisher is not None:
            seconds = await ctx.time()
            at = datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat(timespec="seconds")
            done = {
                "awakeable_id": awakeable_id,
                "approved": confirmation.confirmed,
                "reason": "" if confirmation.confirmed else (confirmation.hint or ""),
                "by": by,
                "at": at,
            }
            publisher.send(ctx, [("approval_done", step, done)])
        return confirmation
