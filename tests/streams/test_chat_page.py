"""The chat page in a real headless browser: Debian's Chromium driven by Playwright.

Browser builds cannot be downloaded here, so Playwright launches the system Chromium
(``apt-get install chromium``; another binary with ``CHROMIUM=/path``). The page is served by the
app itself (``with_events``) on the service port, as ``./dev up tour`` serves it.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from integrations.runtime import RestateServer, ServiceProcess, Stack
from integrations.runtime.serve import load_target
from integrations.testing import ModelRequest, Pace, Reply, ScriptedModelServer, text, tool_call
from integrations.testing.pytest_plugin import ServeFactory

from ..conftest import REPO_ROOT

TOUR = REPO_ROOT / "agents" / "tour"
expect.set_options(timeout=30_000)  # a loaded machine runs a restate-server, services and a browser
POEM = (
    "[offline model] (message 1 of this chat) A poem: Steps are journaled, one by one; "
    "/ a crash mid-way? Replay: it's done."
)


def page_url(stack: Stack, query: str) -> str:
    return f"http://127.0.0.1:{stack.services[0].port}/chat/?{query}"


def test_the_tour_chat_page_streams_the_answer_in_and_shows_the_history_after_a_reload(
    restate_server: RestateServer, serve: ServeFactory, model_server: ScriptedModelServer, page: Page
) -> None:
    model_server.reset(load_target(f"{TOUR / 'offline_model.py'}:responder"))
    model_server.stream_pace = Pace(hold_after=4, gate="page")  # the answer stops after its 4th word
    env = {"DURABLE_AGENTS_INGRESS_URL": restate_server.ingress_url, "WEATHER_OFFLINE": "1"}
    stack = serve(restate_server, f"{TOUR / 'app.py'}:app", model=model_server, env=env)
    key = f"page-{uuid.uuid4().hex[:8]}"

    page.goto(page_url(stack, f"key={key}"))
    expect(page.locator("#status")).to_have_text("live")
    page.fill("#message", "Make a poem about durable execution.")
    page.press("#message", "Enter")

    live = page.locator(".bubble.live")
    expect(live).to_have_attribute("data-state", "streaming")
    expect(live).to_have_text(re.compile(r"^\[offline model\] \(message 1\s*$"))  # the first four words...
    assert model_server.held("page") == 1  # ...while the model is still writing the rest
    expect(page.locator(".bubble.user")).to_have_text("Make a poem about durable execution.")

    model_server.open_gate("page")
    answer = page.locator(".bubble.assistant:not(.live)")  # from get_history once the turn is stored
    expect(answer).to_have_text(POEM)
    expect(live).to_have_count(0)

    page.reload()
    expect(page.locator("#status")).to_have_text("live")
    expect(page.locator(".bubble.user")).to_have_text(["Make a poem about durable execution."])
    expect(page.locator(".bubble.assistant")).to_have_text([POEM])
    expect(page.locator(".bubble.live")).to_have_count(0)  # the finished run is history, not live
    assert page.input_value("#key") == key


def _banker(request: ModelRequest) -> Reply:
    outputs = request.tool_outputs()
    if not outputs:
        return tool_call("transfer_money", {"amount": 100})
    return text(f"Done: {outputs[-1]}.")


@pytest.fixture
def bank(restate_server: RestateServer, serve: ServeFactory, model_server: ScriptedModelServer) -> Stack:
    """The streams test app, its model a banker that wants to transfer 100 EUR (a tool needing approval)."""
    model_server.reset(_banker)
    env = {"DURABLE_AGENTS_INGRESS_URL": restate_server.ingress_url}
    return serve(restate_server, "tests/streams/streams_app.py:app", model=model_server, env=env)


@pytest.mark.parametrize(
    ("button", "outcome"), [("Approve", "transferred 100 EUR"), ("Reject", "the transfer was declined")]
)
def test_a_pending_approval_gets_buttons_and_the_answer_follows_the_click(
    bank: Stack, model_server: ScriptedModelServer, page: Page, button: str, outcome: str
) -> None:
    stack = bank
    page.goto(page_url(stack, f"service=ApprovalChat&key=bank-{uuid.uuid4().hex[:8]}"))
    expect(page.locator("#status")).to_have_text("live")
    page.fill("#message", "Send 100 EUR to Bob")
    page.click("#send")

    approval = page.locator(".approval")
    expect(approval).to_contain_text("Transfer 100 EUR?")
    expect(page.locator(".tool").first).to_contain_text(re.compile(r'transfer_money\(\{"amount": ?100\}\)'))
    assert len(model_server.requests) == 1  # the run waits for the person, not for the model

    approval.get_by_role("button", name=button).click()
    expect(page.locator(".bubble.assistant:not(.live)")).to_have_text(f"Done: {outcome}.")
    expect(approval).to_have_count(0)
    expect(page.locator(".tool.result")).to_have_count(1)  # once: the run is history now
    expect(page.locator(".tool.result")).to_contain_text(outcome)
    decided = "Approved" if button == "Approve" else "Rejected"
    expect(page.locator(".decision")).to_contain_text(f"{decided} by chat page at ")  # no name given: the page's


# -- the documented JavaScript client, run as the docs print it ---------------------------------------


def docs_client() -> str:
    """The JavaScript block of docs/chat.md's "A front end" section, verbatim."""
    doc = (REPO_ROOT / "docs" / "chat.md").read_text(encoding="utf-8")
    section = doc.split("## A front end", 1)[1]
    match = re.search(r"```js\n(.*?)```", section, re.DOTALL)
    assert match, "docs/chat.md lost its JavaScript client"
    return match.group(1)


