"""A generic offline model for any app: it needs no script of its own.

``offline_model`` answers an OpenAI-compatible request (Responses or Chat Completions) the way a
cooperative model would, from the request alone:

1. the agent offers function tools and none has answered since the user's last message: it calls
   each of them once, in one turn, with arguments drawn from the tool's JSON schema (the
   ``default``, the first ``enum`` value or an ``example`` where the schema has one, else a sample
   of the declared type);
2. tool results came back: it answers with them;
3. otherwise it echoes the user's message.

Every answer starts with ``[offline model]``, so nobody mistakes it for a real one. When the agent
asks for structured output (a JSON schema), the answer is an instance drawn from that schema.
Handoff tools (``transfer_to_...``) are not called: a model picks one handoff, not all of them.
"""

from __future__ import annotations

import json
from typing import Any

from ._replies import Reply, text, tool_calls
from ._request import ModelRequest

__all__ = ["OFFLINE_LABEL", "offline_model", "sample_arguments"]

OFFLINE_LABEL = "[offline model]"

_SAMPLES: dict[str, Any] = {"string": "sample", "integer": 1, "number": 1.0, "boolean": True, "null": None}


def _function_tools(request: ModelRequest) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for tool in request.body.get("tools") or []:
        if tool.get("type") != "function":
            continue
        spec = tool.get("function", tool)  # Chat Completions nests it; the Responses API does not
        name = spec.get("name")
        if name and not name.startswith("transfer_to_"):
            found.append((name, spec.get("parameters") or {}))
    return found


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    reference = schema.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/"):
        target: Any = root
        for part in reference[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return target if isinstance(target, dict) else {}
    return schema


def _sample(schema: dict[str, Any], root: dict[str, Any], depth: int = 0) -> Any:
    schema = _resolve(schema, root)
    if "default" in schema:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    if schema.get("examples"):
        return schema["examples"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [option for option in schema.get(key) or [] if _resolve(option, root).get("type") != "null"]
        if options:
            return _sample(options[0], root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        if depth > 6:
            return {}
        properties = schema.get("properties") or {}
        required = schema.get("required", list(properties))
        return {name: _sample(properties[name], root, depth + 1) for name in required if name in properties}
    if kind == "array":
        items = schema.get("items")
        return [_sample(items, root, depth + 1)] if isinstance(items, dict) and depth <= 6 else []
    return _SAMPLES.get(str(kind), "sample")


def sample_arguments(parameters: dict[str, Any]) -> dict[str, Any]:
    """Arguments a tool with the JSON schema ``parameters`` accepts, drawn from that schema."""
    value = _sample(parameters, parameters)
    return value if isinstance(value, dict) else {}


def _output_schema(request: ModelRequest) -> dict[str, Any] | None:
    formats = [(request.body.get("text") or {}).get("format"), (request.body.get("response_format") or {})]
    for fmt in formats:
        if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
            continue
        schema = fmt.get("schema") or (fmt.get("json_schema") or {}).get("schema")
        if isinstance(schema, dict):
            return schema
    return None


def offline_model(request: ModelRequest) -> Reply:
    """Answer ``request`` as described in the module docstring (a ``Responder`` for
    :class:`~integrations.testing.ScriptedModelServer`)."""
    outputs = request.tool_outputs()
    tools = _function_tools(request)
    if tools and not outputs:
        return tool_calls(*((name, sample_arguments(parameters)) for name, parameters in tools))
    schema = _output_schema(request)
    if schema is not None:
        return text(json.dumps(_sample(schema, schema)))
    if outputs:
        return text(f"{OFFLINE_LABEL} the tools answered: " + "; ".join(outputs))
    said = request.last_user_text or "(nothing)"
    return text(f"{OFFLINE_LABEL} you said: {said}. Set OPENAI_API_KEY to talk to a real model.")
