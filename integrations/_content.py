"""The text of a chat message's ``content``, in the shapes OpenAI-compatible APIs send it."""

from __future__ import annotations

from typing import Any


def text_parts(content: Any) -> list[str]:
    """The string itself, or the ``text`` of each part of a list of parts (chat and Responses
    messages alike); anything else has no text. Callers join the parts as their reader wants them:
    the streamed answer as it was written, the test kit's request view with spaces between."""
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [str(part.get("text", "")) for part in content if isinstance(part, dict)]
    return []
