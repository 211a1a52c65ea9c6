"""The chat page (``/chat/``) in a real headless browser, talking to an ADK chat built with
``integrations.google_adk.chat_object``: live streamed text, tool calls and results, the history after
the turn, and an ADK tool confirmation decided with the page's Approve button.

Debian's Chromium driven by Playwright (no browser download; ``CHROMIUM=/path`` for another binary),
the page served by the app itself (``with_events``) on the service port.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from integrations.runtime import RestateServer, Stack
from integrations.testing import ModelRequest, Pace, Reply, ScriptedModelServer, text, tool_call

APP = "tests/apps/adk_chat_app.py:app"
WEATHER = "Paris is sunny today with 21.5 degrees and a light breeze"
expect.set_options(timeout=30_000)  # a loaded machine runs a restate-server, the service and a browser


def responder(request: ModelRequest) -> Reply:
    """Weather questions call get_weather, money questions transfer_money; then the answer."""
    outputs = request.tool_outputs()
    asked = request.last_user_text
    if "EUR" in asked:
        if not outputs:
            return tool_call("transfer_money", {"amount": 100}, call_id="call_wire")
        return text("Done: the money is on its way.")
    if not outputs:
        return tool_call("get_weather", {"city": "Paris"}, call_id="call_paris")
    return text(WEATHER, pace=Pace(hold_after=4, gate="page"))  # stops after its 4th word until the gate opens


@pytest.fixture(scope="module")
def model() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer(responder) as server:
        yield server


@pytest.fixture(scope="module")
def stack(
    restate_server: RestateServer, model: ScriptedModelServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    tmp: Path = tmp_path_factory.mktemp("adk-page")
    (tmp / "effects.log").touch()
    env: dict[str, str | None] = {
        "OPENAI_API_KEY": "sk-test-no-real-provider",
        "EFFECTS_FILE": str(tmp / "effects.log"),
        "GATE_DIR": str(tmp),
        "DURABLE_AGENTS_INGRESS_URL": restate_server.ingress_url,
        **model.client_env(),
    }
    started = Stack(restate_server, APP, env=env, log_dir=tmp / "logs").start()
    try:
        yield started
    finally:
        started.stop()


def test_an_adk_chat_streams_its_answer_shows_its_tools_and_takes_an_approval_from_the_page(
    stack: Stack, model: ScriptedModelServer, page: Page
) -> None:
    key = f"adk-{uuid.uuid4().hex[:8]}"
    page.goto(f"http://127.0.0.1:{stack.services[0].port}/chat/?service=AdkAssistant&key={key}")
    expect(page.locator("#status")).to_have_text("live")
    page.fill("#message", "What is the weather in Paris?")
    page.press("#message", "Enter")

    live = page.locator(".bubble.live")
    expect(live).to_have_attribute("data-state", "streaming")
    expect(live).to_have_text(re.compile(r"^Paris is sunny today\s*$"))  # the first words, while...
    assert model.held("page") == 1  # ...the model is still writing the rest
    expect(page.locator(".tool").first).to_contain_text('get_weather({"city": "Paris"})')
    expect(page.locator(".tool.result")).to_contain_text('"sky": "sunny"')
    expect(page.locator(".bubble.user")).to_have_text("What is the weather in Paris?")

    model.open_gate("page")
    expect(page.locator(".bubble.assistant:not(.live)")).to_have_text(WEATHER)  # the history, once stored
    expect(live).to_have_count(0)
    expect(page.locator(".tool.result")).to_have_count(1)  # once: the turn is history now

    page.fill("#message", "Send 100 EUR to Bob")
    page.press("#message", "Enter")
    approval = page.locator(".approval")
    expect(approval).to_contain_text('transfer_money({"amount": 100})')
    approval.get_by_role("button", name="Approve").click()
    expect(page.locator(".bubble.assistant:not(.live)")).to_have_text([WEATHER, "Done: the money is on its way."])
    expect(approval).to_have_count(0)
    expect(page.locator(".decision")).to_contain_text(
        re.compile(
            r'Approved by chat page at \w+ \d+, \d{4}, \d{1,2}:\d\d:\d\d [AP]M: transfer_money\(\{"amount": 100\}\)'
        )
    )
    expect(page.locator(".tool.result").last).to_contain_text("transferred 100 EUR")
