"""Scale load run: ``./dev chaos --cluster 3 --services 2 --sessions 1000`` (or ``python -m bench.scale``).

N chat sessions at once (tests/apps/scale_app.py: an OpenAI Agents SDK turn whose tool waits for a
person's approval) on a local 3-node restate-server cluster (replication 2) that signs its requests,
served by ``--services`` service processes sharing one port (granian, SO_REUSEPORT: the kernel
spreads Restate's connections, as a load balancer spreads them over machines). Every session:
send its message, see its approval on its topic, approve it, read the answer.

While the sessions open, the node leading the most partitions is SIGKILLed (not restarted); while
the approvals are answered, one service process is SIGKILLed (not restarted). The run then counts:
sessions lost (no answer by the deadline), wrong (an answer other than the expected one, or a
topic announcing other than exactly one approval), throughput, latency percentiles of the two
phases, and the memory the sessions cost (resident set growth of the nodes and of the service
processes while every session waits for its approval, divided by the sessions).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from integrations.runtime import ServiceProcess, free_port, wait_until
from integrations.runtime._cluster import RestateCluster
from integrations.runtime._identity import SERVER_KEY_FILE_ENV, ensure_signing_key
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, text, tool_call

APP = "tests/apps/scale_app.py:app"


def amount_of(key: str) -> int:
    return 10 + sum(key.encode()) % 900


def expected_answer(key: str) -> str:
    return f"Done for {key}: transferred {amount_of(key)}."


def responder(request: ModelRequest) -> Reply:
    """The scripted model: ask for the transfer, then report what the tool said."""
    key = request.last_user_text or ""
    outputs = request.tool_outputs()
    if not outputs:
        return tool_call("transfer", {"amount": amount_of(key)})
    return text(f"Done for {key}: {outputs[-1]}.")


@dataclass
class Session:
    key: str
    invocation: str | None = None
    awakeable: str | None = None
    approvals: int = 0
    answer: str | None = None
    error: str | None = None
    opened: float = 0.0  # send -> approval seen on the topic
    closed: float = 0.0  # approve -> answer


@dataclass
class LoadReport:
    sessions: int
    answered: int
    lost: int
    wrong: int
    seconds: float
    open_p50: float
    open_p99: float
    close_p50: float
    close_p99: float
    node_kb_per_session: float
    service_kb_per_session: float
    per_service: dict[int, int]
    kills: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the first few sessions that went wrong, and how

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.wrong == 0 and self.answered == self.sessions

    @property
    def throughput(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def lines(self) -> list[str]:
        spread = ", ".join(f"{count}" for count in sorted(self.per_service.values(), reverse=True))
        return [
            f"  sessions:   {self.answered}/{self.sessions} answered, {self.lost} lost, {self.wrong} wrong",
            f"  chaos:      {'; '.join(self.kills) or 'none'}",
            (
                f"  throughput: {self.throughput:.1f} sessions/s ({self.seconds:.0f} s for all, 2 model calls + 1 "
                "approval each)"
            ),
            (
                f"  latency:    send -> approval shown p50 {self.open_p50:.2f} s, p99 {self.open_p99:.2f} s; "
                f"approve -> answer p50 {self.close_p50:.2f} s, p99 {self.close_p99:.2f} s"
            ),
            (
                f"  memory:     {self.node_kb_per_session:.1f} kB per waiting session in the cluster (3 nodes), "
                f"{self.service_kb_per_session:.1f} kB in the service processes"
            ),
            f"  tool executions per service process (a resumed turn replays its tool: about 2 per session): {spread}",
        ]


def _rss_kb(pids: list[int]) -> dict[int, int]:
    """Resident set of each of these process groups (a process and its workers), in kB."""
    total: dict[int, int] = {}
    seen: set[int] = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
            pgid = os.getpgid(int(proc.name))
        except (OSError, ProcessLookupError):
            continue
        if pgid not in pids or int(proc.name) in seen:
            continue
        seen.add(int(proc.name))
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total[pgid] = total.get(pgid, 0) + int(line.split()[1])
    return total


def _growth(before: dict[int, int], after: dict[int, int]) -> int:
    """kB added by the process groups alive at both times (a killed one is left out)."""
    return sum(max(0, after[pid] - before[pid]) for pid in before.keys() & after.keys())


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


class Load:
    """The cluster, the scripted model, the service processes and the sessions' client."""

    def __init__(
        self, workdir: Path, *, nodes: int, services: int, workers: int, cluster: RestateCluster | None = None
    ) -> None:
        """``cluster``: one already running (the test suite's), used as it is (unsigned); else a
        new one whose nodes sign their requests, and services that check the signatures."""
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.owns_cluster = cluster is None
        self.public_keys: list[str] = []
        if cluster is None:
            key_file = workdir / "request-identity.pem"
            self.public_keys = [ensure_signing_key(key_file)]
            cluster = RestateCluster(nodes, base_dir=workdir / "cluster", partitions=8)
            for node in cluster.nodes:
                node.extra_env[SERVER_KEY_FILE_ENV] = str(key_file)  # every node signs its requests
        self.cluster = cluster
        self.model = ScriptedModelServer(responder)
        self.runs_file = workdir / "runs.log"
        self.runs_file.touch()
        self.port = free_port()
        self.services_count = services
        self.workers = workers
        self.services: list[ServiceProcess] = []
        self.memory_waiting: tuple[dict[int, int], dict[int, int]] = ({}, {})  # nodes, services: kB by group

    def start(self) -> Load:
        if self.owns_cluster:
            self.cluster.start()
        self.cluster.wait_for_leaders()
        self.model.start()
        env: dict[str, str | None] = {
            **self.model.client_env(),
            "SCALE_RUNS_FILE": str(self.runs_file),
            "OPENAI_AGENTS_DISABLE_TRACING": "1",
        }
        for index in range(self.services_count):
            service = ServiceProcess(
                APP,
                port=self.port,
                env=env,
                log_path=self.workdir / f"service-{index + 1}.log",
                workers=self.workers,
                server="granian",
                identity_keys=self.public_keys,
                shares_port=True,
            )
            self.services.append(service.start())
        self.cluster.register(self.services[0].uri)
        return self

    def ingresses(self) -> list[str]:
        return [node.ingress_url for node in self.cluster.nodes if node.running]

    def busiest_service(self) -> ServiceProcess:
        """The live service process whose workers ran the most tools so far (killing it hurts most)."""
        by_group: Counter[int] = Counter()
        for line in self.runs_file.read_text().splitlines():
            with contextlib.suppress(ValueError, OSError):
                by_group[os.getpgid(int(line.split()[0]))] += 1
        alive = [service for service in self.services if service.running]
        return max(alive, key=lambda service: by_group.get(service.pid or -1, 0))

    def node_pids(self) -> list[int]:
        return [node.pid for node in self.cluster.nodes if node.pid is not None]

    def service_pids(self) -> list[int]:
        return [service.pid for service in self.services if service.pid is not None]

    def close(self) -> None:
        for service in self.services:
            service.kill()
        self.model.stop()
        if self.owns_cluster:
            self.cluster.stop()


