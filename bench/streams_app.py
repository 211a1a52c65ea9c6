"""Served by the streams part of the benchmark: the topic object and the SSE endpoint, nothing else."""

from __future__ import annotations

import restate

from integrations.streams import agent_events, with_events

app = with_events(restate.app(services=[agent_events]))
