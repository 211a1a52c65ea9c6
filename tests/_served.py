"""An app served once per restate-server, for modules whose tests run on both server modes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from integrations.runtime import RestateServer, Stack
from integrations.testing import ScriptedModelServer


class ServedPerServer:
    """``served(server)``: the app served and registered on ``server``, started on first use and
    shared by the module's tests (a module-scoped fixture holds it and calls ``stop()`` at the end).

    The app reaches ``model`` and logs its side effects to ``effects_file``; ``warm_up`` runs once
    per started stack (the first model call of a process may be slow: a test of timeouts must not
    spend its budget there)."""

    def __init__(
        self,
        app: str,
        model: ScriptedModelServer,
        log_dir: Path,
        *,
        effects_file: Path | None = None,
        warm_up: Callable[[Stack], None] | None = None,
    ) -> None:
        self.app, self.model, self.log_dir = app, model, log_dir
        self.effects_file = effects_file or log_dir / "effects.log"
        self.warm_up = warm_up
        self._stacks: dict[int, Stack] = {}

    def __call__(self, server: RestateServer) -> Stack:
        if id(server) not in self._stacks:
            env = {**self.model.client_env(), "EFFECTS_FILE": str(self.effects_file), "GATE_DIR": str(self.log_dir)}
            stack = Stack(server, self.app, env=env, log_dir=self.log_dir / str(len(self._stacks))).start()
            if self.warm_up is not None:
                self.warm_up(stack)
            self._stacks[id(server)] = stack
        return self._stacks[id(server)]

    def stop(self) -> None:
        for stack in self._stacks.values():
            stack.stop()
