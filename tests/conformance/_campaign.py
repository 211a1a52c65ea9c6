"""Run every program plainly (in this process) or durably (served, on a real restate-server), and
observe what a user could: the output, the model requests, and the effects (tool bodies, hooks).

A durable campaign runs all programs at once. In ``kill`` mode each program's model request
``hold_at[program]`` is held open; once every program is held the service process is SIGKILLed and
started again, and Restate resumes each run from its journal.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents import Runner

from integrations.runtime import IngressError, RestateServer, Stack, wait_until
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, hang

from . import script
from .programs import PROGRAM, PROGRAMS

APP = "tests/conformance/app.py:app"

Request = tuple[str, int]
"""A model request as the comparison sees it: the asking agent's tag and the conversation's length."""


@dataclass
class Observation:
    output: Any
    requests: list[Request]
    effects: list[str]


class HeldModel:
    """The script, recording requests per program; holds each program's ``hold_at`` request once."""

    def __init__(self, hold_at: dict[str, int] | None = None) -> None:
        self.hold_at = dict(hold_at or {})
        self.release = threading.Event()
        self.requests: dict[str, list[Request]] = defaultdict(list)
        self.held: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, request: ModelRequest) -> Reply:
        tag = script.tag_of(request)
        name = script.program_of(tag)
        reply = script.respond(request)
        with self._lock:
            self.requests[name].append((tag, len(request.items)))
            if len(self.requests[name]) == self.hold_at.get(name) and name not in self.held:
                self.held.add(name)
                return hang(reply, until=self.release)
        return reply


def _normalised(output: Any, lines: list[str]) -> tuple[Any, list[str]]:
    """Name each random value (recorded as ``name=value``) instead of comparing it, in output and effects."""
    encoded = json.dumps(output, sort_keys=True)
    effects = []
    for line in lines:
        name, separator, value = line.partition("=")
        if separator:
            encoded = encoded.replace(value, f"<{name}>")
            line = f"{name}=<{name}>"
        effects.append(line)
    return json.loads(encoded), sorted(effects)


def _effects_by_program(path: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for line in path.read_text().splitlines():
        name, _, entry = line.partition("|")
        found[name].append(entry)
    return found


def _observe(outputs: dict[str, Any], model: HeldModel, effects_file: Path) -> dict[str, Observation]:
    effects = _effects_by_program(effects_file)
    observed = {}
    for name in PROGRAMS:
        output, lines = _normalised(outputs[name], effects.get(name, []))
        observed[name] = Observation(output, model.requests.get(name, []), lines)
    return observed


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


async def _plain_programs() -> dict[str, Any]:
    """One event loop for all: the SDK's default OpenAI client outlives a loop of its own."""
    outputs = {}
    for name in PROGRAMS:
        PROGRAM.set(name)
        output = await PROGRAMS[name](Runner)
        outputs[name] = json.loads(json.dumps(output))  # what a handler's JSON answer would carry
    return outputs


def run_plain(workdir: Path) -> dict[str, Observation]:
    """Every program with the plain SDK's ``Runner``, one after another, in this process."""
    model = HeldModel()
    effects_file = workdir / "plain-effects.log"
    effects_file.touch()
    with ScriptedModelServer(model) as server, _environment({**server.client_env(), "EFFECTS_FILE": str(effects_file)}):
        outputs = asyncio.run(_plain_programs())
    return _observe(outputs, model, effects_file)


def run_durable(
    server: RestateServer, workdir: Path, *, hold_at: dict[str, int] | None = None
) -> dict[str, Observation]:
    """Every program at once through the served app; with ``hold_at``, kill the service mid-run."""
    workdir.mkdir(parents=True, exist_ok=True)
    model = HeldModel(hold_at)
    effects_file = workdir / "effects.log"
    effects_file.touch()
    with ScriptedModelServer(model) as model_server:
        env = {**model_server.client_env(), "EFFECTS_FILE": str(effects_file), "GATE_DIR": str(workdir)}
        stack = Stack(server, APP, env=env, log_dir=workdir / "logs").start()
        try:
            ids = {name: stack.ingress.send("conformance", "run", name) for name in PROGRAMS}
            if hold_at:
                # a deadline, not a timing assertion: 20 programs at once reach their held request in
                # seconds on a quiet machine, and took over a minute at load 9 on 2 cores
                wait_until(lambda: model.held >= set(hold_at), timeout=240, what=f"held {sorted(hold_at)}")
                stack.kill_service()
                stack.start_service()
                model.release.set()  # the killed process's requests: nobody reads their answers
            outputs = {name: _outcome(stack, invocation) for name, invocation in ids.items()}
        finally:
            model.release.set()
            stack.stop()
    return _observe(outputs, model, effects_file)


def _outcome(stack: Stack, invocation: str) -> Any:
    try:
        return stack.ingress.attach(invocation)
    except IngressError as error:
        return f"failed ({error.status}): {error.message}"


def kill_requests(plain: list[Request], held: int) -> list[Request]:
    """What a run killed while its request ``held`` (1-based) was open asks: that request twice,
    no other (an answer journaled before the kill is never paid again)."""
    return plain[:held] + plain[held - 1 :]
