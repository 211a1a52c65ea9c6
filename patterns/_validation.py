"""Checks the builders run once, when a service is built, so a bad configuration fails at import
time with a clear message instead of on the first request."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Protocol, TypeVar

__all__ = ["Named", "unique_by_name"]


class Named(Protocol):
    """Anything with a ``name``: tools, specialists, analyses."""

    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=Named)


def unique_by_name(items: Iterable[N], what: str, *, required: bool = False) -> tuple[N, ...]:
    """``items`` as a tuple, after checking that no two share a name (the model, the journal and
    the results address them by name) and, if ``required``, that there is at least one.

    ``what`` names the kind of item in the error, e.g. ``"tool"`` or ``"specialist"``.
    """
    chosen = tuple(items)
    if required and not chosen:
        raise ValueError(f"at least one {what} is required")
    counts = Counter(item.name for item in chosen)
    duplicates = sorted(name for name, count in counts.items() if count > 1)
    if duplicates:
        raise ValueError(f"{what} names must be unique, got duplicates: {duplicates}")
    return chosen
