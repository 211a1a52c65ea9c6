"""``DurableModel``: every model call is one journaled Restate step."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import restate
from agents.handoffs import Handoff
from agents.items import ModelResponse, TResponseStreamEvent
from agents.models.interface import Model
from agents.retry import ModelRetryAdvice, ModelRetryAdviceRequest
from agents.tool import FunctionTool, Tool

from .._context import required_context
from .._journal import journal_limited
from ..budget import TokenBudget
from ..retry import StepRetry, run_step
from ..tracing._steps import journal_step
from ._forwarding import ForwardingModel, ModelCall
from ._live import StreamingModel
from ._scope import in_step, invocation_scope
from ._serde import ModelResponseSerde
from ._stream import replay_as_stream
from ._tool_journal import eligible_for_concurrency, make_tools_durable
from ._turns import install_baton

if TYPE_CHECKING:
    from ..streams import TopicPublisher


try:  # the SDK's own switch that turns off the openai client's and LiteLLM's inner retries
    from agents.models._retry_runtime import provider_managed_retries_disabled as _no_inner_retries
except ImportError:  # pragma: no cover - older/newer SDK without it: inner retries stay bounded by the client

    @contextmanager
    def _no_inner_retries(disabled: bool) -> Iterator[None]:
        yield


_SERDE = ModelResponseSerde()


def _function_calls(response: ModelResponse, tools: list[Tool], handoffs: list[Handoff]) -> list[tuple[str, bool]]:
    """The function calls of ``response`` the SDK will hand to tools, in the model's order, each with
    whether its tool is sure to be invoked (see ``ToolTurn``). Handoff calls are not tool calls."""
    by_name = {tool.name: tool for tool in tools if isinstance(tool, FunctionTool)}
    handoff_names = {handoff.tool_name for handoff in handoffs}
    calls: list[tuple[str, bool]] = []
    for item in response.output:
        if getattr(item, "type", None) != "function_call":
            continue
        name = getattr(item, "name", "")
        if name in handoff_names and name not in by_name:
            continue
        tool = by_name.get(name)
        call_id = str(getattr(item, "call_id", ""))
        calls.append((call_id, tool is not None and eligible_for_concurrency(tool)))
    return calls


class DurableModel(ForwardingModel):
    """Wraps any SDK ``Model`` so that each ``get_response`` is one journaled ``ctx.run`` step.

    On replay the journaled response is returned without calling the model. Provider errors are
    classified by ``integrations.errors``: auth/validation errors fail the step at once with a
    ``TerminalError``; transient ones are retried by Restate (honouring Retry-After) as ``retry``
    says (default: 3 attempts), after which the step fails with a ``TerminalError`` that names it.
    ``retry=StepRetry(attempt_timeout=...)`` cancels and retries an attempt the provider leaves
    hanging. The provider client's own retries are disabled inside the step so every attempt shows
    in the journal.

    ``context`` may be omitted: the Restate context of the running handler is then looked up at
    call time, which lets an ``Agent(model=DurableModel(LitellmModel(...)))`` live at module level.

    ``token_budget`` is charged with each journaled response's usage (in handler code, so a replay
    re-derives the same total); past its limit the run fails with ``TokenBudgetExceeded``. Create it
    per invocation, e.g. ``integrations.budget.token_budget(ctx, 50_000)``.

    ``events`` (a ``integrations.streams.TopicPublisher``) streams each call from the provider and
    publishes its deltas live to a topic; the journal still records the one complete response.
    """

    def __init__(
        self,
        model: Model,
        *,
        context: restate.Context | None = None,
        retry: StepRetry | None = None,
        name: str | None = None,
        token_budget: TokenBudget | None = None,
        events: TopicPublisher | None = None,
    ) -> None:
        if isinstance(model, DurableModel):
            raise TypeError("model is already durable; wrapping it twice would journal every call twice")
        self.model = model
        self.retry = retry or StepRetry()
        self.name = name or getattr(model, "model", None) or type(model).__name__
        self.token_budget = token_budget
        self.events = events
        self._context = context

    def _restate_context(self) -> restate.Context:
        return required_context(
            self._context,
            "DurableModel was called outside a Restate handler: there is no journal to record the "
            "model call in. Run the agent inside a handler, or use the plain model outside Restate.",
        )

    async def respond(self, call: ModelCall) -> ModelResponse:
        if in_step() is not None:  # inside a step journaled whole (a plain tool's nested run): call it plainly
            return await call.get_response(self.model)
        ctx = self._restate_context()
        scope = invocation_scope(ctx)
        if scope is not None:
            install_baton()
            make_tools_durable(call.tools)
        live = self.events.model_step(ctx, self.name, call.input) if self.events is not None else None  # opt-in
        model = StreamingModel(self.model, live) if live is not None else self.model

        async def call_model() -> ModelResponse:
            with _no_inner_retries(True):
                return await call.get_response(model)

        step = f"LLM call: {self.name}"
        with journal_step(step):  # tags the model-call span with the step (integrations.tracing)
            response = await run_step(ctx, step, call_model, self.retry, serde=journal_limited(step, _SERDE))
        if scope is not None:
            scope.new_turn(_function_calls(response, call.tools, call.handoffs))
        if live is not None:
            live.journaled(response.output)
        if self.token_budget is not None:
            self.token_budget.charge(response)
        return response

    async def stream(self, call: ModelCall) -> AsyncIterator[TResponseStreamEvent]:
        """Journal the complete response, then emit it as stream events (identical on replay)."""
        response = await self.respond(call)
        async for event in replay_as_stream(response, self.name):
            yield event

    def get_retry_advice(self, request: ModelRetryAdviceRequest) -> ModelRetryAdvice | None:
        """Restate owns retries: the SDK's runner-level retry must not re-run a journaled step."""
        return ModelRetryAdvice(suggested=False, reason="retries are handled by Restate's journal")

    async def close(self) -> None:
        await self.model.close()
