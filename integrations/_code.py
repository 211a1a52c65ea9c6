"""What a function's code refers to: both adapters classify tools by the names their bodies use."""

from __future__ import annotations

import inspect
from types import CodeType


def code_names(code: CodeType) -> set[str]:
    """The global and attribute names ``code`` and the functions nested in it use."""
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= code_names(const)
    return names
