"""``integrations.errors`` on real exceptions: the ``openai`` and ``litellm`` clients are made to fail
against the scripted model server (and a closed port), and their exceptions are classified."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import httpx2
import litellm
import openai
import pytest
from agents.exceptions import UserError
from litellm.exceptions import (
    BadRequestError,
    BudgetExceededError,
    ContentPolicyViolationError,
    ContextWindowExceededError,
    InternalServerError,
    RateLimitError,
    ServiceUnavailableError,
)
from mcp.shared.exceptions import MCPError
from restate.exceptions import RetryableError, TerminalError

from integrations.errors import (
    RULES,
    ErrorKind,
    TransientProviderError,
    classify_provider_error,
    matching_rule,
    naming_step,
    provider_errors_as_restate,
    retry_after_of,
    rules_table,
    setup_errors_as_terminal,
    to_restate_error,
)
from integrations.runtime import free_port
from integrations.testing import Reply, ScriptedModelServer, error, text

from .conftest import REPO_ROOT

litellm.suppress_debug_info = True


Caller = Callable[[str, float | None], None]


def _call_openai(base_url: str, timeout: float | None) -> None:
    client = openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0, timeout=timeout or 10)
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])


def _call_litellm(base_url: str, timeout: float | None) -> None:
    litellm.completion(
        model="openai/gpt-4o",
        messages=[{"role": "user", "content": "hi"}],
        api_base=base_url,
        api_key="sk-test",
        num_retries=0,
        max_retries=0,
        timeout=timeout or 10,
    )


CLIENTS = {"openai": _call_openai, "litellm": _call_litellm}


def _raised(call: Caller, base_url: str, timeout: float | None = None) -> Exception:
    with pytest.raises(Exception) as caught:  # noqa: PT011 - any client error; the caller classifies it
        call(base_url, timeout)
    return caught.value


CASES: list[tuple[str, Reply, ErrorKind, float | None]] = [
    ("401", error(401, "Incorrect API key provided"), ErrorKind.AUTHENTICATION, None),
    ("403", error(403, "Project does not have access"), ErrorKind.PERMISSION, None),
    (
        "404-model",
        error(404, "The model `gpt-9` does not exist", code="model_not_found"),
        ErrorKind.MODEL_NOT_FOUND,
        None,
    ),
    (
        "400-context",
        error(400, "This model's maximum context length is 128000 tokens.", code="context_length_exceeded"),
        ErrorKind.CONTEXT_WINDOW_EXCEEDED,
        None,
    ),
    (
        "400-policy",
        error(400, "Your request was rejected by our safety system.", code="content_policy_violation"),
        ErrorKind.CONTENT_POLICY,
        None,
    ),
    ("400", error(400, "Invalid value for 'temperature'"), ErrorKind.BAD_REQUEST, None),
    ("422", error(422, "Unprocessable"), ErrorKind.BAD_REQUEST, None),
    ("429-retry-after", error(429, "Rate limit reached", retry_after=2), ErrorKind.RATE_LIMIT, 2.0),
    (
        "429-retry-after-ms",
        error(429, "Rate limit reached", headers={"retry-after-ms": "1500"}),
        ErrorKind.RATE_LIMIT,
        1.5,
    ),
    (
        "429-quota",
        error(429, "You exceeded your current quota, please check your plan.", code="insufficient_quota"),
        ErrorKind.QUOTA_EXHAUSTED,
        None,
    ),
    ("500", error(500, "boom"), ErrorKind.SERVER_ERROR, None),
    ("503-retry-after", error(503, "unavailable", retry_after=1), ErrorKind.SERVER_ERROR, 1.0),
    ("529", error(529, "Overloaded"), ErrorKind.OVERLOADED, None),
]


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize(("case", "reply", "kind", "retry_after"), CASES, ids=[c[0] for c in CASES])
def test_http_errors_from_real_clients(
    model: ScriptedModelServer, client: str, case: str, reply: Reply, kind: ErrorKind, retry_after: float | None
) -> None:
    model.reset()
    model.enqueue(reply)
    exc = _raised(CLIENTS[client], model.base_url)

    verdict = classify_provider_error(exc)

    assert verdict is not None, repr(exc)
    assert verdict.kind is kind, (repr(exc), verdict)
    assert verdict.status_code == reply.status
    assert verdict.terminal == (
        kind
        in {
            ErrorKind.AUTHENTICATION,
            ErrorKind.PERMISSION,
            ErrorKind.MODEL_NOT_FOUND,
            ErrorKind.CONTEXT_WINDOW_EXCEEDED,
            ErrorKind.CONTENT_POLICY,
            ErrorKind.BAD_REQUEST,
            ErrorKind.QUOTA_EXHAUSTED,
        }
    )
    assert verdict.retry_after == (timedelta(seconds=retry_after) if retry_after is not None else None)
    assert len(model.requests) == 1  # the clients' own retries were off


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_timeout_from_real_clients(model: ScriptedModelServer, client: str) -> None:
    model.reset()
    model.enqueue(text("too late", delay=1.0))
    exc = _raised(CLIENTS[client], model.base_url, timeout=0.2)

    assert isinstance(exc, openai.APITimeoutError)
    verdict = classify_provider_error(exc)
    assert verdict is not None and verdict.kind is ErrorKind.TIMEOUT and not verdict.terminal


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_connection_refused_from_real_clients(client: str) -> None:
    exc = _raised(CLIENTS[client], f"http://127.0.0.1:{free_port()}/v1")

    # openai raises APIConnectionError; LiteLLM re-raises it as InternalServerError("Connection error.")
    expected = openai.APIConnectionError if client == "openai" else InternalServerError
    assert isinstance(exc, expected)
    verdict = classify_provider_error(exc)
    assert verdict is not None and verdict.kind is ErrorKind.CONNECTION and not verdict.terminal


def test_litellm_headers_without_a_response_still_give_retry_after() -> None:
    """LiteLLM may keep the provider's headers only in ``litellm_response_headers``."""
    exc = RateLimitError("slow down", llm_provider="anthropic", model="claude", headers={"retry-after": "7"})
    assert retry_after_of(exc) == timedelta(seconds=7)
    verdict = classify_provider_error(exc)
    assert verdict is not None and verdict.kind is ErrorKind.RATE_LIMIT
    assert verdict.retry_after == timedelta(seconds=7)


