"""Human-in-the-loop (``HumanInTheLoopService/moderate``) and its timeout variant
(``HumanInTheLoopWithTimeout/moderate``)."""

from __future__ import annotations

from collections.abc import Callable

from integrations.runtime import RestateServer, Stack, wait_until
from integrations.testing import ScriptedModelServer, text, tool_call
from patterns import offline

from ..conftest import Effects
from .conftest import APP, CUSTOM, log_size, review_awakeable, status_of, unique, wait_for_review

DOCS_PAYLOAD = "Very explicit content that might violate the policy."
"""The human-in-the-loop page's curl payload."""


def test_human_review_survives_a_service_crash(
    restate_server: RestateServer, served: Callable[[RestateServer, str], Stack], model_server: ScriptedModelServer
) -> None:
    content = unique("borderline post")
    model_server.responder = lambda r: (
        tool_call("get_human_review") if "get_human_review" in r.tool_names() else text("?")
    )
    stack = served(restate_server, APP)
    invocation = stack.ingress.send("HumanInTheLoopService", "moderate", {"message": content})
    awakeable = wait_for_review(stack, content)
    # the printed commands run as they are against this server's ingress (DURABLE_AGENTS_INGRESS_URL)
    ingress = restate_server.ingress_url.removeprefix("http://")
    log = service_log(stack)
    assert f"approve: curl {ingress}/restate/awakeables/{awakeable}/resolve --json '\"approved\"'" in log
    assert f"reject:  curl {ingress}/restate/awakeables/{awakeable}/resolve --json '\"rejected\"'" in log

    stack.kill_service()  # the wait holds no process: kill -9 and come back
    stack.start_service()
    stack.ingress.resolve_awakeable(awakeable, "approved by a moderator")

    # as the docs' page shows: the reviewer's decision text
    assert stack.ingress.attach(invocation) == "approved by a moderator"
    assert len(model_server.requests) == 1  # the model's verdict was journaled, not asked again


def test_the_docs_payload_waits_for_a_human_with_the_offline_model(
    any_server: RestateServer, served: Callable[[RestateServer, str], Stack], model_server: ScriptedModelServer
) -> None:
    model_server.responder = offline.responder
    stack = served(any_server, APP)
    since = log_size(stack)  # the same payload may have been reviewed before on this stack
    invocation = stack.ingress.send("HumanInTheLoopService", "moderate", {"message": DOCS_PAYLOAD})

    awakeable = wait_for_review(stack, DOCS_PAYLOAD, since=since)
    assert status_of(any_server, invocation) in ("running", "suspended")  # waiting, not decided
    [moderation] = model_server.requests
    assert moderation.tool_names() == ["get_human_review"]
    stack.ingress.resolve_awakeable(awakeable, "rejected")

    assert stack.ingress.attach(invocation) == "rejected"
    # announced once (one approve and one reject line), even where every step is replayed
    assert service_log(stack).count(awakeable) == 2


def test_the_offline_model_decides_harmless_content_itself(
    restate_server: RestateServer, served: Callable[[RestateServer, str], Stack], model_server: ScriptedModelServer
) -> None:
    model_server.responder = offline.responder
    stack = served(restate_server, APP)
    content = unique("A photo of a cat on a sofa")

    decision = stack.ingress.call("HumanInTheLoopService", "moderate", {"message": content})

    assert decision == "[offline model] approved: nothing in this content violates the policy."
    assert review_awakeable(stack, content) is None


def service_log(stack: Stack) -> str:
    """What the stack's (one) service printed."""
    log_path = stack.services[0].log_path
    assert log_path is not None
    return log_path.read_text()


def _review_id(effects: Effects, reviewer: str, content: str) -> str | None:
    prefix = f"review:{reviewer}:{content}:"
    return next((line[len(prefix) :] for line in effects.lines() if line.startswith(prefix)), None)


def test_human_review_timeout_escalates_then_falls_back(
    restate_server: RestateServer,
    served: Callable[[RestateServer, str], Stack],
    model_server: ScriptedModelServer,
    effects: Effects,
) -> None:
    escalated, silent = unique("escalated"), unique("silent")
    model_server.responder = lambda r: tool_call("get_human_review")
    stack = served(restate_server, CUSTOM)
    first = stack.ingress.send("ShortTimeoutReview", "moderate", {"message": escalated})
    second = stack.ingress.send("ShortTimeoutReview", "moderate", {"message": silent})

    wait_until(lambda: _review_id(effects, "escalation", escalated) is not None, timeout=20, what="the escalation")
    assert _review_id(effects, "moderator", escalated)  # the moderator was asked first
    escalation = _review_id(effects, "escalation", escalated)
    assert escalation is not None
    stack.ingress.resolve_awakeable(escalation, "approved by lead")

    assert stack.ingress.attach(first) == {"decision": "approved by lead", "decided_by": "escalation"}
    assert stack.ingress.attach(second) == {"decision": "rejected", "decided_by": "timeout"}
    assert _review_id(effects, "moderator", silent) and _review_id(effects, "escalation", silent)
