"""What a pattern module declares, in one place: its default services and its offline script.

Each pattern module ends with ``PATTERN = Pattern(defaults=..., offline_script=...)``.
``patterns.app`` and ``patterns.offline`` find every module that declares one, so a new pattern is
one new module: nothing else to register.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType

import restate

from ._offline import OfflineScript

__all__ = ["Default", "Pattern", "pattern_modules"]

Default = restate.Service | restate.VirtualObject | Sequence[restate.Service | restate.VirtualObject]
"""One default instance: a service or object, or a group of them (the remote specialists)."""

_NOT_PATTERNS = frozenset({"app", "offline"})


@dataclass(frozen=True)
class Pattern:
    """A pattern's defaults and its stand-in model.

    ``defaults`` builds the documented default instances, by the name ``patterns.app`` gives them
    (``{"tool_router": tool_router_service()}``); it is called once, by ``patterns.app``.
    ``offline_script`` answers the requests of those defaults without a model (``patterns.offline``).
    ``catch_all`` marks a script that takes requests no other script recognised (the chat takes any
    plain conversation): it is asked after the others.
    """

    defaults: Callable[[], Mapping[str, Default]]
    offline_script: OfflineScript
    catch_all: bool = False


def pattern_modules() -> list[ModuleType]:
    """Every module of the ``patterns`` package that declares a ``PATTERN``, by module name."""
    import patterns

    found = []
    for info in sorted(pkgutil.iter_modules(patterns.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name in _NOT_PATTERNS:
            continue
        module = importlib.import_module(f"patterns.{info.name}")
        if not isinstance(getattr(module, "PATTERN", None), Pattern):
            raise TypeError(f"patterns.{info.name} declares no PATTERN = Pattern(...): see patterns/_pattern.py")
        found.append(module)
    return found
