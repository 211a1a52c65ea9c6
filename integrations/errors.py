"""The one place that maps model-provider errors to Restate semantics.

Inside a journaled step, an error either ends the step for good (``restate.TerminalError``: retrying
cannot help, and every retry costs money) or asks Restate to retry it. Which one is decided by
:data:`RULES`, an ordered table: the first rule that matches an exception gives its
:class:`ErrorKind`, whether it is terminal, and whether the provider's Retry-After sets the delay
of the next attempt. ``docs/errors.md`` shows the same table (``python -m integrations.errors``
prints it; a test keeps the two equal).

Both adapters (``integrations.openai_agents`` and ``integrations.litellm``) translate errors inside a
step with :func:`provider_errors_as_restate` (or :func:`to_restate_error`). Errors raised while a
provider builds its model or client, before any step (``OPENAI_API_KEY`` unset, an unknown model
prefix), go through :func:`setup_errors_as_terminal`: the same table, so a configuration error
fails the invocation at once instead of Restate retrying it forever.

LiteLLM's exceptions subclass the ``openai`` ones, so the ``openai`` hierarchy plus status codes
classifies both without importing LiteLLM here.
"""

from __future__ import annotations

import contextvars
import email.utils
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

import httpx
from restate.exceptions import RetryableError, SdkInternalBaseException, TerminalError

from ._context import bound

__all__ = [
    "RULES",
    "ErrorFacts",
    "ErrorKind",
    "ProviderErrorClass",
    "Rule",
    "TransientProviderError",
    "classify_provider_error",
    "matching_rule",
    "naming_step",
    "provider_errors_as_restate",
    "retry_after_of",
    "rules_table",
    "setup_errors_as_terminal",
    "to_restate_error",
]


class ErrorKind(StrEnum):
    """What went wrong, as far as retrying is concerned."""

    CONFIGURATION = "configuration"
    """The app is set up wrongly (no API key, a base URL that is no http(s) URL, a model name no
    provider takes): nothing is sent, and only a change to the configuration can help."""
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


# -- what an exception says about itself ---------------------------------------------------------

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
_CONNECTION_MARKERS = ("connection error", "connection refused", "connecterror")
_MISSING_KEY_MARKERS = ("missing credentials", "api_key client option must be set")
_OPENAI_KEY_NAME = re.compile(r"(?<![a-z0-9_])openai_api_key(?![a-z0-9_])")
"""``OPENAI_API_KEY`` as a name of its own (not ``AZURE_OPENAI_API_KEY``), in lower-cased text."""
_UNKNOWN_PROVIDER_MARKERS = ("llm provider not provided",)
_BAD_URL_ERRORS = ("UnsupportedProtocol", "InvalidURL", "InvalidUrlClientError", "NonHttpUrlClientError")
"""httpx/httpx2/httpcore and aiohttp (LiteLLM's transport) errors for a URL that cannot be requested."""
_MAX_CHAIN = 8


def _loaded(module: str, *names: str) -> tuple[type[BaseException], ...]:
    """The exception classes ``names`` of ``module``, if something imported it.

    The openai-specific rules look the classes up when they run, not at import: an error of a library
    nobody imported cannot exist, and ``integrations.errors`` imports on a core install without the
    ``openai`` package. (``openai`` >= 3 talks HTTP through ``httpx2``, whose classes are not httpx's.)
    """
    loaded = sys.modules.get(module)
    found = (getattr(loaded, name, None) for name in names) if loaded is not None else ()
    return tuple(cls for cls in found if isinstance(cls, type) and issubclass(cls, BaseException))


def _openai(*names: str) -> tuple[type[BaseException], ...]:
    return _loaded("openai", *names)


def _timeout_errors() -> tuple[type[BaseException], ...]:
    return (TimeoutError, httpx.TimeoutException, *_openai("APITimeoutError"), *_loaded("httpx2", "TimeoutException"))


def _transport_errors() -> tuple[type[BaseException], ...]:
    return (httpx.TransportError, *_openai("APIConnectionError"), *_loaded("httpx2", "TransportError"))


