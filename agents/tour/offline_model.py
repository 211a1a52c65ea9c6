"""The scripted model that plays every agent of the tour when no ``OPENAI_API_KEY`` is set.

``./dev up tour`` serves it through ``integrations.testing.ScriptedModelServer``. It picks its
part from what a real model would see: the tools offered (``get_weather``, ``human_approval``,
``transfer_to_*``, ``check_fraud``, ``calculate_metrics``, ``book_hotel``) and, for the agents
without tools, their instructions. Each chapter then shows its point: the weather tool is called
for every city in the question (so Denver retries), approvals are requested (so a resolve
command is printed and the run waits), the orthopedic claim is handed to the MedicalSpecialist,
the coordinator calls its remote agents, the booking agent books the hotel and then the flight
(which fails and is rolled back), the manual loop asks for the weather in both cities, and the
chat emails its poem (``send_email``, which waits for an approval) when asked to email someone.
Every text answer starts with ``[offline model]`` so nobody mistakes it for a real one.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

from integrations.testing import ModelRequest, Reply, ToolCall, text, tool_call, tool_calls

__all__ = ["responder"]

PREFIX = "[offline model]"


# -- reading the request ---------------------------------------------------------------------------


def _since_last_user(request: ModelRequest) -> list[dict[str, Any]]:
    items = request.items
    last_user = max((i for i, item in enumerate(items) if item.get("role") == "user"), default=-1)
    return items[last_user + 1 :]


def _calls_made(request: ModelRequest) -> list[str]:
    """Names of the tools this turn has called so far (Responses and Chat Completions shapes)."""
    names: list[str] = []
    for item in _since_last_user(request):
        if item.get("type") == "function_call":
            names.append(str(item.get("name")))
        for call in item.get("tool_calls") or []:
            names.append(str(call.get("function", {}).get("name")))
    return names


def _parameters(request: ModelRequest, tool: str) -> set[str]:
    """The top-level argument names of ``tool`` in the request's tool list."""
    for spec in request.body.get("tools") or []:
        function = spec.get("function", spec)
        if function.get("name") == tool:
            return set((function.get("parameters") or {}).get("properties") or {})
    return set()


def _claim(request: ModelRequest) -> dict[str, Any]:
    """The claim in the user message: the JSON after ``Claim:`` or a claim read from free text."""
    message = request.last_user_text
    start = message.find("{")
    if start >= 0:
        try:
            found, _ = json.JSONDecoder().raw_decode(message[start:])
            if isinstance(found, dict):
                return found
        except ValueError:
            pass
    amount = re.search(r"(\d[\d,]*(?:\.\d+)?)\s*(?:USD|usd|dollars|\$)|\$\s*(\d[\d,]*(?:\.\d+)?)", message)
    value = next((g for g in amount.groups() if g), "0") if amount else "0"
    lowered = message.lower()
    if re.search(r"broken|fractur|bone|leg|arm|knee", lowered):
        category = "orthopedic"
    elif re.search(r"hospital|doctor|clinic|medical|surgery", lowered):
        category = "medical"
    elif re.search(r"\bcar\b|auto|vehicle|collision", lowered):
        category = "auto"
    else:
        category = "other"
    return {
        "date": datetime.date.today().isoformat(),
        "amount": float(value.replace(",", "")),
        "category": category,
        "placeOfService": "hospital" if "hospital" in lowered else "not stated",
        "reason": message.strip().rstrip("."),
    }


def _claim_arguments(claim: dict[str, Any]) -> dict[str, Any]:
    """The claim as the tools' schema spells it (camelCase)."""
    place = claim.get("placeOfService", claim.get("place_of_service", "not stated"))
    return {
        "date": str(claim.get("date", "")),
        "amount": float(claim.get("amount", 0)),
        "category": str(claim.get("category", "")),
        "placeOfService": str(place),
        "reason": str(claim.get("reason", "")),
    }


_MEDICAL = re.compile(r"orthop|medic|hospital|surg|dental|broken|injur|health", re.IGNORECASE)
_AUTO = re.compile(r"\bauto|\bcar\b|vehicle|collision|accident", re.IGNORECASE)


def _is_medical(claim: dict[str, Any]) -> bool:
    return bool(_MEDICAL.search(f"{claim.get('category', '')} {claim.get('reason', '')}"))


# -- the chapters ----------------------------------------------------------------------------------


