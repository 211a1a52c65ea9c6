"""``DurableModelCalls``: a ModelProvider whose models journal every call."""

from __future__ import annotations

from typing import TYPE_CHECKING

import restate
from agents.models.interface import Model, ModelProvider
from agents.models.multi_provider import MultiProvider

from ..budget import TokenBudget
from ._model import DurableModel

if TYPE_CHECKING:
    from ..streams import TopicPublisher


class DurableModelCalls(ModelProvider):
    """Resolve model names with the SDK's default provider and make each call a journaled step.

    Pass it as ``RunConfig(model_provider=DurableModelCalls(ctx))``. Names work as in the SDK:
    ``"gpt-4o"`` (OpenAI), ``"litellm/anthropic/..."`` (LiteLLM). ``max_retries`` is the number of
    attempts per model call before the step fails with ``restate.TerminalError``. An optional
    ``token_budget`` caps the tokens of all model calls made through this provider; ``events``
    (``integrations.streams.TopicPublisher``) streams every call live to a topic.

    A ``Model`` *instance* set on an ``Agent`` never reaches a provider; wrap it in
    ``DurableModel`` or run through ``DurableRunner``, which journals or rejects it.
    """

    def __init__(
        self,
        ctx: restate.Context,
        max_retries: int = 3,
        *,
        provider: ModelProvider | None = None,
        token_budget: TokenBudget | None = None,
        events: TopicPublisher | None = None,
    ) -> None:
        if isinstance(provider, DurableModelCalls):
            raise TypeError("provider is already durable")
        self.ctx = ctx
        self.max_retries = max_retries
        self.provider = provider or MultiProvider()
        self.token_budget = token_budget
        self.events = events

    def get_model(self, model_name: str | None) -> Model:
        return self.wrap(self.provider.get_model(model_name), name=model_name)

    def wrap(self, model: Model, *, name: str | None = None) -> Model:
        """Journal calls to ``model`` under this provider's context and retry budget."""
        if isinstance(model, DurableModel):
            return model
        return DurableModel(
            model,
            context=self.ctx,
            max_retries=self.max_retries,
            name=name,
            token_budget=self.token_budget,
            events=self.events,
        )

    async def aclose(self) -> None:
        await self.provider.aclose()