def _response_of(exc: BaseException) -> Any:
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


def _chain_of(exc: BaseException) -> tuple[BaseException, ...]:
    """``exc`` and the exceptions it was raised from (``__cause__``, else an unsuppressed
    ``__context__``), outermost first: clients wrap the transport's error (``APIConnectionError``
    from ``httpx2.UnsupportedProtocol``; LiteLLM's ``InternalServerError`` from ``openai``'s)."""
    chain = [exc]
    while len(chain) < _MAX_CHAIN:
        current = chain[-1]
        inner = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
        if inner is None or inner in chain:
            break
        chain.append(inner)
    return tuple(chain)


@dataclass(frozen=True)
class ErrorFacts:
    """What the rules look at: the exception's class names, HTTP status, and code plus message."""

    exc: BaseException
    names: frozenset[str]
    status: int | None
    message: str
    text: str
    """Provider code/type and message, lower-cased: what the marker rules search."""
    chain: tuple[BaseException, ...] = ()
    """``exc`` and what it was raised from, outermost first (see :func:`_chain_of`)."""

    @classmethod
    def of(cls, exc: BaseException) -> ErrorFacts:
        message = str(getattr(exc, "message", None) or exc) or type(exc).__name__
        return cls(
            exc=exc,
            names=frozenset(klass.__name__ for klass in type(exc).__mro__),
            status=_status_of(exc),
            message=message,
            text=f"{_code_of(exc)} {message}".lower(),
            chain=_chain_of(exc),
        )

    def named(self, *names: str) -> bool:
        """The exception is (a subclass of) a class with one of these names (no LiteLLM import)."""
        return not self.names.isdisjoint(names)

    def raised_from(self, *names: str) -> bool:
        """The exception, or one it was raised from, is (a subclass of) a class with one of these names."""
        wanted = set(names)
        return any(wanted.intersection(klass.__name__ for klass in type(link).__mro__) for link in self.chain)

    def detail(self) -> str:
        """The first line of the innermost message in the chain: the client's own words, on one line."""
        for link in reversed(self.chain or (self.exc,)):
            lines = str(link).strip().splitlines()
            if lines and lines[0].strip():
                line = lines[0].strip()
                return line if len(line) <= 200 else line[:197] + "..."
        return type(self.exc).__name__

    def says(self, markers: tuple[str, ...]) -> bool:
        return any(marker in self.text for marker in markers)

    def status_in(self, *statuses: int | None) -> bool:
        return self.status in statuses

    def client_error(self) -> bool:
        return self.status is not None and 400 <= self.status < 500

    def server_error(self) -> bool:
        return self.status is not None and self.status >= 500


# -- the rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One row of the classification table: the first rule whose ``test`` matches decides."""

    matches: str
    """How the rule recognises the error (Markdown; shown in docs/errors.md)."""
    kind: ErrorKind
    terminal: bool
    """Fail the step at once with ``TerminalError`` (retrying cannot help)."""
    honours_retry_after: bool
    """The provider's ``Retry-After`` / ``retry-after-ms`` sets the delay of the next attempt."""
    test: Callable[[ErrorFacts], bool]
    fix: str | None = None
    """What to change, said first in the ``TerminalError`` (configuration errors, which the client
    raises before sending anything); the client's own words follow on the same line."""


def _on_status(status: int, kind: ErrorKind, *, terminal: bool, honours_retry_after: bool) -> Rule:
    """A row that matches the HTTP status alone."""
    return Rule(
        matches=str(status),
        kind=kind,
        terminal=terminal,
        honours_retry_after=honours_retry_after,
        test=lambda f: f.status == status,
    )


def _quoted(markers: tuple[str, ...]) -> str:
    return ", ".join(f"`{marker}`" for marker in markers)


def _jsonrpc_code(exc: BaseException) -> int | None:
    """The JSON-RPC error code of an MCP error (``mcp`` 2.x ``MCPError.code``, 1.x ``McpError``)."""
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return code
    error = getattr(exc, "error", None)
    nested = getattr(error, "code", None)
    return nested if isinstance(nested, int) else None


