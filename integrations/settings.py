"""Every environment variable the toolkit reads, in one place, under one prefix: ``DURABLE_AGENTS_``.

Each setting is read when it is used (never at import time), so a test or a served app that sets
one sees it at once. A name from before the prefix is still accepted, with a ``DeprecationWarning``
naming the new one. ``docs/settings.md`` lists them with their defaults (``python -m
integrations.settings`` prints the table; a test keeps the two equal).

Variables owned by other libraries (``OPENAI_API_KEY``, ``OTEL_*``, ``RESTATE_*`` of the server) are
theirs and not listed here.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "SETTINGS",
    "Setting",
    "always_replay",
    "max_attempts_outside_restate",
    "settings_table",
]

PREFIX = "DURABLE_AGENTS_"

DEFAULT_MAX_ATTEMPTS = 3
"""Attempts per model call unless told otherwise (every attempt costs money): the one default of
``StepRetry``, the patterns' model steps and ``llm_call`` outside Restate."""


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, its default (as text), what it does, and its old names."""

    name: str
    default: str
    doc: str
    old_names: tuple[str, ...] = ()

    def raw(self) -> str | None:
        """The variable's value now: the new name first, then an old one (with a deprecation warning)."""
        value = os.environ.get(self.name)
        if value is not None:
            return value
        for old in self.old_names:
            value = os.environ.get(old)
            if value is not None:
                warnings.warn(f"{old} is deprecated: set {self.name} instead", DeprecationWarning, stacklevel=3)
                return value
        return None

    def text(self) -> str:
        """The value, or the default when unset or blank."""
        value = self.raw()
        return value.strip() if value is not None and value.strip() else self.default

    def integer(self) -> int:
        """A whole-number setting; a value that is not one names the variable."""
        value = self.text()
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"{self.name} must be a whole number, got {value!r}") from None

    def flag(self) -> bool:
        """A yes/no setting: ``1``, ``true``, ``yes``, ``on`` (any case) are yes."""
        return self.text().lower() in ("1", "true", "yes", "on")


ALWAYS_REPLAY = Setting(
    f"{PREFIX}ALWAYS_REPLAY",
    "0",
    "The test kit's `restate_server` fixture suspends and replays the handler at every await "
    "(as `pytest --always-replay`).",
    ("RESTATE_ALWAYS_REPLAY",),
)

MAX_ATTEMPTS = Setting(
    f"{PREFIX}MAX_ATTEMPTS",
    str(DEFAULT_MAX_ATTEMPTS),
    "Attempts of `llm_call` outside Restate (tenacity) when `max_attempts=` is not given; inside a "
    "handler the step's `StepRetry` decides.",
    ("LLM_MAX_ATTEMPTS",),
)

SETTINGS: tuple[Setting, ...] = (MAX_ATTEMPTS, ALWAYS_REPLAY)
"""Every setting, in the order the docs list them."""


def max_attempts_outside_restate() -> int:
    """Attempts of a model call made outside Restate."""
    return MAX_ATTEMPTS.integer()


def always_replay() -> bool:
    """Whether tests run on an always-replay restate-server."""
    return ALWAYS_REPLAY.flag()


def settings_table() -> str:
    """:data:`SETTINGS` as the Markdown table docs/settings.md shows."""
    lines = ["| Variable | Default | What it does | Old name (deprecated) |", "|---|---|---|---|"]
    for setting in SETTINGS:
        old = ", ".join(f"`{name}`" for name in setting.old_names) or "-"
        default = f"`{setting.default}`" if setting.default else "(unset)"
        lines.append(f"| `{setting.name}` | {default} | {setting.doc} | {old} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # regenerate the table in docs/settings.md
    print(settings_table(), end="")
