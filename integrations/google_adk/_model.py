"""``DurableLlm``: every ADK model call is one journaled Restate step."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncGenerator

import restate
from google.adk.agents.llm_agent import LlmAgent
from google.adk.flows.llm_flows.functions import generate_client_function_call_id
from google.adk.models._capabilities import LlmCapabilities
from google.adk.models.base_llm import BaseLlm
from google.adk.models.base_llm_connection import BaseLlmConnection
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.models.registry import LLMRegistry
from pydantic import ConfigDict, Field, PrivateAttr

from .._context import required_context
from .._journal import journal_limited
from .._tool_turns import install_baton
from ..budget import TokenBudget, token_budget
from ..errors import setup_errors_as_terminal
from ..retry import StepRetry, run_step
from ..tracing._steps import journal_step
from ._live import journaled, model_step, publisher_of, streamed
from ._platform import use_restate_platform
from ._scope import in_step, invocation_scope
from ._serde import LlmResponsesSerde
from ._tools import make_tools_durable

__all__ = ["DurableLlm", "durable_llm_of"]

_SERDE = LlmResponsesSerde()


class _Usage:
    """``usage.total_tokens`` of one response, as ``TokenBudget.charge`` reads it."""

    def __init__(self, response: LlmResponse) -> None:
        metadata = response.usage_metadata
        self.total_tokens = (metadata.total_token_count or 0) if metadata is not None else 0


class _Charged:
    def __init__(self, response: LlmResponse) -> None:
        self.usage = _Usage(response)


class DurableLlm(BaseLlm):
    """Wraps any ADK ``BaseLlm`` (``Gemini``, ``LiteLlm``, your own) so that each model call is one
    journaled ``ctx.run`` step, ``"LLM call: <model>"``.

    On replay the journaled responses are returned without calling the model. Provider errors are
    classified by ``integrations.errors``: auth/validation errors fail the step at once with a
    ``TerminalError``; transient ones are retried by Restate (honouring Retry-After) as ``retry``
    says (default: 3 attempts); ``StepRetry(attempt_timeout=...)`` cancels and retries an attempt
    the provider leaves hanging.

    Streaming (``RunConfig(streaming_mode=StreamingMode.SSE)``): the model is streamed inside the
    step; its partial chunks are display hints ADK never acts on, so only the complete response(s)
    are journaled and yielded, on the first run and on every replay alike.

    Live events: when the handler attached a ``TopicPublisher`` (``publisher.attach(ctx)``), the
    model is streamed inside the step whatever the run's streaming mode, and its text and function
    calls are published to the topic as they arrive (``_live``); a replay publishes nothing.

    The tools the model is offered are journaled by default (``integrations.google_adk._tools``).
    ``token_budget`` is charged with each journaled response's ``usage_metadata.total_token_count``
    in handler code, so a replay re-derives the same total. Outside a Restate handler the call fails
    with ``RuntimeError``: there is no journal to record it in.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model: str = ""
    llm: BaseLlm = Field(description="The model every call is journaled for.")
    retry: StepRetry | None = None
    """The model step's retry settings; default: the running ``DurablePlugin``'s, else ``StepRetry()``."""
    token_budget: TokenBudget | None = None
    max_tokens: int | None = None
    """A token budget per invocation (``integrations.budget.token_budget(ctx, max_tokens)``), for a
    model that lives at module level and serves many invocations; default: the running
    ``DurablePlugin``'s ``max_tokens``."""
    step_name: str | None = None
    """The step's name after ``"LLM call: "``; default: the model's name."""
    tool_retry: StepRetry | None = None
    """Retry settings of the journaled tool steps; default: the running ``DurablePlugin``'s, else
    ``_tools.TOOL_RETRY``."""
    _context: restate.Context | None = PrivateAttr(default=None)

    def __init__(
        self,
        llm: BaseLlm | str,
        *,
        context: restate.Context | None = None,
        retry: StepRetry | None = None,
        token_budget: TokenBudget | None = None,
        max_tokens: int | None = None,
        name: str | None = None,
        tool_retry: StepRetry | None = None,
    ) -> None:
        inner = _resolve(llm)
        if isinstance(inner, DurableLlm):
            raise TypeError("model is already durable; wrapping it twice would journal every call twice")
        _no_inner_retries(inner)
        super().__init__(  # type: ignore[call-arg]  # DurableLlm's own fields, which BaseLlm's signature lacks
            model=inner.model,
            llm=inner,
            retry=retry,
            token_budget=token_budget,
            max_tokens=max_tokens,
            step_name=name,
            tool_retry=tool_retry,
        )
        self._context = context

    @property
    def capabilities(self) -> LlmCapabilities:
        return self.llm.capabilities

    @property
    def step(self) -> str:
        return f"LLM call: {self.step_name or self.model or type(self.llm).__name__}"

    def _restate_context(self) -> restate.Context:
        return required_context(
            self._context,
            "DurableLlm was called outside a Restate handler: there is no journal to record the model "
            "call in. Run the ADK Runner inside a handler, or give the agent the plain model outside Restate.",
        )

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        if in_step() is not None:  # inside a step journaled whole: call the model plainly
            async with contextlib.aclosing(self.llm.generate_content_async(llm_request, stream=stream)) as plain:
                async for response in plain:
                    yield response
            return
        ctx = self._restate_context()
        await use_restate_platform(ctx)
        scope = invocation_scope(ctx)
        retry = self.retry or (scope.retry if scope is not None else None) or StepRetry()
        tool_retry = self.tool_retry or (scope.tool_retry if scope is not None else None)
        max_tokens = self.max_tokens if self.max_tokens is not None else (scope.max_tokens if scope else None)
        make_tools_durable(llm_request.tools_dict, tool_retry)
        llm = self.llm
        publisher = publisher_of(ctx)
        live = model_step(publisher, ctx, self.model or type(llm).__name__, llm_request) if publisher else None
        streaming = stream or live is not None  # a live topic gets the text as the provider writes it

        async def call_model() -> list[LlmResponse]:
            attempt = streamed(live) if live is not None else None
            complete: list[LlmResponse] = []
            try:
                chunks = llm.generate_content_async(llm_request, stream=streaming)
                async with contextlib.aclosing(chunks) as responses:
                    async for response in responses:
                        if not response.partial:
                            _name_function_calls(response)
                            complete.append(response)
                        if attempt is not None:
                            attempt.chunk(response)
            except asyncio.CancelledError:
                if attempt is not None:
                    attempt.abort()
                raise
            except Exception as exc:
                if attempt is not None:
                    await attempt.failed(exc)
                raise
            if attempt is not None:
                await attempt.done()
            return complete

        step = self.step
        with journal_step(step):
            responses = await run_step(ctx, step, call_model, retry, serde=journal_limited(step, _SERDE))
        if live is not None:
            journaled(live, responses)
        if scope is not None and scope.plugin_active:
            install_baton()
            calls = [call.id for response in responses for call in response.get_function_calls() if call.id]
            scope.new_turn(calls)
        budget = self.token_budget
        if budget is None and max_tokens is not None:
            budget = token_budget(ctx, max_tokens, name="adk-tokens")
        for response in responses:
            if budget is not None:
                budget.charge(_Charged(response))
            yield response

    def connect(self, llm_request: LlmRequest) -> contextlib.AbstractAsyncContextManager[BaseLlmConnection]:
        """Live (bidirectional) sessions cannot be journaled: fail with the fix, not silently."""
        raise restate.TerminalError(
            f"{self.step!r}: ADK live (bidi) streaming cannot be journaled as Restate steps; run the agent "
            "with Runner.run_async (StreamingMode.NONE or SSE) inside the handler",
            500,
        )


