"""Fast service restarts: ``python -m tests.durability._warm_serve TARGET PORT CONTROL_DIR``.

A zygote process imports the app once (the slow part: the Agents SDK takes seconds to import,
more on a loaded machine), then for each ``CONTROL_DIR/go-<n>`` file forks a child that serves
exactly as ``python -m integrations.runtime.serve TARGET --port PORT`` does, and writes the child's
pid to ``CONTROL_DIR/pid-<n>``. Each child is its own session, so a test SIGKILLs it like any crashed
service; the next child starts in a fraction of a second. Served code (app module re-executed,
SDK, ASGI server) is unchanged: only the interpreter's import work is shared, as in a pre-fork server.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

from integrations.runtime.serve import load_target, main


def _reap() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


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
            code = 0
            try:
                main([target, "--port", port])
            except BaseException:  # noqa: BLE001 - a child must never return into the zygote loop
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        (control / f"pid-{serial}.tmp").write_text(str(pid))
        (control / f"pid-{serial}.tmp").rename(control / f"pid-{serial}")


if __name__ == "__main__":
    zygote(*sys.argv[1:4])
