"""Every durable wait of ``durable-agents up``, one line each in its terminal.

A request that waits (a step Restate retries, an approval nobody answered yet) is otherwise silent:
its retries are in the service log and the UI. :class:`InvocationWatcher` polls restate-server's
introspection tables (``POST /query`` on the admin API: ``sys_invocation``, ``sys_journal``) while
``up`` runs and prints, prefixed ``[Service/handler inv_...]``:

- a step retrying: the error's first line and when the next attempt is due;
- an invocation paused by Restate after its retries ran out, with the resume call;
- a wait for an approval (an awakeable): the ready-to-paste ``curl`` to resolve and to reject it;
- other suspensions (a timer, a call to another service) in one line;
- completed, with a short result, or failed terminally, with the error; requests sent with
  ``/send`` and requests that were in flight (cut by a restart, retried, suspended) get the
  ``durable-agents output ID`` hint that fetches the whole answer.

Awakeable ids are derived from what the server reports: restate-server (1.7) lists the signal
indices a suspended invocation waits for (``suspended_waiting_for_signals``; awakeables start at
17), and an awakeable id is ``sign_1`` + base64url(invocation id bytes + signal index). A running
invocation does not say what it awaits; an awakeable id journaled in one of its steps' results
(the toolkit's approval steps return theirs) is reported at once, without waiting for suspension.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from ..awakeables import reject_command, resolve_command

__all__ = [
    "POLL_SECONDS",
    "InvocationWatcher",
    "OpenApproval",
    "awakeable_id",
    "fetch_output",
    "find_open_approvals",
]

POLL_SECONDS = 0.7
"""How often ``up`` asks the server; one small SQL query per poll, only while ``up`` runs."""

FIRST_AWAKEABLE_SIGNAL = 17
"""Signal indices below this are the server's own (1: cancel); awakeables count up from here."""

_BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_AWAKEABLE = re.compile(r"sign_1[A-Za-z0-9_-]{38}")
_SHORT = 160
"""Characters of a result or error shown in a line."""

Query = Callable[[str], list[dict[str, Any]]]


def _base62(text: str) -> int:
    value = 0
    for char in text:
        value = value * 62 + _BASE62.index(char)
    return value


def _invocation_bytes(invocation_id: str) -> bytes:
    """The 24 bytes (partition key, uuid) of ``inv_1<11 base62 chars><22 base62 chars>``."""
    body = invocation_id.removeprefix("inv_")
    if len(body) != 34 or body[0] != "1" or any(char not in _BASE62 for char in body):
        raise ValueError(f"not a restate invocation id: {invocation_id!r}")
    # each part is the base62 of the big-endian bytes read as a little-endian integer (Rust to_be())
    return _base62(body[1:12]).to_bytes(8, "little") + _base62(body[12:]).to_bytes(16, "little")


def awakeable_id(invocation_id: str, signal_index: int) -> str:
    """The id of the awakeable behind ``signal_index`` of ``invocation_id``, as ``ctx.awakeable()`` made it."""
    raw = _invocation_bytes(invocation_id) + signal_index.to_bytes(4, "big")
    return "sign_1" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _awakeable_owner(awakeable: str) -> tuple[bytes, int] | None:
    encoded = awakeable.removeprefix("sign_1")
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except ValueError:
        return None
    return (raw[:24], int.from_bytes(raw[24:], "big")) if len(raw) == 28 else None


def _first_line(text: str | None, limit: int = _SHORT) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _clock(stamp: str | None) -> str:
    """``2026-12-07T10:28:02.369Z`` -> ``10:28:02 (in 4s)``, local time."""
    if not stamp:
        return "?"
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    seconds = (when - datetime.now(UTC)).total_seconds()
    local = when.astimezone().strftime("%H:%M:%S")
    return f"{local} (in {seconds:.0f}s)" if seconds >= 1 else local


