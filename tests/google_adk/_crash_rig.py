"""The ADK crash app (``tests/apps/adk_crash_app.py``) served by one pre-imported service process,
registered with a normal and an always-replay restate-server, plus what a test reads after a run:
answer, model requests per model call, tool bodies run, the journal.

The service is a ``WarmService`` (``tests/durability/_warm_serve.py``): a SIGKILLed service is back
within a fraction of a second instead of the seconds an import of ADK and LiteLLM takes.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from integrations.runtime import Ingress, RestateServer, wait_until
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, text, tool_call, tool_calls
from tests.apps._adk_crash_points import (
    APPROVED_TOOL,
    MODEL_CALLS,
    PARALLEL_TOOLS,
    POINTS,
    TOOLS,
)
from tests.apps._support import crash_file
from tests.durability._rig import CrashOutcome, repeated_after_journal, stamps
from tests.durability._warm_serve import WarmService

from ..conftest import Effects

APP = "tests/apps/adk_crash_app.py:app"

APPROVAL_WAIT = f"{APPROVED_TOOL}:awaiting"
"""The run waits for the person's decision (its awakeable): not a hold of the app, the test kills
the service while the run waits and resolves the awakeable after the restart."""

KILL_POINTS: list[str] = [
    *POINTS[: POINTS.index(f"{APPROVED_TOOL}:approved")],
    APPROVAL_WAIT,
    *POINTS[POINTS.index(f"{APPROVED_TOOL}:approved") :],
]
"""Every point a test kills a run at, in the order the run passes them."""

_INSIDE_A_STEP = (":call", ":answered", ":inside")


def turn_of(request: ModelRequest) -> int:
    """Which model call of the run a request is (1..MODEL_CALLS): by the tool outputs it carries."""
    outputs = len(request.tool_outputs())
    return 1 if outputs == 0 else 2 if outputs == len(PARALLEL_TOOLS) else 3


def trip_script(request: ModelRequest) -> Reply:
    """Both parallel tools, then the approved tool, then an answer naming every tool's output."""
    tag = request.last_user_text
    turn = turn_of(request)
    if turn == 1:
        return tool_calls(*((name, {"item": tag}) for name in PARALLEL_TOOLS))
    if turn == 2:
        return tool_call(APPROVED_TOOL, {"item": tag})
    return text("trip planned: " + "; ".join(request.tool_outputs()))


def flow_script(request: ModelRequest) -> Reply:
    """The multi-agent apps' side (``AdkFlows``), told apart by their agents' instructions."""
    system, outputs = request.system, request.tool_outputs()
    topic = request.user_texts()[0] if request.user_texts() else ""
    if "Coordinate:" in system:  # sub_agents: hand the conversation to billing
        return tool_call("transfer_to_agent", {"agent_name": "billing"})
    if "Billing:" in system:
        if any("refunded" in output for output in outputs):
            return text("billing: " + "; ".join(outputs))
        return tool_call("refund", {"order": topic})
    if "Research." in system:  # SequentialAgent: researcher, then writer
        return text(f"facts about {topic}")
    if "Write from" in system:
        return text(f"essay on {topic}")
    for branch in ("North", "South"):  # ParallelAgent: two branches, each with a tool call
        if system.startswith(f"{branch}.") or f" {branch}." in system:
            if outputs:
                return text(f"{branch}: {outputs[0]}")
            # the first branch's model answers last: concurrent branches would journal South first
            return tool_call("get_weather", {"city": f"{branch} {topic}"}, delay=0.5 if branch == "North" else 0.0)
    if "exit the loop" in system:  # LoopAgent: one draft, then leave the loop
        if any("draft 1" in str(item) for item in request.items if item.get("role") == "assistant"):
            return tool_call("exit_loop")
        return text("draft 1")
    return text(f"unscripted request: {system[:60]!r}")


