"""The Google ADK quickstart (agents/adk_quickstart), end to end with its offline model: the curls
its launch.toml prints, on an always-replay server (every step replayed at every await: no model
call paid twice, the session rebuilt from the journal), and ``./dev up adk_quickstart --demo``."""

from __future__ import annotations

import json
import shlex
import subprocess
import uuid
from pathlib import Path

import pytest

from integrations.runtime import RestateServer
from integrations.runtime._launch_spec import load_launch_file
from integrations.runtime.serve import load_target
from integrations.testing import ScriptedModelServer
from integrations.testing.pytest_plugin import ServeFactory

from ..conftest import REPO_ROOT
from ._demo import assert_demo_answers_offline

FOLDER = REPO_ROOT / "agents" / "adk_quickstart"
SPEC = load_launch_file(FOLDER / "launch.toml")
assert SPEC.offline_responder is not None  # the weather script it shares with the OpenAI quickstart
offline_responder = load_target(SPEC.offline_responder)


def test_launch_examples_answer_offline_and_the_session_remembers(
    replay_server: RestateServer, serve: ServeFactory
) -> None:
    assert len(SPEC.examples) == 2
    session = f"s{uuid.uuid4().hex[:8]}"
    with ScriptedModelServer(offline_responder) as model:
        stack = serve(replay_server, SPEC.target, model=model, env=dict(SPEC.offline_env))
        answers = []
        for example in SPEC.examples:
            command = example.curl.format(ingress=replay_server.ingress_port).replace("/alice/", f"/{session}/")
            result = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=120, check=True)
            answers.append(json.loads(result.stdout))
        assert "In Detroit it is 3°C and overcast" in answers[0] and "offline sample data" in answers[0]
        assert "In Paris it is 11°C" in answers[1]
        assert len(model.requests) == 4  # model, tool, model per question: none paid twice, though replayed
        assert model.requests[2].user_texts() == ["What is the weather in Detroit?", "And in Paris?"]
        assert stack.ingress.call("AdkWeather", "run", "What is the weather in Tokyo?", key=session).startswith(
            "[offline model] In Tokyo"
        )


@pytest.mark.server
def test_dev_up_adk_quickstart_demo_answers_offline(tmp_path: Path) -> None:
    assert_demo_answers_offline("adk_quickstart", "AdkWeather/alice/run", tmp_path / "data")
