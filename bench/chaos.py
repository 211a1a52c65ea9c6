"""Chaos soak: ``./dev chaos [--runs N] [--concurrency C] [--cluster 3] [--seed S] [--timeout SECONDS]``.

(``./dev chaos --cluster 3 --services 2 --sessions 1000`` is the scale load run instead: bench/scale.py.)

Runs N agent runs (tests/apps/crash_app.py: a 3-tool agent on ``DurableRunner``, 4 model calls
answered by the scripted model server after a random delay, one ``ctx.run`` side effect per tool
that takes a random time) while the service process is SIGKILLed at random moments and restarted,
and the restate-server is SIGKILLed and restarted once from its data directory. With
``--cluster 3`` the runs go to a local 3-node cluster instead, and the node leading the most
partitions is SIGKILLed once (and restarted later). Everything is on loopback.

After each crash the soak reads what was in flight when the process died: a model call whose
request had reached the model server but whose response was not journaled yet, a side effect
that had started but whose result was not journaled yet. Those are the kills that *landed* in a
model call or an effect. A run may re-send a model request or re-run an effect only because of
such a landing, and never after the response or result was journaled (checked against the shared
monotonic clock). The summary prints: completed, lost, wrong answers, extra model requests vs
kills landed in model calls, effect re-runs vs kills landed in effects.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from integrations.runtime import Ingress, IngressError, RestateServer
from integrations.runtime._cluster import RestateCluster
from integrations.testing import ScriptedModelServer
from tests.apps.crash_app import expected_answer, script, turn_of
from tests.durability._warm_serve import WarmService

APP = "tests/apps/crash_app.py:app"


@dataclass
class Ledger:
    """What the chaos did, and where its crashes landed."""

    service_kills: int = 0
    server_restarts: int = 0
    node_kills: int = 0
    node_restarts: int = 0
    leader_moves: int = 0
    landed_model: Counter = field(default_factory=Counter)  # (tag, turn) -> crashes that landed in it
    landed_effect: Counter = field(default_factory=Counter)  # (tag, tool) -> crashes that landed in it
    lock: threading.Lock = field(default_factory=threading.Lock)


class Journal:
    """The effects log and the model server's requests, read the same way after every crash."""

    def __init__(self, effects: Path, model: ScriptedModelServer) -> None:
        self.effects = effects
        self.model = model

    def entries(self) -> list[tuple[str, float | None]]:
        parsed = []
        for line in self.effects.read_text().splitlines():
            entry, _, stamp = line.partition("@")
            if entry:
                parsed.append((entry, float(stamp) if stamp else None))
        return parsed

    def in_flight(self, start: float, end: float | None = None) -> tuple[Counter, Counter]:
        """Model calls and effects a crash landed in, each with how often it had begun by then.

        A crash lands in a call that had begun by ``end`` (its request had reached the model
        server; the effect had started) and was not journaled by ``start``. For a service kill both
        are the moment the process was dead; for a server or node failure the window covers the
        outage (orphaned attempts may still start a step) or the failover.
        """
        end = start if end is None else end
        journaled: dict[str, float] = {}
        begun_effects: Counter = Counter()
        for entry, at in self.entries():
            if at is None:
                continue
            if entry.startswith(("model-journaled:", "journaled:")):
                journaled[entry] = min(at, journaled.get(entry, at))
            elif entry.startswith("effect:") and at <= end:
                tool, tag = entry.split(":", 2)[1:]
                begun_effects[(tag, tool)] += 1
        begun_calls = Counter((r.last_user_text, turn_of(r)) for r in list(self.model.requests) if r.received_at <= end)
        never = float("inf")
        calls = Counter(
            {
                (tag, turn): n
                for (tag, turn), n in begun_calls.items()
                if journaled.get(f"model-journaled:{turn}:{tag}", never) > start
            }
        )
        effects = Counter(
            {
                (tag, tool): n
                for (tag, tool), n in begun_effects.items()
                if journaled.get(f"journaled:{tool}:{tag}", never) > start
            }
        )
        return calls, effects


