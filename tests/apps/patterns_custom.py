"""Pattern services built with test tools: side effects are recorded, and gates let a test
SIGKILL the service mid-step. Names differ from the defaults so both apps can share a server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import restate
from pydantic import BaseModel

from patterns import (
    CompensatedTool,
    LocalTool,
    ReviewRequest,
    ToolInput,
    human_in_the_loop_with_timeout_service,
    parallel_tools_service,
    saga_service,
)
from tests.apps._support import record_effect, wait_for_gate


# -- saga: every booking and every undo is recorded; undoing the flight waits on a gate ----------
class Booking(BaseModel):
    item: str


def _booking_id(tool_input: ToolInput) -> str:
    return str(tool_input.request.booking_id)  # type: ignore[attr-defined]


def _book(kind: str) -> Callable[[ToolInput], str]:
    def book(tool_input: ToolInput) -> str:
        booking = _booking_id(tool_input)
        if kind == "car":
            record_effect(f"book-failed:car:{booking}")
            raise restate.TerminalError(f"No {tool_input.arguments.item} available")
        record_effect(f"book:{kind}:{booking}")
        return f"{kind}-reservation-{booking}"

    return book


def _undo(kind: str) -> Callable[[ToolInput, str], Awaitable[str]]:
    async def undo(tool_input: ToolInput, result: str) -> str:
        booking = _booking_id(tool_input)
        record_effect(f"undo-started:{kind}:{booking}")
        if kind == "flight":
            await wait_for_gate(f"undo-flight-{booking}")
        record_effect(f"undo:{kind}:{booking}:{result}")
        return f"cancelled {result}"

    return undo


recorded_saga = saga_service(
    [
        CompensatedTool(f"book_{kind}", f"Book a {kind}", _book(kind), _undo(kind), Booking)
        for kind in ("hotel", "flight", "car")
    ],
    name="RecordedBookingAgent",
)


# -- human in the loop with short timeouts; reviewers are notified through the effects log -------
def _notify(request: ReviewRequest) -> None:
    record_effect(f"review:{request.reviewer}:{request.content}:{request.awakeable_id}")


short_review = human_in_the_loop_with_timeout_service(
    name="ShortTimeoutReview",
    review_timeout=timedelta(seconds=1),
    escalation_timeout=timedelta(seconds=2),
    timeout_decision="rejected",
    notify=_notify,
)


# -- parallel tools: each call records its start, then waits for its own gate --------------------
class City(BaseModel):
    city: str


async def _gated_weather(tool_input: ToolInput) -> str:
    city = tool_input.arguments.city
    record_effect(f"weather-started:{city}")
    await wait_for_gate(f"weather-{city}")
    return f"sunny in {city}"


gated_parallel_tools = parallel_tools_service(
    [LocalTool("get_weather", "Weather in a city", _gated_weather, parameters=City)],
    name="GatedParallelTools",
)

app = restate.app([recorded_saga, short_review, gated_parallel_tools])
