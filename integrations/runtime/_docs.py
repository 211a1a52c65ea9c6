"""``durable-agents docs [TOPIC]``: the guides of ``docs/``, shipped in the wheel.

An installed user has no checkout, yet banners and messages name ``docs/patterns.md`` and the
others. The wheel carries them as ``integrations/runtime/guides/*.md`` (in the repository a link to
``docs/``), and this command lists them, prints one, or says where it is on disk (``--path``).
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

__all__ = ["DocsError", "guide", "guides"]


class DocsError(LookupError):
    """An unknown topic: the message lists the ones there are."""


def _folder() -> Traversable:
    return resources.files("integrations.runtime").joinpath("guides")


def guides() -> dict[str, str]:
    """Topic -> the guide's title (its first heading), for every shipped guide."""
    found = {}
    for entry in sorted(_folder().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".md"):
            lines = entry.read_text(encoding="utf-8").splitlines()
            title = next((line.lstrip("# ").strip() for line in lines if line.startswith("#")), "")
            found[entry.name.removesuffix(".md")] = title
    return found


def guide(topic: str) -> Traversable:
    """The guide ``topic`` (``patterns`` or ``docs/patterns.md`` both work)."""
    name = topic.rsplit("/", 1)[-1].removesuffix(".md")
    entry = _folder().joinpath(f"{name}.md")
    if not entry.is_file():
        raise DocsError(f"no guide {topic!r}; there are: {', '.join(guides())}")
    return entry
