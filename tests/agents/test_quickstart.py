"""The quickstart agent and the main command, end to end with the offline model."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.runtime import IngressError, RestateServer, ServiceProcess, wait_until
from integrations.runtime.serve import load_target
from integrations.testing import ScriptedModelServer
from integrations.testing.pytest_plugin import ServeFactory

from ..conftest import REPO_ROOT
from ._demo import assert_demo_answers_offline

AGENT = REPO_ROOT / "agents" / "quickstart" / "agent.py"
offline_responder = load_target(str(REPO_ROOT / "agents/quickstart/offline_model.py") + ":responder")


def test_weather_question_runs_model_tool_model(restate_server: RestateServer, serve: ServeFactory) -> None:
    with ScriptedModelServer(offline_responder) as model:
        stack = serve(restate_server, f"{AGENT}:app", model=model, env={"WEATHER_OFFLINE": "1"})
        answer = stack.ingress.call("agent", "run", "What is the weather in Detroit?")
        assert "Detroit" in answer and "3°C" in answer and "offline sample data" in answer
        assert len(model.requests) == 2
        assert model.requests[1].tool_outputs()


def test_malformed_requests_fail_fast_with_400(restate_server: RestateServer, serve: ServeFactory) -> None:
    with ScriptedModelServer(offline_responder) as model:
        stack = serve(restate_server, f"{AGENT}:app", model=model, env={"WEATHER_OFFLINE": "1"})
        for bad in (12, {"city": "Detroit"}, "  "):
            with pytest.raises(IngressError) as failure:
                stack.ingress.call("agent", "run", bad)
            assert failure.value.status == 400
            # a number or an object: the input guard names the type; blank text: the handler's own check
            expected = "non-empty JSON string" if bad == "  " else "expected JSON of type str"
            assert expected in failure.value.message
        assert model.requests == []


def test_denver_keeps_retrying_until_the_line_is_removed_and_the_service_restarted(
    restate_server: RestateServer, serve: ServeFactory, tmp_path: Path
) -> None:
    with ScriptedModelServer(offline_responder) as model:
        stack = serve(restate_server, f"{AGENT}:app", model=model, env={"WEATHER_OFFLINE": "1"})
        invocation = stack.ingress.send("agent", "run", "What is the weather in Denver?")

        def failures() -> int:
            rows = restate_server.query(
                f"SELECT retry_count, last_failure FROM sys_invocation WHERE id = '{invocation}'"
            )
            return (
                int(rows[0].get("retry_count") or 0) if rows and "simulated" in str(rows[0].get("last_failure")) else 0
            )

        wait_until(lambda: failures() >= 2, timeout=60, what="Denver retries")
        assert restate_server.invocation_status(invocation) != "completed"
        assert len(model.requests) == 1  # retries replay the journaled model answer

        # The documented fix: delete the fail_on_denver line, restart the service.
        fixed = tmp_path / "agent.py"
        source = AGENT.read_text()
        assert "    fail_on_denver(city)\n" in source
        fixed.write_text(source.replace("    fail_on_denver(city)\n", ""))
        port = stack.services[0].port
        stack.kill_service()
        env = dict(stack.env)
        with ServiceProcess(f"{fixed}:app", port=port, env=env):
            answer = stack.ingress.attach(invocation)
        assert "Denver" in answer and "8°C" in answer
        assert len(model.requests) == 2


@pytest.mark.server
def test_main_command_demo_answers_offline(tmp_path: Path) -> None:
    assert_demo_answers_offline("quickstart", "agent/run", tmp_path / "data")
