"""Durable AI-agent toolkit on Restate.

Sub-packages:
- ``integrations.openai_agents``: durable model calls, sessions and tools for the OpenAI Agents SDK
  (extra ``openai-agents``).
- ``integrations.litellm``: a journal-friendly ``llm_call`` for hand-written agent loops (extra ``litellm``).
- ``integrations.errors``: the one place that maps provider errors to Restate semantics.
- ``integrations.inputs``: ``guard_inputs(services)``: bad request bodies fail at once with a 4xx.
- ``integrations.runtime``: run a real restate-server and serve apps (``durable-agents up|serve``, tests).
- ``integrations.testing``: a scripted OpenAI-compatible model server for offline runs and tests.

Importing the toolkit changes nothing in the process (no environment variables, no library globals);
settings such as ``LITELLM_LOCAL_MODEL_COST_MAP`` are applied only to the processes the toolkit starts.
"""
