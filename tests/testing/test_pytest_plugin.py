"""The test kit's pytest plugin as a user meets it: a project with an agent and a test that asks for
the fixtures by name, run by pytest in its own process (the plugin comes from the entry point).
Killing and restarting a served app (``stack.kill_service()``/``start_service()``) is what the
durability tests do through the same ``serve`` fixture; it costs a service start (~8 s here), so
this test leaves it out."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

AGENT = '''
import restate
from agents import Agent, function_tool

from integrations.openai_agents import DurableRunner

calls = []


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


agent = Agent(name="Weather", instructions="Report the weather.", tools=[get_weather])
service = restate.Service("Weather")


@service.handler()
async def run(ctx: restate.Context, message: str) -> str:
    result = await DurableRunner.run(agent, message, context=ctx)
    return str(result.final_output)


app = restate.app([service])
'''

USER_TEST = """
from pathlib import Path

from integrations.testing import text, tool_call

APP = f"{Path(__file__).parent / 'agent.py'}:app"


def test_the_agent_calls_its_tool_on_an_always_replay_server(restate_server, model_server, serve):
    assert restate_server.always_replay  # pytest --always-replay
    stack = serve(restate_server, APP, model=model_server)
    model_server.enqueue(tool_call("get_weather", {"city": "Paris"}), text("Sunny in Paris."))
    assert stack.ingress.call("Weather", "run", "Paris?") == "Sunny in Paris."
    assert len(model_server.requests) == 2
    assert model_server.requests[1].tool_outputs() == ["sunny in Paris"]

"""


@pytest.mark.server
def test_a_user_project_tests_its_agent_with_the_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(agent=AGENT, test_agent=USER_TEST)
    result = pytester.runpytest_subprocess("--always-replay", "-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)
