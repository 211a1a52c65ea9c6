"""The scripted model that plays every agent of the ADK tour when no ``OPENAI_API_KEY`` is set.

``./dev up adk_tour`` serves it through ``integrations.testing.ScriptedModelServer``; ADK's LiteLLM
client talks to it like to any OpenAI-compatible endpoint, so every model call, tool call and
transfer still flows through the adapter and restate-server: only the answers are canned. It tells
the agents apart by their instructions, and shows each chapter's point: the weather tool is called
for each city asked about (so Denver fails and retries), claims above 1000 ask for approval, the
intake agent transfers to the medical specialist, the coordinator calls both remote agents in one
turn. Every text answer starts with ``[offline model]``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from integrations.testing import ModelRequest, Reply, ToolCall, text, tool_call, tool_calls

__all__ = ["responder"]

PREFIX = "[offline model]"


def _outputs(request: ModelRequest) -> list[Any]:
    """This turn's tool results, decoded; ADK wraps a non-dict result as ``{"result": ...}``."""
    decoded: list[Any] = []
    for output in request.tool_outputs():
        try:
            value = json.loads(output)
        except ValueError:
            value = output
        decoded.append(value.get("result", value) if isinstance(value, dict) else value)
    return decoded


def _claim(request: ModelRequest) -> dict[str, Any]:
    """The claim the user sent (``Claim: {...}``), or one read from a sentence. (ADK hands a
    sub-agent the other agents' turns as user messages too: the newest one holding a claim counts.)"""
    for said in reversed(request.user_texts()):
        if said.startswith(("Claim:", "Analyze the claim:", "Decide about claim:")):
            found, _ = json.JSONDecoder().raw_decode(said[said.index("{") :])
            return dict(found)
    message = request.last_user_text
    amount = re.search(r"(\d[\d,.]*)\s*(?:USD|EUR|\$)", message)
    medical = re.search(r"hospital|broken|doctor|surgery", message, re.IGNORECASE)
    return {
        "date": "2024-10-01",
        "amount": float(amount.group(1).replace(",", "")) if amount else 0.0,
        "category": "orthopedic" if medical else "other",
        "placeOfService": "General Hospital" if medical else "not stated",
        "reason": message.strip().rstrip("."),
    }


def _amount(request: ModelRequest) -> float:
    return float(_claim(request).get("amount", 0))


def _weather(request: ModelRequest) -> Reply:
    match = re.search(r"\b(?:in|for)\s+([A-Z][^?.!]*)", request.last_user_text)
    cities = [c.strip() for c in re.split(r",|\band\b", match.group(1)) if c.strip()] if match else []
    outputs = _outputs(request)
    if not cities:
        return text(f"{PREFIX} Which city? Ask e.g. 'What is the weather like in San Francisco?'")
    if not outputs:
        return tool_calls(*(ToolCall("get_weather", {"city": city}) for city in cities))
    report = "; ".join(
        f"{city}: {w['temperature']:g}°C, {w['description']}" if isinstance(w, dict) else f"{city}: {w}"
        for city, w in zip(cities, outputs, strict=False)
    )
    return text(f"{PREFIX} The weather right now: {report}.")


def _approval(request: ModelRequest) -> Reply:
    outputs = _outputs(request)
    if not outputs:
        if _amount(request) > 1000:
            return tool_call("human_approval", {"claim": _claim(request)})
        return text(f"{PREFIX} The claim of {_amount(request):g} is below 1000: approved without review.")
    verdict = json.dumps(outputs[-1]).lower()
    if "timed out" in verdict:
        return text(f"{PREFIX} No reviewer answered in time, so I evaluated the claim myself: approved.")
    if "approved" in verdict:
        return text(f"{PREFIX} A human reviewer approved the claim: it will be reimbursed.")
    return text(f"{PREFIX} The claim was not approved ({outputs[-1]}): it will not be reimbursed.")


def _decide(analyses: str) -> Reply:
    said = analyses.lower()
    ok = "not eligible" not in said and "eligible" in said and "not reasonable" not in said and "low risk" in said
    return text(f"{PREFIX} Decision: {'approve' if ok else 'reject'} the claim ({analyses}).")


