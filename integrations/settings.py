"""Every environment variable the toolkit reads, in one place, under one prefix: ``DURABLE_AGENTS_``.

Each setting is read when it is used (never at import time), so a test or a served app that sets
one sees it at once. A name from before the prefix is still accepted, with a ``DeprecationWarning``
naming the new one. ``docs/settings.md`` lists them with their defaults (``python -m
integrations.settings`` prints the table; a test keeps the two equal).

Variables owned by other libraries (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``OTEL_*``,
``LITELLM_*``, ``RESTATE_*`` of the server, ``XDG_CACHE_HOME``) are theirs and not listed here; nor is
``_DURABLE_AGENTS_SERVE_RUN``, which the serve command sets for its own worker processes.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass

from ._warn import warn_once

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "SETTINGS",
    "Setting",
    "always_replay",
    "max_attempts_outside_restate",
    "settings_table",
]

PREFIX = "DURABLE_AGENTS_"

_log = logging.getLogger(__name__)

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
                message = f"${old} is deprecated: set ${self.name} instead"
                warnings.warn(message, DeprecationWarning, stacklevel=3)
                warn_once(_log, message)  # DeprecationWarnings are hidden outside tests; a served app logs it
                return value
        return None

    def text(self) -> str:
        """The value, or the default when unset or blank."""
        value = self.raw()
        return value.strip() if value is not None and value.strip() else self.default

    def integer(self, *, positive: bool = False, unit: str = "a whole number") -> int:
        """A whole-number setting; a value that is not one is a ``ValueError`` naming the variable."""
        value = self.text()
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"${self.name} must be {unit}, got {value!r}") from None
        if positive and number <= 0:
            raise ValueError(f"${self.name} must be positive, got {number}")
        return number

    def flag(self) -> bool:
        """A yes/no setting: ``1``, ``true``, ``yes``, ``on`` (any case) are yes."""
        return self.text().lower() in ("1", "true", "yes", "on")

    def off(self) -> bool:
        """A setting that is on unless ``0``, ``false``, ``no`` or ``off`` (any case)."""
        return self.text().lower() in ("0", "false", "no", "off")


MAX_STEP_BYTES = Setting(
    f"{PREFIX}MAX_STEP_BYTES",
    "32505856",
    "The largest step output (bytes) the toolkit journals; a larger one fails its step at once "
    "(31 MiB: restate-server's message limit less 1 MiB). Raise it only together with the server's.",
    ("AGENT_MAX_STEP_BYTES",),
)
MAX_INPUT_BYTES = Setting(
    f"{PREFIX}MAX_INPUT_BYTES",
    "1048576",
    "The largest request body `guard_inputs` accepts (bytes); a larger one is refused with 413.",
    ("AGENT_MAX_INPUT_BYTES",),
)
GUARD_INPUTS = Setting(
    f"{PREFIX}GUARD_INPUTS",
    "1",
    "`0` (or `false`/`no`/`off`): the serve command leaves apps' inputs unguarded.",
)
MAX_ATTEMPTS = Setting(
    f"{PREFIX}MAX_ATTEMPTS",
    str(DEFAULT_MAX_ATTEMPTS),
    "Attempts of `llm_call` outside Restate (tenacity) when `max_attempts=` is not given; inside a "
    "handler the step's `StepRetry` decides.",
    ("LLM_MAX_ATTEMPTS",),
)
LLM_MODEL = Setting(
    f"{PREFIX}LLM_MODEL",
    "openai/gpt-4o",
    "The LiteLLM model `llm_call` uses when given none (`provider/model`).",
    ("LLM_MODEL",),
)
INGRESS_URL = Setting(
    f"{PREFIX}INGRESS_URL",
    "http://localhost:8080",
    "The Restate ingress as a user reaches it, for the commands a waiting agent prints "
    "(`durable-agents up` sets it for the apps it serves).",
    ("RESTATE_INGRESS_URL",),
)
OTEL = Setting(
    f"{PREFIX}OTEL",
    "0",
    "`1`: the serve command (and so `durable-agents up`) switches OpenTelemetry tracing on.",
)
RESTATE_SERVER_BIN = Setting(
    f"{PREFIX}RESTATE_SERVER_BIN",
    "",
    "The restate-server binary to run, before PATH, the checkout's node_modules and the per-user cache.",
    ("RESTATE_SERVER_BIN",),
)
HINT_DIR = Setting(
    f"{PREFIX}HINT_DIR",
    "",
    "Where the event streams' wake-up sockets live (default: a folder per ingress URL under the temp "
    "directory); `off`: no hints across processes, readers poll.",
)
ALWAYS_REPLAY = Setting(
    f"{PREFIX}ALWAYS_REPLAY",
    "0",
    "The test kit's `restate_server` fixture suspends and replays the handler at every await "
    "(as `pytest --always-replay`).",
    ("RESTATE_ALWAYS_REPLAY",),
)

SETTINGS: tuple[Setting, ...] = (
    MAX_STEP_BYTES,
    MAX_INPUT_BYTES,
    GUARD_INPUTS,
    MAX_ATTEMPTS,
    LLM_MODEL,
    INGRESS_URL,
    OTEL,
    RESTATE_SERVER_BIN,
    HINT_DIR,
    ALWAYS_REPLAY,
)
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
