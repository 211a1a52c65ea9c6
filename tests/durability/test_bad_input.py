"""Bad input everywhere: every handler of every app gets malformed JSON, wrong types, an empty body
and a 10 MB body; each is refused with a 4xx at once, nothing is left retrying, and the app keeps
serving.

The handlers are not listed here: they are discovered from the metadata the server keeps for the
app's deployments (the admin API's ``/services``, with each handler's input schema), so a handler
added to an app is swept without touching this file. The bad bodies are built from that schema.

Each app (quickstart, patterns, tour, every ``examples/*.py``, and an app written the README's way
that does not call ``guard_inputs``: the serve command guards it) is served once, with its own
offline model, on a restate-server of this module's own: three apps define a ``Chat``, so each app
is registered again right before its sweep, and the invocation table holds only the sweep's work.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from integrations.runtime import Ingress, RestateServer, Stack, wait_until
from integrations.runtime.serve import load_target
from integrations.testing import ModelRequest, Reply, Responder, ScriptedModelServer, text

from ..conftest import REPO_ROOT

TEN_MB = 10_000_000
DEADLINE = 60.0
"""Seconds a refused request may take to fail: generous (they fail in well under a second), it only
catches a request that is never answered because it is being retried."""

RETRYING = frozenset({"backing-off", "paused"})

HUGE_PROMPT = 1_000_000
"""A model request this large means a 10 MB body got through to the model."""


def _echo(request: ModelRequest) -> Reply:
    return text(f"echo: {request.last_user_text}")


def _huge(request: ModelRequest) -> bool:
    return len(json.dumps(request.body)) > HUGE_PROMPT


def shielded(responder: Responder) -> Responder:
    """The app's offline model, except that a huge prompt gets a canned answer: the test then sees
    the request answered instead of refused (and counts it), rather than waiting for a responder
    that scans 10 MB of text in the test process."""
    return lambda request: text("[sweep] a huge prompt reached the model") if _huge(request) else responder(request)


@dataclass(frozen=True)
class Probe:
    """A good request the app must still answer after the sweep."""

    service: str
    handler: str
    payload: Any
    expect: str
    keyed: bool = False


@dataclass(frozen=True)
class App:
    targets: tuple[str, ...]
    responder: str | None
    probes: tuple[Probe, ...]


EXAMPLES = tuple(sorted(str(path) + ":app" for path in (REPO_ROOT / "examples").glob("*.py")))

APPS = {
    "quickstart": App(
        (f"{REPO_ROOT}/agents/quickstart/agent.py:app",),
        f"{REPO_ROOT}/agents/quickstart/offline_model.py:responder",
        (Probe("agent", "run", "What is the weather in Detroit?", "Detroit"),),
    ),
    "patterns": App(
        ("patterns.app:app",),
        f"{REPO_ROOT}/patterns/offline.py:responder",
        (Probe("ToolRouter", "route", {}, "[offline model]"),),
    ),
    "tour": App(
        (f"{REPO_ROOT}/agents/tour/app.py:app",),
        f"{REPO_ROOT}/agents/tour/offline_model.py:responder",
        (Probe("WeatherAgent", "run", {"message": "What is the weather like in San Francisco?"}, "San Francisco"),),
    ),
    "readme_style": App(  # no guard_inputs of its own: the serve command guards it
        (f"{REPO_ROOT}/tests/apps/readme_style_app.py:app",),
        None,
        (
            Probe("ReadmeAgent", "run", "still there?", "still there?"),
            Probe("ReadmeNotes", "add", "still there?", "still there?", keyed=True),
        ),
    ),
    "examples": App(
        EXAMPLES,
        None,  # the examples have no offline model of their own: the echo model answers
        (
            Probe("Chat", "message", {"message": "still there?"}, "still there?", keyed=True),
            Probe("SupportAgent", "route", {"message": "still there?"}, "still there?"),
        ),
    ),
}


# -- the handlers, as the server describes them --------------------------------------------------------


@dataclass(frozen=True)
class Handler:
    service: str
    service_type: str
    name: str
    takes_input: bool
    schema: dict[str, Any]
    """The input's JSON schema (``{}``: any JSON, or no input)."""

    @property
    def keyed(self) -> bool:
        return self.service_type in ("VirtualObject", "Workflow")

    @property
    def target(self) -> str:
        return f"{self.service}/{self.name}"