def _coordinate(request: ModelRequest) -> Reply:
    outputs = _outputs(request)
    if not outputs:  # both remote agents in one turn: they run concurrently
        claim = {"claim": _claim(request)}
        return tool_calls(ToolCall("check_eligibility", claim), ToolCall("check_fraud", claim))
    return _decide(", ".join(str(o) for o in outputs))


def _metrics(request: ModelRequest) -> Reply:
    outputs = _outputs(request)
    if not outputs:
        return tool_call("calculate_metrics", {"claim": _claim(request)})
    return _decide(", ".join(str(o) for o in outputs[-1]) if isinstance(outputs[-1], list) else str(outputs[-1]))


def _specialist(name: str, limit: float) -> Callable[[ModelRequest], Reply]:
    def answer(request: ModelRequest) -> Reply:
        claim, amount = _claim(request), _amount(request)
        verdict = "approved" if amount <= limit else f"denied: above the {limit:,.0f} limit"
        return text(f"{PREFIX} {name}: the {claim.get('category', '')} claim of {amount:g} is {verdict}.")

    return answer


def _route(request: ModelRequest) -> Reply:
    car = re.search(r"\bcar\b|auto|vehicle|collision", json.dumps(_claim(request)), re.IGNORECASE)
    return tool_call("transfer_to_agent", {"agent_name": "car_specialist" if car else "medical_specialist"})


def _book(request: ModelRequest) -> Reply:
    """The hotel first, then the flight, one call a turn, read from the trip request."""
    asked = request.user_texts()[0] if request.user_texts() else ""
    city = re.search(r"\bto ([A-Z]\w*(?: [A-Z]\w*)*)", asked)
    dates = re.search(r"\b([A-Z][a-z]+ \d{1,2}(?:-\d{1,2})?)", asked)
    origin = re.search(r"from ([A-Z]{3})", asked)
    where, when = city.group(1) if city else "the destination", dates.group(1) if dates else "the dates asked"
    done = len(request.tool_outputs())
    if done == 0:
        return tool_call("book_hotel", {"name": f"Downtown {where}", "dates": when, "guests": 1})
    if done == 1:
        flight = {"origin": origin.group(1) if origin else "home", "destination": where, "date": when, "passengers": 1}
        return tool_call("book_flight", flight)
    return text(f"{PREFIX} Your trip is booked: " + "; ".join(str(o) for o in _outputs(request)))


_CHAT = {
    "poem": "A poem: Steps are journaled, one by one; / a crash mid-way? Replay: it's done.",
    "shorten": "Shorter: Journaled steps; crashes replay, nothing lost.",
}


def _chat(request: ModelRequest) -> Reply:
    """Answers by keyword, counting the user's messages: a remembered session shows in the count."""
    said = request.user_texts() or [""]
    answer = next((a for word, a in _CHAT.items() if word in said[-1].lower()), f"You said: {said[-1]!r}.")
    return text(f"{PREFIX} (message {len(said)} of this chat) {answer}")


# Each agent is recognised by a phrase of its instruction, most specific first.
_AGENTS: list[tuple[str, Callable[[ModelRequest], Reply]]] = [
    ("Review medical claims", _specialist("medical_specialist", 50_000)),
    ("Assess car claims", _specialist("car_specialist", 25_000)),
    ("Route insurance claims", _route),
    ("provides weather updates", _weather),
    ("insurance claim evaluation agent", _approval),
    ("claim approval engine", _coordinate),
    ("claim analysis agent", _metrics),
    ("claim decision engine", lambda r: _decide(r.last_user_text.partition("Assessments:")[2].strip())),
    (
        "eligible if it's a medical claim",
        lambda r: text("eligible" if "orthopedic" in r.last_user_text else "not eligible"),
    ),
    ("reasonable or not reasonable", lambda r: text("reasonable" if _amount(r) <= 10_000 else "not reasonable")),
    ("low risk, medium risk, or high risk", lambda r: text("low risk" if _amount(r) <= 10_000 else "medium risk")),
    ("Book a complete travel package", _book),
    ("helpful assistant", _chat),
]


def responder(request: ModelRequest) -> Reply:
    for marker, answer in _AGENTS:
        if marker in request.system:
            return answer(request)
    return text(f"{PREFIX} I only know the ADK tour's agents; this request has no script.")