HARNESS = """<!doctype html><meta charset="utf-8"><title>docs client</title><body>
<script>%s</script>
<script>
window.texts = [];
window.chat = openChat({ service: "ApprovalChat", key: %s, onChange: ({ runs, approvals }) => {
  window.state = {
    runs: [...runs.values()].map((r) => ({ input: r.input, text: r.text, answer: r.answer, tools: r.tools })),
    approvals: [...approvals.entries()].map(([id, a]) => ({ id, question: a.question, decision: a.decision })),
  };
  const text = window.state.runs.map((r) => r.text).join("|");
  if (text !== window.texts[window.texts.length - 1]) window.texts.push(text);
} });
</script>"""


def test_the_docs_javascript_client_follows_a_run_and_decides_its_approval(bank: Stack, page: Page) -> None:
    stack = bank
    key = f"docs-{uuid.uuid4().hex[:8]}"
    origin = f"http://127.0.0.1:{stack.services[0].port}"
    html = HARNESS % (docs_client(), f'"{key}"')
    page.route(f"{origin}/docs-client.html", lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(f"{origin}/docs-client.html")

    page.evaluate("() => { window.sent = chat.send('Send 100 EUR to Bob'); }")
    page.wait_for_function("() => window.state && window.state.approvals.some((a) => !a.decision)")
    (pending,) = page.evaluate("() => window.state.approvals")
    assert pending["question"] == "Transfer 100 EUR?"
    assert page.evaluate("(id) => chat.decide(id, true, 'Ada').then((r) => r.ok)", pending["id"]) is True
    assert page.evaluate("() => window.sent") == "Done: transferred 100 EUR."

    page.wait_for_function("() => window.state.runs.some((r) => r.answer) && window.state.approvals[0].decision")
    state: dict[str, Any] = page.evaluate("() => window.state")
    (run,) = state["runs"]
    assert (run["input"], run["text"], run["answer"]) == (
        "Send 100 EUR to Bob",
        "Done: transferred 100 EUR.",
        "Done: transferred 100 EUR.",
    )
    assert [(t["kind"], t.get("name"), t.get("output")) for t in run["tools"]] == [
        ("tool_call", "transfer_money", None),
        ("tool_result", None, "transferred 100 EUR"),
    ]
    decision = state["approvals"][0]["decision"]
    assert (decision["approved"], decision["by"], decision["reason"]) == (True, "Ada", "")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", decision["at"])
    assert "Done: transferred" in page.evaluate("() => window.texts").pop()
    history = page.evaluate("() => chat.history()")
    assert history[0] == {"role": "user", "content": "Send 100 EUR to Bob"}
    assert history[-1]["role"] == "assistant"


# -- the tour: an approval on a phone-sized page --------------------------------------------------------


EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u23e9-\u23fa\ufe0f]")


