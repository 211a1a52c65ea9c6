"""``ScriptedModel``: the scripted model in process, an Agents SDK ``Model`` for unit tests.

It answers from the same ``Reply`` builders as the HTTP ``ScriptedModelServer`` (``text``,
``tool_call``, ``handoff``, ``structured``, ``error``, ``hang``), and builds its responses and stream
events with the server's own wire code, so a test sees what the real ``openai`` client would have
produced from that server. An error reply raises the ``openai`` exception of that status, which the
errors table classifies as it would the provider's.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import httpx2  # the openai client (>= 3) speaks HTTP through httpx2
import openai
from agents.items import ModelResponse, TResponseStreamEvent
from agents.usage import Usage
from openai._models import construct_type  # how the openai client itself builds what it received
from openai.types.responses import Response, ResponseStreamEvent

from ..openai_agents._forwarding import ForwardingModel, ModelCall
from ._replies import Reply
from ._request import ModelRequest
from ._streaming import Pace, responses_events
from ._wire import responses_body

__all__ = ["ModelCall", "ScriptedModel", "Script"]

Script = Reply | ModelResponse | BaseException
"""One scripted answer: a ``Reply`` from the builders, a ready ``ModelResponse``, or an exception to raise."""

CallResponder = Callable[[ModelCall], Script]
"""Answers a call the queue has no reply for."""

_POLL_SECONDS = 0.01
_STATUS_ERRORS: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    403: openai.PermissionDeniedError,
    404: openai.NotFoundError,
    409: openai.ConflictError,
    422: openai.UnprocessableEntityError,
    429: openai.RateLimitError,
}


def _echo(call: ModelCall) -> Script:
    return Reply(text=f"echo: {call.last_user_text}")


def status_error(reply: Reply) -> openai.APIStatusError:
    """The exception the ``openai`` client raises for the HTTP error ``reply`` describes."""
    request = httpx2.Request("POST", "http://scripted.invalid/v1/responses")
    response = httpx2.Response(reply.status, headers=reply.headers, request=request)
    body = {"message": reply.error_message, "type": reply.error_type, "code": reply.error_code, "param": None}
    kind = _STATUS_ERRORS.get(
        reply.status, openai.InternalServerError if reply.status >= 500 else openai.APIStatusError
    )
    return kind(reply.error_message, response=response, body=body)


class ScriptedModel(ForwardingModel):
    """An Agents SDK ``Model`` that answers from a script, in process, recording every call.

    ``ScriptedModel(tool_call("get_weather", {"city": "Paris"}), text("Sunny"))`` answers the first
    call with the tool call, the second with the text; once the queue is empty ``responder(call)``
    answers (default: echo the last user message). ``calls`` holds every ``ModelCall`` received, so a
    test counts model requests (``request_count``) and looks at what the agent sent.

    Streamed (``Runner.run_streamed``), text arrives one word per delta; a reply's ``Pace`` delays or
    holds it mid-stream until ``open_gate``. Wrap it in ``DurableModel`` to journal its calls.
    """

    def __init__(self, *replies: Script, responder: CallResponder | None = None, name: str = "scripted") -> None:
        self.model = name  # the name the durable step uses (``LLM call: scripted``)
        self.responder: CallResponder = responder or _echo
        self.calls: list[ModelCall] = []
        self._queue: deque[Script] = deque(replies)
        self._ids = itertools.count(1)
        self._gates: dict[str, asyncio.Event] = {}
        self._held: dict[str, int] = {}

    @property
    def request_count(self) -> int:
        """How many calls the model has answered (or started answering)."""
        return len(self.calls)

    def enqueue(self, *replies: Script) -> None:
        """Replies served in order before the responder is consulted."""
        self._queue.extend(replies)

    def open_gate(self, name: str = "stream") -> None:
        """Let streams held at gate ``name`` (``Pace(hold_after=..., gate=name)``) go on."""
        self._gate(name).set()

    def held(self, name: str = "stream") -> int:
        """How many streams wait at gate ``name`` right now."""
        return self._held.get(name, 0)

    async def respond(self, call: ModelCall) -> ModelResponse:
        script = await self._next(call)
        if isinstance(script, ModelResponse):
            return script
        return _model_response(self._completed(script))

    async def stream(self, call: ModelCall) -> AsyncIterator[TResponseStreamEvent]:
        script = await self._next(call)
        completed = self._completed(script)
        pace = (script.pace if isinstance(script, Reply) else None) or Pace()
        deltas = 0
        for frame, is_delta in responses_events(completed):
            if is_delta:
                if deltas and pace.delay:
                    await asyncio.sleep(pace.delay)
                deltas += 1
            yield cast(TResponseStreamEvent, construct_type(type_=ResponseStreamEvent, value=frame))
            if is_delta and deltas == pace.hold_after:
                await self._wait_at(pace.gate)

    # -- internals ------------------------------------------------------------------------------
    async def _next(self, call: ModelCall) -> Reply | ModelResponse:
        """Record ``call`` and take its answer; waits as the reply says, raises what it says to raise."""
        self.calls.append(call)
        script = self._queue.popleft() if self._queue else self.responder(call)
        if isinstance(script, BaseException):
            raise script
        if isinstance(script, ModelResponse):
            return script
        if script.delay:
            await asyncio.sleep(script.delay)
        if script.hold is not None:
            while not script.hold.is_set():  # noqa: ASYNC110 - a threading.Event, shared with the HTTP server's replies
                await asyncio.sleep(_POLL_SECONDS)
        if script.is_error:
            raise status_error(script)
        return script

    def _completed(self, script: Reply | ModelResponse) -> dict[str, Any]:
        """The completed Responses API body of ``script``, as the HTTP server would send it."""
        if isinstance(script, ModelResponse):
            output = [item.model_dump(mode="json", exclude_unset=True) for item in script.output]
            usage = {"input_tokens": script.usage.input_tokens, "output_tokens": script.usage.output_tokens}
            return _body(script.response_id or self._new_id("resp"), self.model, output, usage)
        request = ModelRequest("responses", {"model": self.model}, {})
        body: dict[str, Any] = json.loads(responses_body(request, script, self._new_id))
        return body

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}"

    def _gate(self, name: str) -> asyncio.Event:
        return self._gates.setdefault(name, asyncio.Event())

    async def _wait_at(self, gate: str) -> None:
        self._held[gate] = self._held.get(gate, 0) + 1
        try:
            await self._gate(gate).wait()
        finally:
            self._held[gate] -= 1


def _body(response_id: str, model: str, output: list[dict[str, Any]], usage: dict[str, int]) -> dict[str, Any]:
    total = usage["input_tokens"] + usage["output_tokens"]
    return {
        "id": response_id,
        "object": "response",
        "created_at": 0,
        "status": "completed",
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            **usage,
            "total_tokens": total,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
    }


def _model_response(completed: dict[str, Any]) -> ModelResponse:
    response = cast(Response, construct_type(type_=Response, value=completed))
    usage = response.usage
    return ModelResponse(
        output=list(response.output),
        usage=Usage(
            requests=1,
            input_tokens=usage.input_tokens if usage else 0,
            output_tokens=usage.output_tokens if usage else 0,
            total_tokens=usage.total_tokens if usage else 0,
        ),
        response_id=response.id,
    )
