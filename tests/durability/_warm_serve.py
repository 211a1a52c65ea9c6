"""Fast service restarts: ``python -m tests.durability._warm_serve TARGET PORT CONTROL_DIR``.

A zygote process imports the app once (the slow part: the Agents SDK takes seconds to import,
more on a loaded machine), then for each ``CONTROL_DIR/go-<n>`` file forks a child that serves
exactly as ``python -m integrations.runtime.serve TARGET --port PORT`` does, and writes the child's
pid to ``CONTROL_DIR/pid-<n>``. Each child is its own session, so a test SIGKILLs it like any crashed
service; the next child starts in a fraction of a second. Served code (app module re-executed,
SDK, ASGI server) is unchanged: only the interpreter's import work is shared, as in a pre-fork server.

:class:`WarmService` drives it from a test (or the chaos soak): ``start()``, ``kill()``, ``stop()``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

from integrations.runtime import free_port, wait_until
from integrations.runtime._ports import port_open
from integrations.runtime.serve import load_target, main

REPO_ROOT = Path(__file__).resolve().parents[2]


def _reap() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def _exit_with(parent: int) -> None:
    """A served child dies with its zygote, so nothing outlives a test process that crashed."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def zygote(target: str, port: str, control_dir: str) -> None:
    load_target(target)  # import everything now; a child re-executes only the app module itself
    control = Path(control_dir)
    parent = os.getppid()
    serial = 0
    while True:
        serial += 1
        go = control / f"go-{serial}"
        while not go.exists():
            if os.getppid() != parent:  # the test process is gone
                return
            _reap()
            time.sleep(0.01)
        pid = os.fork()
        if pid == 0:
            os.setsid()
            threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
            code = 0
            try:
                main([target, "--port", port])
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        (control / f"pid-{serial}.tmp").write_text(str(pid))
        (control / f"pid-{serial}.tmp").rename(control / f"pid-{serial}")


class WarmService:
    """The app served on one fixed port by children of a pre-imported zygote process.

    ``kill()`` SIGKILLs the serving child; ``start()`` forks a fresh one, which serves within a
    fraction of a second instead of the seconds a fresh import of the Agents SDK takes.
    """

    def __init__(self, target: str, *, env: dict[str, str], log_dir: Path) -> None:
        self.port = free_port()
        self.control = log_dir / f"zygote-{self.port}"
        self.control.mkdir(parents=True, exist_ok=True)
        pythonpath = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
        with open(log_dir / "service.log", "ab") as log:
            self._zygote = subprocess.Popen(
                [sys.executable, "-m", "tests.durability._warm_serve", target, str(self.port), str(self.control)],
                env={**os.environ, **env, "PYTHONPATH": pythonpath},
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.log_path = log_dir / "service.log"
        self._serial = 0
        self._pid: int | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> WarmService:
        self._serial += 1
        (self.control / f"go-{self._serial}").touch()
        pid_file = self.control / f"pid-{self._serial}"

        def up() -> bool:
            if self._zygote.poll() is not None:
                raise RuntimeError(f"the service zygote exited; log: {self.log_path}")
            return pid_file.exists() and port_open(self.port)

        wait_until(up, timeout=120, what=f"service on port {self.port}")
        self._pid = int(pid_file.read_text())
        return self

    def kill(self) -> None:
        """SIGKILL the serving process: it dies mid-step, like a crash."""
        pid, self._pid = self._pid, None
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        wait_until(lambda: not port_open(self.port), timeout=15, what=f"port {self.port} to close")

    def stop(self) -> None:
        self.kill()
        self._zygote.kill()
        self._zygote.wait()


if __name__ == "__main__":
    zygote(*sys.argv[1:4])