def _on_jsonrpc_codes(codes: tuple[int, ...], meaning: str, kind: ErrorKind, *, terminal: bool) -> Rule:
    """A row that matches an MCP error by its JSON-RPC code(s), as ``_on_status`` an HTTP status:
    MCP servers have no ``Retry-After``."""
    return Rule(
        matches=f"MCP `MCPError` with JSON-RPC code {' / '.join(str(code) for code in codes)} {meaning}",
        kind=kind,
        terminal=terminal,
        honours_retry_after=False,
        test=lambda f: f.named("MCPError", "McpError") and _jsonrpc_code(f.exc) in codes,
    )


_OPENAI_KEY_FIX = (
    "OPENAI_API_KEY is not set: set it (for another OpenAI-compatible endpoint also set OPENAI_BASE_URL; "
    "any non-empty key if that endpoint needs none)"
)

RULES: tuple[Rule, ...] = (
    # Configuration errors first: the client raised them before sending anything, whatever class
    # or status it wrapped them in (LiteLLM reports a missing key as a 500).
    Rule(
        matches="an `OpenAIError` (LiteLLM's too) mentioning "
        + _quoted(_MISSING_KEY_MARKERS)
        + " and `OPENAI_API_KEY` "
        "(the openai client refusing to be built without a key)",
        kind=ErrorKind.CONFIGURATION,
        terminal=True,
        honours_retry_after=False,
        test=lambda f: (
            isinstance(f.exc, _openai("OpenAIError"))
            and f.says(_MISSING_KEY_MARKERS)
            and _OPENAI_KEY_NAME.search(f.text) is not None
        ),
        fix=_OPENAI_KEY_FIX,
    ),
    Rule(
        matches="an `OpenAIError` mentioning "
        + _quoted(_MISSING_KEY_MARKERS)
        + " (another provider's client without a key)",
        kind=ErrorKind.CONFIGURATION,
        terminal=True,
        honours_retry_after=False,
        test=lambda f: isinstance(f.exc, _openai("OpenAIError")) and f.says(_MISSING_KEY_MARKERS),
        fix="the provider's API key is not set: set the environment variable the client names, or pass api_key",
    ),
    Rule(
        matches="raised from " + _quoted(_BAD_URL_ERRORS) + " (a base URL that is no http(s) URL)",
        kind=ErrorKind.CONFIGURATION,
        terminal=True,
        honours_retry_after=False,
        test=lambda f: f.raised_from(*_BAD_URL_ERRORS),
        fix="the provider's base URL is not a valid http(s) URL: check OPENAI_BASE_URL / OPENAI_API_BASE, "
        "or the base_url / api_base passed in code",
    ),
    Rule(
        matches="a LiteLLM `OpenAIError` mentioning "
        + _quoted(_UNKNOWN_PROVIDER_MARKERS)
        + " (a model name without a provider)",
        kind=ErrorKind.CONFIGURATION,
        terminal=True,
        honours_retry_after=False,
        test=lambda f: isinstance(f.exc, _openai("OpenAIError")) and f.says(_UNKNOWN_PROVIDER_MARKERS),
        fix="LiteLLM cannot tell the provider from the model name: name it provider/model, e.g. openai/gpt-4o "
        "($DURABLE_AGENTS_LLM_MODEL or model=)",
    ),
    Rule(
        matches="Agents SDK `UserError` mentioning `unknown prefix` "
        "(`MultiProvider` given a model name it cannot route)",
        kind=ErrorKind.CONFIGURATION,
        terminal=True,
        honours_retry_after=False,
        test=lambda f: f.named("UserError") and "unknown prefix" in f.text,
        fix="the Agents SDK does not know the model name's prefix: use an OpenAI model name (gpt-4o), "
        "litellm/PROVIDER/MODEL, or MultiProvider(provider_map=...)",
    ),
    # Specific LiteLLM / marker-based classes next: they are 4xx underneath.
    Rule(
        matches="LiteLLM `ContextWindowExceededError`; or 400 / 413 / 422 / no status, mentioning "
        + _quoted(_CONTEXT_MARKERS),
        kind=ErrorKind.CONTEXT_WINDOW_EXCEEDED,
        terminal=True,
        honours_retry_after=False,
        test=lambda f: (
            f.named("ContextWindowExceededError") or (f.says(_CONTEXT_MARKERS) and f.status_in(None, 400, 413, 422))
        ),
    ),
    Rule(
        matches="LiteLLM `ContentPolicyViolationError`, openai `ContentFilterFinishReasonError`; or 400 mentioning "
        + _quoted(_POLICY_MARKERS),
        kind=ErrorKind.CONTENT_POLICY,
        terminal=True,
        honours_retry_after=False,
        test=lambda f: (
            f.named("ContentPolicyViolationError", "ContentFilterFinishReasonError")
            or (f.status == 400 and f.says(_POLICY_MARKERS))
        ),
    ),
    Rule(
        matches="LiteLLM `BudgetExceededError`",
        kind=ErrorKind.QUOTA_EXHAUSTED,
        terminal=True,
        honours_retry_after=False,
        test=lambda f: f.named("BudgetExceededError"),
    ),
    # MCP servers answer with JSON-RPC error codes instead of HTTP statuses (``mcp``'s ``MCPError``).
    _on_jsonrpc_codes(
        (-32700, -32600, -32601, -32602),
        "(parse error, invalid request, method not found, invalid params)",
        ErrorKind.BAD_REQUEST,
        terminal=True,
    ),
    _on_jsonrpc_codes((-32000,), "(connection closed)", ErrorKind.CONNECTION, terminal=False),
    _on_jsonrpc_codes((-32001,), "(request timeout)", ErrorKind.TIMEOUT, terminal=False),
    Rule(
        matches="any other MCP `MCPError` with a JSON-RPC code (-32603 internal error, ...)",
        kind=ErrorKind.SERVER_ERROR,
        terminal=False,
        honours_retry_after=False,
        test=lambda f: f.named("MCPError", "McpError") and _jsonrpc_code(f.exc) is not None,
    ),
    Rule(
        matches="`APITimeoutError` (LiteLLM `Timeout`), `TimeoutError` (also a step's `attempt_timeout`), "
        "httpx/httpx2 timeouts",
        kind=ErrorKind.TIMEOUT,
        terminal=False,
        honours_retry_after=False,
        test=lambda f: isinstance(f.exc, _timeout_errors()),
    ),
    Rule(
        matches="`APIConnectionError`, httpx/httpx2 transport errors",
        kind=ErrorKind.CONNECTION,
        terminal=False,
        honours_retry_after=False,
        test=lambda f: isinstance(f.exc, _transport_errors()),
    ),
    Rule(
        matches="500 mentioning " + _quoted(_CONNECTION_MARKERS) + " (how LiteLLM reports a refused connection)",
        kind=ErrorKind.CONNECTION,
        terminal=False,
        honours_retry_after=False,
        test=lambda f: f.status == 500 and f.says(_CONNECTION_MARKERS),
    ),
    Rule(
        matches="an `APIError` without HTTP status (a stream's error event)",
        kind=ErrorKind.SERVER_ERROR,
        terminal=False,
        honours_retry_after=False,
        test=lambda f: f.status is None and isinstance(f.exc, _openai("APIError")),
    ),
    _on_status(401, ErrorKind.AUTHENTICATION, terminal=True, honours_retry_after=False),
    _on_status(403, ErrorKind.PERMISSION, terminal=True, honours_retry_after=False),
    _on_status(404, ErrorKind.MODEL_NOT_FOUND, terminal=True, honours_retry_after=False),
    _on_status(409, ErrorKind.CONFLICT, terminal=False, honours_retry_after=True),
    Rule(
        matches="429 mentioning " + _quoted(_QUOTA_MARKERS) + " (waiting cannot help)",
        kind=ErrorKind.QUOTA_EXHAUSTED,
        terminal=True,
        honours_retry_after=False,
        test=lambda f: f.status == 429 and f.says(_QUOTA_MARKERS),
    ),
    _on_status(429, ErrorKind.RATE_LIMIT, terminal=False, honours_retry_after=True),
    _on_status(408, ErrorKind.TIMEOUT, terminal=False, honours_retry_after=True),
    Rule(
        matches="529; or 5xx mentioning `overloaded`",
        kind=ErrorKind.OVERLOADED,
        terminal=False,
        honours_retry_after=True,
        test=lambda f: f.status == 529 or (f.server_error() and "overloaded" in f.text),
    ),
    Rule(
        matches="any other 5xx",
        kind=ErrorKind.SERVER_ERROR,
        terminal=False,
        honours_retry_after=True,
        test=lambda f: f.server_error(),
    ),
    Rule(
        matches="4xx mentioning `model` and one of " + _quoted(_MODEL_MARKERS),
        kind=ErrorKind.MODEL_NOT_FOUND,
        terminal=True,
        honours_retry_after=False,
        test=lambda f: f.client_error() and "model" in f.text and f.says(_MODEL_MARKERS),
    ),
    Rule(
        matches="any other 4xx (400, 413, 422, ...)",
        kind=ErrorKind.BAD_REQUEST,
        terminal=True,
        honours_retry_after=False,
        test=lambda f: f.client_error(),
    ),
)
"""The classification table, in order: the first rule that matches an exception wins."""

