"""Bad request bodies fail at once with a 4xx naming the problem, never a retry loop.

restate-sdk 1.3.0 decodes a handler's input before calling it, and:

* hands an **empty body** to a handler typed with a pydantic model as ``None``: the handler then
  fails on ``request.message`` with an ``AttributeError``, which Restate retries forever;
* reports **malformed JSON or a validation error** as a ``TerminalError`` with status 500, as if
  the service were broken;
* accepts **any size** the ingress accepts (``ingress.request-size-limit``, 32 MiB in
  restate-server 1.7; above it the ingress answers ``413 length limit exceeded``): a 10 MB prompt
  is journaled and sent to the model.

``guard_inputs(services)`` fixes all three for every handler of ``services`` that takes a body:
an empty body reads as ``{}`` for a pydantic input (its defaults apply, or the validation error
names the missing fields), and is refused for a required non-model input; a body that does not
decode is refused with 400 and the decoder's message; a body over ``max_bytes`` is refused with
413. Serve the result as usual: ``app = restate.app(services=guard_inputs([...]))``.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import restate
from restate.exceptions import TerminalError
from restate.handler import Handler
from restate.serde import Serde, is_pydantic
from restate.types import extract_core_type

__all__ = ["DEFAULT_MAX_INPUT_BYTES", "MAX_INPUT_BYTES_ENV", "guard_inputs", "max_input_bytes"]

S = TypeVar("S", bound="restate.Service | restate.VirtualObject | restate.Workflow")

DEFAULT_MAX_INPUT_BYTES = 1024 * 1024
"""1 MiB, about 250k tokens of text: more than most models' context windows, far below the journal's limits."""

MAX_INPUT_BYTES_ENV = "AGENT_MAX_INPUT_BYTES"
"""Environment variable overriding :data:`DEFAULT_MAX_INPUT_BYTES` (a number of bytes)."""


def max_input_bytes() -> int:
    """``$AGENT_MAX_INPUT_BYTES`` if set, else :data:`DEFAULT_MAX_INPUT_BYTES`."""
    value = os.environ.get(MAX_INPUT_BYTES_ENV)
    if not value:
        return DEFAULT_MAX_INPUT_BYTES
    try:
        limit = int(value)
    except ValueError:
        raise ValueError(f"${MAX_INPUT_BYTES_ENV} must be a number of bytes, got {value!r}") from None
    if limit <= 0:
        raise ValueError(f"${MAX_INPUT_BYTES_ENV} must be positive, got {limit}")
    return limit


class _RawBody(Serde[Any]):
    """Hands the request body to the guarded handler undecoded; encodes calls from other handlers
    (``ctx.service_call(handler, arg=...)``) with the handler's own serde."""

    def __init__(self, inner: Serde[Any]) -> None:
        self.inner = inner

    def deserialize(self, buf: bytes) -> bytes:
        return bytes(buf)

    def serialize(self, obj: Any) -> bytes:
        return self.inner.serialize(obj)


def _input_annotation(handler: Handler[Any, Any]) -> Any:
    """The input parameter's annotation as written (the SDK keeps only its core type, without ``Optional``)."""
    try:
        return list(inspect.signature(handler.fn, eval_str=True).parameters.values())[-1].annotation
    except (NameError, TypeError, ValueError, IndexError):
        return handler.handler_io.input_type.annotation if handler.handler_io.input_type else None


def _decoder(target: str, handler: Handler[Any, Any], limit: int) -> Callable[[bytes], Any]:
    inner = handler.handler_io.input_serde
    annotation = _input_annotation(handler)
    kind, core = extract_core_type(annotation)
    required = annotation not in (inspect.Parameter.empty, None, Any) and kind != "optional"
    model = is_pydantic(core)

    def decode(body: bytes) -> Any:
        if len(body) > limit:
            raise TerminalError(
                f"{target}: the request body has {len(body):,} bytes, more than the {limit:,} this service "
                f"accepts (${MAX_INPUT_BYTES_ENV} sets the limit)",
                413,
            )
        if not body and required:
            if not model:
                expected = getattr(core, "__name__", repr(core))
                raise TerminalError(f"{target}: the request has no body; expected JSON of type {expected}", 400)
            body = b"{}"  # the model's defaults apply, or the validation error names the missing fields
        try:
            return inner.deserialize(body)
        except Exception as exc:
            raise TerminalError(f"{target}: invalid request body: {exc}", 400) from exc

    return decode


def _guard(target: str, handler: Handler[Any, Any], limit: int) -> None:
    decode = _decoder(target, handler, limit)
    call: Callable[[Any, Any], Awaitable[Any]] = handler.fn  # type: ignore[assignment]

    async def guarded(ctx: Any, body: bytes) -> Any:
        return await call(ctx, decode(body))

    handler.handler_io.input_serde = _RawBody(handler.handler_io.input_serde)
    handler.fn = guarded


def guard_inputs(services: Iterable[S], *, max_bytes: int | None = None) -> list[S]:
    """Guard every handler of ``services`` (Restate services, virtual objects, workflows) that takes
    a request body; return them as a list for ``restate.app(services=...)``.

    ``max_bytes`` bounds the body (default :func:`max_input_bytes`). Calling it twice on a service is
    harmless. The handlers' input schemas, as the admin API and the UI show them, do not change.
    """
    chosen = list(services)
    limit = max_bytes if max_bytes is not None else max_input_bytes()
    for service in chosen:
        for handler in service.handlers.values():
            if handler.arity == 2 and not isinstance(handler.handler_io.input_serde, _RawBody):
                _guard(f"{service.name}/{handler.name}", handler, limit)
    return chosen
