"""Wake-ups for SSE readers: "topic T may have new events", within this process and across processes.

A reader always pulls the durable topic to see what is there; a hint only says *when* to look.
Without hints a reader on another worker than the one that stored an event would only notice it
at its next idle poll (``with_events(poll_interval=...)``, one second by default).

Across processes the hint travels as a Unix datagram. Every process that has SSE readers binds one
datagram socket in a directory shared by every process talking to the same Restate ingress on this
machine (``hint_dir()``); a publisher sends the topic name to each socket found there. So with
several granian workers, or several service processes on one host, a reader hears of an event a
few hundred microseconds after it was stored, without polling.

Limits: only processes on the same host (sharing the temp directory) hear each other. Readers on
another host fall back to polling every ``poll_interval`` seconds; route a chat's SSE reads to the
host that serves its topic, or shorten ``poll_interval`` there. A lost datagram (a reader's buffer
full) is harmless: the next hint or the idle poll catches up.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import logging
import os
import socket
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .. import settings
from ..awakeables import ingress_url

__all__ = ["HINT_DIR_ENV", "Hints", "hint_dir", "hints"]

log = logging.getLogger(__name__)

HINT_DIR_ENV = settings.HINT_DIR.name
"""Where the hint sockets live; default: a folder per ingress URL under the temp directory.
``off`` sends no hints across processes (readers of other processes then poll)."""
_MAX_PATH = 100  # sun_path holds 108 bytes on Linux, fewer elsewhere
_MAX_TOPIC = 2048


def hint_dir() -> Path | None:
    """The folder whose sockets are woken for topics of this process's Restate ingress (None: off)."""
    configured = settings.HINT_DIR.raw()
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    digest = hashlib.sha1(ingress_url().encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"durable-agents-hints-{os.getuid()}" / digest


class _Listener:
    """This process's socket in the hint folder and the thread that turns datagrams into wake-ups."""

    def __init__(self, folder: Path, wake: Hints) -> None:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if folder.stat().st_uid != os.getuid():
            raise OSError(f"hint folder {folder} belongs to another user")
        self.path = folder / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.sock"
        if len(str(self.path).encode()) > _MAX_PATH:
            raise OSError(f"hint socket path too long for a Unix socket: {self.path}")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.pid = os.getpid()
        self._wake = wake
        self._thread = threading.Thread(target=self._receive, name="stream hints", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def _receive(self) -> None:
        while True:
            try:
                data = self.sock.recv(_MAX_TOPIC)
            except OSError:
                return  # closed
            self._wake.wake_local(data.decode("utf-8", "replace"))

    def close(self) -> None:
        if os.getpid() != self.pid:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError):
            self.sock.close()


class Hints:
    """In-process waiters per topic, plus the cross-process datagrams that reach other processes."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._lock = threading.Lock()
        self._listeners: dict[Path, _Listener] = {}
        self._listen_failed: set[Path] = set()
        self._peers: dict[Path, tuple[int, list[str]]] = {}  # folder -> (its mtime, socket names)
        self._sender: socket.socket | None = None
        self._sender_pid = 0

    # -- waking ------------------------------------------------------------------------------------

    def wake_local(self, topic: str) -> None:
        """Wake the readers of ``topic`` in this process (thread-safe)."""
        with self._lock:
            waiting = list(self._waiters.get(topic, ()))
        for loop, event in waiting:
            if not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(event.set)

    def notify(self, topic: str) -> None:
        """``topic`` may have new events: wake its readers here and in every process of the folder."""
        self.wake_local(topic)
        data = topic.encode()
        if len(data) > _MAX_TOPIC:
            return  # its readers poll
        folder = hint_dir()
        if folder is None:
            return
        try:
            own = self._listeners.get(folder)
            sender = self._sender_socket()
            for name in self._peer_names(folder):
                path = folder / name
                if own is not None and own.pid == os.getpid() and path == own.path:
                    continue
                try:
                    sender.sendto(data, str(path))
                except (ConnectionRefusedError, FileNotFoundError):
                    with contextlib.suppress(OSError):  # a process that died without cleaning up
                        path.unlink()
                except (BlockingIOError, OSError):
                    pass  # its buffer is full: it is awake anyway, or it polls
        except OSError as err:
            log.debug("stream hints not sent for %s: %s", topic, err)

    def _sender_socket(self) -> socket.socket:
        if self._sender is None or self._sender_pid != os.getpid():
            self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sender.setblocking(False)
            self._sender_pid = os.getpid()
        return self._sender

    def _peer_names(self, folder: Path) -> list[str]:
        """The sockets in ``folder``, re-listed only when the folder changed (a process came or went)."""
        try:
            stat = folder.stat()
        except FileNotFoundError:
            return []
        if stat.st_uid != os.getuid():
            return []  # not ours: topic names are not sent to another user's sockets
        mtime = stat.st_mtime_ns
        cached = self._peers.get(folder)
        if cached is None or cached[0] != mtime:
            cached = (mtime, [name for name in os.listdir(folder) if name.endswith(".sock")])
            self._peers[folder] = cached
        return cached[1]

    # -- waiting -----------------------------------------------------------------------------------

    def _listen(self) -> None:
        """Bind this process's socket for the current ingress (once per process and folder)."""
        folder = hint_dir()
        if folder is None:
            return
        listener = self._listeners.get(folder)
        if (listener is not None and listener.pid == os.getpid()) or folder in self._listen_failed:
            return
        try:
            self._listeners[folder] = _Listener(folder, self)
        except OSError as err:
            self._listen_failed.add(folder)
            log.warning("SSE readers of this process will poll for events of other processes: %s", err)

    def listening(self) -> bool:
        """Whether this process hears the hints of other processes (else its readers must poll)."""
        folder = hint_dir()
        listener = self._listeners.get(folder) if folder is not None else None
        return listener is not None and listener.pid == os.getpid()

    @contextmanager
    def subscribe(self, topic: str) -> Iterator[asyncio.Event]:
        """An event set whenever ``topic`` may have grown, while the ``with`` block lasts."""
        self._listen()
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.setdefault(topic, set()).add(waiter)
        try:
            yield waiter[1]
        finally:
            with self._lock:
                waiting = self._waiters.get(topic)
                if waiting is not None:
                    waiting.discard(waiter)
                    if not waiting:
                        del self._waiters[topic]


hints = Hints()
"""The process's hints: ``notify`` after storing events, ``subscribe`` in a reader."""
