"""Bad request bodies fail at once with a 4xx naming the problem, never a retry loop.

restate-sdk 1.3.0 decodes a handler's input before calling it, and:

* hands an **empty body** to a handler typed with a pydantic model as ``None``: the handler then
  fails on ``request.message`` with an ``AttributeError``, which Restate retries forever;
* reports **malformed JSON or a validation error** as a ``TerminalError`` with status 500, as if
  the service were broken;
* accepts **any size** the ingress accepts (``ingress.request-size-limit``, 32 MiB in
  restate-server 1.7; above it the ingress answers ``413 length limit exceeded``): a 10 MB prompt
  is journaled and sent to the model;
* hands a handler typed ``str`` (or ``int``, ``list[str]``, a dataclass...) whatever JSON came:
  ``42`` for a ``str`` fails in the handler, again retried forever.

``guard_inputs(services)`` fixes all three for every handler of ``services`` that takes a body:
an empty body reads as ``{}`` for a pydantic input (its defaults apply, or the validation error
names the missing fields), and is refused for a required non-model input; a body that does not
decode is refused with 400 and the decoder's message; a body over ``max_bytes`` is refused with
413; a body of another JSON type than the handler's annotation is refused with 400 (read as
pydantic's strict JSON mode does). Serve the result as usual:
``app = restate.app(services=guard_inputs([...]))``.

``durable-agents serve|up`` guard every app they serve this way, whether or not it calls
``guard_inputs`` (:func:`guard_every_app`); ``DURABLE_AGENTS_GUARD_INPUTS=0`` (in a ``launch.toml``'s
``[env]`` for one app) turns that off.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import restate
from pydantic import TypeAdapter, ValidationError
from restate.endpoint import Endpoint
from restate.exceptions import TerminalError
from restate.handler import Handler
from restate.serde import DefaultSerde, JsonSerde, Serde, is_pydantic
from restate.types import extract_core_type

from . import settings

__all__ = [
    "DEFAULT_MAX_INPUT_BYTES",
    "GUARD_INPUTS_ENV",
    "MAX_INPUT_BYTES_ENV",
    "guard_every_app",
    "guard_inputs",
    "max_input_bytes",
]

S = TypeVar("S", bound="restate.Service | restate.VirtualObject | restate.Workflow")

DEFAULT_MAX_INPUT_BYTES = 1024 * 1024
"""1 MiB, about 250k tokens of text: more than most models' context windows, far below the journal's limits."""

MAX_INPUT_BYTES_ENV = settings.MAX_INPUT_BYTES.name
"""Environment variable overriding :data:`DEFAULT_MAX_INPUT_BYTES` (a number of bytes)."""


GUARD_INPUTS_ENV = settings.GUARD_INPUTS.name
"""``0`` (or ``false``/``no``/``off``): the serve command leaves apps' inputs unguarded."""


def max_input_bytes() -> int:
    """``$DURABLE_AGENTS_MAX_INPUT_BYTES`` if set, else :data:`DEFAULT_MAX_INPUT_BYTES`."""
    return settings.MAX_INPUT_BYTES.integer(positive=True, unit="a number of bytes")


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

    # a pydantic model's serde validates it; a serde of the user's own decides for itself
    check = _type_check(target, annotation, core) if isinstance(inner, DefaultSerde | JsonSerde) else None

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
            value = inner.deserialize(body)
        except Exception as exc:
            raise TerminalError(f"{target}: invalid request body: {exc}", 400) from exc
        if check is not None and body:
            check(body)
        return value

    return decode


def _type_check(target: str, annotation: Any, core: Any) -> Callable[[bytes], None] | None:
    """For an input that is not a pydantic model (its serde validates it): refuse a body of another
    JSON type than the annotation's, as pydantic's strict JSON mode reads it (``42`` for a ``str``),
    instead of handing the handler a value it fails on, which Restate would retry forever."""
    if annotation in (inspect.Parameter.empty, None, Any) or core is Any:
        return None
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(annotation)
    except Exception:  # a type pydantic cannot describe: the handler's own serde decides
        return None

    def check(body: bytes) -> None:
        try:
            adapter.validate_json(body, strict=True)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"
                for error in exc.errors()[:3]
            )
            raise TerminalError(
                f"{target}: invalid request body: expected JSON of type {_type_name(annotation)} ({problems})", 400
            ) from None

    return check


def _problem(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "body"
    return f"{where}: {error['msg']}"


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


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


def guard_every_app() -> bool:
    """Guard the services of every Restate app built from now on in this process, as
    :func:`guard_inputs` does, unless ``$DURABLE_AGENTS_GUARD_INPUTS`` turns it off; returns whether
    it did.

    The serve command calls this in each worker before it imports the user's app: an app written
    the README's way (``restate.app([service])``) then refuses bad bodies with a 4xx like one that
    calls ``guard_inputs`` itself. It hooks ``Endpoint.bind``, which ``restate.app`` calls for each
    service.
    """
    if settings.GUARD_INPUTS.off():
        return False
    limit = max_input_bytes()
    endpoint_class: Any = Endpoint
    bind = endpoint_class.bind
    if getattr(bind, "_durable_agents_guarded", False):
        return True

    @functools.wraps(bind)
    def guarded_bind(self: Any, *services: Any) -> Any:
        guard_inputs([service for service in services if isinstance(service, _SERVICE_CLASSES)], max_bytes=limit)
        return bind(self, *services)

    guarded_bind._durable_agents_guarded = True  # type: ignore[attr-defined]
    endpoint_class.bind = guarded_bind
    return True


_SERVICE_CLASSES = (restate.Service, restate.VirtualObject, restate.Workflow)
