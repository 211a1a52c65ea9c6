"""Step outputs the journal can hold: a too-large output fails its step at once, naming the step
and the limit, instead of being retried forever.

restate-server 1.7 refuses a message from the service larger than ``worker.invoker.message-size-limit``
(32 MiB by default; the ingress' ``request-size-limit`` and Bifrost's ``record-size-limit`` are 32 MiB
too). The step's output is lost with the message, so the invocation fails with the retryable
``RT0003 message encoding error: hit message size limit`` and every retry runs the step again: a
model call is paid again each time, up to the server's retry policy (70 attempts, then paused),
and can never succeed. An entry just under 32 MiB fares no better: replaying it exceeds the
invoker's ``per-invocation-memory-limit`` (32 MiB) and the invocation is paused.

The toolkit therefore checks the serialized output where it journals one (model responses,
journaled tools, ``llm_call``): past :func:`max_step_bytes` the step fails with a
``TerminalError``. Raise the limit with ``$DURABLE_AGENTS_MAX_STEP_BYTES`` only together with the server's.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from restate.exceptions import TerminalError
from restate.serde import DefaultSerde, Serde
from restate.types import extract_core_type

from . import settings
from ._context import running_context

__all__ = [
    "DEFAULT_MAX_STEP_BYTES",
    "MAX_STEP_BYTES_ENV",
    "RESTATE_MESSAGE_SIZE_LIMIT",
    "check_step_output",
    "journal_limited",
    "journal_sized",
    "max_step_bytes",
]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

MiB = 1024 * 1024

RESTATE_MESSAGE_SIZE_LIMIT = 32 * MiB
"""restate-server 1.7's default ``worker.invoker.message-size-limit`` (and per-invocation memory limit)."""

DEFAULT_MAX_STEP_BYTES = RESTATE_MESSAGE_SIZE_LIMIT - MiB
"""31 MiB: the server's limit less 1 MiB for the entry's framing, so an accepted entry also replays."""

MAX_STEP_BYTES_ENV = settings.MAX_STEP_BYTES.name
"""Environment variable overriding :data:`DEFAULT_MAX_STEP_BYTES` (a number of bytes; see ``integrations.settings``)."""


def max_step_bytes() -> int:
    """The largest step output, in bytes, the toolkit journals (read per call from the environment)."""
    return settings.MAX_STEP_BYTES.integer(positive=True, unit="a number of bytes")


def _size(n: int) -> str:
    return f"{n:,} bytes ({n / MiB:.1f} MiB)"


def check_step_output(what: str, size: int) -> None:
    """Raise ``TerminalError`` if ``what`` (e.g. ``"step 'LLM call: gpt-4o'"``), an output of ``size``
    bytes, cannot be journaled."""
    limit = max_step_bytes()
    if size > limit:
        raise TerminalError(
            f"{what} produced {_size(size)} of output, more than the {_size(limit)} a journal entry may hold "
            f"(restate-server's worker.invoker.message-size-limit is {RESTATE_MESSAGE_SIZE_LIMIT // MiB} MiB by "
            f"default; ${MAX_STEP_BYTES_ENV} sets this limit). Not retried: a retry would produce it again.",
            500,
        )


class _LimitedSerde(Serde[T]):
    """``inner``, refusing to serialize a step output larger than the journal can hold."""

    def __init__(self, inner: Serde[T], step: str) -> None:
        self.inner = inner
        self.step = step

    def serialize(self, obj: T | None) -> bytes:
        buffer = self.inner.serialize(obj)
        check_step_output(f"step {self.step!r}", len(buffer))
        return buffer

    def deserialize(self, buf: bytes) -> T | None:
        return self.inner.deserialize(buf)


def journal_limited(step: str, serde: Serde[T] | None = None, *, type_hint: Any = None) -> Serde[T]:
    """The serde for ``ctx.run_typed(step, ..., RunOptions(serde=...))`` that fails the step with a
    ``TerminalError`` when its output is too large to journal.

    The SDK serializes a step's result inside the step, so the error ends the step for good rather
    than surfacing as the server's retryable size error. Without ``serde``, the SDK's default serde
    for ``type_hint`` is used, as ``run_typed`` would choose it.
    """
    if serde is None or isinstance(serde, DefaultSerde):
        serde = DefaultSerde(extract_core_type(type_hint)[1] if type_hint is not None else None)
    return _LimitedSerde(serde, step)


def journal_sized(value: M, what: str) -> M:
    """``value``, after checking that its JSON (as the SDK's default serde journals a pydantic model)
    fits a journal entry; else ``TerminalError`` naming ``what``.

    For a step body that cannot choose its step's serde (``llm_call`` runs inside the caller's
    ``ctx.run_typed``). Outside a Restate handler nothing is journaled and nothing is checked.
    """
    if running_context() is not None:
        check_step_output(what, len(value.model_dump_json().encode("utf-8")))
    return value
