"""What flows through a topic: events and the request/answer shapes of the topic's handlers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

EventKind = Literal[
    "run_started",  # the first model call of an invocation: data.input is the newest user message
    "text_delta",  # a piece of the model's text answer as the provider streams it: data.delta
    "tool_call",  # the model called a tool: data.name, data.call_id, data.arguments (JSON text)
    "tool_result",  # a tool's output went back to the model: data.call_id, data.output
    "answer",  # a journaled model response without tool calls: data.text, the agent's answer
    "reset",  # the model call ``step`` is retried (``attempt``): drop what earlier attempts streamed
    "error",  # a model call attempt failed: data.message; Restate retries it unless data.terminal
    "approval",  # the run waits for a person: data.awakeable_id, data.question
    "approval_done",  # that wait ended: data.awakeable_id, data.approved, data.reason, data.by, data.at
    "custom",  # an event of the app's own (TopicPublisher.custom): data.name, data.data
]

JOURNALED = 0
"""``attempt`` of events published from the journal (handler code): sent exactly once, never reset."""


class AgentEvent(BaseModel):
    """One event of a topic.

    ``(invocation_id, step, attempt, index)`` says where it came from: the Restate invocation, the
    step inside it (``"model 2: gpt-4o"`` for its second model call, ``"tool call_x"`` for a tool
    result), the attempt of that step (1, 2, ... for a streamed model call; ``0`` for events sent
    from the journal, exactly once) and its position within that attempt. ``seq`` is the topic's
    own sequence number, assigned when stored: consecutive, never reused, the resume point of a
    reader.
    """

    seq: int = 0
    kind: EventKind
    invocation_id: str
    step: str
    attempt: int = Field(default=JOURNALED, ge=0)
    index: int = Field(default=0, ge=0)
    data: dict[str, Any] = Field(default_factory=dict)


class PublishRequest(BaseModel):
    """Events to append, in order. Events of a superseded attempt (a newer one has begun) are dropped."""

    events: list[AgentEvent] = Field(max_length=1000)


class PublishResult(BaseModel):
    stored: int
    dropped: int
    last: int


class AttemptStart(BaseModel):
    """A streamed model call begins an attempt; the topic numbers it and, if it is a retry, resets."""

    invocation_id: str = Field(min_length=1)
    step: str = Field(min_length=1)


class AttemptInfo(BaseModel):
    attempt: int


class PullRequest(BaseModel):
    """Read the events with ``seq > after``, at most ``limit`` of them."""

    after: int = Field(default=0, ge=0)
    limit: int = Field(default=100, ge=1, le=1000)


class EventPage(BaseModel):
    """A page of events; ``first``..``last`` is what the topic retains right now.

    ``gap`` is true when events after ``after`` were already dropped by the retention limit: the
    reader missed them and continues at ``first``.
    """

    events: list[AgentEvent]
    first: int
    last: int
    gap: bool = False
