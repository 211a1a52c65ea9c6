"""One restate-server plus the services registered with it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Self

from ._client import Ingress
from ._lifecycle import Started
from ._server import RestateServer
from ._service import ServiceProcess


class Stack(Started):
    """Serve each target in its own process on ``server`` and register it.

    ``kill_service`` then ``start_service`` simulate a crash of the service process while the
    server (and its journal) lives on. ``workers`` defaults to one process per service: a test
    that kills "the service" or counts what one process did must not depend on which worker
    Restate's connection landed on. Pass ``workers=None`` for the serve command's default (the CPUs).

    ``env`` is added to this process's environment for every service; a value of ``None`` removes
    the variable instead (``env={"OPENAI_API_KEY": None}``: the app runs as if it were never set).
    """

    def __init__(
        self,
        server: RestateServer,
        targets: str | list[str],
        *,
        env: Mapping[str, str | None] | None = None,
        log_dir: str | Path | None = None,
        workers: int | None = 1,
    ) -> None:
        self.server = server
        self.targets = [targets] if isinstance(targets, str) else list(targets)
        self.env: dict[str, str | None] = dict(env or {})
        self.log_dir = Path(log_dir) if log_dir else server.base_dir
        self.workers = workers
        self.services: list[ServiceProcess] = []
        self.ingress = Ingress(server.ingress_url)

    def start(self) -> Self:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for index, target in enumerate(self.targets):
            name = Path(target.split(":")[0]).stem
            service = ServiceProcess(
                target, env=self.env, log_path=self.log_dir / f"service-{index}-{name}.log", workers=self.workers
            )
            self.services.append(service.start())
            self.server.register(service.uri)
        return self

    def kill_service(self, index: int = 0) -> None:
        self.services[index].kill()

    def start_service(self, index: int = 0) -> None:
        self.services[index].start()

    def stop(self) -> None:
        for service in self.services:
            service.stop()
        self.ingress.close()
