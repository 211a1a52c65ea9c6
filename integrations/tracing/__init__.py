"""Replay-safe OpenTelemetry tracing for agents running on Restate.

```python
from integrations.tracing import enable_tracing

enable_tracing()  # or run the service with DURABLE_AGENTS_OTEL=1
```

The OpenAI Agents SDK's spans (workflow, agent, turn, model call, tool, handoff) and Google ADK's
runs under ``DurablePlugin`` (invocation, agent, model call, tool) are exported as OpenTelemetry
spans through the standard OTLP/HTTP exporter and ``OTEL_*`` settings, exactly once each
even though Restate re-runs the handler on every attempt, parented under the trace of the Restate
invocation and tagged with the invocation id and journal step. Needs the ``otel`` extra
(``pip install 'durable-agents-toolkit[otel]'``); :func:`journal_step` does not.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import settings
from .._extras import load_lazily
from ._steps import current_step, journal_step

if TYPE_CHECKING:
    from ._processor import RestateTracingProcessor
    from ._setup import enable_tracing, exporter_from_env
    from ._spans import INVOCATION_ID, JOURNAL_STEP, RESUMED, ReplaySafeSpans

ENV_SWITCH = settings.OTEL.name
"""Set to ``1`` to have ``integrations.runtime.serve`` (and so ``./dev up``) switch tracing on."""

_LAZY = {
    "RestateTracingProcessor": "._processor",
    "INVOCATION_ID": "._spans",
    "JOURNAL_STEP": "._spans",
    "RESUMED": "._spans",
    "ReplaySafeSpans": "._spans",
    "enable_tracing": "._setup",
    "exporter_from_env": "._setup",
}


def __getattr__(name: str) -> Any:
    """Load the OpenTelemetry-backed names on first use, so importing this package needs no extra."""
    try:
        return load_lazily(__name__, name, _LAZY)
    except ImportError as err:
        raise ImportError(
            f"integrations.tracing.{name} needs OpenTelemetry: pip install 'durable-agents-toolkit[otel]' ({err})"
        ) from err


def active_spans() -> ReplaySafeSpans | None:
    """The replay-safe span engine :func:`enable_tracing` installed in this process, else ``None``.

    What an adapter without a tracing interface of its SDK's own (the ADK plugin) reports its spans
    to. Asking costs nothing and loads no OpenTelemetry when tracing is off.
    """
    setup = sys.modules.get(f"{__name__}._setup")
    enabled: Callable[[], ReplaySafeSpans | None] | None = getattr(setup, "enabled", None)
    return enabled() if enabled is not None else None


def enable_tracing_from_env() -> ReplaySafeSpans | None:
    """Call :func:`enable_tracing` if ``DURABLE_AGENTS_OTEL`` is ``1``/``true``/``yes``/``on``; else do nothing."""
    if not settings.OTEL.flag():
        return None
    enable: Callable[[], ReplaySafeSpans] = __getattr__("enable_tracing")  # loads the otel extra
    return enable()


__all__ = [
    "ENV_SWITCH",
    "INVOCATION_ID",
    "JOURNAL_STEP",
    "RESUMED",
    "ReplaySafeSpans",
    "RestateTracingProcessor",
    "active_spans",
    "current_step",
    "enable_tracing",
    "enable_tracing_from_env",
    "exporter_from_env",
    "journal_step",
]
