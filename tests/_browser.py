"""Debian's Chromium driven by Playwright, for the chat page tests: no browser download
(``apt-get install chromium``; another binary with ``CHROMIUM=/path``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

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


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium for the block (a module-scoped ``browser`` fixture holds one)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set CHROMIUM=/path/to/chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@contextmanager
def opened_page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh context, in the en-US locale and UTC (the chat page formats times in its locale)."""
    context = browser.new_context(locale="en-US", timezone_id="UTC")
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    yield opened
    context.close()
