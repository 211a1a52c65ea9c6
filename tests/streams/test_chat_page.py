"""The chat page in a real headless browser: Debian's Chromium driven by Playwright.

Browser builds cannot be downloaded here, so Playwright launches the system Chromium
(``apt-get install chromium``; another binary with ``CHROMIUM=/path``). The page is served by the
app itself (``with_events``) on the service port, as ``./dev up tour`` serves it.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from integrations.runtime import RestateServer, Stack
from integrations.runtime.serve import load_target
from integrations.testing import ModelRequest, Pace, Reply, ScriptedModelServer, text, tool_call

from ..conftest import REPO_ROOT

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOUR = REPO_ROOT / "agents" / "tour"
expect.set_options(timeout=30_000)  # a loaded machine runs a restate-server, services and a browser
POEM = (
    "[offline model] (message 1 of this chat) A poem: Steps are journaled, one by one; "
    "/ a crash mid-way? Replay: it's done."
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set CHROMIUM=/path/to/chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    yield opened
    context.close()


def page_url(stack: Stack, query: str) -> str:
    return f"http://127.0.0.1:{stack.services[0].port}/chat/?{query}"


def test_the_tour_chat_page_streams_the_answer_in_and_shows_the_history_after_a_reload(
    restate_server: RestateServer, serve, model_server: ScriptedModelServer, page: Page
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


@pytest.mark.parametrize(
    ("button", "outcome"), [("Approve", "transferred 100 EUR"), ("Reject", "the transfer was declined")]
)
def test_a_pending_approval_gets_buttons_and_the_answer_follows_the_click(
    restate_server: RestateServer, serve, model_server: ScriptedModelServer, page: Page, button: str, outcome: str
) -> None:
    model_server.reset(_banker)
    stack = serve(
        restate_server,
        "tests/streams/streams_app.py:app",
        model=model_server,
        env={"DURABLE_AGENTS_INGRESS_URL": restate_server.ingress_url},
    )
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
    expect(page.locator(".tool.result")).to_have_text([f"↳ {outcome}"])  # once: the run is history now
