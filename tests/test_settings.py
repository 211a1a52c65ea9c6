"""The settings module: one prefix, old names accepted with a warning, read per call, documented."""

from __future__ import annotations

import logging

import pytest

from integrations import settings
from integrations._journal import DEFAULT_MAX_STEP_BYTES, max_step_bytes
from integrations.awakeables import ingress_url
from integrations.inputs import DEFAULT_MAX_INPUT_BYTES, max_input_bytes
from integrations.litellm import default_model
from integrations.retry import DEFAULT_MAX_ATTEMPTS, StepRetry

from .conftest import REPO_ROOT


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in settings.SETTINGS:
        for name in (setting.name, *setting.old_names):
            monkeypatch.delenv(name, raising=False)


def test_every_setting_has_the_one_prefix_and_a_documented_default() -> None:
    assert all(s.name.startswith("DURABLE_AGENTS_") for s in settings.SETTINGS)
    assert len({s.name for s in settings.SETTINGS}) == len(settings.SETTINGS)
    assert int(settings.MAX_STEP_BYTES.default) == DEFAULT_MAX_STEP_BYTES == max_step_bytes()
    assert int(settings.MAX_INPUT_BYTES.default) == DEFAULT_MAX_INPUT_BYTES == max_input_bytes()
    assert int(settings.MAX_ATTEMPTS.default) == DEFAULT_MAX_ATTEMPTS == StepRetry().max_attempts == 3
    assert default_model() == "openai/gpt-4o" and ingress_url() == "http://localhost:8080"


def test_read_per_call_and_the_new_name_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DURABLE_AGENTS_LLM_MODEL", "anthropic/claude")
    assert default_model() == "anthropic/claude"
    monkeypatch.setenv("LLM_MODEL", "openai/old")
    assert default_model() == "anthropic/claude"
    monkeypatch.setenv("DURABLE_AGENTS_MAX_INPUT_BYTES", "2048")
    assert max_input_bytes() == 2048


def test_an_old_name_still_works_with_a_deprecation_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AGENT_MAX_STEP_BYTES", "4096")
    caplog.set_level(logging.WARNING)
    with pytest.warns(
        DeprecationWarning, match=r"\$AGENT_MAX_STEP_BYTES is deprecated: set \$DURABLE_AGENTS_MAX_STEP_BYTES"
    ):
        assert max_step_bytes() == 4096
    assert any("AGENT_MAX_STEP_BYTES is deprecated" in r.getMessage() for r in caplog.records)


def test_a_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DURABLE_AGENTS_MAX_STEP_BYTES", "lots")
    with pytest.raises(ValueError, match=r"\$DURABLE_AGENTS_MAX_STEP_BYTES must be a number of bytes, got 'lots'"):
        max_step_bytes()
    monkeypatch.setenv("DURABLE_AGENTS_MAX_STEP_BYTES", "0")
    with pytest.raises(ValueError, match="must be positive"):
        max_step_bytes()


def test_docs_show_the_settings_table() -> None:
    """docs/settings.md carries the table generated from SETTINGS (``python -m integrations.settings``)."""
    doc = (REPO_ROOT / "docs" / "settings.md").read_text()
    begin, end = "<!-- settings:begin -->\n", "<!-- settings:end -->"
    assert begin in doc and end in doc, "docs/settings.md lost its markers"
    shown = doc.split(begin, 1)[1].split(end, 1)[0]
    assert shown == settings.settings_table(), "docs/settings.md is stale: paste `python -m integrations.settings`"


def test_no_module_reads_the_environment_but_the_settings_module() -> None:
    """Grep the package: toolkit variables are read through integrations.settings only."""
    readers = []
    for path in sorted((REPO_ROOT / "integrations").rglob("*.py")) + sorted((REPO_ROOT / "patterns").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if ("os.environ.get(" in line or "getenv(" in line) and "DURABLE_AGENTS_" in line:
                readers.append(f"{path.relative_to(REPO_ROOT)}:{number}")
            old_name = any(f'"{old}"' in line for s in settings.SETTINGS for old in s.old_names)
            if old_name and path.name != "settings.py":
                readers.append(f"{path.relative_to(REPO_ROOT)}:{number}")
    assert readers == []