class Client:
    """Drives the sessions through whichever node's ingress answers, retrying through a node's death."""

    def __init__(self, load: Load, concurrency: int, deadline: float) -> None:
        self.load = load
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(60.0, connect=5.0),
            limits=httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency),
        )
        self.gate = asyncio.Semaphore(concurrency)
        self.deadline = deadline
        self.turn = 0
        self.sent = 0
        self.answered = 0
        self.kill_node_at = 1
        self.kill_service_at = 1
        self.sent_enough = asyncio.Event()  # kill_node_at messages sent: the node dies now
        self.answered_enough = asyncio.Event()  # kill_service_at answers read: the service process dies now

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One ingress request, on the next live node; transport errors and 5xx move on to another."""
        while True:
            urls = self.load.ingresses()
            self.turn += 1
            url = urls[self.turn % len(urls)]
            try:
                response = await self.http.request(method, url + path, **kwargs)
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code < 500:
                return response
            if time.monotonic() > self.deadline:
                raise TimeoutError(f"{method} {path}: no node answered before the deadline")
            await asyncio.sleep(0.2)

    async def open(self, session: Session) -> None:
        """Send the message, wait for the approval on the session's topic."""
        async with self.gate:
            started = time.monotonic()
            sent = await self.request(
                "POST",
                f"/Session/{session.key}/message/send",
                json={"message": session.key},
                headers={"idempotency-key": session.key},
            )
            if sent.status_code >= 300:
                session.error = f"send: {sent.status_code} {sent.text[:200]}"
                return
            session.invocation = sent.json()["invocationId"]
            self.sent += 1
            if self.sent >= self.kill_node_at:
                self.sent_enough.set()
            after = 0
            while session.awakeable is None:
                page = await self.request("POST", f"/AgentEvents/Session:{session.key}/pull", json={"after": after})
                if page.status_code < 300:
                    for event in page.json()["events"]:
                        after = event["seq"]
                        if event["kind"] == "approval":
                            session.approvals += 1
                            session.awakeable = event["data"]["awakeable_id"]
                if session.awakeable is None:
                    if time.monotonic() > self.deadline:
                        session.error = "no approval before the deadline"
                        return
                    await asyncio.sleep(0.25 + random.random() * 0.25)
            session.opened = time.monotonic() - started

    async def close(self, session: Session) -> None:
        """Approve, then read the answer (attach) and recount the topic's approvals."""
        if session.awakeable is None or session.invocation is None:
            return
        async with self.gate:
            started = time.monotonic()
            resolved = await self.request(
                "POST",
                f"/restate/awakeables/{session.awakeable}/resolve",
                json={"approved": True, "by": "load-run", "message": ""},
            )
            if resolved.status_code >= 300:
                session.error = f"resolve: {resolved.status_code} {resolved.text[:200]}"
                return
            while True:
                try:
                    answer = await self.request("GET", f"/restate/invocation/{session.invocation}/attach")
                except TimeoutError as error:
                    session.error = str(error)
                    return
                if answer.status_code < 300:
                    session.answer = answer.json()
                    self.answered += 1
                    if self.answered >= self.kill_service_at:
                        self.answered_enough.set()
                    break
                session.error = f"attach: {answer.status_code} {answer.text[:200]}"
                return
            session.closed = time.monotonic() - started
            page = await self.request("POST", f"/AgentEvents/Session:{session.key}/pull", json={"limit": 1000})
            events = page.json()["events"] if page.status_code < 300 else []
            session.approvals = sum(1 for event in events if event["kind"] == "approval")