class Stack:
    """The Restate side (one server or a cluster), the scripted model and the served crash app."""

    def __init__(
        self, workdir: Path, *, cluster: int, always_replay: bool, model_delay: float, effect_delay: float
    ) -> None:
        self.workdir = workdir
        self.cluster: RestateCluster | None = None
        self.server: RestateServer | None = None
        if cluster > 1:
            self.cluster = RestateCluster(cluster, base_dir=workdir / "cluster", always_replay=always_replay).start()
            self.cluster.wait_for_leaders()
        else:
            self.server = RestateServer(base_dir=workdir / "restate", always_replay=always_replay).start()
        self.model = ScriptedModelServer(script(max_delay=model_delay)).start()
        effects = workdir / "effects.log"
        effects.touch()
        env = {
            "EFFECTS_FILE": str(effects),
            "GATE_DIR": str(workdir),
            "CRASH_EFFECT_DELAY": str(effect_delay),
            **self.model.client_env(),
        }
        self.service = WarmService(APP, env=env, log_dir=workdir / "logs").start()
        (self.cluster or self.server).register(self.service.uri)  # type: ignore[union-attr]
        self.journal = Journal(effects, self.model)

    def ingress_urls(self) -> list[str]:
        if self.cluster is not None:
            return [node.ingress_url for node in self.cluster.nodes if node.running]
        assert self.server is not None
        return [self.server.ingress_url]

    def close(self) -> None:
        self.service.stop()
        self.model.stop()
        if self.cluster is not None:
            self.cluster.stop()
        if self.server is not None:
            self.server.stop()


class Runs:
    """Start and attach to the runs through whichever ingress answers, retrying through outages."""

    def __init__(self, stack: Stack, tags: list[str], deadline: float) -> None:
        self.stack = stack
        self.tags = tags
        self.deadline = deadline
        self.answers: dict[str, str] = {}
        self.failures: dict[str, str] = {}
        self.lock = threading.Lock()

    def _ingress(self, attempt: int) -> Ingress:
        urls = self.stack.ingress_urls()
        return Ingress(urls[attempt % len(urls)], timeout=30)

    def run(self, tag: str) -> None:
        attempt = 0
        invocation: str | None = None
        while time.monotonic() < self.deadline:
            ingress = self._ingress(attempt)
            try:
                if invocation is None:  # the idempotency key makes a repeated send the same invocation
                    invocation = ingress.send("CrashAgent", "run", tag, idempotency_key=tag)
                answer = ingress.attach(invocation)
                with self.lock:
                    self.answers[tag] = answer
                return
            except (httpx.HTTPError, IngressError) as exc:
                if isinstance(exc, IngressError) and exc.status < 500 and exc.status not in (404, 409, 429):
                    with self.lock:
                        self.failures[tag] = exc.message
                    return
                attempt += 1
                time.sleep(0.2)
            finally:
                ingress.close()

    @property
    def done(self) -> int:
        with self.lock:
            return len(self.answers) + len(self.failures)


def landed(stack: Stack, ledger: Ledger, start: float, end: float | None = None) -> None:
    """Count the attempts a crash interrupted. At an instant (a service kill) that is one per call
    or effect in flight that had begun more often than crashes already landed in it: a crash that
    comes before the retry reached it again interrupts nothing new. Over a window (an outage, a
    failover with its leadership moves) a call may be interrupted again and again, so every
    attempt begun by the window's end counts."""
    with ledger.lock:
        calls, effects = stack.journal.in_flight(start, end)
        for counter, found in ((ledger.landed_model, calls), (ledger.landed_effect, effects)):
            for key, begun in found.items():
                if end is not None:
                    counter[key] = max(counter[key], begun)
                elif begun > counter[key]:
                    counter[key] += 1


_LEADER_EVENT = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z.*Processor became Leader of epoch")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def watch_leadership(stack: Stack, ledger: Ledger, stop: threading.Event) -> None:
    """Every partition leadership change interrupts the attempts that partition's old leader was
    driving, whether or not we caused it: after a failover Restate also rebalances, sometimes
    seconds later. Read the nodes' logs for "became Leader" and count a landing window for each."""
    assert stack.cluster is not None
    offset = time.time() - time.monotonic()  # log times are UTC wall clock; the journal uses monotonic
    logs = [node.log_path for node in stack.cluster.nodes]
    positions = {path: path.stat().st_size if path.exists() else 0 for path in logs}
    while not stop.wait(0.25):
        moments = []
        for path, position in positions.items():
            if not path.exists():
                continue
            with open(path, "rb") as log:
                log.seek(position)
                chunk = log.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]
            positions[path] = position + len(complete)
            for line in _ANSI.sub("", complete.decode(errors="replace")).splitlines():
                match = _LEADER_EVENT.search(line)
                if match:
                    at = datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC).timestamp()
                    moments.append(at - offset)
        if moments:
            stop.wait(0.5)  # let the new leader's re-invocations start
            ledger.leader_moves += len(moments)
            landed(stack, ledger, min(moments) - 1.0, time.monotonic())


def crash_service(stack: Stack, ledger: Ledger) -> None:
    stack.service.kill()
    landed(stack, ledger, time.monotonic())  # the process is dead: nothing more starts or ends
    ledger.service_kills += 1
    stack.service.start()


