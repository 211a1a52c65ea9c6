"""Fail early, and say what to install, when an adapter's optional dependency is missing."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from importlib.metadata import PackageNotFoundError, distribution
from typing import Any

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


def load_lazily(package: str, name: str, modules: Mapping[str, str]) -> Any:
    """``name`` from its submodule ``modules[name]`` (relative to ``package``), imported on first use.

    What a package's ``__getattr__`` returns for the names that need an extra, so that importing
    the package itself needs none; any other name is an ``AttributeError``, as Python expects.
    """
    module = modules.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return getattr(import_module(module, package), name)
