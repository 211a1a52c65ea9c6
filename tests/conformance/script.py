"""The scripted model every program talks to: a pure function of the request.

A reply depends only on the agent's tag (``[program/agent]`` at the start of its instructions) and on
what the conversation holds (how many tool results came back, and which), never on how often it was
asked: the plain run, the durable run and a run resumed after a kill all get the same answers for the
same conversation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from integrations.testing import ModelRequest, Reply, ToolCall, text, tool_call, tool_calls

_TAG = re.compile(r"^\[([a-z_/]+)\]")


def tag_of(request: ModelRequest) -> str:
    found = _TAG.match(request.system)
    return found.group(1) if found else "?"


def _outputs(request: ModelRequest) -> list[str]:
    return request.tool_outputs()


def _done(request: ModelRequest) -> Reply:
    return text("done: " + " | ".join(_outputs(request)))


def _tools(request: ModelRequest) -> Reply:
    if not _outputs(request):
        return tool_call("roll_dice")
    if len(_outputs(request)) == 1:
        return tool_call("send_email", {"to": "ada"})
    return _done(request)


def _run_hooks(request: ModelRequest) -> Reply:
    return _done(request) if _outputs(request) else tool_call("send_email", {"to": "bob"})


def _agent_hooks(request: ModelRequest) -> Reply:
    return _done(request) if _outputs(request) else tool_call("roll_dice")


def _echo_user(request: ModelRequest) -> Reply:
    return text(f"answer to {request.last_user_text!r}")


def _checker(request: ModelRequest) -> Reply:
    return text("yes" if "homework" in request.last_user_text else "no")


def _orchestrator(request: ModelRequest) -> Reply:
    return _done(request) if _outputs(request) else tool_call("translate", {"input": "hello"})


def _poet(request: ModelRequest) -> Reply:
    return text(f"a poem about {_outputs(request)[0]}") if _outputs(request) else tool_call("roll_dice")


def _triage(request: ModelRequest) -> Reply:
    return tool_call("transfer_to_specialist")


def _dynamic(request: ModelRequest) -> Reply:
    return text(f"as told: {request.system}")


def _forced(request: ModelRequest) -> Reply:
    required = request.body.get("tool_choice") == "required"
    return tool_call("lookup_weather", {"city": "Denver"}) if required else text("not forced")


def _custom_context(request: ModelRequest) -> Reply:
    outputs = _outputs(request)
    if not outputs:
        return tool_call("add_order", {"item": "cake"})
    if len(outputs) == 1:
        return tool_call("list_orders")
    return _done(request)


def _parallel(request: ModelRequest) -> Reply:
    if _outputs(request):
        return _done(request)
    return tool_calls(("flights", {"topic": "x"}), ("hotels", {"topic": "y"}), ("trains", {"topic": "z"}))


def _wrong_arguments(request: ModelRequest) -> Reply:
    if _outputs(request):
        return _done(request)
    return Reply(tool_calls=(ToolCall("lookup_weather", {"town": "Denver"}),))  # no "city"


def _reserve(name: str) -> Callable[[ModelRequest], Reply]:
    def respond(request: ModelRequest) -> Reply:
        return _done(request) if _outputs(request) else tool_call(name, {"item": "bike"})

    return respond


def _unknown(request: ModelRequest) -> Reply:
    return tool_call("teleport", {"to": "mars"})


SCRIPT: dict[str, Callable[[ModelRequest], Reply]] = {
    "tools": _tools,
    "run_hooks": _run_hooks,
    "agent_hooks": _agent_hooks,
    "input_guardrail_trips": _echo_user,
    "guardrail_raises": _echo_user,
    "output_guardrail_trips": lambda request: text("the secret is 42"),
    "guardrail_nested_run": _echo_user,
    "guardrail_nested_run/checker": _checker,
    "agent_as_tool": _orchestrator,
    "agent_as_tool/translator": lambda request: text("bonjour"),
    "gathered/poet": _poet,
    "gathered/critic": lambda request: text("a critique"),
    "handoffs": _triage,
    "handoffs/specialist": lambda request: text("a refund is on its way"),
    "dynamic_instructions": _dynamic,
    "forced_tool": _forced,
    "structured_output": lambda request: text(json.dumps({"city": "Paris", "days": 3})),
    "custom_context": _custom_context,
    "streaming": _agent_hooks,
    "parallel_tools": _parallel,
    "wrong_arguments": _wrong_arguments,
    "tool_raises": _reserve("reserve"),
    "tool_raises_to_user": _reserve("strict_reserve"),
    "unknown_tool": _unknown,
}


def respond(request: ModelRequest) -> Reply:
    answer = SCRIPT.get(tag_of(request))
    if answer is None:
        return Reply(status=500, error_message=f"no script for tag {tag_of(request)!r}")
    return answer(request)


def program_of(tag: str) -> str:
    return tag.split("/", 1)[0]