TERMINAL_KINDS = frozenset(rule.kind for rule in RULES if rule.terminal)


def rules_table() -> str:
    """:data:`RULES` as the Markdown table that docs/errors.md shows."""
    yes_no = {True: "yes", False: "no"}
    columns = (
        "#",
        "Matches (first match wins)",
        "Kind (`ErrorKind`)",
        "Terminal",
        "Honours Retry-After",
        "Fix the message names",
    )
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("-" * (len(column) + 2) for column in columns) + "|",
    ]
    for number, rule in enumerate(RULES, start=1):
        fix = rule.fix or "–"
        lines.append(
            f"| {number} | {rule.matches} | `{rule.kind.value}` | {yes_no[rule.terminal]} "
            f"| {yes_no[rule.honours_retry_after]} | {fix} |"
        )
    lines.append("| – | anything else (a bug, `StructuredOutputError`, ...) | not a provider error | – | – | – |")
    return "\n".join(lines)


# -- Retry-After --------------------------------------------------------------------------------


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
        found.append(httpx.Headers(dict(response.headers)))
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


# -- classification and translation ---------------------------------------------------------------


@dataclass(frozen=True)
class ProviderErrorClass:
    """The classification of one provider error."""

    kind: ErrorKind
    status_code: int | None
    """The provider's HTTP status; ``None`` when it sent none (or nothing was sent: a configuration error)."""
    message: str
    retry_after: timedelta | None = None
    fix: str | None = None
    """What to change (configuration errors): see :attr:`Rule.fix`."""

    @property
    def terminal(self) -> bool:
        return self.kind in TERMINAL_KINDS


