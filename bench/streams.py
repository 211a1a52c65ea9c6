"""How soon an SSE reader sees an event after it was published, with the app on several workers.

The app (the topic object and ``/events/<topic>``) is served by ``--stream-workers`` granian
workers. ``--readers`` SSE connections follow one topic; the kernel spreads them over the workers.
This process publishes ``--events`` events one at a time, in bursts of ``--burst`` events
``--gap`` seconds apart with ``--idle`` seconds between bursts (a model's answers), each with one
``publish`` call over the ingress followed by the wake-up hint, exactly as a streaming model call
publishes its deltas. Publication is when that call returned (the event is stored then); the
figure is the time from there to each reader receiving the event, p50 and p99 over every
(event, reader). Publishing runs in this process, so every reader is in another process than the
publisher: the case that polled once a second before wake-ups crossed processes. The same run
with ``DURABLE_AGENTS_HINT_DIR=off`` (no wake-ups across processes: readers poll) is the baseline.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from integrations.runtime import RestateServer, Stack, wait_until
from integrations.streams import AgentEvent, PublishRequest
from integrations.streams._hints import HINT_DIR_ENV, hints
from integrations.streams._ingress import call_object

TARGET = "bench/streams_app.py:app"


@dataclass
class Reader:
    """One SSE connection in a thread: the arrival time of each event's index."""

    port: int
    topic: str
    arrived: dict[int, float] = field(default_factory=dict)
    connected: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Reader:
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        connection.request("GET", f"/events/{quote(self.topic, safe='')}", headers={"accept": "text/event-stream"})
        response = connection.getresponse()
        self.connected.set()
        for raw in response:
            line = raw.decode().rstrip("\r\n")
            if line.startswith("data: "):
                event = json.loads(line[6:])
                if event.get("kind") == "text_delta":
                    self.arrived[int(event["data"]["i"])] = time.time()


async def _publish(topic: str, events: int, gap: float, burst: int, idle: float) -> dict[int, float]:
    """Bursts of ``burst`` events ``gap`` apart with ``idle`` seconds between them: a model's answers."""
    published: dict[int, float] = {}
    for i in range(events):
        if i % burst == 0 and i:
            await asyncio.sleep(idle)
        event = AgentEvent(kind="text_delta", invocation_id="bench", step="bench", data={"delta": f"w{i} ", "i": i})
        await call_object("AgentEvents", topic, "publish", PublishRequest(events=[event]))
        published[i] = time.time()
        hints.notify(topic)
        await asyncio.sleep(gap)
    return published


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(
    server: RestateServer,
    *,
    workers: int,
    readers: int,
    events: int,
    gap: float,
    burst: int,
    idle: float,
    hint_dir: str | None,
    log_dir: Path,
) -> dict[str, float]:
    """One phase: a fresh service with ``workers``, ``readers`` following one topic; latencies in ms."""
    previous = os.environ.get(HINT_DIR_ENV)
    if hint_dir is None:
        os.environ.pop(HINT_DIR_ENV, None)
    else:
        os.environ[HINT_DIR_ENV] = hint_dir
    env: dict[str, str | None] = {"DURABLE_AGENTS_INGRESS_URL": server.ingress_url, HINT_DIR_ENV: hint_dir}
    stack = Stack(server, TARGET, env=env, log_dir=log_dir, workers=workers).start()
    try:
        topic = f"bench-{uuid.uuid4().hex[:8]}"
        port = stack.services[0].port
        followers = [Reader(port, topic).start() for _ in range(readers)]
        for reader in followers:
            reader.connected.wait(30)
        time.sleep(0.5)  # every reader past its first pull and waiting
        published = asyncio.run(_publish(topic, events, gap, burst, idle))
        wait_until(
            lambda: all(len(r.arrived) == events for r in followers), timeout=60, what="every event at every reader"
        )
        latencies = [max(0.0, r.arrived[i] - published[i]) * 1000 for r in followers for i in range(events)]
        return {
            "p50": _percentile(latencies, 0.5),
            "p99": _percentile(latencies, 0.99),
            "max": max(latencies),
            "mean": statistics.fmean(latencies),
        }
    finally:
        stack.stop()
        if previous is None:
            os.environ.pop(HINT_DIR_ENV, None)
        else:
            os.environ[HINT_DIR_ENV] = previous


def run(
    *, workers: int, readers: int, events: int, gap: float, burst: int, idle: float, log_dir: Path
) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    with RestateServer(base_dir=log_dir / "restate-streams") as server:
        os.environ["DURABLE_AGENTS_INGRESS_URL"] = server.ingress_url
        for name, hint_dir in (("wake-ups", None), ("polling (hints off)", "off")):
            results[name] = measure(
                server,
                workers=workers,
                readers=readers,
                events=events,
                gap=gap,
                burst=burst,
                idle=idle,
                hint_dir=hint_dir,
                log_dir=log_dir,
            )
    return results


TARGET_P99_MS = 100.0


def report(results: dict[str, dict[str, float]], *, workers: int, readers: int) -> bool:
    """Print the figures; True when the wake-ups' p99 meets its target."""
    print(f"6. SSE delivery latency, publication -> reader, {workers} workers, {readers} readers:", flush=True)
    for name, figures in results.items():
        line = ", ".join(f"{key} {value:.1f} ms" for key, value in figures.items())
        print(f"   {name:<20} {line}", flush=True)
    woken, polled = results["wake-ups"], results["polling (hints off)"]
    met = woken["p99"] <= TARGET_P99_MS
    ratio = polled["p50"] / woken["p50"] if woken["p50"] > 0 else float("inf")
    verdict = "met" if met else "MISSED"
    print(
        f"   p99 {woken['p99']:.1f} ms (target <= {TARGET_P99_MS:.0f} ms: {verdict}); p50 polling/wake-ups {ratio:.1f}x",
        flush=True,
    )
    return met
