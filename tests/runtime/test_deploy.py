"""Deploying safely (docs/deploy.md), against a real restate-server that signs its requests.

One signed restate-server and one service per module: the service answers only signed requests on
its port, and serves its browser endpoints (chat page, event streams, the page's proxy) apart on a
web port, where an authorization hook (the ``x-user`` header, tests/apps/deploy_app.py) and small
limits apply. What a refused request must not do is checked on the server: no invocation for it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrations.runtime import Ingress, RestateServer, ServiceProcess, free_port, wait_until
from integrations.runtime._identity import (
    SERVER_KEY_FILE_ENV,
    IdentityKeyError,
    ensure_signing_key,
    identity_keys_from_env,
    require_identity,
)
from integrations.runtime._parts import exposure_problem
from integrations.runtime.serve import main as serve_main
from tests.streams._sse import SseReader

APP = "tests/apps/deploy_app.py"

pytestmark = pytest.mark.server


class Deployment:
    def __init__(self, server: RestateServer, service: ServiceProcess, effects: Path) -> None:
        self.server = server
        self.service = service
        self.effects = effects
        assert service.web_uri is not None
        self.web = service.web_uri
        self.ingress = Ingress(server.ingress_url)

    def invocations(self, service: str, key: str) -> int:
        rows = self.server.query(
            f"SELECT id FROM sys_invocation WHERE target_service_name = '{service}' AND target_service_key = '{key}'"
        )
        return len(rows)

    def api(self, method: str, path: str, user: str | None, **kwargs: Any) -> httpx.Response:
        headers = {"x-user": user} if user else {}
        return httpx.request(method, f"{self.web}/chat/api/Desk/{path}", headers=headers, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    base = tmp_path_factory.mktemp("deploy")
    key_file = base / "request-identity.pem"
    public_key = ensure_signing_key(key_file)
    effects = base / "effects.log"
    effects.touch()
    with RestateServer(base_dir=base / "server", extra_env={SERVER_KEY_FILE_ENV: str(key_file)}) as server:
        service = ServiceProcess(
            f"{APP}:app",
            env={"EFFECTS_FILE": str(effects), "DURABLE_AGENTS_INGRESS_URL": server.ingress_url},
            log_path=base / "service.log",
            workers=1,
            identity_keys=[public_key],
            web_port=free_port(),
        )
        with service:
            server.register(service.uri)  # discovery: signed by the server, so it passes
            deployment = Deployment(server, service, effects)
            yield deployment
            deployment.ingress.close()


# -- request identity ----------------------------------------------------------------------------


def test_unsigned_requests_are_refused_before_any_handler_and_signed_calls_work(deployment: Deployment) -> None:
    service = deployment.service.uri
    refused = httpx.post(f"{service}/invoke/Greeter/greet", content=b'"mallory"', timeout=10)
    assert refused.status_code == 401, refused.text
    assert "x-restate-signature" in refused.text
    assert httpx.get(f"{service}/discover", timeout=10).status_code == 401
    assert httpx.get(f"{service}/health", timeout=10).status_code == 200  # health stays open
    # the browser endpoints are not Restate's: not on this port, but on the web port
    assert httpx.get(f"{service}/chat/", timeout=10).status_code == 401
    assert httpx.get(f"{deployment.web}/chat/", timeout=10).status_code == 200
    assert httpx.post(f"{deployment.web}/invoke/Greeter/greet", timeout=10).status_code == 404

    assert deployment.ingress.call("Greeter", "greet", "alice") == "hello alice"  # signed by the server
    assert deployment.effects.read_text().splitlines() == ["greet alice"]  # mallory's never ran


def test_identity_keys_come_from_the_flag_or_the_environment_and_bad_ones_fail_at_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {"RESTATE_IDENTITY_KEYS": "publickeyv1_a, publickeyv1_b", "RESTATE_SIGNING_PUBLIC_KEY": "publickeyv1_b"}
    assert identity_keys_from_env(env) == ["publickeyv1_a", "publickeyv1_b"]
    with pytest.raises(IdentityKeyError, match="publickeyv1_"):
        require_identity(lambda scope, receive, send: None, ["not-a-key"])  # type: ignore[arg-type, return-value]
    assert serve_main([f"{APP}:app", "--identity-key", "nonsense"]) == 2
    assert "must start with publickeyv1_" in capsys.readouterr().err


# -- browser endpoints: who may do what ----------------------------------------------------------


def test_a_user_cannot_read_post_to_or_answer_for_another_users_chat(deployment: Deployment) -> None:
    answer: dict[str, httpx.Response] = {}
    asking = threading.Thread(
        target=lambda: answer.update(post=deployment.api("POST", "alice/message", "alice", json={"message": "pay"}))
    )
    asking.start()

    def pending() -> list[dict[str, Any]]:
        response = deployment.api("GET", "alice/approvals", "alice")
        assert response.status_code == 200, response.text
        approvals: list[dict[str, Any]] = response.json()["approvals"]
        return approvals

    wait_until(lambda: bool(pending()), timeout=30, what="alice's pending approval")
    [approval] = pending()
    awakeable = approval["awakeable_id"]
    assert approval["question"] == "Do pay?"

    # bob, and nobody at all, get nowhere with alice's chat
    assert deployment.api("GET", "alice/approvals", "bob").status_code == 403
    assert deployment.api("POST", f"alice/approvals/{awakeable}/resolve", "bob").status_code == 403
    assert deployment.api("POST", f"alice/approvals/{awakeable}/reject", None).status_code == 401
    # ...nor by naming her approval under his own chat
    assert deployment.api("POST", f"bob/approvals/{awakeable}/resolve", "bob").status_code == 404
    assert deployment.api("POST", "alice/message", "bob", json={"message": "ping"}).status_code == 403
    assert deployment.api("GET", "alice/history", "bob").status_code == 403
    stream = SseReader(f"{deployment.web}/events/Desk:alice?after=0", headers={"x-user": "bob"}).start()
    assert stream.status == 403
    stream.close()
    assert len(pending()) == 1  # still waiting for alice
    assert deployment.invocations("Desk", "alice") == 1  # bob's post never reached Restate

    # alice follows her stream and approves: the answer records who approved
    mine = SseReader(f"{deployment.web}/events/Desk:alice?after=0", headers={"x-user": "alice"}).start()
    try:
        assert mine.status == 200
        # the page may claim anyone as the decider: the hook's principal is what is recorded
        claim = {"approved": True, "by": "mallory"}
        resolved = deployment.api("POST", f"alice/approvals/{awakeable}/resolve", "alice", json=claim)
        assert resolved.status_code == 202, resolved.text  # the ingress accepted the answer
        asking.join(30)
        assert answer["post"].status_code == 200 and answer["post"].json() == "pay: approved"
        mine.wait_for(lambda events: any(e["kind"] == "approval_done" for e in events), "approval_done")
        [done] = [e for e in mine.events if e["kind"] == "approval_done"]
        assert done["data"]["approved"] is True and done["data"]["by"] == "alice"
    finally:
        mine.close()
    signals = deployment.server.query(
        "SELECT j.entry_json FROM sys_journal j JOIN sys_invocation i ON j.id = i.id WHERE i.target_service_name "
        "= 'Desk' AND i.target_service_key = 'alice' AND j.entry_type LIKE 'Notification: Signal%'"
    )
    values = [bytes(json.loads(row["entry_json"])["Notification"]["Signal"]["result"]["Success"]) for row in signals]
    assert [json.loads(value) for value in values] == [{"approved": True, "by": "alice", "message": ""}]  # journaled
    assert pending() == []


# -- limits on the browser path ------------------------------------------------------------------


def test_limits_answer_4xx_or_429_and_journal_nothing(deployment: Deployment) -> None:
    big = deployment.api("POST", "carol/message", "carol", content=b'{"message": "' + b"x" * 4096 + b'"}')
    assert big.status_code == 413
    long = deployment.api("POST", "carol/message", "carol", json={"message": "y" * 201})
    assert long.status_code == 422
    assert deployment.invocations("Desk", "carol") == 0

    for _ in range(3):
        ok = deployment.api("POST", "carol/message", "carol", json={"message": "ping"})
        assert ok.status_code == 200 and ok.json() == "pong"
    limited = deployment.api("POST", "carol/message", "carol", json={"message": "ping"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert deployment.api("POST", "carol:other/message", "carol", json={"message": "ping"}).status_code == 200
    assert deployment.invocations("Desk", "carol") == 3

    streams = [
        SseReader(f"{deployment.web}/events/Desk:carol?after=0", headers={"x-user": "carol"}).start() for _ in range(2)
    ]
    try:
        assert [s.status for s in streams] == [200, 200]
        third = SseReader(f"{deployment.web}/events/Desk:carol?after=0", headers={"x-user": "carol"}).start()
        assert third.status == 429
        third.close()
        other_user = SseReader(f"{deployment.web}/events/Desk:dave?after=0", headers={"x-user": "dave"}).start()
        assert other_user.status == 200  # counted per principal
        other_user.close()
        streams.pop().close()

        def reopened() -> bool:
            again = SseReader(f"{deployment.web}/events/Desk:carol?after=0", headers={"x-user": "carol"}).start()
            again.close()
            return again.status == 200

        wait_until(reopened, timeout=30, what="a freed stream slot")
    finally:
        for stream in streams:
            stream.close()


# -- exposure -------------------------------------------------------------------------------------


def test_browser_endpoints_without_a_hook_refuse_a_non_loopback_address(tmp_path: Path) -> None:
    log = tmp_path / "exposed.log"
    exposed = ServiceProcess(f"{APP}:open_app", host="0.0.0.0", workers=1, web_port=free_port(), log_path=log)
    with pytest.raises(RuntimeError, match="exited with 3"):
        exposed.start()
    assert "access=" in log.read_text() and "0.0.0.0" in log.read_text()

    class Hooked:
        access = object()

    assert exposure_problem(Hooked(), "0.0.0.0") is None
    assert exposure_problem(object(), "127.0.0.1") is None
    assert exposure_problem(object(), "localhost") is None
    assert "access=" in (exposure_problem(object(), "::") or "")
