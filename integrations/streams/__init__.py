"""Live event streams of agent runs: a durable topic per run or chat, read as Server-Sent Events.

```python
from integrations.streams import TopicPublisher, agent_events, with_events

# in a handler: stream this run's model calls, tool results, approvals and answer to a topic
result = await DurableRunner.run(agent, text, context=ctx, events=TopicPublisher(f"Chat:{ctx.key()}"))
# (or the provider form: RunConfig(model_provider=DurableModelCalls(ctx, events=TopicPublisher(...))))

# the app: register the topic object, serve /events/<topic> and the /chat/ page next to it
# (`durable-agents serve --web-port` serves the two apart; access= decides who may do what)
app = with_events(restate.app(services=[chat, agent_events]), access=Access(principal=user_of))
```

While a journaled model call runs, the provider is streamed and each text delta and tool call is
published to the topic; the journal still holds the one complete response. Events carry
(invocation id, step, attempt, seq); a retried model call first publishes a ``reset``; a replay
publishes nothing. Readers follow ``GET /events/<topic>`` (resume with ``Last-Event-ID``) or pull
pages from the ``AgentEvents/<topic>/pull`` handler. docs/chat.md is the contract a front end can rely on.
"""

from ._access import Access, Action, Target, WebLimits, WebRequest, owner_only
from ._approvals import await_approval
from ._asgi import ChatPage, EventsApp, WebApp, web_app, with_events
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
    "Access",
    "Action",
    "AgentEvent",
    "AttemptPublisher",
    "AttemptInfo",
    "AttemptStart",
    "ChatPage",
    "EventKind",
    "EventsApp",
    "EventPage",
    "ModelStep",
    "PublishRequest",
    "PublishResult",
    "PullRequest",
    "Target",
    "TopicPublisher",
    "WebApp",
    "WebLimits",
    "WebRequest",
    "agent_events",
    "await_approval",
    "current_publisher",
    "events_object",
    "owner_only",
    "web_app",
    "with_events",
]