def _cities(question: str) -> list[str]:
    """``... like in New York and San Francisco?`` -> ``["New York", "San Francisco"]``."""
    match = re.search(r"\b(?:in|for|at)\s+([A-Z][^?.!]*)", question)
    if not match:
        return []
    parts = re.split(r",\s*|\s+and\s+|\s+&\s+", match.group(1))
    return [p.strip() for p in parts if p.strip() and p.strip()[0].isupper()]


def _weather_of(output: str) -> str:
    """A weather tool result (JSON, or the SDK's ``temperature=.. description='..'``) as words."""
    try:
        parsed = json.loads(output)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and "temperature" in parsed:
        return f"{float(parsed['temperature']):g}°C, {parsed.get('description', '')}"
    temperature = re.search(r"temperature=([\d.-]+)", output)
    description = re.search(r"description=(['\"])(.*?)\1", output)
    if temperature and description:
        return f"{float(temperature.group(1)):g}°C, {description.group(2)}"
    return output


def _weather(request: ModelRequest) -> Reply:
    cities = _cities(request.last_user_text)
    if not cities:
        return text(f"{PREFIX} Which city? Ask me e.g. 'What is the weather like in San Francisco?'")
    outputs = request.tool_outputs()
    missing = cities[len(outputs) :]
    if missing:
        nested = "req" in _parameters(request, "get_weather")
        calls = [ToolCall("get_weather", {"req": {"city": c}} if nested else {"city": c}) for c in missing]
        if request.body.get("parallel_tool_calls") is False:
            calls = calls[:1]  # one call per turn, as the agent asked
        return tool_calls(*calls)
    report = "; ".join(f"{city}: {_weather_of(out)}" for city, out in zip(cities, outputs, strict=False))
    return text(f"{PREFIX} The weather right now: {report}.")


def _claim_approval(request: ModelRequest) -> Reply:
    claim = _claim(request)
    outputs = request.tool_outputs()
    if not outputs:
        if float(claim.get("amount", 0)) > 1000:
            return tool_call("human_approval", {"claim": _claim_arguments(claim)})
        return text(f"{PREFIX} The claim of {claim['amount']:g} is below 1000: approved without review.")
    verdict = outputs[-1].strip().strip('"').lower()
    if verdict in ("true", "approved"):
        return text(f"{PREFIX} A human reviewer approved the claim: it will be reimbursed.")
    if verdict in ("false", "rejected"):
        return text(f"{PREFIX} A human reviewer rejected the claim: it will not be reimbursed.")
    if "timed out" in verdict:
        return text(
            f"{PREFIX} No reviewer answered in time, so I evaluated the claim myself: "
            f"a {claim.get('category', 'medical')} claim of {float(claim.get('amount', 0)):g} looks plausible, "
            "approved pending a later audit."
        )
    return text(f"{PREFIX} The reviewer answered {outputs[-1]!r}.")


def _route(request: ModelRequest, tools: set[str]) -> Reply:
    claim = _claim(request)
    text_of_claim = f"{claim.get('category', '')} {claim.get('reason', '')}"
    if _MEDICAL.search(text_of_claim) and "transfer_to_medicalspecialist" in tools:
        return tool_call("transfer_to_medicalspecialist")
    if _AUTO.search(text_of_claim) and "transfer_to_autospecialist" in tools:
        return tool_call("transfer_to_autospecialist")
    return text(f"{PREFIX} No specialist handles {claim.get('category', 'this')} claims; please contact support.")


def _specialist(request: ModelRequest, kind: str, limit: float) -> Reply:
    claim = _claim(request)
    amount = float(claim.get("amount", 0))
    decision = "approved" if amount <= limit else f"denied: above the {limit:,.0f} limit"
    return text(f"{PREFIX} {kind}: the {claim.get('category', '')} claim of {amount:g} is {decision}.")


def _coordinate(request: ModelRequest, tools: set[str]) -> Reply:
    called = set(_calls_made(request))
    for tool in ("check_eligibility", "check_fraud"):
        if tool in tools and tool not in called:
            return tool_call(tool, {"claim": _claim_arguments(_claim(request))})
    return _decide(" ".join(request.tool_outputs()))


def _decide(analyses: str) -> Reply:
    lowered = analyses.lower()
    eligible = "eligible" in lowered and "not eligible" not in lowered
    reasonable = "not reasonable" not in lowered
    low_risk = "low risk" in lowered
    verdict = "approve" if eligible and reasonable and low_risk else "reject"
    return text(f"{PREFIX} Decision: {verdict} the claim (analyses: {analyses.strip()}).")


