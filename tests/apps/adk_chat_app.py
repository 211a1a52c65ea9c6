"""ADK chats built with ``integrations.google_adk.chat_object``, for tests/google_adk/test_adk_events.py
and test_adk_chat_page.py: live events on topics, the chat page, and memory on Restate.

- ``AdkAssistant/<key>``: an agent with ``get_weather`` (records ``weather:<city>`` in
  ``$EFFECTS_FILE``) and ``transfer_money`` (a person confirms each call: the page's approval panel;
  records ``transfer:<amount>``), publishing each turn to the topic ``AdkAssistant:<key>``;
- ``AdkRecall/<user>:<n>``: an agent with ADK's ``load_memory`` tool whose sessions are added to
  ``RestateMemoryService`` after each turn (``after_agent_callback``), so a later session of the same
  user recalls them; the memory object is ``AdkMemory``, keyed ``recall:<user>``.

The model is ADK's ``LiteLlm`` against the scripted model server (``$OPENAI_BASE_URL``).
"""

from __future__ import annotations

import os
from typing import Any

import restate
from google.adk.agents import LlmAgent
from google.adk.agents.callback_context import CallbackContext
from google.adk.apps import App
from google.adk.models.lite_llm import LiteLlm
from google.adk.tools.function_tool import FunctionTool
from google.adk.tools.load_memory_tool import load_memory_tool
from google.genai import types

from integrations.google_adk import DurablePlugin, RestateMemoryService, chat_object, memory_object
from integrations.streams import ChatPage, agent_events, with_events
from tests.apps._support import record_effect


def _model() -> LiteLlm:
    return LiteLlm(model="openai/gpt-test", api_base=os.environ["OPENAI_BASE_URL"], api_key="sk-test")


async def get_weather(city: str) -> dict[str, Any]:
    """The current weather in a city."""
    record_effect(f"weather:{city}")
    return {"city": city, "temperature": 21.5, "sky": "sunny"}


def transfer_money(amount: int) -> str:
    """Transfer money: a person approves every call."""
    record_effect(f"transfer:{amount}")
    return f"transferred {amount} EUR"


async def remember(callback_context: CallbackContext) -> types.Content | None:
    """After each turn: the whole session into the user's memory (ADK's own idiom)."""
    await callback_context.add_session_to_memory()
    return None


assistant = LlmAgent(
    name="assistant",
    model=_model(),
    instruction="You are a helpful assistant.",
    tools=[get_weather, FunctionTool(transfer_money, require_confirmation=True)],
)
recaller = LlmAgent(
    name="recaller",
    model=_model(),
    instruction="Answer from what you remember.",
    tools=[load_memory_tool],
    after_agent_callback=remember,
)

assistant_app = App(name="assistant", root_agent=assistant, plugins=[DurablePlugin()])
assistant_chat = chat_object(assistant_app, name="AdkAssistant")
recall_chat = chat_object(
    App(name="recall", root_agent=recaller, plugins=[DurablePlugin()]),
    name="AdkRecall",
    memory_service=RestateMemoryService(),
)

app = with_events(
    restate.app([assistant_chat, recall_chat, agent_events, memory_object()]),
    chats=[ChatPage(service="AdkAssistant"), ChatPage(service="AdkRecall")],
)
