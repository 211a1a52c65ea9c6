"""A model the provider could not build, standing in until a call actually needs it."""

from __future__ import annotations

from collections.abc import AsyncIterator

from agents.items import ModelResponse, TResponseStreamEvent
from agents.models import get_default_model
from restate.exceptions import TerminalError

from ..errors import classify_provider_error
from ._forwarding import ForwardingModel, ModelCall

__all__ = ["UnbuiltModel"]

_PREFIXES = ("openai/", "litellm/")
"""The SDK's MultiProvider prefixes: the model it builds is named without them."""


class UnbuiltModel(ForwardingModel):
    """Raises, inside the journaled model step, the error that building the model raised.

    Its ``model`` is the name the built model would have had, so the step keeps its name
    (``LLM call: gpt-4o``) and a journaled call replays whether or not the model can be built now.
    The table knows the usual build errors (no API key, an unknown prefix); one it does not know is a
    configuration mistake too: it becomes a ``TerminalError`` naming the model.
    """

    def __init__(self, model_name: str | None, error: Exception) -> None:
        name = model_name or get_default_model()
        self.model = name.split("/", 1)[1] if name.startswith(_PREFIXES) else name
        self.requested = model_name
        self.error = error

    def _failure(self) -> Exception:
        verdict = classify_provider_error(self.error)
        if verdict is not None:
            return self.error  # the step's error mapping makes it terminal, with the table's fix
        return TerminalError(f"cannot build the model {self.requested or self.model!r}: {self.error}", 500)

    async def respond(self, call: ModelCall) -> ModelResponse:
        raise self._failure()

    def stream(self, call: ModelCall) -> AsyncIterator[TResponseStreamEvent]:
        raise self._failure()
