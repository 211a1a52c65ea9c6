"""Live event streams of agent runs: a durable topic per run or chat, read as Server-Sent Events.

```python
from integrations.streams import TopicPublisher, agent_events, with_events

# in a handler: stream this run's model calls, tool results, approvals and answer to a topic
result = await DurableRunner.run(agent, text, context=ctx, events=TopicPublisher(f"Chat:{ctx.key()}"))
# (or the provider form: RunConfig(model_provider=DurableModelCalls(ctx, events=TopicPublisher(...))))

# the app: register the topic object, serve /events/<topic> and the /chat/ page on the same port
app = with_events(restate.app(services=[chat, agent_events]))
```

While a journaled model call runs, the provider is streamed and each text delta and tool call is
published to the topic; the journal still holds the one complete response. Events carry
(invocation id, step, attempt, seq); a retried model call first publishes a ``reset``; a replay
publishes nothing. Readers follow ``GET /events/<topic>`` (resume with ``Last-Event-ID``) or pull
pages from the ``AgentEvents/<topic>/pull`` handler. docs/chat.md is the contract a front end can rely on.
"""

from ._approvals import await_approval
from ._asgi import ChatPage, with_events
from ._events import (
    AgentEvent,
    AttemptInfo,
    AttemptStart,
    EventKind,
    EventPage,
    PublishRequest,
    PublishResult,
    PullRequest,
)
from ._publisher import AttemptPublisher, ModelStep, TopicPublisher, current_publisher
from ._topic import DEFAULT_RETENTION, EVENTS_OBJECT, agent_events, events_object

__all__ = [
    "DEFAULT_RETENTION",
    "EVENTS_OBJECT",
    "AgentEvent",
    "AttemptPublisher",
    "AttemptInfo",
    "AttemptStart",
    "ChatPage",
    "EventKind",
    "EventPage",
    "ModelStep",
    "PublishRequest",
    "PublishResult",
    "PullRequest",
    "TopicPublisher",
    "agent_events",
    "await_approval",
    "current_publisher",
    "events_object",
    "with_events",
]
