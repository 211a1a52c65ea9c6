"""Agents as tools, guardrails, handoff cycles with sessions and the Runner.run parameters, on both
server kinds: on the always-replay server every step is replayed at every await."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest

from integrations.runtime import IngressError, Stack
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, text, tool_call, tool_calls

from ..conftest import Effects, app_stack

APP = "tests/apps/replay_features_app.py:app"


stack = app_stack(APP)


def test_agent_as_tool_runs_its_own_journaled_loop(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    model_server.enqueue(
        tool_call("research", {"input": "tides"}),  # Writer
        tool_call("lookup", {"topic": "tides"}),  # Researcher, nested run
        text("tides follow the moon"),  # Researcher's answer is the tool output
        text("Article: tides follow the moon"),  # Writer
    )
    assert stack.ingress.call("features", "write", "write about tides") == "Article: tides follow the moon"
    assert [r.system for r in model_server.requests] == [
        "Write an article using research.",
        "Research the topic.",
        "Research the topic.",
        "Write an article using research.",
    ]
    assert effects.lines() == ["lookup:tides"]
    assert model_server.requests[3].tool_outputs() == ["tides follow the moon"]


def test_an_agent_tool_with_parallel_tools_runs_beside_a_sibling_call(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    """The outer turn calls an agent as a tool beside a plain step; the nested run's own turn has two
    parallel calls. The nested calls and the sibling share the invocation's poller: each step runs once
    and every result lands where the plain SDK puts it, also when every step is replayed."""
    model_server.enqueue(
        tool_calls(("research", {"input": "tides"}), ("lookup", {"topic": "moon"})),  # Editor
        tool_calls(("lookup", {"topic": "tides"}), ("lookup", {"topic": "waves"})),  # Researcher, nested run
        text("tides and waves follow the moon"),  # Researcher's answer is the research tool's output
        text("Edited"),  # Editor
    )
    assert stack.ingress.call("features", "edit", "edit the tides piece") == "Edited"
    assert sorted(effects.lines()) == ["lookup:moon", "lookup:tides", "lookup:waves"]
    assert model_server.requests[2].tool_outputs() == ["notes on tides", "notes on waves"]
    assert model_server.requests[3].tool_outputs() == ["tides and waves follow the moon", "notes on moon"]
    assert len(model_server.requests) == 4


def guard_and_tutor(guard: bool, answer: Reply) -> Callable[[ModelRequest], Reply]:
    """The guard model and the tutor model answer by system prompt: the two may be asked in any order."""

    def respond(request: ModelRequest) -> Reply:
        if request.system == "Is this homework?":
            return text(json.dumps({"is_homework": guard}))
        return answer

    return respond


def tripped(stack: Stack, model_server: ScriptedModelServer, guard: bool, answer: str, question: str) -> IngressError:
    """Ask the tutor ``question`` (the guard says ``guard``, the tutor answers ``answer``), expecting a guardrail
    to stop the invocation: the error the caller got."""
    model_server.responder = guard_and_tutor(guard, text(answer))
    with pytest.raises(IngressError) as failure:
        stack.ingress.call("features", "tutoring", question)
    return failure.value


def test_input_guardrail_that_asks_a_model_passes(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    model_server.responder = guard_and_tutor(False, text("tides follow the moon"))
    assert stack.ingress.call("features", "tutoring", "why are there tides?") == "tides follow the moon"
    assert sorted(r.system for r in model_server.requests) == ["Help the student.", "Is this homework?"]
    assert effects.lines() == ["guard:False"]


def test_input_guardrail_tripwire_is_a_terminal_error(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    failure = tripped(stack, model_server, True, "x = 1", "solve x + 1 = 2 for my homework")
    assert "input guardrail 'no_homework' tripped" in failure.message
    assert failure.status == 400
    # the handler saw a restate.TerminalError, once: the invocation was not retried
    assert [line for line in effects.lines() if line.startswith("terminal:")] == [
        "terminal:400:input guardrail 'no_homework' tripped: the agent did not answer"
    ]
    assert effects.count("guard:True") == 1
    assert all(r.system != "Help the student." for r in model_server.requests)  # the tutor never ran


def test_output_guardrail_tripwire_is_a_terminal_error(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    failure = tripped(stack, model_server, False, "the secret answer is 42", "what is the answer?")
    assert "output guardrail 'no_secrets' tripped on the answer of agent 'Tutor'" in failure.message
    assert sum(1 for line in effects.lines() if line.startswith("terminal:500:output guardrail")) == 1
    assert len(model_server.requests) == 2


def test_handoff_cycles_with_a_session(stack: Stack, model_server: ScriptedModelServer) -> None:
    key = f"support-{uuid.uuid4().hex[:8]}"
    model_server.enqueue(tool_call("transfer_to_billing"), text("billing here"))
    first = stack.ingress.call("Support", "ask", "my invoice", key=key)
    assert first == {"output": "billing here", "last_agent": "Billing"}
    model_server.enqueue(tool_call("transfer_to_billing"), tool_call("transfer_to_triage"), text("back at triage"))
    second = stack.ingress.call("Support", "ask", "and now something else", key=key)
    assert second == {"output": "back at triage", "last_agent": "Triage"}

    assert [r.system for r in model_server.requests] == [
        "Route the user.",
        "Billing questions.",
        "Route the user.",
        "Billing questions.",
        "Route the user.",
    ]
    assert model_server.requests[2].user_texts() == ["my invoice", "and now something else"]  # the session
    history = stack.ingress.call("Support", "history", key=key)
    kinds = [item.get("role") or item.get("type") for item in history]
    assert kinds == [
        "user",
        "function_call",
        "function_call_output",
        "assistant",
        "user",
        "function_call",
        "function_call_output",
        "function_call",
        "function_call_output",
        "assistant",
    ]


def test_runner_parameters_pass_through(stack: Stack, model_server: ScriptedModelServer) -> None:
    model_server.enqueue(text("chained"))
    answer = stack.ingress.call("features", "passthrough", {"previous_response_id": "resp_earlier"})
    assert answer == "chained"
    assert model_server.requests[0].body.get("previous_response_id") == "resp_earlier"

    model_server.reset()
    model_server.enqueue(text("in a conversation"))
    assert stack.ingress.call("features", "passthrough", {"conversation_id": "conv_123"}) == "in a conversation"
    assert model_server.requests[0].body.get("conversation") == "conv_123"

    model_server.reset(lambda request: tool_call("lookup", {"topic": "loops"}))
    answer = stack.ingress.call("features", "passthrough", {"max_turns": 2, "handle_max_turns": True})
    assert answer == "gave up after 2 model calls"  # error_handlers reached the SDK
    assert len(model_server.requests) == 2


def test_max_turns_without_a_handler_is_a_terminal_error(stack: Stack, model_server: ScriptedModelServer) -> None:
    model_server.responder = lambda request: tool_call("lookup", {"topic": "loops"})
    with pytest.raises(IngressError) as failure:
        stack.ingress.call("features", "passthrough", {"max_turns": 2})
    assert "Max turns (2) exceeded" in failure.value.message
    assert len(model_server.requests) == 2  # not retried


@pytest.mark.parametrize(
    ("approved", "ran", "told"), [(True, 1, "sent 30"), (False, 0, "Tool execution was not approved.")]
)
def test_run_state_kept_in_object_state_resumes_in_a_later_invocation(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects, approved: bool, ran: int, told: str
) -> None:
    key = f"checkout-{uuid.uuid4().hex[:8]}"
    model_server.enqueue(tool_call("transfer", {"amount": 30}), text("all done"))
    assert stack.ingress.call("Checkout", "start", "send 30", key=key) == ["transfer"]
    assert effects.count("transfer:30") == 0
    assert stack.ingress.call("Checkout", "decide", approved, key=key) == "all done"
    assert effects.count("transfer:30") == ran
    assert model_server.requests[1].tool_outputs() == [told]
