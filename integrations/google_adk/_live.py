"""ADK runs published live to a topic (``integrations.streams``), the events the OpenAI adapter sends.

``integrations.streams`` knows topics and events, not models. This module turns ADK's types into
its events, at the same three places as the OpenAI adapter, so each event is published once:

- **Handler code, before a model call** (``model_step``): the run's first call publishes
  ``run_started`` with the user's message. A journaled send: a replay does not repeat it.
- **Inside the journaled model step** (``_ModelAttempt``): the model is streamed from the provider,
  each partial chunk's text becomes a ``text_delta`` and each function call of the complete
  response a ``tool_call``, sent over the ingress while the call runs. On a replay the step's
  result comes from the journal and this code never runs; a retried attempt is numbered by the
  topic, which first appends a ``reset`` (the chat page drops what the failed attempt streamed).
- **Handler code, after the step and around tools** (the plugin): the ``answer`` (a journaled
  response without function calls), each ``tool_result`` as the tool returns (sent while the tool
  holds its turn's baton, so parallel calls publish in the model's order on every replay) and the
  ``approval``/``approval_done`` of a confirmation. Journaled sends, once each.

The publisher is the invocation's ``current_publisher``: ``TopicPublisher(topic).attach(ctx)``
before ``runner.run_async`` (``chat_object`` does it for you).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import restate
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.genai import types

from ..errors import to_restate_error
from ..streams import AttemptPublisher, ModelStep, TopicPublisher, current_publisher
from ..streams._publisher import MAX_TEXT

__all__ = [
    "answer_text",
    "model_step",
    "publish_tool_result",
    "publisher_of",
    "streamed",
]


def publisher_of(ctx: restate.Context) -> TopicPublisher | None:
    """The topic the running invocation publishes to, if its handler attached one."""
    return current_publisher(ctx)


def _last_user_text(contents: Sequence[types.Content]) -> str:
    """The newest user-written text of a request (not a function response, which is role user too)."""
    for content in reversed(contents):
        if content.role != "user" or not content.parts:
            continue
        texts = [part.text for part in content.parts if part.text and not part.thought]
        if texts:
            return "".join(texts)
    return ""


def model_step(publisher: TopicPublisher, ctx: restate.Context, model: str, request: LlmRequest) -> ModelStep:
    """Handler code before a model call is journaled: ``run_started`` on the run's first call, and
    the step whose attempts stream inside the journaled call."""
    return publisher.model_step(ctx, model, [{"role": "user", "content": _last_user_text(request.contents)}])


def answer_text(response: LlmResponse) -> str:
    """The answer text of one response: its text parts without thoughts, joined as the history shows them."""
    if response.content is None or not response.content.parts:
        return ""
    return "".join(part.text for part in response.content.parts if part.text and not part.thought)


def journaled(step: ModelStep, responses: Sequence[LlmResponse]) -> None:
    """After the step (handler code): responses without function calls are the agent's answer."""
    if not responses or any(response.get_function_calls() for response in responses):
        return
    text = "".join(answer_text(response) for response in responses)
    if text:
        step.journaled([{"type": "message", "content": text}])


class _ModelAttempt:
    """One execution of a model step: what its stream is turned into, in order."""

    def __init__(self, step: ModelStep) -> None:
        self.step = step
        self.publisher: AttemptPublisher = step.attempt()

    def chunk(self, response: LlmResponse) -> None:
        if response.partial:
            text = answer_text(response)
            if text:
                self.publisher.emit("text_delta", {"delta": text})
            return
        for call in response.get_function_calls():
            arguments = json.dumps(call.args or {}, sort_keys=True, default=str)
            data = {"name": call.name or "", "call_id": call.id or "", "arguments": arguments}
            self.publisher.emit("tool_call", data)

    async def failed(self, exc: BaseException) -> None:
        mapped = to_restate_error(exc) if isinstance(exc, Exception) else exc
        terminal = isinstance(mapped, restate.TerminalError)
        self.publisher.emit("error", {"message": str(exc)[:500], "terminal": terminal})
        await self.publisher.close(self.step.flush_timeout)

    async def done(self) -> None:
        await self.publisher.close(self.step.flush_timeout)

    def abort(self) -> None:
        self.publisher.abort()


def streamed(step: ModelStep) -> _ModelAttempt:
    """Inside the journaled step: the publisher of this attempt's ``text_delta``/``tool_call`` events."""
    return _ModelAttempt(step)


def _shown(result: Any) -> str:
    if isinstance(result, str):
        return result
    return json.dumps(result, sort_keys=True, default=str)


def publish_tool_result(ctx: restate.Context, call_id: str, result: Any) -> None:
    """A tool's result as a ``tool_result`` event (handler code, a journaled send: once)."""
    publisher = current_publisher(ctx)
    if publisher is None or not call_id:
        return
    shown = _shown(result)
    data: dict[str, Any] = {"call_id": call_id, "output": shown[:MAX_TEXT]}
    if len(shown) > MAX_TEXT:
        data["truncated"] = len(shown)
    publisher.send(ctx, [("tool_result", f"tool {call_id}", data)])
