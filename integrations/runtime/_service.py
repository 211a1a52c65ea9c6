"""A Restate app served (granian or hypercorn, one or more workers) in its own process.

Its own process, so a test can kill and restart it like a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Self

from ._lifecycle import Started
from ._ports import free_port, port_open, wait_until
from .serve import default_workers

SERVICE_ENV_DEFAULTS = {
    # LiteLLM otherwise fetches its model price map from the network at import, retrying for seconds
    # when offline; a durable service should start the same way every time. The user's value wins.
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    # Piped stdout is block-buffered: lines meant for a person (a resolve command) must arrive now.
    "PYTHONUNBUFFERED": "1",
}
"""Set for every served app unless the environment (or ``env=``) already sets them."""


class ServiceProcess(Started):
    """``python -m integrations.runtime.serve TARGET`` on a fixed port across restarts.

    The port stays the same so a deployment registered once stays valid after ``kill()`` and
    ``start()``: exactly what a crashed-and-restarted service looks like to Restate.

    The process runs in ``cwd`` (default: the current directory) with ``cwd`` on ``PYTHONPATH``, so
    ``package.module:app`` targets import the user's code; relative file targets are resolved against
    ``cwd`` here. Output: with ``log_path``, stdout and stderr are appended to that file. With
    ``echo=True``, every stdout line is also printed to this process's stdout, prefixed
    ``echo_prefix`` and flushed; stderr (logging) then goes only to the log, or to this process's
    stderr when there is no log. This is how a resolve command printed by an app reaches the
    terminal of ``durable-agents up``.

    ``workers`` and ``server`` are the serve command's ``--workers`` (default: the CPUs we may use)
    and ``--server`` (default ``auto``: granian when installed, else hypercorn). Every worker is in
    the process group of the service, so ``kill()`` and ``stop()`` reach them all.
    """

    def __init__(
        self,
        target: str,
        *,
        port: int | None = None,
        env: Mapping[str, str | None] | None = None,
        log_path: str | Path | None = None,
        cwd: str | Path | None = None,
        echo: bool = False,
        echo_prefix: str = "[service] ",
        host: str = "127.0.0.1",
        workers: int | None = None,
        server: str = "auto",
        identity_keys: Sequence[str] = (),
        web_port: int | None = None,
        shares_port: bool = False,
    ) -> None:
        self.cwd = Path(cwd or Path.cwd()).resolve()
        self.target = _absolute_file_target(target, self.cwd)
        self.port = port or free_port()
        self.env: dict[str, str | None] = dict(env or {})
        self.log_path = Path(log_path) if log_path else None
        self.echo = echo
        self.echo_prefix = echo_prefix
        self.host = host
        self.workers = workers
        self.server = server
        self.identity_keys = list(identity_keys)
        self.web_port = web_port
        self.shares_port = shares_port
        self._process: subprocess.Popen[bytes] | None = None
        self._pump: threading.Thread | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def web_uri(self) -> str | None:
        """Where the browser endpoints are served apart (``web_port``), else None."""
        return f"http://127.0.0.1:{self.web_port}" if self.web_port is not None else None

    def environment(self) -> dict[str, str]:
        """The child's environment: ours, the defaults, ``env=`` (a ``None`` value removes the
        variable, e.g. ``{"OPENAI_API_KEY": None}``), and ``cwd`` first on PYTHONPATH."""
        env = dict(os.environ)
        for name, value in SERVICE_ENV_DEFAULTS.items():
            env.setdefault(name, value)
        for name, setting in self.env.items():
            if setting is None:
                env.pop(name, None)
            else:
                env[name] = setting
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(self.cwd), env.get("PYTHONPATH")) if p)
        return env

    def start(self, timeout: float = 60.0) -> Self:
        others = (_listeners(self.port) or 0) if self.shares_port else 0
        log: IO[bytes] | None = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115 - the child owns it
        if self.echo:
            stdout: int | IO[bytes] = subprocess.PIPE
            stderr: int | IO[bytes] | None = log  # None: inherit our stderr
        else:
            stdout = log if log is not None else subprocess.DEVNULL
            stderr = subprocess.STDOUT
        try:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "integrations.runtime._serve_process",
                    self.target,
                    "--host",
                    self.host,
                    "--port",
                    str(self.port),
                    "--server",
                    self.server,
                    *(["--workers", str(self.workers)] if self.workers is not None else []),
                    *[arg for key in self.identity_keys for arg in ("--identity-key", key)],
                    *(["--web-port", str(self.web_port)] if self.web_port is not None else []),
                ],
                env=self.environment(),
                cwd=self.cwd,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        except BaseException:
            if log is not None:
                log.close()
            raise
        if self.echo:
            assert self._process.stdout is not None
            self._pump = threading.Thread(
                target=self._echo, args=(self._process.stdout, log), name=f"echo-{self.port}", daemon=True
            )
            self._pump.start()
        elif log is not None:
            log.close()

        def ready() -> bool:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(
                    f"service {self.target} exited with {self._process.returncode}"
                    + (f"; log: {self.log_path}" if self.log_path else "")
                )
            # every worker binds the port itself once it has imported the app: wait for all of them,
            # or Restate's first (long-lived, reused) connections would all go to the first one
            listening = _listeners(self.port)
            return port_open(self.port) and (listening is None or listening >= others + workers)

        workers = self.workers if self.workers is not None else default_workers()
        try:
            wait_until(ready, timeout=timeout, what=f"service {self.target} on port {self.port} ({workers} workers)")
        except TimeoutError:
            self.kill()  # a service that did not come up in time must not keep running unowned
            raise
        return self

    def _echo(self, stream: IO[bytes], log: IO[bytes] | None) -> None:
        """Copy each stdout line to our stdout (prefixed, flushed) and to the log."""
        try:
            for line in iter(stream.readline, b""):
                if log is not None:
                    log.write(line)
                    log.flush()
                text = line.decode("utf-8", errors="replace")
                sys.stdout.write(self.echo_prefix + text + ("" if text.endswith("\n") else "\n"))
                sys.stdout.flush()
        finally:
            stream.close()
            if log is not None:
                log.close()

    @property
    def pid(self) -> int | None:
        """The serve command's process id (also its process group: its workers are in it), while started."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit code once the process has exited on its own, else None."""
        return self._process.poll() if self._process is not None else None

    def kill(self) -> None:
        """SIGKILL: the process dies mid-step, like a crash."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM and wait."""
        self._signal(signal.SIGTERM)

    def _signal(self, sig: signal.Signals) -> None:
        process, self._process = self._process, None
        pump, self._pump = self._pump, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, sig)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            if not self.shares_port:
                wait_until(lambda: not port_open(self.port), timeout=15, what=f"port {self.port} to close")
        if pump is not None:
            pump.join(timeout=5)  # the last lines the service printed are echoed before we return


def _listeners(port: int) -> int | None:
    """How many sockets listen on ``port`` (any address), or None where /proc/net does not tell (not Linux)."""
    count = 0
    found = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        found = True
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A" and int(fields[1].rpartition(":")[2], 16) == port:  # 0A: LISTEN
                count += 1
    return count if found else None


def _absolute_file_target(target: str, cwd: Path) -> str:
    """``rel/file.py:app`` -> ``/cwd/rel/file.py:app``; module targets are left alone."""
    location, sep, attr = target.rpartition(":")
    if sep and location.endswith(".py"):
        return f"{(cwd / location).resolve()}:{attr}"
    return target