def test_litellm_specific_classes() -> None:
    policy = ContentPolicyViolationError("flagged", model="gpt-4o", llm_provider="openai")
    window = ContextWindowExceededError("too long", model="gpt-4o", llm_provider="openai")
    unavailable = ServiceUnavailableError("down", llm_provider="openai", model="gpt-4o")
    assert classify_provider_error(policy).kind is ErrorKind.CONTENT_POLICY  # type: ignore[union-attr]
    assert classify_provider_error(window).kind is ErrorKind.CONTEXT_WINDOW_EXCEEDED  # type: ignore[union-attr]
    assert classify_provider_error(unavailable).kind is ErrorKind.SERVER_ERROR  # type: ignore[union-attr]


def test_http_date_retry_after() -> None:
    request = httpx2.Request("POST", "http://x/v1/chat/completions")
    response = httpx2.Response(429, request=request, headers={"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})
    exc = openai.RateLimitError("slow", response=response, body=None)
    assert retry_after_of(exc) == timedelta(0)  # a date in the past: retry now


def test_non_provider_errors_are_not_classified() -> None:
    assert classify_provider_error(ValueError("bug in my tool")) is None
    assert classify_provider_error(KeyError("x")) is None


def test_to_restate_error_terminal_and_retryable(model: ScriptedModelServer) -> None:
    model.reset()
    model.enqueue(error(401, "bad key"), error(429, "slow", retry_after=3))
    auth = _raised(_call_litellm, model.base_url)
    limited = _raised(_call_openai, model.base_url)

    terminal = to_restate_error(auth)
    assert isinstance(terminal, TerminalError)
    assert terminal.status_code == 401
    assert "authentication" in terminal.message and "bad key" in terminal.message

    retry = to_restate_error(limited)
    assert isinstance(retry, RetryableError)
    assert retry.retry_after == timedelta(seconds=3)
    assert "rate_limit" in retry.message


def test_to_restate_error_leaves_other_errors_alone() -> None:
    bug = ValueError("bug")
    already = TerminalError("decided elsewhere")
    assert to_restate_error(bug) is bug
    assert to_restate_error(already) is already


# -- the rules table --------------------------------------------------------------------------------


def test_docs_show_the_rules_table() -> None:
    """docs/errors.md carries the table generated from RULES (``python -m integrations.errors``)."""
    doc = (REPO_ROOT / "docs" / "errors.md").read_text()
    begin, end = "<!-- rules:begin -->\n", "\n<!-- rules:end -->"
    assert begin in doc and end in doc, "docs/errors.md lost its rules markers"
    shown = doc.split(begin, 1)[1].split(end, 1)[0]
    assert shown == rules_table(), "docs/errors.md is stale: paste `python -m integrations.errors` between the markers"


def test_a_kind_is_either_terminal_or_retryable_in_every_rule() -> None:
    terminal_by_kind: dict[ErrorKind, set[bool]] = {}
    for rule in RULES:
        terminal_by_kind.setdefault(rule.kind, set()).add(rule.terminal)
    assert {kind: flags for kind, flags in terminal_by_kind.items() if len(flags) > 1} == {}
    assert set(terminal_by_kind) == set(ErrorKind)  # every kind is reachable


def _status_error(
    status: int, message: str = "x", code: str | None = None, headers: dict[str, str] | None = None
) -> Exception:
    request = httpx2.Request("POST", "http://x/v1/chat/completions")  # openai >= 3 talks HTTP through httpx2
    response = httpx2.Response(status, request=request, headers=headers or {})
    body = {"error": {"message": message, "code": code}} if code else None
    return openai.APIStatusError(message, response=response, body=body)


_REQUEST = httpx2.Request("POST", "http://x/v1/chat/completions")


def _raised_from(outer: Exception, inner: Exception) -> Exception:
    """``outer`` raised ``from inner``, as a client wraps its transport's error."""
    try:
        try:
            raise inner
        except Exception as caught:
            raise outer from caught
    except Exception as raised:
        return raised
    raise AssertionError("unreachable")


# Every rule, with an error it must be the first match for: proves the order of the table.
FIRST_MATCHES: list[tuple[int, Exception]] = [
    (1, openai.OpenAIError("Missing credentials. Please pass an `api_key`, or set the `OPENAI_API_KEY` variable.")),
    (2, openai.OpenAIError("Missing credentials. Please pass one of `api_key`, or `AZURE_OPENAI_API_KEY`.")),
    (3, _raised_from(openai.APIConnectionError(request=_REQUEST), httpx2.UnsupportedProtocol("ftp://"))),
    (4, BadRequestError("LLM Provider NOT provided. You passed model=gpt-9", model="gpt-9", llm_provider="")),
    (5, UserError("Unknown prefix: foo")),
    (6, _status_error(400, "This model's maximum context length is 8192 tokens")),
    (7, _status_error(400, "flagged", code="content_filter")),
    (8, BudgetExceededError(current_cost=2.0, max_budget=1.0)),
    (9, MCPError(-32602, "bad params")),
    (10, MCPError(-32000, "connection closed")),
    (11, MCPError(-32001, "request timed out")),
    (12, MCPError(-32603, "internal")),
    (13, TimeoutError("read timed out")),
    (14, httpx.ConnectError("refused")),
    (15, _status_error(500, "Connection error.")),
    (16, openai.APIError("stream broke", request=httpx2.Request("POST", "http://x"), body=None)),
    (17, _status_error(401)),
    (18, _status_error(403)),
    (19, _status_error(404, "The model `gpt-9` does not exist")),
    (20, _status_error(409)),
    (21, _status_error(429, "You exceeded your current quota")),
    (22, _status_error(429, "slow down")),
    (23, _status_error(408)),
    (24, _status_error(503, "the engine is overloaded")),
    (25, _status_error(502)),
    (26, _status_error(422, "unknown model 'x'")),
    (27, _status_error(413, "payload too large")),
]


def test_every_rule_is_the_first_match_for_its_example() -> None:
    assert [number for number, _ in FIRST_MATCHES] == list(range(1, len(RULES) + 1))
    for number, exc in FIRST_MATCHES:
        assert matching_rule(exc) is RULES[number - 1], (number, repr(exc), matching_rule(exc))


def test_retry_after_is_read_only_where_the_rule_honours_it() -> None:
    honoured = classify_provider_error(_status_error(503, "busy", headers={"retry-after": "4"}))
    ignored = classify_provider_error(_status_error(400, "bad", headers={"retry-after": "4"}))
    assert honoured is not None and honoured.retry_after == timedelta(seconds=4)
    assert ignored is not None and ignored.retry_after is None


# -- translation inside a step ----------------------------------------------------------------------


def test_retryable_error_without_retry_after_is_a_plain_exception_naming_the_step() -> None:
    translated = to_restate_error(_status_error(500, "boom"), step="LLM call: gpt-4o")
    assert isinstance(translated, TransientProviderError) and not isinstance(translated, RetryableError)
    assert translated.verdict.kind is ErrorKind.SERVER_ERROR
    # Restate records repr(exc) for a plain exception: it must read as the message.
    assert (
        repr(translated)
        == str(translated)
        == ("step 'LLM call: gpt-4o': model provider error (server_error, HTTP 500), retryable: boom")
    )
    assert to_restate_error(translated) is translated  # translating twice changes nothing


def test_errors_translated_inside_a_named_step_name_it() -> None:
    with naming_step("LLM call"):
        terminal = to_restate_error(_status_error(401, "bad key"))
    assert isinstance(terminal, TerminalError) and terminal.message.startswith("step 'LLM call': ")
    assert "step" not in str(to_restate_error(_status_error(500)))  # outside: no step to name


def test_provider_errors_as_restate_maps_provider_errors_only() -> None:
    original = _status_error(401, "bad key")
    with pytest.raises(TerminalError) as raised, provider_errors_as_restate("LLM call"):
        raise original
    assert raised.value.__cause__ is original and raised.value.status_code == 401

    with pytest.raises(KeyError), provider_errors_as_restate("LLM call"):
        raise KeyError("a bug stays a bug")


# -- configuration errors: raised by the clients before anything is sent ---------------------------


def _without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_ADMIN_KEY"):
        monkeypatch.delenv(name, raising=False)


def _configuration_error(exc: Exception, rule: int) -> str:
    """Assert ``exc`` is a configuration error of rule ``rule``; return its TerminalError's message."""
    assert matching_rule(exc) is RULES[rule - 1], (repr(exc), matching_rule(exc))
    verdict = classify_provider_error(exc)
    assert verdict is not None and verdict.kind is ErrorKind.CONFIGURATION and verdict.terminal
    assert verdict.status_code is None  # nothing was sent: LiteLLM's 500 / 400 is no provider answer
    terminal = to_restate_error(exc, step="LLM call: gpt-4o")
    assert isinstance(terminal, TerminalError) and terminal.status_code == 500
    assert "\n" not in terminal.message and verdict.fix is not None
    assert terminal.message.startswith(
        f"step 'LLM call: gpt-4o': model provider error (configuration), not retried: {verdict.fix} ("
    )
    return terminal.message


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_missing_openai_api_key_names_the_variable(
    model: ScriptedModelServer, client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _without_key(monkeypatch)
    model.reset()
    if client == "openai":
        with pytest.raises(openai.OpenAIError) as caught:
            openai.AsyncOpenAI(base_url=model.base_url)  # what the Agents SDK's provider does in get_model
        exc: Exception = caught.value
    else:
        with pytest.raises(InternalServerError) as raised:  # LiteLLM reports it as a 500
            litellm.completion(
                model="openai/gpt-4o",
                messages=[{"role": "user", "content": "hi"}],
                api_base=model.base_url,
                num_retries=0,
            )
        exc = raised.value

    message = _configuration_error(exc, rule=1)

    assert "OPENAI_API_KEY is not set: set it" in message
    assert model.requests == []


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize("base_url", ["ftp://127.0.0.1/v1", "127.0.0.1:9/v1"])
def test_a_base_url_that_is_no_http_url_is_a_configuration_error(client: str, base_url: str) -> None:
    exc = _raised(CLIENTS[client], base_url)

    message = _configuration_error(exc, rule=3)

    assert "OPENAI_BASE_URL" in message


def test_a_litellm_model_without_provider_is_a_configuration_error() -> None:
    with pytest.raises(BadRequestError) as caught:
        litellm.completion(model="no-such-model", messages=[{"role": "user", "content": "hi"}], api_key="sk-test")

    message = _configuration_error(caught.value, rule=4)

    assert "name it provider/model" in message and "model=no-such-model" in message


def test_an_unknown_agents_sdk_prefix_is_a_configuration_error() -> None:
    from agents.models.multi_provider import MultiProvider

    with pytest.raises(UserError) as caught:
        MultiProvider().get_model("nosuch/gpt-4o")

    assert "Unknown prefix: nosuch" in _configuration_error(caught.value, rule=5)


def test_setup_errors_as_terminal_ends_the_invocation_for_configuration_errors_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from agents.models.multi_provider import MultiProvider

    _without_key(monkeypatch)
    with pytest.raises(TerminalError) as raised, setup_errors_as_terminal("building model 'gpt-4o'"):
        MultiProvider().get_model("gpt-4o")
    assert raised.value.message.startswith(
        "building model 'gpt-4o': model provider error (configuration), not retried: OPENAI_API_KEY is not set"
    )
    assert isinstance(raised.value.__cause__, openai.OpenAIError) and raised.value.status_code == 500

    # retryable provider errors and bugs are left to Restate's retries, unchanged
    busy = _status_error(503, "busy")
    with pytest.raises(openai.APIStatusError) as passed, setup_errors_as_terminal("building model 'x'"):
        raise busy
    assert passed.value is busy
    with pytest.raises(KeyError), setup_errors_as_terminal("building model 'x'"):
        raise KeyError("a bug stays a bug")


def test_configuration_markers_in_a_non_provider_error_are_not_a_configuration_error() -> None:
    """A model step may wrap any code: a bug that happens to say "missing credentials" stays a bug."""
    assert classify_provider_error(ValueError("missing credentials: set OPENAI_API_KEY")) is None
    assert classify_provider_error(RuntimeError("LLM Provider NOT provided")) is None