@dataclass(frozen=True)
class OpenApproval:
    """An awakeable an invocation waits for: who waits, and the commands that answer it."""

    label: str
    """``Service/handler`` or ``Service/key/handler``."""
    invocation_id: str
    awakeable_id: str
    ingress: str
    """The ingress address the commands call (``http://localhost:8080``)."""

    @property
    def resolve(self) -> str:
        return resolve_command(self.awakeable_id, True, ingress=self.ingress)

    @property
    def reject(self) -> str:
        return reject_command(self.awakeable_id, "rejected", ingress=self.ingress)

    def lines(self, prefix: str) -> list[str]:
        return [
            f"{prefix} waiting for approval (awakeable {self.awakeable_id})",
            f"{prefix}   resolve: {self.resolve}",
            f"{prefix}   reject:  {self.reject}",
        ]


def _label(row: dict[str, Any]) -> str:
    key = row.get("key")
    parts = [row.get("service", "?"), *([key] if key else []), row.get("handler", "?")]
    return "/".join(str(part) for part in parts)


def _quoted(values: Iterable[str]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


_COLUMNS = (
    "id, target_service_name AS service, target_service_key AS key, target_handler_name AS handler, status, "
    "retry_count, next_retry_at, last_failure, last_failure_related_command_name AS step, completion_result, "
    "completion_failure, suspended_waiting_for_signals AS signals, journal_size"
)


def _payload_text(entry_json: str | None) -> str:
    """The success bytes of a journal entry's JSON (``{"...": {"result": {"Success": [..bytes..]}}}``) as text."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                if name == "Success" and isinstance(value, list) and all(isinstance(b, int) for b in value):
                    found.append(bytes(value).decode("utf-8", errors="replace"))
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    try:
        walk(json.loads(entry_json or "null"))
    except ValueError:
        return ""
    return "\n".join(found)


def _journaled_awakeables(query: Query, invocation_ids: list[str]) -> dict[str, list[str]]:
    """Per running invocation: its own awakeables named in its journaled step results, not yet completed."""
    if not invocation_ids:
        return {}
    rows = query(
        "SELECT id, entry_type, entry_json FROM sys_journal WHERE id IN ("
        + _quoted(invocation_ids)
        + ") AND entry_type IN ('Notification: Run', 'Notification: Signal')"
    )
    named: dict[str, list[str]] = {}
    done: dict[str, set[int]] = {}
    for row in rows:
        if row.get("entry_type") == "Notification: Signal":
            index = json.loads(row.get("entry_json") or "{}").get("Notification", {}).get("Signal", {}).get("id")
            if isinstance(index, dict) and isinstance(index.get("SignalIndex"), int):
                done.setdefault(row["id"], set()).add(index["SignalIndex"])
            continue
        own = _invocation_bytes(row["id"])
        for candidate in _AWAKEABLE.findall(_payload_text(row.get("entry_json"))):
            owner = _awakeable_owner(candidate)
            if owner is not None and owner[0] == own and candidate not in named.get(row["id"], []):
                named.setdefault(row["id"], []).append(candidate)
    return {
        invocation: [a for a in found if (_awakeable_owner(a) or (b"", -1))[1] not in done.get(invocation, set())]
        for invocation, found in named.items()
    }


def _signal_awakeables(row: dict[str, Any]) -> list[str]:
    signals = row.get("signals") or []
    return [awakeable_id(row["id"], index) for index in signals if int(index) >= FIRST_AWAKEABLE_SIGNAL]


def find_open_approvals(query: Query, ingress: str, services: Iterable[str] | None = None) -> list[OpenApproval]:
    """Every awakeable an invocation waits for (suspended on it, or announced it in a step and still running)."""
    where = "status IN ('suspended', 'running', 'backing-off')"
    if services is not None:
        names = list(services)
        if not names:
            return []
        where += f" AND target_service_name IN ({_quoted(names)})"
    rows = query(f"SELECT {_COLUMNS} FROM sys_invocation WHERE {where} ORDER BY created_at")
    running = [row["id"] for row in rows if row.get("status") != "suspended"]
    journaled = _journaled_awakeables(query, running)
    found = []
    for row in rows:
        awakeables = _signal_awakeables(row) if row.get("status") == "suspended" else journaled.get(row["id"], [])
        found += [OpenApproval(_label(row), row["id"], awakeable, ingress) for awakeable in awakeables]
    return found


def fetch_output(
    ingress_url: str, invocation_id: str, *, wait: bool = False, timeout: float | None = 30.0
) -> httpx.Response:
    """The ingress's answer for an invocation: ``/output`` (470 while it runs) or, ``wait``, ``/attach``."""
    path = "attach" if wait else "output"
    url = f"{ingress_url.rstrip('/')}/restate/invocation/{quote(invocation_id, safe='')}/{path}"
    return httpx.get(url, timeout=timeout)


@dataclass
class _Seen:
    status: str
    retry_count: int = 0
    waited: bool = False
    """Retried, suspended, or in flight when we started: its caller may be gone."""
    awakeables: set[str] = field(default_factory=set)
    journal_size: int = 0
    said_suspended: bool = False
    said_paused: bool = False


class InvocationWatcher:
    """Poll the invocations of ``services`` and print one line per wait, as it happens.

    ``emit`` prints a line (flushed); ``ingress`` is the address the printed commands call. Only
    invocations in flight, or completed after the watcher started, are read; quick calls that
    complete between two polls are not printed (their caller has the answer), ``/send`` ones are.
    """

    def __init__(
        self,
        admin_url: str,
        ingress_url: str,
        services: Iterable[str],
        emit: Callable[[str], None],
        *,
        ingress: str | None = None,
        output_hint: str = "durable-agents output",
        interval: float = POLL_SECONDS,
    ) -> None:
        self.admin_url = admin_url.rstrip("/")
        self.ingress_url = ingress_url.rstrip("/")
        self.ingress = ingress or self.ingress_url
        self.services = sorted(set(services))
        self.emit = emit
        self.output_hint = output_hint
        self.interval = interval
        self.since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        self._seen: dict[str, _Seen] = {}
        self._first = True
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = httpx.Client(timeout=10)

    def query(self, sql: str) -> list[dict[str, Any]]:
        response = self._client.post(
            f"{self.admin_url}/query", json={"query": sql}, headers={"accept": "application/json"}
        )
        response.raise_for_status()
        return list(response.json()["rows"])

    # -- one poll ------------------------------------------------------------------------------------
    def poll(self) -> None:
        """Read the server once and print what changed since the last poll."""
        if not self.services:
            return
        rows = self.query(
            f"SELECT {_COLUMNS} FROM sys_invocation WHERE target_service_name IN ({_quoted(self.services)}) "
            f"AND (status <> 'completed' OR completed_at >= '{self.since}') ORDER BY modified_at"
        )
        first, self._first = self._first, False
        progressed = [
            row["id"]
            for row in rows
            if row.get("status") in ("running", "backing-off")
            and int(row.get("journal_size") or 0)
            != (self._seen[row["id"]].journal_size if row["id"] in self._seen else -1)
        ]
        journaled = _journaled_awakeables(self.query, progressed)
        new_completions = [
            row["id"] for row in rows if row.get("status") == "completed" and row["id"] not in self._seen
        ]
        sent = self._sent(new_completions)
        for row in rows:
            self._update(row, first=first, journaled=journaled.get(row["id"]), sent=row["id"] in sent)
            if row["id"] in progressed:  # its journal is read again only once it grows
                self._seen[row["id"]].journal_size = int(row.get("journal_size") or 0)

    def _sent(self, invocation_ids: list[str]) -> set[str]:
        """Which of these invocations came in through ``/send`` (nobody waits for their answer)."""
        if not invocation_ids:
            return set()
        rows = self.query(
            f"SELECT id, entry_json FROM sys_journal WHERE index = 0 AND id IN ({_quoted(invocation_ids)})"
        )
        sent = set()
        for row in rows:
            try:
                headers = json.loads(row.get("entry_json") or "{}")["Command"]["Input"]["headers"]
            except (ValueError, KeyError, TypeError):
                continue
            for header in headers:
                if header.get("name") == "x-restate-ingress-path" and str(header.get("value", "")).endswith("/send"):
                    sent.add(row["id"])
        return sent

    def _update(self, row: dict[str, Any], *, first: bool, journaled: list[str] | None, sent: bool) -> None:
        invocation, status = row["id"], str(row.get("status"))
        prefix = f"[{_label(row)} {invocation}]"
        seen = self._seen.get(invocation)
        previous = seen.status if seen is not None else None
        if seen is None:
            seen = self._seen[invocation] = _Seen(status=status, waited=first and status != "completed")
            if first and status != "completed":
                self.emit(
                    f"{prefix} in flight ({status}); its answer shows here when it completes, "
                    f"or later: {self.output_hint} {invocation}"
                )
        retries = int(row.get("retry_count") or 0)
        if status == "backing-off" and retries > seen.retry_count:
            seen.retry_count = retries
            seen.waited = True
            step = f" step {row['step']!r}" if row.get("step") else ""
            self.emit(
                f"{prefix} retrying{step} (attempt {retries} failed): {_first_line(row.get('last_failure'))}; "
                f"next attempt at {_clock(row.get('next_retry_at'))}"
            )
        if status == "paused" and not seen.said_paused:
            seen.said_paused = seen.waited = True
            admin = self.admin_url.replace("http://127.0.0.1", "localhost").removeprefix("http://")
            self.emit(
                f"{prefix} paused after {retries} attempts (Restate stopped retrying): "
                f"{_first_line(row.get('last_failure'))}; "
                f"resume: curl -X PATCH {admin}/invocations/{invocation}/resume"
            )
        if status != "paused":
            seen.said_paused = False
        awakeables = _signal_awakeables(row) if status == "suspended" else (journaled or [])
        for awakeable in awakeables:
            if awakeable not in seen.awakeables:
                seen.awakeables.add(awakeable)
                seen.waited = True
                for line in OpenApproval(_label(row), invocation, awakeable, self.ingress).lines(prefix):
                    self.emit(line)
        if status == "suspended" and not awakeables and not seen.said_suspended:
            seen.said_suspended = seen.waited = True
            self.emit(f"{prefix} suspended: waiting for a timer or a call to another handler")
        if status != "suspended":
            seen.said_suspended = False
        # printed when seen in flight before (its caller may be gone) or sent with /send (nobody waits)
        if status == "completed" and previous != "completed" and (previous is not None or sent):
            self._completed(row, prefix, hint=seen.waited or sent)
        seen.status = status

    def _completed(self, row: dict[str, Any], prefix: str, *, hint: bool) -> None:
        invocation = row["id"]
        if row.get("completion_result") == "failure":
            self.emit(f"{prefix} failed: {_first_line(row.get('completion_failure'))}")
            return
        try:
            response = fetch_output(self.ingress_url, invocation, timeout=5)
            text = response.text.strip() if response.status_code < 300 else ""
        except httpx.HTTPError:
            text = ""
        with contextlib.suppress(ValueError):  # not JSON: shown as it is
            text = json.dumps(json.loads(text), ensure_ascii=False) if text else ""
        short = _first_line(text)
        more = hint or short != text
        self.emit(
            f"{prefix} completed: {short or '(no output)'}"
            + (f"  (whole answer: {self.output_hint} {invocation})" if more else "")
        )

    # -- the thread ----------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            # the server is starting or stopping: try again next time
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                self.poll()
            self._stop.wait(self.interval)

    def start(self) -> InvocationWatcher:
        self._thread = threading.Thread(target=self._run, name="invocation-watcher", daemon=True)
        self._thread.start()
        return self

    def in_flight(self) -> list[tuple[str, str]]:
        """``(invocation id, status)`` of every invocation not completed at the last poll."""
        return [(invocation, seen.status) for invocation, seen in self._seen.items() if seen.status != "completed"]

    def stop(self) -> None:
        """Stop polling, after one last poll: ``in_flight`` then tells what is unfinished now, not at
        the last tick (a demo's request answered just before would otherwise show as running)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None
        if not self._client.is_closed:
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                self.poll()
        self._client.close()
