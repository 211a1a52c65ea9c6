"""One service process with the ADK test app per module, on the session's restate-server(s)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from integrations.runtime import RestateServer, Stack
from integrations.testing import ScriptedModelServer

from ..conftest import Effects

APP = "tests/apps/adk_app.py:app"


class AdkRig:
    """The served ADK app, its scripted model and its side-effect log, shared by a module's tests."""

    def __init__(self, stack: Stack, model: ScriptedModelServer, effects: Effects, log_dir: Path) -> None:
        self.stack = stack
        self.model = model
        self.effects = effects
        self.log_dir = log_dir

    def service_log(self) -> str:
        return "".join(path.read_text() for path in sorted(self.log_dir.glob("service-*.log")))


def start_rig(server: RestateServer, tmp: Path, app: str = APP) -> Iterator[AdkRig]:
    """Serve ``app`` on ``server`` with a scripted model of its own and an effects log under ``tmp``."""
    effects = Effects(tmp / "effects.log")
    with ScriptedModelServer() as model:
        env: dict[str, str | None] = {
            "OPENAI_API_KEY": "sk-test-no-real-provider",
            "EFFECTS_FILE": str(effects.path),
            "GATE_DIR": str(tmp),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "DURABLE_AGENTS_INGRESS_URL": server.ingress_url,
            **model.client_env(),
        }
        stack = Stack(server, app, env=env, log_dir=tmp / "logs").start()
        try:
            yield AdkRig(stack, model, effects, tmp / "logs")
        finally:
            stack.stop()


@pytest.fixture(scope="module")
def rig(restate_server: RestateServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdkRig]:
    yield from start_rig(restate_server, tmp_path_factory.mktemp("adk"))


@pytest.fixture(autouse=True)
def fresh_model(request: pytest.FixtureRequest) -> None:
    """Each test starts with an empty script and request log (the model server is the module's)."""
    if "rig" in request.fixturenames:
        request.getfixturevalue("rig").model.reset()
