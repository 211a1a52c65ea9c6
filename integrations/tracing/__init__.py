"""Replay-safe OpenTelemetry tracing for agents running on Restate.

```python
from integrations.tracing import enable_tracing

enable_tracing()  # or run the service with DURABLE_AGENTS_OTEL=1
```

The OpenAI Agents SDK's spans (workflow, agent, turn, model call, tool, handoff) are exported as
OpenTelemetry spans through the standard OTLP/HTTP exporter and ``OTEL_*`` settings, exactly once each
even though Restate re-runs the handler on every attempt, parented under the trace of the Restate
invocation and tagged with the invocation id and journal step. Needs the ``otel`` extra
(``pip install 'durable-agents-toolkit[otel]'``); :func:`journal_step` does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import settings
from ._steps import current_step, journal_step

if TYPE_CHECKING:
    from ._processor import INVOCATION_ID, JOURNAL_STEP, RESUMED, RestateTracingProcessor
    from ._setup import enable_tracing, exporter_from_env

ENV_SWITCH = settings.OTEL.name
"""Set to ``1`` to have ``integrations.runtime.serve`` (and so ``./dev up``) switch tracing on."""

_LAZY = {
    "RestateTracingProcessor": "._processor",
    "INVOCATION_ID": "._processor",
    "JOURNAL_STEP": "._processor",
    "RESUMED": "._processor",
    "enable_tracing": "._setup",
    "exporter_from_env": "._setup",
}


def __getattr__(name: str) -> Any:
    """Load the OpenTelemetry-backed names on first use, so importing this package needs no extra."""
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    try:
        module = importlib.import_module(module_name, __name__)
    except ImportError as err:
        raise ImportError(
            f"integrations.tracing.{name} needs OpenTelemetry: pip install 'durable-agents-toolkit[otel]' ({err})"
        ) from err
    return getattr(module, name)


def enable_tracing_from_env() -> RestateTracingProcessor | None:
    """Call :func:`enable_tracing` if ``DURABLE_AGENTS_OTEL`` is ``1``/``true``/``yes``/``on``; else do nothing."""
    if not settings.OTEL.flag():
        return None
    enable: Callable[[], RestateTracingProcessor] = __getattr__("enable_tracing")  # loads the otel extra
    return enable()


__all__ = [
    "ENV_SWITCH",
    "INVOCATION_ID",
    "JOURNAL_STEP",
    "RESUMED",
    "RestateTracingProcessor",
    "current_step",
    "enable_tracing",
    "enable_tracing_from_env",
    "exporter_from_env",
    "journal_step",
]