def matching_rule(exc: BaseException) -> Rule | None:
    """The first rule of :data:`RULES` that matches ``exc``; ``None`` if it is no provider error."""
    facts = ErrorFacts.of(exc)
    return next((rule for rule in RULES if rule.test(facts)), None)


def classify_provider_error(exc: BaseException) -> ProviderErrorClass | None:
    """Classify ``exc`` if it is a provider/transport error; ``None`` for anything else."""
    facts = ErrorFacts.of(exc)
    for rule in RULES:
        if rule.test(facts):
            retry_after = retry_after_of(exc) if rule.honours_retry_after else None
            if rule.fix is not None:  # nothing was sent: no status; one line: the fix, then the client's words
                return ProviderErrorClass(rule.kind, None, f"{rule.fix} ({facts.detail()})", fix=rule.fix)
            return ProviderErrorClass(rule.kind, facts.status, facts.message, retry_after)
    return None


class TransientProviderError(Exception):
    """A retryable provider error without Retry-After, raised inside a step.

    A plain exception rather than ``RetryableError``: Restate then applies the step's own retry
    policy (``initial_retry_interval``, ``retry_interval_factor``, ``max_retry_interval``). A
    ``RetryableError`` without a delay would use a fixed, server-chosen delay instead. Its ``repr``
    is the message, because that is what Restate records (and, once attempts run out, what the
    step's ``TerminalError`` says).
    """

    def __init__(self, message: str, verdict: ProviderErrorClass) -> None:
        super().__init__(message)
        self.message = message
        self.verdict = verdict

    def __repr__(self) -> str:
        return self.message


