"""The ADK benchmark agent on plain ADK: ``Runner`` with the in-memory session service, no Restate."""

from __future__ import annotations

import uuid

from google.adk.runners import Runner
from google.adk.sessions import InMemorySessionService

from bench._adk_common import PLAIN_TOOLS, adk_agent
from bench._plain_asgi import runner_app
from tests.apps.adk_common import final_text

runner = Runner(
    app_name="bench",
    agent=adk_agent(PLAIN_TOOLS),
    session_service=InMemorySessionService(),
    auto_create_session=True,
)


async def run(message: str) -> str:
    session = uuid.uuid4().hex
    return await final_text(runner, user_id=session, session_id=session, message=message)


app = runner_app({"/run": run})
