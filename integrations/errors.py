"""The one place that maps model-provider errors to Restate semantics.

Inside a journaled step, an error either ends the step for good (``restate.TerminalError``: retrying
cannot help, and every retry costs money) or asks Restate to retry it (``RetryableError``, with the
provider's Retry-After as the delay). Both adapters (``integrations.openai_agents`` and
``integrations.litellm``) route provider errors through :func:`to_restate_error`.

LiteLLM's exceptions subclass the ``openai`` ones, so the ``openai`` hierarchy plus status codes
classifies both without importing LiteLLM here.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

import httpx
import openai
from restate.exceptions import RetryableError, SdkInternalBaseException, TerminalError

try:  # openai >= 3 talks HTTP through ``httpx2``, whose classes are not httpx's
    import httpx2 as _httpx2
except ImportError:  # pragma: no cover - older openai releases use httpx itself
    _httpx2 = None

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


_CONTEXT_MARKERS = (
    "context_length_exceeded",
    "context window",
    "maximum context length",
    "prompt is too long",
    "too many tokens",
)
_POLICY_MARKERS = ("content_policy", "content_filter", "content policy", "safety system")
_QUOTA_MARKERS = ("insufficient_quota", "exceeded your current quota", "billing_hard_limit")
_MODEL_MARKERS = ("model_not_found", "does not exist", "unknown model", "no such model")


_TIMEOUT_ERRORS: tuple[type[BaseException], ...] = (openai.APITimeoutError, TimeoutError, httpx.TimeoutException)
_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (openai.APIConnectionError, httpx.TransportError)
if _httpx2 is not None:
    _TIMEOUT_ERRORS += (_httpx2.TimeoutException,)
    _TRANSPORT_ERRORS += (_httpx2.TransportError,)

_CONNECTION_MARKERS = ("connection error", "connection refused", "connecterror")

# MCP servers answer with JSON-RPC error codes instead of HTTP statuses (``mcp.shared.exceptions.MCPError``).
_JSONRPC_KINDS = {
    -32700: ErrorKind.BAD_REQUEST,  # parse error
    -32600: ErrorKind.BAD_REQUEST,  # invalid request
    -32601: ErrorKind.BAD_REQUEST,  # method not found
    -32602: ErrorKind.BAD_REQUEST,  # invalid params
    -32603: ErrorKind.SERVER_ERROR,  # internal error
    -32000: ErrorKind.CONNECTION,  # MCP: connection closed
    -32001: ErrorKind.TIMEOUT,  # MCP: request timeout
}


def _mro_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _response_of(exc: BaseException) -> object | None:
    """The HTTP response on the exception, duck-typed: ``openai`` uses httpx2, LiteLLM httpx."""
    response = getattr(exc, "response", None)
    if isinstance(getattr(response, "status_code", None), int) and hasattr(response, "headers"):
        return response
    return None


def _status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status
    response = _response_of(exc)
    return getattr(response, "status_code", None) if response is not None else None


def _code_of(exc: BaseException) -> str:
    """The provider's error code and type (``insufficient_quota``, ``context_length_exceeded``, ...).

    ``openai`` puts the code on ``exc.code``; LiteLLM sets ``exc.code`` to the HTTP status and keeps
    the provider's code only in ``exc.body``, so both places are read.
    """
    parts = [getattr(exc, "code", None), getattr(exc, "type", None)]
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        nested = body.get("error")
        for source in (body, nested if isinstance(nested, dict) else {}):
            parts.extend((source.get("code"), source.get("type")))
    return " ".join(str(part) for part in parts if part).lower()


def _headers_of(exc: BaseException) -> list[httpx.Headers]:
    """Every set of response headers the exception carries, most specific first.

    LiteLLM exceptions built without the provider's response get a placeholder ``httpx.Response``
    with no headers, while ``litellm_response_headers`` holds the real ones; ``openai`` exceptions
    carry the real ``response``.
    """
    found: list[httpx.Headers] = []
    for attribute in ("litellm_response_headers", "headers"):
        headers = getattr(exc, attribute, None)
        if headers:
            found.append(httpx.Headers(dict(headers)))
    response = _response_of(exc)
    if response is not None:
        found.append(httpx.Headers(dict(getattr(response, "headers"))))
    return found


def retry_after_of(exc: BaseException) -> timedelta | None:
    """The provider's requested delay: ``retry-after-ms``, ``retry-after`` seconds, or an HTTP date."""
    for headers in _headers_of(exc):
        delay = _parse_retry_after(headers)
        if delay is not None:
            return delay
    return None


def _parse_retry_after(headers: httpx.Headers) -> timedelta | None:
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
    except (TypeError, ValueError, IndexError):
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
    if names & {"ContentPolicyViolationError", "ContentFilterFinishReasonError"} or (
        status == 400 and any(m in lowered for m in _POLICY_MARKERS)
    ):
        return make(ErrorKind.CONTENT_POLICY)
    if "BudgetExceededError" in names:
        return make(ErrorKind.QUOTA_EXHAUSTED)

    json_rpc_code = getattr(exc, "code", None)
    if names & {"MCPError", "McpError"} and isinstance(json_rpc_code, int):  # mcp 2.x, 1.x
        return make(_JSONRPC_KINDS.get(json_rpc_code, ErrorKind.SERVER_ERROR))

    if isinstance(exc, _TIMEOUT_ERRORS):
        return make(ErrorKind.TIMEOUT)
    if isinstance(exc, _TRANSPORT_ERRORS):
        return make(ErrorKind.CONNECTION)
    if status == 500 and any(m in lowered for m in _CONNECTION_MARKERS):
        # LiteLLM reports a refused connection as InternalServerError("Connection error.")
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
        if any(m in lowered for m in _QUOTA_MARKERS):
            return make(ErrorKind.QUOTA_EXHAUSTED)
        return make(ErrorKind.RATE_LIMIT, retry_after_of(exc))
    if status == 408:
        return make(ErrorKind.TIMEOUT, retry_after_of(exc))
    if status == 529 or (status >= 500 and "overloaded" in lowered):
        return make(ErrorKind.OVERLOADED, retry_after_of(exc))
    if status >= 500:
        return make(ErrorKind.SERVER_ERROR, retry_after_of(exc))
    if 400 <= status < 500:
        if "model" in lowered and any(m in lowered for m in _MODEL_MARKERS):
            return make(ErrorKind.MODEL_NOT_FOUND)
        return make(ErrorKind.BAD_REQUEST)
    return None


def to_restate_error(exc: BaseException, *, source: str = "model provider") -> BaseException:
    """The exception to raise inside a journaled step in place of ``exc``.

    ``source`` names who failed in the message (``"model provider"``, ``"MCP server"``).

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
        return TerminalError(f"{source} error, not retried: {label}: {verdict.message}", status)
    return RetryableError(
        f"{source} error, will retry: {label}: {verdict.message}", retry_after=verdict.retry_after
    )
