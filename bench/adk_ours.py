"""The ADK benchmark agent on this toolkit: ``DurablePlugin`` + ``RestateSessionService``, plain tools."""

from __future__ import annotations

import restate
from google.adk.apps import App

from bench._adk_common import PLAIN_TOOLS, adk_agent, durable_object
from integrations.google_adk import DurablePlugin, RestateSessionService

app_ = App(name="bench", root_agent=adk_agent(PLAIN_TOOLS), plugins=[DurablePlugin()])
app = restate.app([durable_object("BenchAdkOurs", app_, RestateSessionService())])
