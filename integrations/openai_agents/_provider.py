"""``DurableModelCalls``: a ModelProvider whose models journal every call."""

from __future__ import annotations

from typing import TYPE_CHECKING

import restate
from agents.models.interface import Model, ModelProvider
from agents.models.multi_provider import MultiProvider

from ..budget import TokenBudget
from ..errors import setup_errors_as_terminal
from ..retry import DEFAULT_MAX_ATTEMPTS, StepRetry
from ._model import DurableModel

if TYPE_CHECKING:
    from ..streams import TopicPublisher


class DurableModelCalls(ModelProvider):
    """Resolve model names with the SDK's default provider and make each call a journaled step.

    Pass it as ``RunConfig(model_provider=DurableModelCalls(ctx))``. Names work as in the SDK:
    ``"gpt-4o"`` (OpenAI), ``"litellm/anthropic/..."`` (LiteLLM). ``max_retries`` (the name the
    Restate docs use) is the number of attempts per model call, default 3, before the step fails
    with ``restate.TerminalError``; ``retry=StepRetry(...)`` sets every Restate retry setting plus a
    per-attempt timeout instead (pass one or the other). An optional ``token_budget`` caps the
    tokens of all model calls made through this provider; ``events``
    (``integrations.streams.TopicPublisher``) streams every call live to a topic.

    A ``Model`` *instance* set on an ``Agent`` never reaches a provider; wrap it in
    ``DurableModel`` or run through ``DurableRunner``, which journals or rejects it.
    """

    def __init__(
        self,
        ctx: restate.Context,
        max_retries: int | None = None,
        *,
        retry: StepRetry | None = None,
        provider: ModelProvider | None = None,
        token_budget: TokenBudget | None = None,
        events: TopicPublisher | None = None,
    ) -> None:
        if isinstance(provider, DurableModelCalls):
            raise TypeError("provider is already durable")
        if max_retries is not None and retry is not None:
            raise ValueError("pass max_retries or retry=StepRetry(max_attempts=...), not both")
        self.ctx = ctx
        self.retry = retry or StepRetry(max_attempts=max_retries if max_retries is not None else DEFAULT_MAX_ATTEMPTS)
        self.provider = provider or MultiProvider()
        self.token_budget = token_budget
        self.events = events

    def get_model(self, model_name: str | None) -> Model:
        """The provider's model for ``model_name``, journaled.

        The SDK calls this in handler code, before any step: a provider that cannot build the model
        (``OPENAI_API_KEY`` unset, an unknown prefix) would have Restate retry the invocation forever,
        so its configuration errors fail it at once with a ``TerminalError`` (``integrations.errors``).
        """
        with setup_errors_as_terminal(f"building model {model_name or 'default'!r}"):
            model = self.provider.get_model(model_name)
        return self.wrap(model, name=model_name)

    def wrap(self, model: Model, *, name: str | None = None) -> Model:
        """Journal calls to ``model`` under this provider's context and retry settings."""
        if isinstance(model, DurableModel):
            return model
        return DurableModel(
            model,
            context=self.ctx,
            retry=self.retry,
            name=name,
            token_budget=self.token_budget,
            events=self.events,
        )

    async def aclose(self) -> None:
        await self.provider.aclose()
