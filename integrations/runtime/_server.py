"""A real restate-server process on loopback ports of our choosing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, Any, Self

import httpx

from ._binary import ensure_restate_server
from ._lifecycle import Started
from ._ports import free_port, wait_until


class RestateServer(Started):
    """Start, health-check, talk to and stop one restate-server.

    ``always_replay=True`` sets the invoker's inactivity timeout to zero, so the server suspends
    the invocation at every await and every step is replayed: the strongest determinism check.
    """

    def __init__(
        self,
        *,
        base_dir: str | Path | None = None,
        ingress_port: int | None = None,
        admin_port: int | None = None,
        always_replay: bool = False,
        extra_env: dict[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self._owns_dir = base_dir is None
        self.base_dir = Path(base_dir or tempfile.mkdtemp(prefix="restate-"))
        self.ingress_port = ingress_port or free_port()
        self.admin_port = admin_port or free_port()
        self.node_port = free_port()
        self.always_replay = always_replay
        self.extra_env = dict(extra_env or {})
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def ingress_url(self) -> str:
        return f"http://127.0.0.1:{self.ingress_port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "restate-server.log"

    def start(self, *, wait: bool = True) -> Self:
        """Start the process (again, after ``kill()``/``stop()``: same ports, same data directory).

        ``wait=False`` returns at once; call :meth:`wait_healthy` later. Cluster nodes need that:
        a node only becomes healthy once enough of its peers are up.
        """
        binary = ensure_restate_server()
        self.base_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(
            RESTATE_INGRESS__BIND_ADDRESS=f"127.0.0.1:{self.ingress_port}",
            RESTATE_ADMIN__BIND_ADDRESS=f"127.0.0.1:{self.admin_port}",
            RESTATE_BIND_ADDRESS=f"127.0.0.1:{self.node_port}",
            RESTATE_ADVERTISED_ADDRESS=f"http://127.0.0.1:{self.node_port}",
            RESTATE_DISABLE_TELEMETRY="true",
            RESTATE_LOG_FORMAT="compact",
        )
        if self.always_replay:
            env["RESTATE_WORKER__INVOKER__INACTIVITY_TIMEOUT"] = "0s"
        env.update(self.extra_env)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - the server writes to it until stop() closes it
        self._process = subprocess.Popen(
            [str(binary), "--base-dir", str(self.base_dir / "data")],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if wait:
            self.wait_healthy()
        return self

    def wait_healthy(self) -> None:
        """Block until the admin API and the ingress answer their health checks."""
        try:
            wait_until(self._healthy, timeout=self.startup_timeout, what="restate-server health")
        except TimeoutError as err:
            self.stop()
            raise RuntimeError(f"restate-server did not become healthy; log: {self.log_path}") from err

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The server's process id (also its process group), while started."""
        return self._process.pid if self._process is not None else None

    def version_info(self) -> dict[str, Any] | None:
        """The admin API's ``/version`` answer if a restate-server answers on ``admin_port``, else None."""
        try:
            response = httpx.get(f"{self.admin_url}/version", timeout=2)
            info = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None
        return info if isinstance(info, dict) and "version" in info else None

    def answering(self) -> bool:
        """True if a restate-server (not necessarily ours) answers on both the admin and ingress ports.

        ``durable-agents up`` then uses that server instead of starting one: the docs start
        restate-server first and run the app next to it.
        """
        if self.version_info() is None:
            return False
        try:
            return httpx.get(f"{self.ingress_url}/restate/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _healthy(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise RuntimeError(f"restate-server exited with {self._process.returncode}; log: {self.log_path}")
        try:
            admin = httpx.get(f"{self.admin_url}/health", timeout=1)
            ingress = httpx.get(f"{self.ingress_url}/restate/health", timeout=1)
        except httpx.HTTPError:
            return False
        return admin.status_code == 200 and ingress.status_code == 200

    def register(self, uri: str) -> dict[str, Any]:
        """Register (or force-update) the deployment at ``uri``; return the admin API's answer."""
        response = httpx.post(f"{self.admin_url}/deployments", json={"uri": uri, "force": True}, timeout=30)
        if response.status_code >= 300:
            raise RuntimeError(f"registering {uri} failed: {response.status_code} {response.text}")
        answer: dict[str, Any] = response.json()
        return answer

    def query(self, sql: str, *, timeout: float = 15.0) -> list[dict[str, Any]]:
        """Run a SQL query over the introspection tables (sys_invocation, state, ...).

        Columns that are NULL are absent from a row. Server errors are retried for ``timeout``
        seconds: right after start-up the partitions may not be queryable yet.
        """
        deadline = time.monotonic() + timeout
        while True:
            response = httpx.post(
                f"{self.admin_url}/query",
                json={"query": sql},
                headers={"accept": "application/json"},
                timeout=30,
            )
            if response.status_code < 300:
                return list(response.json()["rows"])
            if response.status_code < 500 or time.monotonic() > deadline:
                raise RuntimeError(f"query failed: {response.status_code} {response.text}\n{sql}")
            time.sleep(0.2)

    def invocation_status(self, invocation_id: str) -> str | None:
        """The status column of sys_invocation ('running', 'suspended', 'completed', ...)."""
        rows = self.query(f"SELECT status FROM sys_invocation WHERE id = '{invocation_id}'")
        return rows[0]["status"] if rows else None

    def kill(self) -> None:
        """SIGKILL the server, like a crash or a power cut; ``start()`` recovers from its data directory."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        self._close_log()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def cleanup(self) -> None:
        """Stop and delete the data directory if this object created it."""
        self.stop()
        if self._owns_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)