def discover(server: RestateServer, deployment_ids: set[str]) -> list[Handler]:
    """Every handler of the services the server routes to ``deployment_ids``."""
    services = httpx.get(f"{server.admin_url}/services", timeout=30).json()["services"]
    found = [
        Handler(
            service["name"],
            service["ty"],
            handler["name"],
            takes_input=handler.get("input_description") != "none",
            schema=handler.get("input_json_schema", {}),
        )
        for service in services
        if service["deployment_id"] in deployment_ids
        for handler in service["handlers"]
    ]
    assert found, f"no handlers registered for deployments {deployment_ids}"
    return found


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _valid_sample(schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """A small value the schema accepts (defaults where it gives them)."""
    schema = _resolve(schema, root)
    if "default" in schema:
        return schema["default"]
    if "anyOf" in schema:
        return _valid_sample(next(s for s in schema["anyOf"] if s.get("type") != "null"), root)
    kind = str(schema.get("type"))
    if kind == "object":
        return {name: _valid_sample(schema["properties"][name], root) for name in schema.get("required", [])}
    return {"string": "x", "integer": 1, "number": 1.5, "boolean": True, "array": [], "null": None}.get(kind, "x")


def _wrong_value(schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """A value of the wrong JSON type for the schema."""
    kind = str(_resolve(schema, root).get("type"))
    return {"string": {"x": 1}, "object": 42, "array": 42}.get(kind, {"x": 1})


def _ten_mb_body(schema: dict[str, Any]) -> Any:
    """A body of the right shape, 10 MB large: the longest text a field can take."""
    sample = _valid_sample(schema, schema)
    if isinstance(sample, dict):
        properties = _resolve(schema, schema).get("properties", {})
        text = next((n for n, p in properties.items() if _resolve(p, schema).get("type") == "string"), "padding")
        return sample | {text: "x" * TEN_MB}
    return "x" * TEN_MB


@dataclass(frozen=True)
class Case:
    """One request of the sweep and what must become of it."""

    handler: Handler
    kind: str
    body: bytes
    content_type: str | None = "application/json"

    @property
    def valid(self) -> bool:
        """Only an empty body can be a valid request: for a handler without input, or one whose input
        model has defaults for every field (an empty body reads as ``{}``), or that takes any JSON."""
        schema = _resolve(self.handler.schema, self.handler.schema)
        return self.kind == "empty body" and (
            not self.handler.takes_input
            or not schema
            or (schema.get("type") == "object" and not schema.get("required"))
        )

    @property
    def label(self) -> str:
        return f"{self.handler.target} <- {self.kind}"


def cases_for(handler: Handler) -> list[Case]:
    """Malformed JSON, two wrong types, an empty body and 10 MB of the right shape."""
    schema = handler.schema
    root = _resolve(schema, schema)
    cases = [Case(handler, "malformed JSON", b'{"message": "no closing brace')]
    if root:  # a schema says what a wrong type is
        if root.get("type") not in ("number", "integer"):
            cases.append(Case(handler, "a number", b"42"))
        if root.get("type") == "object" and root.get("properties"):
            wrong_fields = {name: _wrong_value(prop, schema) for name, prop in root["properties"].items()}
            cases.append(Case(handler, "wrong field types", json.dumps(wrong_fields).encode()))
        else:
            cases.append(Case(handler, "an object", json.dumps({"message": {"x": 1}}).encode()))
    cases.append(Case(handler, "empty body", b"", content_type=None))
    cases.append(Case(handler, "10 MB body", json.dumps(_ten_mb_body(schema or {"type": "object"})).encode()))
    return cases


# -- serving the apps ------------------------------------------------------------------------------------


@dataclass
class Served:
    stack: Stack
    model: ScriptedModelServer
    deployments: set[str] = field(default_factory=set)

    def register(self, server: RestateServer) -> None:
        """(Re-)register the app, so its services are the ones the names route to."""
        self.deployments = {server.register(service.uri)["id"] for service in self.stack.services}


@pytest.fixture(scope="module")
def sweep_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestateServer]:
    with RestateServer(base_dir=tmp_path_factory.mktemp("restate-sweep")) as server:
        yield server


@pytest.fixture(scope="module")
def served_apps(sweep_server: RestateServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Served]]:
    """Every app served once; the processes start in parallel (their imports take seconds)."""
    logs = tmp_path_factory.mktemp("sweep-logs")

    def serve(name: str) -> Served:
        app = APPS[name]
        model = ScriptedModelServer(shielded(load_target(app.responder) if app.responder else _echo)).start()
        env = {
            **model.client_env(),
            "WEATHER_OFFLINE": "1",
            "DURABLE_AGENTS_INGRESS_URL": sweep_server.ingress_url,
            "OPENAI_AGENTS_DISABLE_TRACING": "1",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        return Served(Stack(sweep_server, list(app.targets), env=env, log_dir=logs / name).start(), model)

    with ThreadPoolExecutor(len(APPS)) as pool:
        served = dict(zip(APPS, pool.map(serve, APPS), strict=False))
    yield served
    with ThreadPoolExecutor(len(served)) as pool:
        list(pool.map(lambda s: (s.stack.stop(), s.model.stop()), served.values()))


# -- the sweep ---------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    case: Case
    status: int
    invocation: str | None = None
    answer: str = ""


def send(client: httpx.Client, server: RestateServer, case: Case) -> Outcome:
    key = f"/sweep-{uuid.uuid4().hex[:12]}" if case.handler.keyed else ""
    url = f"{server.ingress_url}/{case.handler.service}{key}/{case.handler.name}/send"
    headers = {"content-type": case.content_type} if case.content_type else {}
    response = client.post(url, content=case.body, headers=headers)
    if response.status_code == 202 or response.status_code == 200:
        return Outcome(case, response.status_code, invocation=response.json()["invocationId"])
    return Outcome(case, response.status_code, answer=response.text)


def invocations(server: RestateServer, ids: list[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    quoted = ", ".join(f"'{i}'" for i in ids)
    rows = server.query(
        "SELECT id, target, status, retry_count, last_failure, completion_result, completion_failure "
        f"FROM sys_invocation WHERE id IN ({quoted})"
    )
    return {row["id"]: row for row in rows}


def retrying(row: dict[str, Any]) -> bool:
    return row.get("status") in RETRYING or bool(row.get("last_failure")) or int(row.get("retry_count") or 0) > 1


def wait_for_refusals(server: RestateServer, outcomes: list[Outcome]) -> dict[str, dict[str, Any]]:
    """Poll the invocation table until every refused request has failed; stop at the first one that
    retries (with its failure) or at the deadline."""
    ids = [o.invocation for o in outcomes if o.invocation]
    refused = {o.invocation for o in outcomes if o.invocation and not o.case.valid}
    rows: dict[str, dict[str, Any]] = {}

    def all_failed() -> bool:
        rows.update(invocations(server, ids))
        looping = {i: r for i, r in rows.items() if retrying(r)}
        assert not looping, f"invocations retrying instead of failing: {looping}"
        return all(rows.get(i, {}).get("status") == "completed" for i in refused)

    try:
        wait_until(all_failed, timeout=DEADLINE, what="every bad request to fail", interval=0.2)
    except TimeoutError:
        pending = [rows.get(i) for i in refused if rows.get(i, {}).get("status") != "completed"]
        raise AssertionError(f"not failed after {DEADLINE:.0f}s: {pending}") from None
    return rows


def failure_code(row: dict[str, Any]) -> int:
    """The status code of a failed invocation (``completion_failure`` reads ``[400] message``)."""
    text = str(row.get("completion_failure", ""))
    return int(text[1:4]) if text.startswith("[") and text[1:4].isdigit() else 0


@pytest.mark.parametrize("app", list(APPS))
def test_bad_input_is_refused_at_once_and_nothing_retries(
    app: str, sweep_server: RestateServer, served_apps: dict[str, Served]
) -> None:
    served = served_apps[app]
    served.register(sweep_server)
    handlers = discover(sweep_server, served.deployments)
    cases = [case for handler in handlers for case in cases_for(handler)]

    with httpx.Client(timeout=60) as client, ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda case: send(client, sweep_server, case), cases))
    rows = wait_for_refusals(sweep_server, outcomes)

    wrong: list[str] = []
    for outcome in outcomes:
        case, row = outcome.case, rows.get(outcome.invocation or "", {})
        if case.valid:
            # a default request: answered, or waiting (an approval), or failed by the app's own logic
            # (the rollback chapter's booking fails by design); never refused as bad input
            if outcome.invocation is None and outcome.status >= 300:
                wrong.append(f"{case.label}: refused a valid request: {outcome.status} {outcome.answer[:200]}")
            elif 400 <= failure_code(row) < 500:
                wrong.append(f"{case.label}: refused a valid request: {row.get('completion_failure')}")
        elif outcome.invocation is None:
            if not 400 <= outcome.status < 500:
                wrong.append(f"{case.label}: ingress answered {outcome.status} {outcome.answer[:200]}")
        elif row.get("completion_result") != "failure" or not 400 <= failure_code(row) < 500:
            wrong.append(f"{case.label}: expected a 4xx failure, got {row}")
    assert not wrong, "\n".join(wrong)
    assert not [r for r in served.model.requests if _huge(r)], "a 10 MB body reached the model"

    # The app keeps serving.
    ingress = Ingress(sweep_server.ingress_url, timeout=60)
    try:
        for probe in APPS[app].probes:
            key = f"probe-{uuid.uuid4().hex[:8]}" if probe.keyed else None
            answer = ingress.call(probe.service, probe.handler, probe.payload, key=key)
            assert probe.expect in str(answer), (probe, answer)
    finally:
        ingress.close()

    # Nothing on the server is left retrying: not the refused requests, nor the valid ones (or
    # anything they called); a request still running is waiting for a person.
    everything = sweep_server.query(
        "SELECT id, target, status, retry_count, last_failure FROM sys_invocation WHERE status != 'completed'"
    )
    assert not [row for row in everything if retrying(row)], everything
