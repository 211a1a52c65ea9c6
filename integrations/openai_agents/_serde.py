"""Journal encoding of the SDK's ``ModelResponse``.

Items are dumped with ``by_alias=True, exclude_unset=True`` so a replayed response is equal to the
original, fields-set included: the SDK re-sends output items to the model with ``exclude_unset``,
so a lossy round-trip would change the next request after a replay.

Decoding is lenient, because a journal outlives the code that wrote it: an invocation suspended
for days may resume on a newer (or older) openai-agents/openai release. A payload that today's
classes reject is not allowed to fail the replay forever:

- a field today's SDK does not know is kept (openai's types allow extra fields) and re-sent as
  journaled, with a warning unless it is one the SDK adds itself (``provider_data``); top-level
  and usage fields it does not know are dropped;
- an item that fails validation (a field today's SDK requires is missing, a value it no longer
  accepts) is rebuilt with openai's own lenient constructor (the one it parses API responses
  with): what fits is typed, what does not is kept as journaled, a missing field reads ``None``
  and stays unset, so it is not re-sent either;
- a ``ModelResponse`` field the SDK removed is dropped, one it added gets its default.

Each kind of mismatch is logged once per process as a warning. An output item of a *type* today's
SDK does not know cannot be replayed at all: that fails the invocation with a ``TerminalError``
that says so, instead of retrying forever.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import typing
from functools import cache, partial
from typing import Any, get_args, get_origin

from agents.items import ModelResponse, TResponseOutputItem
from agents.usage import Usage
from pydantic import BaseModel, TypeAdapter, ValidationError
from restate import TerminalError
from restate.serde import Serde

from .._warn import warn_lenient

logger = logging.getLogger(__name__)
_lenient = partial(warn_lenient, logger, "model response")
"""Log, once per message, that a journaled model response was decoded leniently."""

_ITEM: TypeAdapter[TResponseOutputItem] = TypeAdapter(TResponseOutputItem)
_USAGE: TypeAdapter[Usage] = TypeAdapter(Usage)
_SDK_EXTRAS = frozenset({"provider_data"})
"""Extra fields the Agents SDK itself puts on items (its Chat Completions and LiteLLM converters):
expected in a journal, not a sign that the SDK changed."""


def dump_response(response: ModelResponse) -> dict[str, Any]:
    return {
        "output": [item.model_dump(mode="json", by_alias=True, exclude_unset=True) for item in response.output],
        "usage": _USAGE.dump_python(response.usage, mode="json"),
        "response_id": response.response_id,
        "request_id": response.request_id,
        "raw_usage": response.raw_usage,
    }


def load_response(data: dict[str, Any]) -> ModelResponse:
    """Decode a journaled response; leniently if the SDK changed since it was written (module doc)."""
    if not isinstance(data.get("output"), list):
        raise TerminalError("journaled model response has no output list: it cannot be replayed", 500)
    known = {field.name for field in dataclasses.fields(ModelResponse)}
    unknown = sorted(set(data) - known)
    if unknown:
        warn_lenient(
            logger, "model response", f"ModelResponse fields {unknown} are not known to this SDK and were dropped"
        )
    values: dict[str, Any] = {key: value for key, value in data.items() if key in known}
    values["output"] = [_load_item(item, index) for index, item in enumerate(data["output"])]
    values["usage"] = _load_usage(data.get("usage"))
    for field in dataclasses.fields(ModelResponse):
        required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        if required and field.name not in values:
            values[field.name] = None  # a field the SDK added since: absent from older journals
    return ModelResponse(**values)


class ModelResponseSerde(Serde[ModelResponse]):
    """Restate serde for ``ModelResponse``: every output item type, usage and ids survive a replay."""

    def serialize(self, obj: ModelResponse | None) -> bytes:
        if obj is None:
            return b"null"
        return json.dumps(dump_response(obj), separators=(",", ":")).encode()

    def deserialize(self, buf: bytes) -> ModelResponse | None:
        data = json.loads(buf)
        return None if data is None else load_response(data)


# --- lenient decoding ------------------------------------------------------------------------------


def _load_usage(data: Any) -> Usage:
    if data is None:
        return Usage()
    try:
        usage = _USAGE.validate_python(data)
    except ValidationError as exc:
        warn_lenient(
            logger,
            "model response",
            f"usage does not validate ({exc.error_count()} errors); invalid counts read as zero",
        )
        known = {field.name for field in dataclasses.fields(Usage)}
        valid = {}
        for key, value in data.items() if isinstance(data, dict) else ():
            try:
                _USAGE.validate_python({key: value})
            except ValidationError:
                continue
            if key in known:
                valid[key] = value
        return _USAGE.validate_python(valid)
    unknown = sorted(set(data) - {field.name for field in dataclasses.fields(Usage)})
    if unknown:
        _lenient(f"usage fields {unknown} are not known to this SDK and were dropped")
    return usage


def _load_item(data: Any, index: int) -> TResponseOutputItem:
    try:
        item = _ITEM.validate_python(data)
    except ValidationError as exc:
        kind = data.get("type") if isinstance(data, dict) else None
        cls = _item_classes().get(kind) if isinstance(kind, str) else None
        if cls is None:
            raise TerminalError(
                f"journaled model response: output[{index}] has type {kind!r}, which this version of the "
                "OpenAI Agents SDK does not know; the invocation cannot be replayed with it",
                500,
            ) from exc
        warn_lenient(
            logger,
            "model response",
            f"{kind} item does not validate with this SDK ({_problems(cls, data)}); rebuilt as journaled",
        )
        # openai's own lenient constructor, the one it parses API responses with: nested objects are
        # typed where they fit and kept as journaled where not; absent fields read None and stay
        # unset, so the SDK re-sends the item as journaled
        return typing.cast(TResponseOutputItem, cls.model_construct(**data))
    extras = _extra_paths(item, str(data.get("type")))
    if extras:
        _lenient(f"fields {extras} are not known to this SDK; kept as journaled")
    return item


def _problems(cls: type[BaseModel], data: dict[str, Any]) -> str:
    try:
        cls.model_validate(data)
    except ValidationError as exc:
        problems = sorted({f"{'.'.join(map(str, error['loc'])) or 'item'}: {error['type']}" for error in exc.errors()})
        return "; ".join(problems[:4]) + (f"; and {len(problems) - 4} more" if len(problems) > 4 else "")
    return "no error against its own class"


@cache
def _item_classes() -> dict[str, type[BaseModel]]:
    """Output item ``type`` tag -> the class this SDK decodes it into."""
    union = TResponseOutputItem
    if get_origin(union) is typing.Annotated:
        union = get_args(union)[0]
    classes: dict[str, type[BaseModel]] = {}
    for cls in get_args(union):
        field = cls.model_fields.get("type")
        if field is not None and get_origin(field.annotation) is typing.Literal:
            classes.update(dict.fromkeys(get_args(field.annotation), cls))
    return classes


def _extra_paths(value: Any, path: str) -> list[str]:
    """Where a validated object carries fields its class does not declare."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        found += [f"{path}.{key}" for key in (value.__pydantic_extra__ or {}) if key not in _SDK_EXTRAS]
        for name in type(value).model_fields:
            found += _extra_paths(getattr(value, name, None), f"{path}.{name}")
    elif isinstance(value, list):
        for element in value:
            found += _extra_paths(element, f"{path}[]")
    return found