def _no_inner_retries(llm: BaseLlm) -> None:
    """Restate owns the retries of a model step (``StepRetry``, Retry-After, the error table): a
    ``LiteLlm`` would otherwise retry 429/5xx inside the step itself (LiteLLM's ``num_retries`` and
    the OpenAI client's ``max_retries``, 2 by default), unseen by the journal and the live topic, as
    ``integrations.litellm`` turns them off too."""
    lite_llm = sys.modules.get("google.adk.models.lite_llm")  # loaded if ``llm`` is one; never imported here
    if lite_llm is not None and isinstance(llm, lite_llm.LiteLlm):
        llm._additional_args.update(num_retries=0, max_retries=0)


def _name_function_calls(response: LlmResponse) -> None:
    """Give function calls the model left without an id one now, inside the step, so the ids are
    journaled: ADK would otherwise draw new ones on every replay."""
    for call in response.get_function_calls():
        if not call.id:
            call.id = generate_client_function_call_id()


def _resolve(llm: BaseLlm | str) -> BaseLlm:
    if isinstance(llm, BaseLlm):
        return llm
    if not isinstance(llm, str) or not llm:
        raise TypeError(f"DurableLlm takes an ADK BaseLlm or a model name, got {llm!r}")
    with setup_errors_as_terminal(f"building model {llm!r}"):
        try:
            return LLMRegistry.new_llm(llm)
        except ValueError as exc:
            raise restate.TerminalError(
                f"cannot journal model {llm!r}: ADK's registry knows no model by that name ({exc}); give the "
                "agent a BaseLlm instance, e.g. LiteLlm(model='openai/gpt-4o')",
                500,
            ) from exc


def durable_llm_of(agent: LlmAgent) -> DurableLlm | None:
    """Make ``agent``'s own model durable in place (once); ``None`` if it inherits its parent's."""
    model = agent.model
    if isinstance(model, DurableLlm):
        return model
    if model == "" or model is None:
        return None
    if not isinstance(model, (BaseLlm, str)):
        raise restate.TerminalError(
            f"agent {agent.name!r}: its model {type(model).__name__} is no ADK BaseLlm, so its calls cannot be "
            "journaled; give the agent a BaseLlm (Gemini, LiteLlm, ...) or a model name",
            500,
        )
    durable = DurableLlm(model)
    agent.model = durable
    return durable
