"""Sagas (``saga_service``: the recorded booking agent of ``tests/apps/patterns_custom.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from integrations.runtime import IngressError, RestateServer, Stack
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, text, tool_call
from patterns import CompensatedTool, saga_service

from ..conftest import Effects
from .conftest import CUSTOM, tool_messages, unique


def _booking_responder(request: ModelRequest) -> Reply:
    done = len(tool_messages(request))
    steps = [
        ("book_hotel", {"item": "hotel in Paris"}),
        ("book_flight", {"item": "flight BER-CDG"}),
        ("book_car", {"item": "convertible"}),
    ]
    return tool_call(*steps[done]) if done < len(steps) else text("all booked")


@pytest.fixture
def booking(model_server: ScriptedModelServer) -> str:
    """A new booking id, with the model scripted to book the hotel, the flight and the car."""
    model_server.responder = _booking_responder
    return unique("booking")


def _lines_of(effects: Effects, booking: str) -> list[str]:
    return [line for line in effects.lines() if line.endswith(booking) or f":{booking}:" in line]


def _booked_then_undone(booking: str, flight_undo_starts: int = 1) -> list[str]:
    """The effects of the booking: hotel and flight booked, the car fails, then the flight and the
    hotel undone in reverse order, each exactly once (the flight's undo started
    ``flight_undo_starts`` times: again after a crash in it)."""
    return [
        f"book:hotel:{booking}",
        f"book:flight:{booking}",
        f"book-failed:car:{booking}",
        *[f"undo-started:flight:{booking}"] * flight_undo_starts,
        f"undo:flight:{booking}:flight-reservation-{booking}",
        f"undo-started:hotel:{booking}",
        f"undo:hotel:{booking}:hotel-reservation-{booking}",
    ]


def test_saga_compensates_in_reverse_order_exactly_once(
    any_server: RestateServer, served: Callable[[RestateServer, str], Stack], booking: str, effects: Effects
) -> None:
    stack = served(any_server, CUSTOM)
    effects.open_gate(f"undo-flight-{booking}")

    with pytest.raises(IngressError) as failure:
        stack.ingress.call("RecordedBookingAgent", "book", {"booking_id": booking, "message": "Trip to Paris"})
    assert "No convertible available" in failure.value.message
    assert _lines_of(effects, booking) == _booked_then_undone(booking)


def test_saga_rollback_resumes_after_a_crash_mid_compensation(
    restate_server: RestateServer,
    served: Callable[[RestateServer, str], Stack],
    model_server: ScriptedModelServer,
    booking: str,
    effects: Effects,
) -> None:
    stack = served(restate_server, CUSTOM)
    invocation = stack.ingress.send("RecordedBookingAgent", "book", {"booking_id": booking, "message": "Paris"})
    effects.wait_for(f"undo-started:flight:{booking}")
    stack.kill_service()
    stack.start_service()
    effects.wait_for_count(f"undo-started:flight:{booking}", 2)  # the unfinished undo is retried
    effects.open_gate(f"undo-flight-{booking}")

    with pytest.raises(IngressError) as failure:
        stack.ingress.attach(invocation)
    assert "No convertible available" in failure.value.message
    assert _lines_of(effects, booking) == _booked_then_undone(booking, flight_undo_starts=2)
    assert len(model_server.requests) == 3  # the agent's turns were journaled, not replayed


def test_compensated_tool_names_must_be_unique() -> None:
    def noop(*_: object) -> str:
        return ""

    with pytest.raises(ValueError, match=r"tool names must be unique, got duplicates: \['book'\]"):
        saga_service([CompensatedTool("book", "a", noop, noop), CompensatedTool("book", "b", noop, noop)])