def _metrics(request: ModelRequest) -> Reply:
    outputs = request.tool_outputs()
    if not outputs:
        return tool_call("calculate_metrics", {"claim": _claim_arguments(_claim(request))})
    return _decide(outputs[-1])


def _book(request: ModelRequest) -> Reply:
    message = request.last_user_text
    destination = re.search(r"\bto ([A-Z][\w]*(?: [A-Z][\w]*)*)", message)
    dates = re.search(r"\b([A-Z][a-z]+ \d{1,2}(?:\s*-\s*\d{1,2})?)\b", message)
    origin = re.search(r"[Ff]lying from ([A-Z][\w]*(?: [A-Z][\w]*)*)", message)
    guests = re.search(r"(\d+) (?:guest|person|people|traveller|passenger)", message)
    city = destination.group(1) if destination else "the destination"
    when = dates.group(1) if dates else "the requested dates"
    count = int(guests.group(1)) if guests else 1
    called = _calls_made(request)
    if "book_hotel" not in called:
        return tool_call("book_hotel", {"booking": {"name": f"Downtown hotel, {city}", "dates": when, "guests": count}})
    if "book_flight" not in called:
        departure = origin.group(1) if origin else "home"
        flight = {"origin": departure, "destination": city, "date": when, "passengers": count}
        return tool_call("book_flight", {"booking": flight})
    return text(f"{PREFIX} Your trip is booked: " + " | ".join(request.tool_outputs()))


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _email(request: ModelRequest, last: str, address: str) -> Reply:
    """Asked to email someone: one ``send_email`` call, then report its result."""
    outputs = request.tool_outputs()
    if outputs:
        return text(f"{PREFIX} {outputs[-1]}")
    answers = [ModelRequest._text_of(i.get("content")) for i in request.items if i.get("role") == "assistant"]
    body = answers[-1] if answers else last
    return tool_call("send_email", {"to": address, "subject": "From the durable chat", "body": body})


def _chat(request: ModelRequest) -> Reply:
    said = request.user_texts()
    last = said[-1] if said else ""
    address = _EMAIL.search(last)
    if address and "send_email" in request.tool_names() and re.search(r"\b(e-?mail|send)\b", last, re.IGNORECASE):
        return _email(request, last, address.group(0))
    if "poem" in last.lower():
        answer = "A poem: Steps are journaled, one by one; / a crash mid-way? Replay: it's done."
    elif "shorten" in last.lower() or "shorter" in last.lower():
        answer = "Shorter: Journaled steps; crashes replay, nothing lost."
    else:
        answer = f"You said: {last!r}."
    memory = f" Earlier you said: {said[-2]!r}." if len(said) > 1 else ""
    return text(f"{PREFIX} (message {len(said)} of this chat) {answer}{memory}")


# Agents without tools are told apart by their instructions.
def _amount(request: ModelRequest) -> float:
    return float(_claim(request).get("amount", 0))


_BY_INSTRUCTIONS: list[tuple[str, Any]] = [
    ("eligible for reimbursement", lambda r: text("eligible" if _is_medical(_claim(r)) else "not eligible")),
    ("cost of the claim is reasonable", lambda r: text("reasonable" if _amount(r) <= 10_000 else "not reasonable")),
    ("claim is fraudulent", lambda r: text("low risk" if _amount(r) <= 10_000 else "medium risk")),
    ("claim decision engine", lambda r: _decide(r.last_user_text.partition("analyses:")[2] or r.last_user_text)),
    ("Review medical claims", lambda r: _specialist(r, "MedicalSpecialist", 50_000)),
    ("Assess auto claims", lambda r: _specialist(r, "AutoSpecialist", 25_000)),
    ("helpful assistant", _chat),
]


def responder(request: ModelRequest) -> Reply:
    tools = set(request.tool_names())
    if "get_weather" in tools:
        return _weather(request)
    if "human_approval" in tools:
        return _claim_approval(request)
    if any(name.startswith("transfer_to_") for name in tools):
        return _route(request, tools)
    if tools & {"check_fraud", "check_eligibility"}:
        return _coordinate(request, tools)
    if "calculate_metrics" in tools:
        return _metrics(request)
    if "book_hotel" in tools or "book_flight" in tools:
        return _book(request)
    for marker, reply in _BY_INSTRUCTIONS:
        if marker in request.system:
            return reply(request)
    return text(f"{PREFIX} I only know the tour's agents; this request has no script.")