def script(request: ModelRequest) -> Reply:
    if "Plan the trip" in request.system:
        return trip_script(request)
    return flow_script(request)


def expected_answer(tag: str) -> str:
    """What a crash-free run tagged ``tag`` answers (checked against a real crash-free run)."""
    return "trip planned: " + "; ".join(json.dumps({"result": f"{name}({tag}) ok"}) for name in TOOLS)


@dataclass
class Outcome(CrashOutcome):
    """A run of the ADK crash app: also the approvals it announced and its journal."""

    approvals_announced: int
    journal: list[str]
    """The completed invocation's journal: ``<entry type> <name>`` per entry, in order."""


def requests_expected(killed_at: str | None) -> dict[int, int]:
    """One request per model call; two for the call killed after it was answered, before its journal."""
    return {t: 2 if killed_at == f"model{t}:answered" else 1 for t in range(1, MODEL_CALLS + 1)}


def effects_expected(killed_at: str | None) -> dict[str, int]:
    """Each tool body once; twice for the one killed inside its step."""
    return {name: 2 if killed_at == f"{name}:inside" else 1 for name in TOOLS}


class AdkCrashRig:
    """Serve the crash app, registered with ``server`` (where runs are killed) and ``replay`` (an
    always-replay server for the multi-agent checks). Runs use unique tags: nothing is reset."""

    def __init__(self, server: RestateServer, replay: RestateServer, workdir: Path) -> None:
        self.server = server
        self.replay = replay
        self.workdir = workdir
        self.effects = Effects(workdir / "effects.log")
        self.model = ScriptedModelServer(script).start()
        env = {
            "EFFECTS_FILE": str(self.effects.path),
            "GATE_DIR": str(workdir),
            "OPENAI_API_KEY": "sk-test-no-real-provider",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "ADK_CRASH_WARM_UP": "1",
            **self.model.client_env(),
        }
        self.service = WarmService(APP, env=env, log_dir=workdir / "logs").start()
        for each in {id(server): server, id(replay): replay}.values():
            each.register(self.service.uri)
        self.ingress = Ingress(server.ingress_url)
        self.replay_ingress = Ingress(replay.ingress_url)

    # -- driving a run ---------------------------------------------------------------------------

    def start(self, tag: str, held_at: str | None = None, *, session: str | None = None) -> str:
        """Start run ``tag`` (held at ``held_at`` if the app holds there) in the session ``session``
        (default: a session of its own, named ``tag``) and return its invocation id."""
        if held_at is not None and held_at != APPROVAL_WAIT:
            crash_file(tag, self.workdir).write_text(held_at)
        return self.ingress.send("AdkCrash", "run", tag, key=session or tag)

    def release(self, tag: str) -> None:
        crash_file(tag, self.workdir).unlink(missing_ok=True)

    def kill_service_and_restart(self, tag: str) -> None:
        """SIGKILL the service process, release the hold, start it again on the same port."""
        self.service.kill()
        self.release(tag)
        self.service.start()

    def kill_server_and_restart(self, tag: str) -> None:
        """SIGKILL restate-server, release the (now orphaned) held attempt, start the server again."""
        self.server.kill()
        self.release(tag)
        self.server.start()

    def run(
        self,
        tag: str,
        killed_at: str | None = None,
        crash: Callable[[], None] | None = None,
        *,
        session: str | None = None,
    ) -> Outcome:
        """One run, approved by the test; when ``killed_at`` is given, ``crash()`` runs while the run
        waits there (it must release the hold)."""
        invocation = self.start(tag, killed_at, session=session)
        crash = crash or (lambda: None)
        approval_first = killed_at is not None and KILL_POINTS.index(killed_at) > KILL_POINTS.index(APPROVAL_WAIT)
        if killed_at is not None and not approval_first and killed_at != APPROVAL_WAIT:
            self.wait_held(tag, invocation, killed_at)
            crash()
        awakeable = self.wait_for_approval(tag, invocation)
        if killed_at == APPROVAL_WAIT:
            crash()
        self.ingress.resolve_awakeable(awakeable, True)
        if killed_at is not None and approval_first:
            self.wait_held(tag, invocation, killed_at)
            crash()
        answer = self.ingress.attach(invocation)
        assert isinstance(answer, str)
        return self.outcome(tag, invocation, answer)

    def wait_held(self, tag: str, invocation: str, point: str) -> None:
        """Wait until the run holds at ``point`` and the journal shows exactly the held step in flight
        (a ``Command: Run`` without its result), or none between steps: a sibling tool's body running
        concurrently has its result journaled first, so the kill lands in one known place."""
        self.effects.wait_for(f"reached:{point}:{tag}", timeout=60)
        in_flight = 1 if point.endswith(_INSIDE_A_STEP) else 0
        wait_until(
            lambda: self.runs_in_flight(invocation) == in_flight,
            timeout=60,
            what=f"{in_flight} step(s) in flight at {point}",
        )

    def wait_for_approval(self, tag: str, invocation: str) -> str:
        """The awakeable id of run ``tag``'s approval, from the resolve command the app printed (a run
        that ended before it asked raises its error here, from ``attach``)."""
        pattern = re.compile(
            re.escape(f'{APPROVED_TOOL}({{"item": "{tag}"}}) waits for a decision:')
            + r".*?/restate/awakeables/([^/\s]+)/resolve",
            re.DOTALL,
        )
        found: list[str] = []
        next_check = [time.monotonic() + 1.0]

        def printed() -> bool:
            found[:] = pattern.findall(self.service.log_path.read_text(errors="replace"))
            if not found and time.monotonic() > next_check[0]:  # a SQL query per second, not per poll
                next_check[0] = time.monotonic() + 1.0
                if self.server.invocation_status(invocation) == "completed":
                    raise AssertionError(f"run {tag} ended before its approval: {self.ingress.attach(invocation)!r}")
            return bool(found)

        wait_until(printed, timeout=60, what=f"the approval request of {tag}")
        return found[0]

    # -- reading what happened ---------------------------------------------------------------------

    def journal(self, invocation: str, server: RestateServer | None = None) -> list[dict[str, Any]]:
        return (server or self.server).query(
            f"SELECT index, entry_type, name FROM sys_journal WHERE id = '{invocation}' ORDER BY index"
        )

    def runs_in_flight(self, invocation: str) -> int:
        """``ctx.run`` steps the journal holds as commands whose result is not journaled yet."""
        kinds = Counter(str(row.get("entry_type")) for row in self.journal(invocation))
        return kinds["Command: Run"] - kinds["Notification: Run"]

    def outcome(self, tag: str, invocation: str, answer: str) -> Outcome:
        lines = self.effects.lines()
        requests = [r for r in self.model.requests if r.last_user_text == tag]
        resent, rerun = repeated_after_journal(
            lines, requests, tag, model_calls=MODEL_CALLS, tools=TOOLS, turn_of=turn_of
        )
        log = self.service.log_path.read_text(errors="replace")
        return Outcome(
            answer=answer,
            requests_per_turn=dict(sorted(Counter(turn_of(r) for r in requests).items())),
            effect_runs={name: len(stamps(lines, f"effect:{name}:{tag}")) for name in TOOLS},
            reached=sum(1 for line in lines if line.startswith("reached:") and line.endswith(f":{tag}")),
            approvals_announced=log.count(f'{APPROVED_TOOL}({{"item": "{tag}"}}) waits for a decision:'),
            journal=[f"{row.get('entry_type')} {row.get('name', '')}".strip() for row in self.journal(invocation)],
            resent_after_journaled=resent,
            rerun_after_journaled=rerun,
        )

    def close(self) -> None:
        self.service.stop()
        self.ingress.close()
        self.replay_ingress.close()
        self.model.stop()
