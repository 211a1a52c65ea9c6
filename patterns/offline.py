"""A scripted stand-in model that plays every default pattern, for demos without an API key.

``./dev up patterns`` (``integrations.runtime.launch``) serves it through
``integrations.testing.ScriptedModelServer`` when ``OPENAI_API_KEY`` is not set. The replies are
canned but shaped like a real model's (tool calls, structured output, text), so the durable
machinery around them (journaled calls, parallel tools, rollbacks, awakeables) runs for real.
Every text answer starts with ``[offline model]`` so nobody mistakes it for a real one.
"""

from __future__ import annotations

import json
import re
from typing import Any

from integrations.testing import ModelRequest, Reply, text, tool_call, tool_calls

__all__ = ["responder"]

PREFIX = "[offline model]"

_NUMBER_LINE = re.compile(r"(?:\band\s+)?([A-Za-z][A-Za-z ]*?)\s+(?:rose to|grew(?: by)?|is now at|is now|fell to|reached|at)\s+([\d.]+%?)")
_METRIC = re.compile(r"^\s*(.+?):\s*([\d.]+)(%?)\s*$")
_CITY = re.compile(r"\b([A-Z][a-z]+(?:\s[A-Z][a-z]+)*)\b")
_NOT_CITIES = {"What", "The", "How", "Is", "In", "And", "Weather", "I", "Use"}


def _structured(request: ModelRequest) -> Reply | None:
    fmt = request.body.get("response_format")
    if not isinstance(fmt, dict):
        return None
    schema = (fmt.get("json_schema") or {}).get("schema") or {}
    fields = set((schema.get("properties") or {}).keys())
    if "verdict" in fields:
        return text(json.dumps({"verdict": "PASS", "feedback": ""}))
    if "tasks" in fields:
        tasks = [
            {"task_type": "sentiment", "instruction": "Classify the sentiment of the text."},
            {"task_type": "key_points", "instruction": "List the key points of the text."},
            {"task_type": "summary", "instruction": "Summarise the text in one sentence."},
        ]
        return text(json.dumps({"tasks": tasks}))
    return text(json.dumps({name: "" for name in fields}))


def _tool_messages(request: ModelRequest) -> list[dict[str, Any]]:
    return [item for item in request.items if item.get("role") == "tool"]


def _cities(question: str) -> list[str]:
    found = [c for c in _CITY.findall(question) if c.split()[0] not in _NOT_CITIES]
    return found or ["Berlin"]


def _with_tools(request: ModelRequest) -> Reply:
    names = set(request.tool_names())
    outputs = _tool_messages(request)
    question = request.last_user_text
    if "get_human_review" in names:
        if re.search(r"btc|crypto|giveaway|guaranteed", question, re.IGNORECASE):
            return tool_call("get_human_review")
        return text(f"{PREFIX} approved: nothing in this content violates the policy.")
    if "BillingAgent" in names:
        if re.search(r"charg|bill|refund|invoice|plan|pay", question, re.IGNORECASE):
            return tool_call("BillingAgent")
        if re.search(r"log ?in|password|account|secur|access", question, re.IGNORECASE):
            return tool_call("AccountAgent")
        return tool_call("ProductAgent")
    if "book_hotel" in names:
        steps = [("book_hotel", {"city": "Paris", "nights": 2}), ("book_flight", {"origin": "Berlin", "destination": "Paris"})]
        car = "convertible" if "convertible" in question.lower() else "compact"
        steps.append(("book_car", {"city": "Paris", "car_type": car}))
        if len(outputs) < len(steps):
            return tool_call(*steps[len(outputs)])
        return text(f"{PREFIX} Booked: " + "; ".join(o["content"] for o in outputs))
    if "query_user_database" in names:
        if not outputs:
            return tool_calls(("query_user_database", {}), ("fetch_service_status", {}))
        return text(f"{PREFIX} I checked your account and the service status: " + " | ".join(o["content"] for o in outputs))
    if "get_weather" in names:
        if not outputs:
            return tool_calls(*[("get_weather", {"city": city}) for city in _cities(question)])
        return text(f"{PREFIX} Current weather: " + " | ".join(o["content"] for o in outputs))
    return text(f"{PREFIX} I have no script for the tools {sorted(names)}.")


def _chain_step(prompt: str) -> Reply | None:
    body = prompt.split("\n\n", 1)[-1]
    if prompt.startswith("Extract"):
        pairs = [f"{name.strip().capitalize()}: {value}" for name, value in _NUMBER_LINE.findall(body)]
        return text("\n".join(pairs) or "Value: 0")
    if prompt.startswith("Sort"):
        lines = [line for line in body.splitlines() if _METRIC.match(line)]
        return text("\n".join(sorted(lines, key=lambda l: -float(_METRIC.match(l).group(2)))))  # type: ignore[union-attr]
    if prompt.startswith("Format"):
        rows = [_METRIC.match(line) for line in body.splitlines()]
        table = ["| Metric | Value |", "| --- | --- |"]
        table += [f"| {m.group(1)} | {m.group(2)}{m.group(3)} |" for m in rows if m]
        return text("\n".join(table))
    return None


def responder(request: ModelRequest) -> Reply:
    """The offline model's reply to one request (see the module docstring)."""
    structured = _structured(request)
    if structured is not None:
        return structured
    if request.tool_names():
        return _with_tools(request)
    chained = _chain_step(request.last_user_text)
    if chained is not None:
        return chained
    role = request.system.split(".")[0] if request.system else "assistant"
    return text(f"{PREFIX} ({role}) answering: {request.last_user_text[:80]}")
