"""Replay a journaled ``ModelResponse`` as Responses-API stream events.

Durable streaming journals the complete response first and then emits it as events, so a replay
yields the very same events without calling the model again. Text arrives as one delta per content
part rather than token by token: the price of never streaming outside the journal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TypedDict

from agents.items import ModelResponse, TResponseStreamEvent
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
    ResponseUsage,
)


class _PartPosition(TypedDict):
    """Where a content part sits: the fields every per-part event repeats."""

    item_id: str
    output_index: int
    content_index: int


def _response_object(response: ModelResponse, model_name: str, *, completed: bool) -> Response:
    usage = response.usage
    return Response.model_construct(
        id=response.response_id or "__durable_replay__",
        object="response",
        created_at=0.0,  # deterministic: events are rebuilt from the journal on every replay
        model=model_name,
        status="completed" if completed else "in_progress",
        output=list(response.output) if completed else [],
        parallel_tool_calls=True,
        tool_choice="auto",
        tools=[],
        usage=ResponseUsage(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            total_tokens=usage.total_tokens,
            input_tokens_details=usage.input_tokens_details,
            output_tokens_details=usage.output_tokens_details,
        )
        if completed
        else None,
    )


async def replay_as_stream(response: ModelResponse, model_name: str) -> AsyncIterator[TResponseStreamEvent]:
    """Yield created → per-item added/delta/done → completed events for ``response``."""
    sequence = 0

    def seq() -> int:
        nonlocal sequence
        sequence += 1
        return sequence

    yield ResponseCreatedEvent(
        type="response.created", response=_response_object(response, model_name, completed=False), sequence_number=seq()
    )
    for index, item in enumerate(response.output):
        yield ResponseOutputItemAddedEvent(
            type="response.output_item.added", item=item, output_index=index, sequence_number=seq()
        )
        if isinstance(item, ResponseOutputMessage):
            for part_index, part in enumerate(item.content):
                common: _PartPosition = {"item_id": item.id, "output_index": index, "content_index": part_index}
                yield ResponseContentPartAddedEvent(
                    type="response.content_part.added", part=part, sequence_number=seq(), **common
                )
                if isinstance(part, ResponseOutputText):
                    yield ResponseTextDeltaEvent(
                        type="response.output_text.delta", delta=part.text, logprobs=[], sequence_number=seq(), **common
                    )
                    yield ResponseTextDoneEvent(
                        type="response.output_text.done", text=part.text, logprobs=[], sequence_number=seq(), **common
                    )
                yield ResponseContentPartDoneEvent(
                    type="response.content_part.done", part=part, sequence_number=seq(), **common
                )
        yield ResponseOutputItemDoneEvent(
            type="response.output_item.done", item=item, output_index=index, sequence_number=seq()
        )
    yield ResponseCompletedEvent(
        type="response.completed",
        response=_response_object(response, model_name, completed=True),
        sequence_number=seq(),
    )
