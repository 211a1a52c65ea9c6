"""The ADK benchmark agent on plain ADK: ``Runner`` with the in-memory session service, no Restate."""

from __future__ import annotations

import uuid

from google.adk.runners import Runner
from google.adk.sessions import InMemorySessionService

from bench._adk_common import PLAIN_TOOLS, adk_agent, answer
from bench._plain_asgi import runner_app

runner = Runner(
    app_name="bench",
    agent=adk_agent(PLAIN_TOOLS),
    session_service=InMemorySessionService(),
    auto_create_session=True,
)


async def run(message: str) -> str:
    session = uuid.uuid4().hex
    return await answer(runner, session, session, message)


app = runner_app({"/run": run})
