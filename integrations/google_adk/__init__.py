"""Durable Google ADK agents: journaled model calls and tools, approvals over awakeables, and
sessions in Virtual Object state.

```python
app = App(name="weather", root_agent=agent, plugins=[DurablePlugin()])
runner = Runner(app=app, session_service=RestateSessionService(), auto_create_session=True)
async for event in runner.run_async(user_id=ctx.key(), session_id=ctx.key(), new_message=message):
    ...
```

``chat_object(app)`` is a ready chat Virtual Object for the chat page (``integrations.streams``);
``RestateMemoryService`` with ``memory_object()`` is ADK's long-term memory on Restate.

Only this package imports ``google.adk``; install it with ``pip install 'durable-agents-toolkit[google-adk]'``.
"""

from .._extras import require_extra

try:
    from ..retry import StepRetry
    from ._chat import ChatMessage, chat_object, session_history
    from ._memory import MEMORY_OBJECT, RestateMemoryService, memory_key, memory_object
    from ._model import DurableLlm
    from ._plugin import APPROVAL_TIMED_OUT, DurablePlugin, confirmation_of
    from ._scope import restate_context
    from ._serde import LlmResponsesSerde
    from ._session import RestateSessionService
    from ._tools import ToolFailed, classify_tool, not_journaled
except ImportError:  # name the extra to install when google-adk is missing
    require_extra("integrations.google_adk", "google-adk", extra="google-adk")
    raise

__all__ = [
    "APPROVAL_TIMED_OUT",
    "MEMORY_OBJECT",
    "ChatMessage",
    "DurableLlm",
    "DurablePlugin",
    "LlmResponsesSerde",
    "RestateMemoryService",
    "RestateSessionService",
    "StepRetry",
    "ToolFailed",
    "chat_object",
    "classify_tool",
    "confirmation_of",
    "memory_key",
    "memory_object",
    "not_journaled",
    "restate_context",
    "session_history",
]
