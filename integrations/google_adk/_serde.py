"""Journal encoding of ADK's ``LlmResponse``: exact on the same ADK, lenient across upgrades.

A model step journals the list of complete (non-partial) responses the model yielded for one call,
each dumped with ``mode="json", by_alias=True, exclude_unset=True``: a replay rebuilds responses
equal to the originals, with the same fields set (ADK re-sends the model's content in later
requests, so a lossy round trip would change them after a replay). Bytes (inline images) are
base64, as google-genai's own JSON is.

``LlmResponse`` and every google-genai type forbid unknown fields. A journal outlives the code
that wrote it (an invocation suspended for days may resume on a newer or older ADK), so decoding is
lenient: a field today's classes do not know, or a value they no longer accept, is dropped (every
``LlmResponse`` field is optional), with a warning logged once per kind of mismatch, and the rest
of the response is replayed. A payload that is not a list of objects cannot be replayed at all and
fails with a ``TerminalError`` that says so, instead of being retried forever.
"""

from __future__ import annotations

import json
import logging
from typing import Any, TypeVar

from google.adk.models.llm_response import LlmResponse
from pydantic import BaseModel, ValidationError
from restate import TerminalError
from restate.serde import Serde

__all__ = ["LlmResponsesSerde", "dump_response", "load_lenient", "load_response"]

M = TypeVar("M", bound=BaseModel)

logger = logging.getLogger(__name__)

_MAX_REPAIRS = 64
"""Fields a lenient decode may drop from one response before giving up."""

_warned: set[str] = set()


def dump_response(response: LlmResponse) -> dict[str, Any]:
    """The journal form of one response (see the module docstring)."""
    return response.model_dump(mode="json", by_alias=True, exclude_unset=True)


def load_response(data: Any) -> LlmResponse:
    """Decode one journaled response; leniently if ADK changed since it was written."""
    return load_lenient(LlmResponse, data, "journaled model response")


def load_lenient(cls: type[M], data: Any, what: str) -> M:
    """``cls.model_validate(data)``; if that fails, drop what does not fit (module docstring)."""
    if not isinstance(data, dict):
        raise TerminalError(f"{what} is not an object ({type(data).__name__}): cannot read it", 500)
    try:
        return cls.model_validate(data)
    except ValidationError:
        pass
    repaired = json.loads(json.dumps(data))  # a private copy to drop fields from
    dropped: list[str] = []
    for _ in range(_MAX_REPAIRS):
        try:
            response = cls.model_validate(repaired)
        except ValidationError as exc:
            paths = [tuple(error["loc"]) for error in exc.errors()]
            removed = [path for path in paths if _drop(repaired, path)]
            if not removed:
                raise TerminalError(
                    f"{what} does not validate with this ADK version and cannot be repaired: {exc}",
                    500,
                ) from exc
            dropped.extend(".".join(map(str, path)) for path in removed)
            continue
        _warn_once(f"{what}: fields {sorted(set(dropped))} do not fit this ADK version and were dropped")
        return response
    raise TerminalError(f"{what} needs too many repairs to fit this ADK version", 500)


def _drop(data: Any, path: tuple[Any, ...]) -> bool:
    """Remove the deepest part of ``path`` that exists in ``data`` (a union's member names in a
    validation error's location are not keys of the data: the walk stops before them)."""
    parent: Any = None
    key: Any = None
    node = data
    for part in path:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            parent, key, node = node, part, node[part]
        else:
            break
    if parent is None:
        return False
    if isinstance(parent, dict):
        del parent[key]
    else:
        parent.pop(key)
    return True


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        logger.warning("decoded leniently: %s", message)


class LlmResponsesSerde(Serde[list[LlmResponse]]):
    """Restate serde for one model step: the complete responses of one ``generate_content_async``."""

    def serialize(self, obj: list[LlmResponse] | None) -> bytes:
        if obj is None:
            return b"null"
        return json.dumps([dump_response(response) for response in obj], separators=(",", ":")).encode()

    def deserialize(self, buf: bytes) -> list[LlmResponse] | None:
        data = json.loads(buf)
        if data is None:
            return None
        if not isinstance(data, list):
            raise TerminalError("journaled model step is not a list of responses: cannot replay it", 500)
        return [load_response(item) for item in data]