def crash_server(stack: Stack, ledger: Ledger) -> None:
    """SIGKILL the server and restart it. The service lives on: its orphaned attempts may finish
    the step in flight or start the next before they notice, so the landing window is the outage."""
    assert stack.server is not None
    stack.server.kill()
    killed = time.monotonic()
    time.sleep(1.0)
    landed(stack, ledger, killed, time.monotonic())
    ledger.server_restarts += 1
    stack.server.start()


def await_stable_leaders(cluster: RestateCluster, *, settle: float = 3.0, limit: float = 60.0) -> None:
    """Until every partition has a leader and none moved for ``settle`` seconds (failover, then
    Restate rebalances leadership: each move interrupts that partition's running attempts)."""
    deadline = time.monotonic() + limit
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        leaders = cluster.partition_leaders()
        if leaders != last:
            last, since = leaders, time.monotonic()
        elif sum(leaders.values()) >= cluster.partitions and time.monotonic() - since >= settle:
            return
        time.sleep(0.25)


def node_failure(stack: Stack, ledger: Ledger, victim: int | None) -> int:
    """SIGKILL the node leading the most partitions (``victim=None``), or restart ``victim``; the
    landing window lasts until partition leadership has settled again."""
    assert stack.cluster is not None
    start = time.monotonic()
    if victim is None:
        leaders = stack.cluster.partition_leaders()
        victim = max(leaders, key=lambda index: leaders[index])
        stack.cluster.nodes[victim].kill()
        ledger.node_kills += 1
    else:
        stack.cluster.nodes[victim].start()  # it rejoins from its data directory
        ledger.node_restarts += 1
    await_stable_leaders(stack.cluster)
    landed(stack, ledger, start, time.monotonic())
    return victim


def chaos(
    stack: Stack, runs: Runs, ledger: Ledger, args: argparse.Namespace, rng: random.Random, stop: threading.Event
) -> None:
    total = len(runs.tags)
    server_done = False
    victim: int | None = None
    node_back = False
    while not stop.wait(rng.uniform(args.min_gap, args.max_gap)):
        done = runs.done
        if done >= total:
            return
        if stack.cluster is None and not server_done and done >= total // 2:
            crash_server(stack, ledger)
            server_done = True
        elif stack.cluster is not None and victim is None and done >= total // 3:
            victim = node_failure(stack, ledger, None)
        elif stack.cluster is not None and victim is not None and not node_back and done >= 2 * total // 3:
            node_failure(stack, ledger, victim)
            node_back = True
        else:
            crash_service(stack, ledger)


def progress(runs: Runs, ledger: Ledger, started: float, stop: threading.Event) -> None:
    while not stop.wait(2.0):
        print(
            f"[{time.monotonic() - started:5.0f}s] {runs.done}/{len(runs.tags)} runs done, "
            f"{ledger.service_kills} service kills, {ledger.server_restarts} server restarts, "
            f"{ledger.node_kills} node kills, {ledger.node_restarts} node restarts"
            + (f", {ledger.leader_moves} leadership moves" if ledger.leader_moves else ""),
            flush=True,
        )


@dataclass
class Report:
    completed: int
    lost: int
    failed: int
    wrong: int
    extra_requests: int
    landed_model: int
    effect_reruns: int
    landed_effect: int
    unexplained_requests: list[tuple[str, int]]
    unexplained_effects: list[tuple[str, str]]
    resent_after_journaled: int
    rerun_after_journaled: int

    @property
    def ok(self) -> bool:
        return (
            self.lost == self.failed == self.wrong == 0
            and not self.unexplained_requests
            and not self.unexplained_effects
            and self.resent_after_journaled == self.rerun_after_journaled == 0
        )


