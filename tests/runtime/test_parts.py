"""Which half of a ``with_events`` app a serve process serves, decided in the process (no server):
the rules behind ``--web-port``, identity keys and the non-loopback refusal."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from integrations.runtime import serve

KEY = "publickeyv1_2ycYC5ShrRuhdz3qb4tPq3szd98kAnPwG3gwSJsW7Xw4"


async def _restate(scope: Any, receive: Any, send: Any) -> None:  # stands in for restate.app(...)
    pass


def _app(access: object | None) -> SimpleNamespace:
    web = SimpleNamespace(access=access)
    return SimpleNamespace(restate_app=_restate, web_app=web)


@pytest.fixture
def plan(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    monkeypatch.delenv("RESTATE_IDENTITY_KEYS", raising=False)
    monkeypatch.delenv("RESTATE_SIGNING_PUBLIC_KEY", raising=False)
    monkeypatch.delenv("_DURABLE_AGENTS_SERVE_RUN", raising=False)

    def set_plan(**values: Any) -> None:
        monkeypatch.setenv("_DURABLE_AGENTS_SERVE_PLAN", json.dumps(values))

    return set_plan


def test_the_web_half_on_loopback_without_a_hook_says_everyone_is_allowed(
    plan: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    app = _app(access=None)
    plan(part="web", host="127.0.0.1", port=9081)
    assert serve._select_part(app) is app.web_app
    assert "let everyone read every chat and approve every pending call" in capsys.readouterr().out


def test_the_web_half_refuses_a_reachable_address_without_a_hook_and_serves_with_one(
    plan: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    plan(part="web", host="0.0.0.0", port=9081)
    with pytest.raises(SystemExit) as stopped:
        serve._select_part(_app(access=None))
    assert stopped.value.code == 3
    assert "with_events(..., access=Access(principal=...))" in capsys.readouterr().err
    hooked = _app(access=object())
    assert serve._select_part(hooked) is hooked.web_app


def test_the_service_port_serves_restates_half_signed_or_apart(
    plan: Callable[..., None], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    app = _app(access=None)
    plan(part="service", host="127.0.0.1", port=9080)
    assert serve._select_part(app) is app  # local: both halves on one port
    plan(part="service", host="127.0.0.1", port=9080, web_port=9081)
    assert serve._select_part(app) is _restate  # apart: Restate's half only
    monkeypatch.setenv("RESTATE_IDENTITY_KEYS", KEY)
    plan(part="service", host="127.0.0.1", port=9080)
    signed = serve._select_part(app)
    assert signed not in (app, _restate)  # wrapped in the signature check
    assert "serve the chat page and event streams with --web-port" in capsys.readouterr().out
    plan(part="web", host="127.0.0.1", port=9081)
    with pytest.raises(SystemExit) as nothing:
        serve._select_part(SimpleNamespace())  # an app without browser endpoints: the web child just ends
    assert nothing.value.code == 0


def test_an_unsigned_service_port_on_a_reachable_address_is_warned_about(
    plan: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    plan(part="service", host="0.0.0.0", port=9080, web_port=9081)
    serve._select_part(SimpleNamespace())
    assert "without identity keys" in capsys.readouterr().err