def test_the_tour_chat_asks_for_approval_and_the_phone_sized_page_shows_who_approved_and_when(
    restate_server: RestateServer,
    serve: ServeFactory,
    model_server: ScriptedModelServer,
    browser: Browser,
    tmp_path: Path,
) -> None:
    model_server.reset(load_target(f"{TOUR / 'offline_model.py'}:responder"))
    env = {"DURABLE_AGENTS_INGRESS_URL": restate_server.ingress_url, "WEATHER_OFFLINE": "1"}
    stack = serve(restate_server, f"{TOUR / 'app.py'}:app", model=model_server, env=env)
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        # the page formats times in the browser's locale: pin it, so the test reads the same on every machine
        locale="en-US",
        timezone_id="UTC",
    )
    try:
        page = context.new_page()
        page.goto(page_url(stack, f"key=mail-{uuid.uuid4().hex[:8]}"))
        expect(page.locator("#status")).to_have_text("live")
        page.fill("#message", "Email the poem to alice@example.com")
        page.press("#message", "Enter")

        approval = page.locator(".approval")
        expect(approval).to_contain_text("Send an email to alice@example.com: 'From the durable chat'?")
        expect(page.locator(".tool").first).to_contain_text("send_email(")
        page.fill("#reviewer", "Ada")
        page.screenshot(path=str(tmp_path / "phone-approval.png"))
        _fits_the_screen(page)

        approval.get_by_role("button", name="Approve").click()
        answer = "[offline model] Email to alice@example.com sent (the tour only pretends to send it)."
        expect(page.locator(".bubble.assistant:not(.live)")).to_have_text(answer)
        decision = page.locator(".decision")
        expect(decision).to_contain_text(
            re.compile(r"Approved by Ada at \w+ \d+, \d{4}, \d{1,2}:\d\d:\d\d [AP]M: Send an email to alice@ex")
        )
        expect(approval).to_have_count(0)
        page.screenshot(path=str(tmp_path / "phone-approved.png"), full_page=True)
        _fits_the_screen(page)
        shown = page.inner_text("body")
        assert not EMOJI.search(shown), [unicodedata.name(c, hex(ord(c))) for c in EMOJI.findall(shown)]
        print(f"phone screenshots: {tmp_path}")
    finally:
        context.close()


BOXES = """() => [...document.querySelectorAll("button, textarea, input, select")].map((node) => {
  const box = node.getBoundingClientRect();
  return [box.left, box.right];
})"""


def _fits_the_screen(page: Page) -> None:
    """Nothing wider than the 390 px viewport; every control inside it."""
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    for left, right in page.evaluate(BOXES):
        assert left >= 0 and right <= 390, (left, right)


# -- two workers, the page on a third process: the answer grows -------------------------------------------


RECORD_LIVE_TEXTS = """() => {
  window.liveTexts = [];
  new MutationObserver(() => {
    const live = document.querySelector(".bubble.live");
    const text = live ? live.textContent : null;
    if (text && text !== window.liveTexts[window.liveTexts.length - 1]) window.liveTexts.push(text);
  }).observe(document.getElementById("transcript"), { childList: true, subtree: true, characterData: true });
}"""


def test_with_two_workers_a_page_served_by_another_process_shows_the_answer_growing(
    restate_server: RestateServer, serve: ServeFactory, model_server: ScriptedModelServer, page: Page, tmp_path: Path
) -> None:
    model_server.reset(load_target(f"{TOUR / 'offline_model.py'}:responder"))
    model_server.stream_pace = Pace(delay=0.15, hold_after=4, gate="grow")
    env = {"DURABLE_AGENTS_INGRESS_URL": restate_server.ingress_url, "WEATHER_OFFLINE": "1"}
    stack = serve(restate_server, f"{TOUR / 'app.py'}:app", model=model_server, env=env, workers=2)
    # The page and its SSE reader live in a process Restate never calls: every event it shows was
    # stored by another process, and reaches it through the cross-process wake-ups.
    reader = ServiceProcess(
        f"{TOUR / 'app.py'}:app", env=stack.env, log_path=tmp_path / "page-process.log", workers=1
    ).start()
    try:
        page.goto(f"http://127.0.0.1:{reader.port}/chat/?key=grow-{uuid.uuid4().hex[:8]}")
        expect(page.locator("#status")).to_have_text("live")
        page.evaluate(RECORD_LIVE_TEXTS)
        page.fill("#message", "Make a poem about durable execution.")
        page.press("#message", "Enter")

        live = page.locator(".bubble.live")
        held = "[offline model] (message 1"
        expect(live).to_have_text(re.compile(r"^\[offline model\] \(message 1\s*$"))  # while the model is held
        assert model_server.held("grow") == 1
        model_server.open_gate("grow")
        expect(page.locator(".bubble.assistant:not(.live)")).to_have_text(POEM)

        texts = [t for t in page.evaluate("() => window.liveTexts") if t != "…"]
        partial = [t for t in texts if POEM.startswith(t) and t.strip() != POEM]
        assert partial, texts
        assert all(len(a) < len(b) for a, b in itertools.pairwise(partial)), texts  # it only ever grows
        after_hold = [t for t in partial if len(t.strip()) > len(held)]
        assert len(after_hold) >= 2, f"the rest of the answer arrived in {len(after_hold)} renders: {texts}"
    finally:
        reader.stop()
