"""The ADK benchmark agent on this toolkit: ``DurablePlugin`` + ``RestateSessionService``, plain tools."""

from __future__ import annotations

import restate
from google.adk.apps import App
from google.adk.runners import Runner

from bench._adk_common import PLAIN_TOOLS, adk_agent, answer
from integrations.google_adk import DurablePlugin, RestateSessionService

app_ = App(name="bench", root_agent=adk_agent(PLAIN_TOOLS), plugins=[DurablePlugin()])
sessions = RestateSessionService()
service = restate.VirtualObject("BenchAdkOurs")


@service.handler()
async def run(ctx: restate.ObjectContext, message: str) -> str:
    runner = Runner(app=app_, session_service=sessions, auto_create_session=True)
    return await answer(runner, ctx.key(), ctx.key(), message)


app = restate.app([service])
