"""Streaming an OpenAI Agents SDK model call live to a topic, inside its journaled step.

``integrations.streams`` knows topics and events, not models: this adapter turns the provider's
Responses stream events into the step's ``text_delta``/``tool_call``/``error`` events and returns
the one complete ``ModelResponse`` the journal records.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from agents.items import ModelResponse, TResponseStreamEvent
from agents.models.interface import Model
from agents.usage import Usage
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseFunctionToolCall,
    ResponseOutputItem,
    ResponseOutputItemDoneEvent,
    ResponseTextDeltaEvent,
)
from restate.exceptions import TerminalError

from ..errors import to_restate_error
from ._forwarding import ForwardingModel, ModelCall

if TYPE_CHECKING:
    from ..streams import ModelStep

__all__ = ["StreamingModel"]

_sdk_usage: Callable[[Any], Usage] | None
try:  # the SDK's own conversion keeps usage details identical to a non-streamed call
    from agents.usage import _response_usage_to_usage as _sdk_usage
except ImportError:  # pragma: no cover - an SDK without it
    _sdk_usage = None


def _usage_of(response: Response) -> Usage:
    if response.usage is None:
        return Usage()
    if _sdk_usage is not None:
        return _sdk_usage(response.usage)
    usage = response.usage
    return Usage(
        requests=1,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
        input_tokens_details=usage.input_tokens_details,
        output_tokens_details=usage.output_tokens_details,
    )


async def _consume(
    events: AsyncIterator[TResponseStreamEvent], each: Callable[[TResponseStreamEvent], Awaitable[None] | None]
) -> None:
    """Feed every event to ``each``, then close the provider's stream even when ``each`` raised."""
    try:
        async for event in events:
            result = each(event)
            if result is not None:
                await result
    finally:
        aclose = getattr(events, "aclose", None)
        if callable(aclose):
            await aclose()


class StreamingModel(ForwardingModel):
    """Inside the journaled step: ``get_response`` via the wrapped model's ``stream_response``,
    publishing each text delta and tool call of the stream to the step's topic as it arrives."""

    def __init__(self, model: Model, step: ModelStep) -> None:
        self.model = model
        self.step = step

    async def respond(self, call: ModelCall) -> ModelResponse:
        publisher = self.step.attempt()
        completed: list[Response] = []
        done_items: list[ResponseOutputItem] = []

        def on_event(event: TResponseStreamEvent) -> None:
            kind = getattr(event, "type", "")
            if isinstance(event, ResponseTextDeltaEvent):
                publisher.emit("text_delta", {"delta": event.delta, "item_id": event.item_id})
            elif isinstance(event, ResponseOutputItemDoneEvent):
                item = event.item
                done_items.append(item)
                if isinstance(item, ResponseFunctionToolCall):
                    publisher.emit(
                        "tool_call", {"name": item.name, "call_id": item.call_id, "arguments": item.arguments}
                    )
            elif isinstance(event, ResponseCompletedEvent):
                completed.append(event.response)
            elif kind in ("response.failed", "response.incomplete", "error", "response.error"):
                detail = getattr(getattr(event, "response", None), "error", None) or getattr(event, "message", "")
                raise RuntimeError(f"the model stream ended with {kind}: {detail}")

        try:
            stream = call.stream_response(self.model)
            await _consume(stream, on_event)
            if not completed:
                raise RuntimeError("the model stream ended without a response.completed event")
        except asyncio.CancelledError:
            publisher.abort()
            raise
        except Exception as exc:
            mapped = to_restate_error(exc)
            publisher.emit("error", {"message": str(exc)[:500], "terminal": isinstance(mapped, TerminalError)})
            await publisher.close(self.step.flush_timeout)
            raise
        await publisher.close(self.step.flush_timeout)
        response = completed[-1]
        return ModelResponse(
            output=list(response.output) or done_items,
            usage=_usage_of(response),
            response_id=response.id,
            request_id=getattr(response, "_request_id", None),
        )

    def stream(self, call: ModelCall) -> AsyncIterator[TResponseStreamEvent]:
        return call.stream_response(self.model)

    async def close(self) -> None:
        await self.model.close()
