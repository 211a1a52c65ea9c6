"""Fail early, and say what to install, when an adapter's optional dependency is missing."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, distribution

DISTRIBUTION = "durable-agents-toolkit"


def require_extra(module: str, requirement: str, extra: str) -> None:
    """Raise ImportError naming ``pip install 'durable-agents-toolkit[extra]'`` if ``requirement`` is absent.

    The check looks at installed distributions, not at ``import``: in a project whose top-level
    ``agents/`` folder is on ``sys.path``, ``import agents`` would quietly find that folder instead.
    """
    try:
        distribution(requirement)
    except PackageNotFoundError:
        raise ImportError(
            f"{module} needs the '{requirement}' package, which is not installed: "
            f"pip install '{DISTRIBUTION}[{extra}]'",
            name=module,
        ) from None
