"""Durable AI-agent toolkit on Restate.

Sub-packages:
- ``integrations.openai_agents``: durable model calls, sessions and tools for the OpenAI Agents SDK.
- ``integrations.litellm``: a journal-friendly ``llm_call`` for hand-written agent loops.
- ``integrations.errors``: the one place that maps provider errors to Restate semantics.
- ``integrations.runtime``: run a real restate-server and serve apps (main command and tests).
- ``integrations.testing``: a scripted OpenAI-compatible model server for offline runs and tests.
"""
