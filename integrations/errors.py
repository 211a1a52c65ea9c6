"""The one place that maps model-provider errors to Restate semantics.

Inside a journaled step, an error either ends the step for good (``restate.TerminalError``: retrying
cannot help, and every retry costs money) or asks Restate to retry it (``RetryableError``, with the
provider's Retry-After as the delay). Both adapters (``integrations.openai_agents`` and
``integrations.litellm``) route provider errors through :func:`to_restate_error`.

LiteLLM's exceptions subclass the ``openai`` ones, so the ``openai`` hierarchy plus status codes
classifies both without importing LiteLLM here.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

import httpx
import openai
from restate.exceptions import RetryableError, SdkInternalBaseException, TerminalError

__all__ = [
    "ErrorKind",
    "ProviderErrorClass",
    "classify_provider_error",
    "retry_after_of",
    "to_restate_error",
]


class ErrorKind(str, Enum):
    """What went wrong, as far as retrying is concerned."""

    AUTHENTICATION = "authentication"
    PERMISSION = "permission"
    BAD_REQUEST = "bad_request"
    CONTEXT_WINDOW_EXCEEDED = "context_window_exceeded"
    CONTENT_POLICY = "content_policy"
    MODEL_NOT_FOUND = "model_not_found"
    QUOTA_EXHAUSTED = "quota_exhausted"
    RATE_LIMIT = "rate_limit"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    SERVER_ERROR = "server_error"
    OVERLOADED = "overloaded"
    CONFLICT = "conflict"


TERMINAL_KINDS = frozenset(
    {
        ErrorKind.AUTHENTICATION,
        ErrorKind.PERMISSION,
        ErrorKind.BAD_REQUEST,
        ErrorKind.CONTEXT_WINDOW_EXCEEDED,
        ErrorKind.CONTENT_POLICY,
        ErrorKind.MODEL_NOT_FOUND,
        ErrorKind.QUOTA_EXHAUSTED,
    }
)


@dataclass(frozen=True)
class ProviderErrorClass:
    """The classification of one provider error."""

    kind: ErrorKind
    status_code: int | None
    message: str
    retry_after: timedelta | None = None

    @property
    def terminal(self) -> bool:
        return self.kind in TERMINAL_KINDS


_CONTEXT_MARKERS = ("context_length_exceeded", "context window", "maximum context length", "too many tokens")
_POLICY_MARKERS = ("content_policy", "content_filter", "content policy", "safety system")


def _mro_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status
    response = getattr(exc, "response", None)
    if isinstance(response, httpx.Response):
        return response.status_code
    return None


def _code_of(exc: BaseException) -> str:
    """The provider's error code (``insufficient_quota``, ``context_length_exceeded``, ...)."""
    code = getattr(exc, "code", None)
    body = getattr(exc, "body", None)
    if not code and isinstance(body, dict):
        nested = body.get("error")
        code = body.get("code") or (nested.get("code") if isinstance(nested, dict) else None)
    return str(code or "").lower()


def _headers_of(exc: BaseException) -> httpx.Headers | None:
    response = getattr(exc, "response", None)
    if isinstance(response, httpx.Response):
        return response.headers
    headers = getattr(exc, "litellm_response_headers", None) or getattr(exc, "headers", None)
    if headers:
        return httpx.Headers(dict(headers))
    return None


def retry_after_of(exc: BaseException) -> timedelta | None:
    """The provider's requested delay: ``retry-after-ms``, ``retry-after`` seconds, or an HTTP date."""
    headers = _headers_of(exc)
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return timedelta(milliseconds=max(0.0, float(millis)))
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return timedelta(seconds=max(0.0, float(value)))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return timedelta(seconds=max(0.0, when.timestamp() - time.time()))


def classify_provider_error(exc: BaseException) -> ProviderErrorClass | None:
    """Classify ``exc`` if it is a provider/transport error; ``None`` for anything else."""
    names = _mro_names(exc)
    status = _status_of(exc)
    message = str(getattr(exc, "message", None) or exc) or type(exc).__name__
    lowered = f"{_code_of(exc)} {message}".lower()

    def make(kind: ErrorKind, retry_after: timedelta | None = None) -> ProviderErrorClass:
        return ProviderErrorClass(kind, status, message, retry_after)

    # Specific LiteLLM / marker-based classes first: they are 400s underneath.
    if "ContextWindowExceededError" in names or any(m in lowered for m in _CONTEXT_MARKERS):
        if status in (None, 400, 413, 422) or "ContextWindowExceededError" in names:
            return make(ErrorKind.CONTEXT_WINDOW_EXCEEDED)
    if "ContentPolicyViolationError" in names or (
        status == 400 and any(m in lowered for m in _POLICY_MARKERS)
    ):
        return make(ErrorKind.CONTENT_POLICY)
    if "BudgetExceededError" in names:
        return make(ErrorKind.QUOTA_EXHAUSTED)

    if isinstance(exc, openai.APITimeoutError) or isinstance(exc, (asyncio.TimeoutError, httpx.TimeoutException)):
        return make(ErrorKind.TIMEOUT)
    if isinstance(exc, openai.APIConnectionError) or isinstance(exc, httpx.TransportError):
        return make(ErrorKind.CONNECTION)

    if status is None:
        if isinstance(exc, openai.APIError):  # an error event without HTTP status: provider-side
            return make(ErrorKind.SERVER_ERROR)
        return None
    if status == 401:
        return make(ErrorKind.AUTHENTICATION)
    if status == 403:
        return make(ErrorKind.PERMISSION)
    if status == 404:
        return make(ErrorKind.MODEL_NOT_FOUND)
    if status == 409:
        return make(ErrorKind.CONFLICT, retry_after_of(exc))
    if status == 429:
        if "insufficient_quota" in lowered:
            return make(ErrorKind.QUOTA_EXHAUSTED)
        return make(ErrorKind.RATE_LIMIT, retry_after_of(exc))
    if status == 408:
        return make(ErrorKind.TIMEOUT, retry_after_of(exc))
    if status in (529,) or "overloaded" in lowered:
        return make(ErrorKind.OVERLOADED, retry_after_of(exc))
    if status >= 500:
        return make(ErrorKind.SERVER_ERROR, retry_after_of(exc))
    if 400 <= status < 500:
        return make(ErrorKind.BAD_REQUEST)
    return None


def to_restate_error(exc: BaseException) -> BaseException:
    """The exception to raise inside a journaled step in place of ``exc``.

    Terminal classes become ``TerminalError`` (no retry); retryable ones become ``RetryableError``
    carrying the provider's Retry-After, if any; Restate's own exceptions and anything that is not
    a provider error are returned unchanged (Restate's retry policy applies).
    """
    if isinstance(exc, (TerminalError, RetryableError, SdkInternalBaseException)):
        return exc
    verdict = classify_provider_error(exc)
    if verdict is None:
        return exc
    label = verdict.kind.value + (f" (HTTP {verdict.status_code})" if verdict.status_code else "")
    if verdict.terminal:
        status = verdict.status_code if verdict.status_code and 400 <= verdict.status_code < 500 else 500
        return TerminalError(f"model provider error, not retried: {label}: {verdict.message}", status)
    return RetryableError(
        f"model provider error, will retry: {label}: {verdict.message}", retry_after=verdict.retry_after
    )
