"""Ordinary SDK programs behave under DurableRunner as they do plainly, also when every step is replayed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from integrations.runtime import RestateServer, Stack, wait_until
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, text, tool_call, tool_calls
from integrations.testing.pytest_plugin import ServeFactory

from ..conftest import Effects, app_stack

APP = "tests/apps/transparency_app.py:app"


stack = app_stack(APP)


def test_plain_tools_run_once_and_the_answer_keeps_their_result(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    model_server.enqueue(tool_calls(("roll_dice", {}), ("send_email", {"to": "ada"})), text("done"))
    assert stack.ingress.call("transparency", "plain_tools", "roll and mail") == "done"
    rolls = [line for line in effects.lines() if line.startswith("roll=")]
    assert len(rolls) == 1 and effects.count("email:ada") == 1
    assert model_server.requests[1].tool_outputs() == [rolls[0].removeprefix("roll="), "sent to ada"]
    assert len(model_server.requests) == 2


def test_concurrent_tools_finishing_out_of_order_replay_deterministically(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    model_server.enqueue(tool_calls(("a", {"topic": "x"}), ("b", {"topic": "y"}), ("c", {"topic": "z"})), text("ok"))
    assert stack.ingress.call("transparency", "stepping", "look up") == "ok"
    lines = [line for line in effects.lines() if not line.startswith("attempt:")]
    assert sorted(lines) == ["a1:x", "a2:x", "b1:y", "b2:y", "c1:z", "c2:z"]  # every step once
    assert model_server.requests[1].tool_outputs() == ["a1:x+a2:x", "b1:y+b2:y", "c1:z+c2:z"]
    assert len(model_server.requests) == 2
    if not stack.server.always_replay:
        # On a server that does not suspend, the turn completes in the attempt that started it. A tool
        # call that awaits a completion another task consumed stalls until the server's inactivity
        # timeout (60 s) ends the attempt, and the run finishes only on a second one.
        assert effects.count("attempt:stepping") == 1


def test_hooks_fire_once_per_event(stack: Stack, model_server: ScriptedModelServer, effects: Effects) -> None:
    model_server.enqueue(tool_call("send_email", {"to": "bob"}), text("sent"))
    assert stack.ingress.call("transparency", "hooked", "mail bob") == "sent"
    hooks = [line for line in effects.lines() if line.startswith("hook:")]
    assert sorted(hooks) == sorted(
        [
            "hook:agent_start:Plain",
            "hook:llm_start:Plain",
            "hook:llm_end:Plain",
            "hook:tool_start:send_email",
            "hook:tool_end:send_email",
            "hook:llm_start:Plain",
            "hook:llm_end:Plain",
            "hook:agent_end:Plain",
        ]
    )


def _checker_says(verdict: str) -> Callable[[ModelRequest], Reply]:
    def respond(request: ModelRequest) -> Reply:
        return text(verdict) if request.system and "homework" in request.system else text("helped")

    return respond


@pytest.mark.parametrize(("verdict", "answer", "requests"), [("yes", "blocked", 1), ("no", "helped", 2)])
def test_tripped_guardrail_is_caught_as_the_sdk_exception(
    stack: Stack, model_server: ScriptedModelServer, verdict: str, answer: str, requests: int
) -> None:
    model_server.reset(_checker_says(verdict))
    assert stack.ingress.call("transparency", "guarded", "do my homework") == answer
    assert len(model_server.requests) == requests  # the nested checker run is journaled: asked once


def test_own_context_object_reaches_the_tools(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    model_server.enqueue(tool_call("whoami"), text("hello ada"))
    assert stack.ingress.call("transparency", "own_context", "hi") == "hello ada"
    assert effects.count("whoami:ada") == 1


def test_gathered_runs_are_paid_once(stack: Stack, model_server: ScriptedModelServer) -> None:
    model_server.reset(lambda request: text("poem" if "poem" in (request.system or "") else "critique"))
    assert stack.ingress.call("transparency", "gathered", "durability") == ["poem", "critique"]
    assert len(model_server.requests) == 2


def test_a_kill_mid_parallel_turn_reruns_only_the_unfinished_tool(
    restate_server: RestateServer, serve: ServeFactory, model_server: ScriptedModelServer, effects: Effects
) -> None:
    model_server.enqueue(
        tool_calls(
            ("quick_flight", {"city": "Oslo"}), ("quick_hotel", {"city": "Oslo"}), ("slow_train", {"city": "Oslo"})
        ),
        text("booked"),
    )
    stack = serve(restate_server, APP, model=model_server)
    invocation = stack.ingress.send("transparency", "travel", "plan Oslo")
    effects.wait_for("train-start:Oslo")

    def two_tools_journaled() -> bool:  # their results are in the journal, not only their effects
        rows = restate_server.query(f"SELECT entry_type FROM sys_journal WHERE id = '{invocation}'")
        # completions: the model call's and two tools' (slow_train cannot finish before its gate)
        return sum(1 for row in rows if row["entry_type"] == "Notification: Run") >= 3

    wait_until(two_tools_journaled, timeout=30, what="two tools journaled")
    stack.kill_service()
    stack.start_service()
    effects.wait_for_count("train-start:Oslo", 2)  # the unfinished tool runs again...
    effects.open_gate("train")
    assert stack.ingress.attach(invocation) == "booked"
    assert effects.count("flight:Oslo") == 1 and effects.count("hotel:Oslo") == 1  # ...the finished ones do not
    assert effects.count("train-done:Oslo") == 1
    assert model_server.requests[1].tool_outputs() == ["flight to Oslo", "hotel in Oslo", "train to Oslo"]
    assert len(model_server.requests) == 2


def test_a_tool_finishing_while_the_server_suspends_does_not_lose_a_sibling(
    replay_server: RestateServer, serve: ServeFactory, model_server: ScriptedModelServer, effects: Effects
) -> None:
    """On a server that suspends at once, the first tool to finish ends the attempt; a sibling whose body
    has acted meanwhile must still get its result journaled, not be cancelled and run again."""
    model_server.enqueue(tool_calls(("prompt_bus", {"city": "Bergen"}), ("late_ferry", {"city": "Bergen"})), text("go"))
    stack = serve(replay_server, APP, model=model_server)
    invocation = stack.ingress.send("transparency", "racing", "plan Bergen")
    effects.wait_for("bus-start:Bergen")
    effects.wait_for("ferry-start:Bergen")
    effects.open_gate("race")
    assert stack.ingress.attach(invocation) == "go"
    assert effects.count("bus-done:Bergen") == 1
    assert effects.count("ferry-done:Bergen") == 1
    assert model_server.requests[1].tool_outputs() == ["bus to Bergen", "ferry to Bergen"]
    assert len(model_server.requests) == 2


def _awakeables(effects: Effects) -> dict[str, str]:
    """The awakeables ``signal_wait`` announced, by topic."""
    found: dict[str, str] = {}
    for line in effects.lines():
        if line.startswith("awakeable:"):
            _, topic, name = line.split(":", 2)
            found[topic] = name
    return found


def test_a_tool_waiting_for_a_person_does_not_hold_up_its_siblings_steps(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    """One call of a parallel turn waits on an awakeable for as long as a person takes; its sibling's
    steps must still complete meanwhile, each as soon as its body returns (not at the next message
    from the server, nor at the server's inactivity timeout)."""
    model_server.enqueue(tool_calls(("signal_wait", {"topic": "x"}), ("three_steps", {"topic": "x"})), text("ok"))
    invocation = stack.ingress.send("transparency", "waiting", "wait and look")
    effects.wait_for("steps-done:x")  # while the awakeable is still unresolved
    stack.ingress.resolve_awakeable(_awakeables(effects)["x"], "go")
    assert stack.ingress.attach(invocation) == "ok"
    assert model_server.requests[1].tool_outputs() == ["go", "s1:x+s2:x+s3:x"]


def test_calls_waiting_for_people_go_on_in_the_order_they_are_answered(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    """Two calls of one turn wait for two people. The one answered first goes on at once, as with the
    plain SDK, instead of waiting until the other person answers too; the model still gets the results
    in its own order."""
    model_server.enqueue(tool_calls(("signal_wait", {"topic": "a"}), ("signal_wait", {"topic": "b"})), text("ok"))
    invocation = stack.ingress.send("transparency", "waiting", "wait twice")
    wait_until(lambda: len(_awakeables(effects)) == 2, timeout=30, what="both awakeables announced")
    stack.ingress.resolve_awakeable(_awakeables(effects)["b"], "go-b")
    effects.wait_for("signal-done:b")
    assert effects.count("signal-done:a") == 0  # a's person has not answered yet
    stack.ingress.resolve_awakeable(_awakeables(effects)["a"], "go-a")
    assert stack.ingress.attach(invocation) == "ok"
    assert model_server.requests[1].tool_outputs() == ["go-a", "go-b"]
