"""Every pattern's default service, built here and only here, served as one Restate app.

``hypercorn patterns.app:app`` or ``python -m integrations.runtime.serve patterns.app:app --port 9080``,
then register ``http://localhost:9080`` with the Restate server. The defaults are the ones each
pattern module declares (``PATTERN = Pattern(defaults=...)``), found by ``pattern_modules``: a new
pattern module is served without touching this file. Each default is also a name of this module,
with the docs' name (``patterns.app.tool_router``).
"""

from __future__ import annotations

from typing import Any

import restate

from integrations.inputs import guard_inputs

from ._pattern import Default, pattern_modules

DEFAULTS: dict[str, Default] = {}
"""Every default instance by its name, pattern by pattern (modules in name order)."""
for _module in pattern_modules():
    for _name, _default in _module.PATTERN.defaults().items():
        if _name in DEFAULTS:
            raise ValueError(f"two patterns declare a default named {_name!r} (the second: {_module.__name__})")
        DEFAULTS[_name] = _default


def _services(default: Default) -> tuple[restate.Service | restate.VirtualObject, ...]:
    if isinstance(default, restate.Service | restate.VirtualObject):
        return (default,)
    return tuple(default)


DEFAULT_SERVICES: tuple[restate.Service | restate.VirtualObject, ...] = tuple(
    service for default in DEFAULTS.values() for service in _services(default)
)
"""Every default instance, in the order ``app`` serves them."""

app = restate.app(services=guard_inputs(DEFAULT_SERVICES))

__all__ = ["DEFAULTS", "DEFAULT_SERVICES", "app", *DEFAULTS]


def __getattr__(name: str) -> Any:
    """``patterns.app.tool_router`` and the other defaults, by the name their pattern gave them."""
    try:
        return DEFAULTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
