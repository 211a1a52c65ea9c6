"""Durable AI-agent toolkit on Restate.

Sub-packages:
- ``integrations.openai_agents``: durable model calls, sessions and tools for the OpenAI Agents SDK.
- ``integrations.litellm``: a journal-friendly ``llm_call`` for hand-written agent loops.
- ``integrations.errors``: the one place that maps provider errors to Restate semantics.
- ``integrations.runtime``: run a real restate-server and serve apps (main command and tests).
- ``integrations.testing``: a scripted OpenAI-compatible model server for offline runs and tests.
"""

import os as _os

# LiteLLM fetches its model price map from the network at import time, retrying for seconds when
# offline. A durable service should start the same way every time: use the bundled map unless
# the user chose otherwise.
_os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