async def _report_progress(client: Client, sessions: list[Session], started: float) -> None:
    while True:
        await asyncio.sleep(5.0)
        waiting = sum(1 for s in sessions if s.awakeable is not None)
        print(
            f"[{time.monotonic() - started:5.0f}s] {client.sent} sent, {waiting} approvals shown, "
            f"{client.answered} answered",
            flush=True,
        )


async def _drive(
    load: Load, sessions: list[Session], concurrency: int, timeout: float, kills: list[str], progress: bool
) -> None:
    client = Client(load, concurrency, time.monotonic() + timeout)
    reporter = asyncio.create_task(_report_progress(client, sessions, time.monotonic())) if progress else None
    try:
        total = len(sessions)
        node_killed = asyncio.Event()

        client.kill_node_at = client.kill_service_at = max(1, total // 3)

        async def kill_node() -> None:
            await client.sent_enough.wait()
            leaders = load.cluster.partition_leaders()
            victim = max(leaders, key=lambda index: leaders[index])
            load.cluster.nodes[victim].kill()
            kills.append(f"node {victim + 1} (leading {leaders[victim]} of {load.cluster.partitions} partitions)")
            node_killed.set()

        killer = asyncio.create_task(kill_node())
        await asyncio.gather(*(client.open(session) for session in sessions))
        if not node_killed.is_set():
            killer.cancel()
        load.memory_waiting = (_rss_kb(load.node_pids()), _rss_kb(load.service_pids()))

        async def kill_service() -> None:
            await client.answered_enough.wait()
            victim = load.busiest_service()
            assert victim.pid is not None
            os.killpg(victim.pid, signal.SIGKILL)
            index = load.services.index(victim)
            kills.append(f"service process {index + 1} of {len(load.services)} (the busiest)")

        service_killer = asyncio.create_task(kill_service())
        await asyncio.gather(*(client.close(session) for session in sessions))
        if not service_killer.done():
            service_killer.cancel()
    finally:
        if reporter is not None:
            reporter.cancel()
        await client.http.aclose()


def run_load(
    sessions: int,
    *,
    nodes: int = 3,
    services: int = 2,
    workers: int = 1,
    concurrency: int = 200,
    timeout: float = 900.0,
    workdir: Path | None = None,
    cluster: RestateCluster | None = None,
    progress: bool = False,
) -> LoadReport:
    """Start everything, drive ``sessions`` sessions with the kills, stop everything, report.

    ``cluster``: run on this running cluster (it keeps running, minus the node the run kills)."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="scale-"))
    load = Load(workdir, nodes=nodes, services=services, workers=workers, cluster=cluster)
    all_sessions = [Session(key=f"s{index:05d}-{random.randrange(1 << 20):05x}") for index in range(sessions)]
    kills: list[str] = []
    try:
        load.start()
        wait_until(lambda: len(load.ingresses()) == len(load.cluster.nodes), timeout=10, what="every node")
        base = (_rss_kb(load.node_pids()), _rss_kb(load.service_pids()))
        started = time.monotonic()
        asyncio.run(_drive(load, all_sessions, concurrency, timeout, kills, progress))
        seconds = time.monotonic() - started
        waiting = load.memory_waiting
        pids = Counter(line.split()[0] for line in load.runs_file.read_text().splitlines() if line)
    finally:
        load.close()
    answered = [s for s in all_sessions if s.answer is not None]
    wrong = [s for s in answered if s.answer != expected_answer(s.key) or s.approvals != 1]
    return LoadReport(
        sessions=sessions,
        answered=len(answered),
        lost=sessions - len(answered),
        wrong=len(wrong),
        seconds=seconds,
        open_p50=_percentile([s.opened for s in all_sessions if s.opened], 50),
        open_p99=_percentile([s.opened for s in all_sessions if s.opened], 99),
        close_p50=_percentile([s.closed for s in answered], 50),
        close_p99=_percentile([s.closed for s in answered], 99),
        node_kb_per_session=_growth(base[0], waiting[0]) / sessions,
        service_kb_per_session=_growth(base[1], waiting[1]) / sessions,
        per_service={int(pid): count for pid, count in pids.items()},
        kills=kills,
        errors=[f"{s.key}: {s.error or s.answer}" for s in all_sessions if s.answer is None or s in wrong][:10],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--cluster", type=int, default=3, help="restate-server nodes (replication 2)")
    parser.add_argument("--services", type=int, default=2, help="service processes sharing the service port")
    parser.add_argument("--workers", type=int, default=1, help="workers of each service process (serve --workers)")
    parser.add_argument("--concurrency", type=int, default=200, help="requests in flight at once")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before unanswered sessions count as lost")
    args = parser.parse_args(argv)
    print(
        f"scale load: {args.sessions} sessions on a {args.cluster}-node cluster, {args.services} service processes "
        f"x {args.workers} workers, {os.cpu_count()} CPUs; killing one node and one service process",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="scale-"))
    report = run_load(
        args.sessions,
        nodes=args.cluster,
        services=args.services,
        workers=args.workers,
        concurrency=args.concurrency,
        timeout=args.timeout,
        workdir=workdir,
        progress=True,
    )
    for line in report.lines():
        print(line, flush=True)
    for error in report.errors:
        print(f"  ! {error}", flush=True)
    if report.ok:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"  data kept in {workdir}", flush=True)
    print(f"RESULT: {'PASS' if report.ok else 'FAIL'}", flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