_current_step: contextvars.ContextVar[str | None] = contextvars.ContextVar("model_step", default=None)
"""The name of the model step whose attempt is running, so errors translated anywhere in it name it."""


def naming_step(step: str) -> AbstractContextManager[None]:
    """Errors translated inside this block name ``step`` (used by ``integrations.retry``)."""
    return bound(_current_step, step)


def to_restate_error(exc: BaseException, *, step: str | None = None, source: str = "model provider") -> BaseException:
    """The exception to raise inside a journaled step in place of ``exc``.

    Terminal classes become ``TerminalError`` (no retry; the HTTP status is kept for 4xx). Retryable
    ones become ``RetryableError`` carrying the provider's Retry-After when there is one, else
    :class:`TransientProviderError` (the step's retry policy sets the delay). Restate's own
    exceptions and anything that is not a provider error are returned unchanged. ``step`` (default:
    the model step whose attempt is running) prefixes the message, so the step's final
    ``TerminalError`` says which step failed. ``source`` names who failed (``"model provider"``,
    ``"MCP server"``).
    """
    if isinstance(exc, (TerminalError, RetryableError, SdkInternalBaseException, TransientProviderError)):
        return exc
    verdict = classify_provider_error(exc)
    if verdict is None:
        return exc
    step = step if step is not None else _current_step.get()
    where = f"step {step!r}: " if step else ""
    label = verdict.kind.value + (f", HTTP {verdict.status_code}" if verdict.status_code else "")
    if verdict.terminal:
        status = verdict.status_code if verdict.status_code and 400 <= verdict.status_code < 500 else 500
        return TerminalError(f"{where}{source} error ({label}), not retried: {verdict.message}", status)
    message = f"{where}{source} error ({label}), retryable: {verdict.message}"
    if verdict.retry_after is not None:
        return RetryableError(message, retry_after=verdict.retry_after)
    return TransientProviderError(message, verdict)


@contextmanager
def provider_errors_as_restate(step: str | None = None) -> Iterator[None]:
    """Inside a journaled step: re-raise provider errors as :func:`to_restate_error` maps them.

    The one step-error helper both adapters use; other exceptions pass through untouched.
    """
    try:
        yield
    except Exception as exc:
        mapped = to_restate_error(exc, step=step)
        if mapped is exc:
            raise
        raise mapped from exc


@contextmanager
def setup_errors_as_terminal(what: str) -> Iterator[None]:
    """Outside a step, where a provider builds a model or its client: terminal errors end the invocation.

    An error raised here is not inside a journaled step, so Restate would retry the whole invocation,
    without end and without a word, for an error no retry can fix (``OPENAI_API_KEY`` unset, a model
    name no provider takes). Errors a rule of :data:`RULES` calls terminal are raised as
    ``TerminalError``, their message prefixed with ``what`` (e.g. ``"building model 'gpt-4o'"``);
    anything else, retryable provider errors included, passes through unchanged.
    """
    try:
        yield
    except Exception as exc:
        mapped = to_restate_error(exc, step=None)
        if not isinstance(mapped, TerminalError) or mapped is exc:
            raise
        raise TerminalError(f"{what}: {mapped.message}", mapped.status_code) from exc


if __name__ == "__main__":  # regenerate the table in docs/errors.md
    print(rules_table())
