"""The crash app served against one server (or cluster node), with the scripted model and the
effects log, plus what a test reads after a run: answer, model requests per turn, side effects."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from integrations.runtime import Ingress, RestateServer
from integrations.runtime._cluster import RestateCluster
from integrations.testing import ModelRequest, ScriptedModelServer
from tests.apps._support import crash_file
from tests.apps.crash_app import MODEL_CALLS, TOOLS, script, turn_of

from ..conftest import Effects
from ._warm_serve import WarmService

APP = "tests/apps/crash_app.py:app"


@dataclass
class CrashOutcome:
    """What one run of a crash rig did (the OpenAI one here, the ADK one in
    ``tests.google_adk._crash_rig``), read from the model server's requests and the effects log."""

    answer: str
    requests_per_turn: dict[int, int]
    effect_runs: dict[str, int]
    reached: int
    resent_after_journaled: list[int]
    """Model calls (turns) requested again after their response was journaled: must be empty."""
    rerun_after_journaled: list[str]
    """Side effects (tool bodies) that ran again after their result was journaled: must be empty."""


@dataclass
class Outcome(CrashOutcome):
    """A run of the OpenAI crash app: also whether a model call was left orphaned."""

    orphaned: bool


def stamps(lines: list[str], entry: str) -> list[float]:
    """When ``entry`` was recorded: the times of its ``entry@time`` lines (``tests.apps._support.stamped``)."""
    found = []
    for line in lines:
        name, _, stamp = line.partition("@")
        if name == entry and stamp:
            found.append(float(stamp))
    return found


def repeated_after_journal(
    lines: list[str],
    requests: list[ModelRequest],
    tag: str,
    *,
    model_calls: int,
    tools: Iterable[str],
    turn_of: Callable[[ModelRequest], int],
) -> tuple[list[int], list[str]]:
    """What ran again after its result was journaled, in the run ``tag``: the model calls (turns)
    requested again and the tool bodies run again. Both must be empty."""
    resent = []
    for turn in range(1, model_calls + 1):
        journaled = stamps(lines, f"model-journaled:{turn}:{tag}")
        if journaled and any(turn_of(r) == turn and r.received_at > min(journaled) for r in requests):
            resent.append(turn)
    rerun = []
    for name in tools:
        journaled = stamps(lines, f"journaled:{name}:{tag}")
        if journaled and any(at > min(journaled) for at in stamps(lines, f"effect:{name}:{tag}")):
            rerun.append(name)
    return resent, rerun


def requests_expected(held_at: str | None) -> dict[int, int]:
    """One request per model call; two for the call the crash landed in after it was answered."""
    return {t: 2 if held_at == f"model{t}:answered" else 1 for t in range(1, MODEL_CALLS + 1)}


def effects_expected(held_at: str | None) -> dict[str, int]:
    """Each side effect once; twice for the one the crash landed in."""
    return {name: 2 if held_at == f"tool{j}:inside" else 1 for j, name in enumerate(TOOLS, start=1)}


class CrashRig:
    """Serve ``tests/apps/crash_app.py`` on ``server``; runs are sequential, so per-run counters
    are simply reset before each run."""

    def __init__(
        self, server: RestateServer | RestateCluster, workdir: Path, *, ingress_url: str | None = None
    ) -> None:
        self.server = server
        self.workdir = workdir
        self.effects = Effects(workdir / "effects.log")
        self.model = ScriptedModelServer(script()).start()
        env = {
            "EFFECTS_FILE": str(self.effects.path),
            "GATE_DIR": str(workdir),
            **self.model.client_env(),
        }
        self.service = WarmService(APP, env=env, log_dir=workdir / "logs").start()
        server.register(self.service.uri)
        if ingress_url is None:
            ingress_url = server.nodes[0].ingress_url if isinstance(server, RestateCluster) else server.ingress_url
        self.ingress = Ingress(ingress_url)

    def hold_file(self, tag: str) -> Path:
        return crash_file(tag, self.workdir)

    def reset(self) -> None:
        """Forget the model requests and effects of earlier runs."""
        self.model.reset()
        self.effects.path.write_text("")

    def start(self, tag: str, held_at: str | None = None, *, reset: bool = True) -> str:
        """Start run ``tag`` (held at ``held_at``) and return its invocation id."""
        if reset:
            self.reset()
        if held_at is not None:
            self.hold_file(tag).write_text(held_at)
        return self.ingress.send("CrashAgent", "run", tag)

    def wait_held(self, tag: str, held_at: str) -> None:
        self.effects.wait_for(f"reached:{held_at}:{tag}")

    def release(self, tag: str) -> None:
        self.hold_file(tag).unlink(missing_ok=True)

    def finish(self, tag: str, invocation_id: str) -> Outcome:
        answer = self.ingress.attach(invocation_id)
        return self.outcome(tag, answer)

    def outcome(self, tag: str, answer: str) -> Outcome:
        lines = self.effects.lines()
        names = [line.partition("@")[0] for line in lines]  # ``entry@time`` lines, or bare entries

        def count(prefix: str) -> int:
            return sum(1 for name in names if name.startswith(prefix) and name.endswith(f":{tag}"))

        requests = [r for r in self.model.requests if r.last_user_text == tag]
        resent, rerun = repeated_after_journal(
            lines, requests, tag, model_calls=MODEL_CALLS, tools=TOOLS, turn_of=turn_of
        )
        turns = Counter(turn_of(r) for r in requests)
        return Outcome(
            answer=answer,
            requests_per_turn=dict(sorted(turns.items())),
            effect_runs={name: len(stamps(lines, f"effect:{name}:{tag}")) for name in TOOLS},
            reached=count("reached:"),
            orphaned=count("orphaned:") > 0,
            resent_after_journaled=resent,
            rerun_after_journaled=rerun,
        )

    def run(self, tag: str, held_at: str | None = None, crash: Callable[[], None] | None = None) -> Outcome:
        """One run; if held, call ``crash()`` while the run waits at ``held_at`` (it must release it)."""
        invocation_id = self.start(tag, held_at)
        if held_at is not None:
            self.wait_held(tag, held_at)
            assert crash is not None
            crash()
        return self.finish(tag, invocation_id)

    def kill_service_and_restart(self, tag: str) -> None:
        """SIGKILL the service process, release the hold, start it again on the same port."""
        self.service.kill()
        self.release(tag)
        self.service.start()

    def close(self) -> None:
        self.service.stop()
        self.ingress.close()
        self.model.stop()
