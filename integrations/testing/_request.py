"""The view of one recorded model request that scripts and tests read."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .._content import text_parts

__all__ = ["ModelRequest"]


@dataclass
class ModelRequest:
    """One recorded request: which API, the JSON body, the headers, and when it arrived."""

    api: str  # "responses" or "chat"
    body: dict[str, Any]
    headers: dict[str, str]
    received_at: float = field(default_factory=time.monotonic)

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def items(self) -> list[dict[str, Any]]:
        """The conversation, normalised to a list of dicts (``input`` or ``messages``)."""
        if self.api == "chat":
            return list(self.body.get("messages", []))
        raw = self.body.get("input", [])
        if isinstance(raw, str):
            return [{"role": "user", "content": raw}]
        return list(raw)

    @staticmethod
    def _text_of(content: Any) -> str:
        return " ".join(text_parts(content))

    @property
    def system(self) -> str:
        if self.api == "responses":
            return str(self.body.get("instructions") or "")
        return " ".join(self._text_of(m.get("content")) for m in self.items if m.get("role") == "system")

    def user_texts(self) -> list[str]:
        return [self._text_of(i.get("content")) for i in self.items if i.get("role") == "user"]

    @property
    def last_user_text(self) -> str:
        texts = self.user_texts()
        return texts[-1] if texts else ""

    def tool_outputs(self) -> list[str]:
        """Tool results sent back to the model after the last user message."""
        outputs: list[str] = []
        for item in self.items:
            if item.get("role") == "user":
                outputs = []
            elif item.get("type") == "function_call_output":
                outputs.append(self._text_of(item.get("output")))
            elif item.get("role") == "tool":
                outputs.append(self._text_of(item.get("content")))
        return outputs

    def tool_names(self) -> list[str]:
        names = []
        for tool in self.body.get("tools") or []:
            names.append(tool.get("name") or tool.get("function", {}).get("name"))
        return [n for n in names if n]
