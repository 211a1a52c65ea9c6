"""What a journaled tool changed in the user's run context, journaled with its result.

A tool may change the run context it is given (``wrapper.context.orders.append(item)``): plain SDK
code reads that change in later tools, instructions and after the run. A journaled tool's body does
not run on a replay, so the change would be lost and the replayed run would see another context.
Each attribute of the context is therefore read as JSON before and after the body; the attributes
that changed go into the step's journal entry, and a replay sets them again, in place, on the
context object the handler passed in.

Attributes that are not JSON data (a client, a connection, a lock) are not journaled: they are the
context's equipment, not its state. ``None``, the Restate context and primitive contexts (which a
tool cannot change in place) have no state here.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import restate
from pydantic import BaseModel, TypeAdapter
from pydantic_core import PydanticSerializationError, to_jsonable_python

__all__ = ["context_state", "changed_state", "restore_state"]

State = dict[str, Any]


def _attributes(context: Any) -> list[str] | None:
    if context is None or isinstance(context, restate.Context | str | bytes | int | float | bool | tuple):
        return None
    if isinstance(context, dict):
        return [key for key in context if isinstance(key, str)]
    if isinstance(context, BaseModel):
        return list(type(context).model_fields)
    if dataclasses.is_dataclass(context):
        return [field.name for field in dataclasses.fields(context)]
    names = getattr(context, "__dict__", None)
    if names is None:
        return None
    return [name for name in names if not name.startswith("_")]


def _read(context: Any, name: str) -> Any:
    return context[name] if isinstance(context, dict) else getattr(context, name)


def context_state(context: Any) -> State | None:
    """Each JSON-serialisable attribute of ``context``, as JSON; ``None`` when it has no state."""
    names = _attributes(context)
    if names is None:
        return None
    state: State = {}
    for name in names:
        try:
            state[name] = to_jsonable_python(_read(context, name))
        except (PydanticSerializationError, TypeError, ValueError):  # equipment, not state
            continue
    return state


def changed_state(before: State | None, after: State | None) -> State:
    """The attributes whose JSON differs (or that appeared) between ``before`` and ``after``."""
    if after is None:
        return {}
    before = before or {}
    return {name: value for name, value in after.items() if name not in before or before[name] != value}


def _annotation(context: Any, name: str) -> Any:
    if isinstance(context, dict):
        return None
    try:
        return typing.get_type_hints(type(context)).get(name)
    except Exception:  # unresolvable string annotations: fall back to the current value's type
        return None


def restore_state(context: Any, changes: State) -> None:
    """Set the journaled ``changes`` on ``context`` in place, as the tool's body had left them.

    Each value is validated against the attribute's annotation (else the type of its current
    value), so a ``list[Order]`` comes back as orders, not dicts.
    """
    for name, data in changes.items():
        annotation = _annotation(context, name)
        if annotation is None:
            current = _read(context, name) if _has(context, name) else None
            annotation = type(current) if current is not None and not isinstance(current, list | dict) else Any
        value = TypeAdapter(annotation).validate_python(data)
        if isinstance(context, dict):
            context[name] = value
        else:
            setattr(context, name, value)


def _has(context: Any, name: str) -> bool:
    return name in context if isinstance(context, dict) else hasattr(context, name)