def account(stack: Stack, runs: Runs, ledger: Ledger) -> Report:
    entries = stack.journal.entries()
    first: dict[str, float] = {}
    for entry, at in entries:
        if at is not None and entry.startswith(("model-journaled:", "journaled:")):
            first[entry] = min(at, first.get(entry, at))
    requests = Counter((r.last_user_text, turn_of(r)) for r in stack.model.requests)
    effect_runs = Counter(tuple(entry.split(":", 2)[1:]) for entry, _ in entries if entry.startswith("effect:"))
    extra_requests = {key: count - 1 for key, count in requests.items() if count > 1}
    extra_effects = {(tag, tool): count - 1 for (tool, tag), count in effect_runs.items() if count > 1}
    resent = sum(
        1
        for r in stack.model.requests
        if (at := first.get(f"model-journaled:{turn_of(r)}:{r.last_user_text}")) is not None and r.received_at > at
    )
    rerun = 0
    for entry, at in entries:
        if entry.startswith("effect:") and at is not None:
            done = first.get("journaled:" + entry[len("effect:") :])
            rerun += done is not None and at > done
    return Report(
        completed=len(runs.answers),
        lost=len(runs.tags) - len(runs.answers) - len(runs.failures),
        failed=len(runs.failures),
        wrong=sum(1 for tag, answer in runs.answers.items() if answer != expected_answer(tag)),
        extra_requests=sum(extra_requests.values()),
        landed_model=sum(ledger.landed_model.values()),
        effect_reruns=sum(extra_effects.values()),
        landed_effect=sum(ledger.landed_effect.values()),
        unexplained_requests=sorted(key for key, extra in extra_requests.items() if extra > ledger.landed_model[key]),
        unexplained_effects=sorted(key for key, extra in extra_effects.items() if extra > ledger.landed_effect[key]),
        resent_after_journaled=resent,
        rerun_after_journaled=rerun,
    )


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if any(arg.split("=")[0] in ("--sessions", "--services") for arg in given):
        from .scale import main as scale_main  # the scale load run: sessions over a cluster and N services

        return scale_main(given)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--cluster", type=int, default=1, help="nodes; 3 = a local replicated cluster")
    parser.add_argument("--always-replay", action="store_true", help="suspend and replay at every step")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=900, help="seconds before unfinished runs count as lost")
    parser.add_argument("--min-gap", type=float, default=1.0, help="seconds between crashes, at least")
    parser.add_argument("--max-gap", type=float, default=4.0, help="seconds between crashes, at most")
    parser.add_argument("--model-delay", type=float, default=0.2, help="each model answer takes up to this")
    parser.add_argument("--effect-delay", type=float, default=0.1, help="each side effect takes up to this")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    random.seed(seed)  # the scripted model's delays

    where = f"{args.cluster}-node cluster" if args.cluster > 1 else "one restate-server"
    print(
        f"chaos soak: {args.runs} runs, {args.concurrency} at a time, on {where}"
        f"{' (always-replay)' if args.always_replay else ''}, seed {seed}",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="chaos-"))
    started = time.monotonic()
    stack = Stack(
        workdir,
        cluster=args.cluster,
        always_replay=args.always_replay,
        model_delay=args.model_delay,
        effect_delay=args.effect_delay,
    )
    try:
        tags = [f"soak-{seed}-{index}" for index in range(args.runs)]
        runs = Runs(stack, tags, deadline=time.monotonic() + args.timeout)
        ledger = Ledger()
        stop = threading.Event()
        threads = [
            threading.Thread(target=chaos, args=(stack, runs, ledger, args, rng, stop), daemon=True),
            threading.Thread(target=progress, args=(runs, ledger, started, stop), daemon=True),
        ]
        if stack.cluster is not None:
            threads.append(threading.Thread(target=watch_leadership, args=(stack, ledger, stop), daemon=True))
        for thread in threads:
            thread.start()
        pool = concurrent.futures.ThreadPoolExecutor(args.concurrency)
        try:
            list(pool.map(runs.run, tags))
        except KeyboardInterrupt:
            print("interrupted: stopping (within the 30 s an attach may still wait)", flush=True)
            runs.deadline = 0.0
            raise
        finally:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
        for thread in threads:
            thread.join()
        report = account(stack, runs, ledger)
    finally:
        stack.close()
    elapsed = time.monotonic() - started

    def verdict(ok: bool) -> str:
        return "OK" if ok else "FAILED"

    if report.ok:
        shutil.rmtree(workdir, ignore_errors=True)
    kept = "" if report.ok else f", data kept in {workdir}"
    print(f"\nchaos soak finished in {elapsed:.0f} s (seed {seed}{kept})", flush=True)
    print(
        f"  runs:          {report.completed} completed, {report.lost} lost, {report.failed} failed, "
        f"{report.wrong} wrong answers"
    )
    print(
        f"  crashes:       {ledger.service_kills} service kills, {ledger.server_restarts} server restarts, "
        f"{ledger.node_kills} node kills, {ledger.node_restarts} node restarts, {ledger.leader_moves} leadership moves"
    )
    print(
        f"  model calls:   {report.extra_requests} extra requests <= {report.landed_model} calls a crash landed in"
        f"  {verdict(not report.unexplained_requests)} {report.unexplained_requests or ''}"
    )
    print(
        f"  side effects:  {report.effect_reruns} re-runs <= {report.landed_effect} effects a crash landed in"
        f"  {verdict(not report.unexplained_effects)} {report.unexplained_effects or ''}"
    )
    print(
        f"  after journaled: {report.resent_after_journaled} model requests, {report.rerun_after_journaled} effects"
        f"  {verdict(report.resent_after_journaled == report.rerun_after_journaled == 0)}"
    )
    print(f"RESULT: {'PASS' if report.ok else 'FAIL'}", flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
