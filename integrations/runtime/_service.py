"""A Restate app served by hypercorn in its own process, so it can be killed and restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType

from ._binary import REPO_ROOT
from ._ports import free_port, port_open, wait_until


class ServiceProcess:
    """``python -m integrations.runtime.serve TARGET`` on a fixed port across restarts.

    The port stays the same so a deployment registered once stays valid after ``kill()`` and
    ``start()``: exactly what a crashed-and-restarted service looks like to Restate.
    """

    def __init__(
        self,
        target: str,
        *,
        port: int | None = None,
        env: dict[str, str] | None = None,
        log_path: str | Path | None = None,
    ) -> None:
        self.target = target
        self.port = port or free_port()
        self.env = dict(env or {})
        self.log_path = Path(log_path) if log_path else None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "ServiceProcess":
        env = dict(os.environ)
        env.update(self.env)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
        output = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self._process = subprocess.Popen(
            [sys.executable, "-m", "integrations.runtime.serve", self.target, "--port", str(self.port)],
            env=env,
            cwd=REPO_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if output is not subprocess.DEVNULL:
            output.close()

        def ready() -> bool:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(
                    f"service {self.target} exited with {self._process.returncode}"
                    + (f"; log: {self.log_path}" if self.log_path else "")
                )
            return port_open(self.port)

        wait_until(ready, timeout=timeout, what=f"service {self.target} on port {self.port}")
        return self

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the process dies mid-step, like a crash."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM and wait."""
        self._signal(signal.SIGTERM)

    def restart(self) -> "ServiceProcess":
        self.kill()
        return self.start()

    def _signal(self, sig: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        wait_until(lambda: not port_open(self.port), timeout=15, what=f"port {self.port} to close")

    def __enter__(self) -> "ServiceProcess":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
