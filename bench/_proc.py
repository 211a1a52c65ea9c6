"""Reading a process group's CPU time and memory from /proc (Linux), for the benchmark's figures."""

from __future__ import annotations

import os
from pathlib import Path

from integrations.runtime import RestateServer

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes (all their threads) so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


def memory_kb(pid: int, field_name: str = "VmHWM") -> int:
    """``VmHWM`` (peak resident set) or ``VmRSS`` of a process, in kB; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def group_pids(pgid: int) -> list[int]:
    """The processes of a process group: a served app's serve command and its workers."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return sorted(pids)


def server_pids(server: RestateServer) -> list[int]:
    """restate-server's process, found by its data dir on the command line."""
    marker = str(server.base_dir / "data").encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def load() -> str:
    """The machine's load, for the record next to figures measured on a shared machine."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1/5/15 min) on {os.cpu_count()} CPUs"
