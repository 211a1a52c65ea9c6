"""The Agents SDK's model signature, spelled out once: a model call as one value and a ``Model`` base
that hands it to ``respond``/``stream``.

``Model.get_response`` and ``Model.stream_response`` take eleven parameters. A model that wraps
another one (the durable step, a stand-in for a model that could not be built, a test double) only
wants the call as a whole, to look at it and pass it on. ``ForwardingModel`` takes the SDK's exact
typed signature and packs it into a ``ModelCall``; ``ModelCall.get_response(model)`` unpacks it again
for the wrapped model. A new SDK parameter is then added in this one file.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from agents.agent_output import AgentOutputSchemaBase
from agents.handoffs import Handoff
from agents.items import ModelResponse, TResponseInputItem, TResponseStreamEvent
from agents.model_settings import ModelSettings
from agents.models.interface import Model, ModelTracing
from agents.tool import Tool
from openai.types.responses.response_prompt_param import ResponsePromptParam

__all__ = ["ForwardingModel", "ModelCall"]


@dataclass(frozen=True)
class ModelCall:
    """The arguments of one ``get_response``/``stream_response`` call, as the SDK passed them."""

    system_instructions: str | None
    input: str | list[TResponseInputItem]
    model_settings: ModelSettings
    tools: list[Tool]
    output_schema: AgentOutputSchemaBase | None
    handoffs: list[Handoff]
    tracing: ModelTracing
    previous_response_id: str | None = None
    conversation_id: str | None = None
    prompt: ResponsePromptParam | None = None

    @classmethod
    def plain(cls, input: str | list[TResponseInputItem], *, system_instructions: str | None = None) -> ModelCall:
        """A call with nothing but instructions and input (no tools, no settings, tracing off), as a
        test or a benchmark makes one: ``await ModelCall.plain("hi").get_response(model)``."""
        return cls(system_instructions, input, ModelSettings(), [], None, [], ModelTracing.DISABLED)

    async def get_response(self, model: Model) -> ModelResponse:
        """The same call on ``model`` (the wrapped one)."""
        return await model.get_response(
            self.system_instructions,
            self.input,
            self.model_settings,
            self.tools,
            self.output_schema,
            self.handoffs,
            self.tracing,
            previous_response_id=self.previous_response_id,
            conversation_id=self.conversation_id,
            prompt=self.prompt,
        )

    def stream_response(self, model: Model) -> AsyncIterator[TResponseStreamEvent]:
        """The same call on ``model``, streamed."""
        return model.stream_response(
            self.system_instructions,
            self.input,
            self.model_settings,
            self.tools,
            self.output_schema,
            self.handoffs,
            self.tracing,
            previous_response_id=self.previous_response_id,
            conversation_id=self.conversation_id,
            prompt=self.prompt,
        )

    @property
    def items(self) -> list[Any]:
        """The input as a list of items (a plain string is one user message)."""
        if isinstance(self.input, str):
            return [{"role": "user", "content": self.input}]
        return list(self.input)

    def function_outputs(self) -> int:
        """How many tool results the input holds: the turn of an agent run, counted from 0."""
        return sum(1 for item in self.items if _field(item, "type") == "function_call_output")

    @property
    def last_user_text(self) -> str:
        """The text of the last user message ("" if none)."""
        for item in reversed(self.items):
            if _field(item, "role") == "user":
                content = _field(item, "content")
                if isinstance(content, str):
                    return content
                if isinstance(content, list):
                    return " ".join(str(_field(part, "text") or "") for part in content)
        return ""


def _field(item: object, name: str) -> Any:
    """``item[name]`` for the dicts the SDK passes, ``item.name`` for its pydantic items."""
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


class ForwardingModel(Model):
    """A ``Model`` whose subclasses implement ``respond`` and ``stream`` over one ``ModelCall``.

    The SDK's eleven-parameter methods live here, typed as the SDK declares them; the durable model,
    the unbuilt-model stand-in and the test kit's scripted model only see the call.
    """

    @abstractmethod
    async def respond(self, call: ModelCall) -> ModelResponse:
        """Answer ``call`` (``get_response``)."""

    @abstractmethod
    def stream(self, call: ModelCall) -> AsyncIterator[TResponseStreamEvent]:
        """Answer ``call`` as stream events (``stream_response``)."""

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> ModelResponse:
        return await self.respond(
            ModelCall(
                system_instructions,
                input,
                model_settings,
                tools,
                output_schema,
                handoffs,
                tracing,
                previous_response_id=previous_response_id,
                conversation_id=conversation_id,
                prompt=prompt,
            )
        )

    def stream_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> AsyncIterator[TResponseStreamEvent]:
        return self.stream(
            ModelCall(
                system_instructions,
                input,
                model_settings,
                tools,
                output_schema,
                handoffs,
                tracing,
                previous_response_id=previous_response_id,
                conversation_id=conversation_id,
                prompt=prompt,
            )
        )
