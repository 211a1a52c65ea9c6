"""Replay-safe tracing of ADK runs (integrations.google_adk._tracing): one run exports the same span
tree, each span once, on a plain server and on one that replays at every await.

The served app exports with the real OTLP/HTTP exporter (``DURABLE_AGENTS_OTEL=1`` in the serve
process) to a receiver in this process; the service is stopped gracefully so its exporter flushes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from integrations.runtime import Ingress, RestateServer, Stack
from integrations.testing import ScriptedModelServer, text, tool_call

from ..openai_agents._otlp import OtlpReceiver, ReceivedSpan

APP = "tests/apps/adk_chat_app.py:app"
MODEL = "openai/gpt-test"
EXPECTED_TREE = Counter(
    {
        ("invocation assistant", ""): 1,
        ("invoke_agent assistant", "invocation assistant"): 1,
        (f"chat {MODEL}", "invoke_agent assistant"): 2,
        ("execute_tool get_weather", "invoke_agent assistant"): 1,
    }
)


def tree(spans: list[ReceivedSpan]) -> Counter[tuple[str, str]]:
    """(span name, parent span name) for every span; the root's parent is outside the export."""
    by_id = {span.span_id: span for span in spans}
    return Counter((span.name, by_id[span.parent_id].name if span.parent_id in by_id else "") for span in spans)


def test_always_replay_exports_the_same_spans_as_a_plain_run_each_once(
    restate_server: RestateServer, replay_server: RestateServer, tmp_path: Path
) -> None:
    """The same turn (a tool call, then the answer) on a plain server and on an always-replay one, served
    by one service process registered with both; its exporter flushes when it stops gracefully."""
    (tmp_path / "effects.log").touch()
    with OtlpReceiver() as receiver, ScriptedModelServer() as model:
        env: dict[str, str | None] = {
            "OPENAI_API_KEY": "sk-test-no-real-provider",
            "EFFECTS_FILE": str(tmp_path / "effects.log"),
            "GATE_DIR": str(tmp_path),
            "DURABLE_AGENTS_INGRESS_URL": restate_server.ingress_url,  # live text of both runs: not checked here
            **model.client_env(),
            **receiver.env(),
        }
        stack = Stack(restate_server, APP, env=env, log_dir=tmp_path / "logs").start()
        try:
            replay_server.register(stack.services[0].uri)
            invocations = []
            for server in (restate_server, replay_server):
                model.enqueue(tool_call("get_weather", {"city": "Oslo"}, call_id="call_oslo"), text("Sunny in Oslo"))
                ingress = Ingress(server.ingress_url)
                try:
                    invocation = ingress.send("AdkAssistant", "message", {"message": "Weather in Oslo?"}, key="traced")
                    assert ingress.attach(invocation) == "Sunny in Oslo"
                finally:
                    ingress.close()
                invocations.append(str(invocation))
            assert len(model.requests) == 4
            stack.services[0].stop()  # a graceful stop flushes the exporter: every span it will send is here
        finally:
            stack.stop()
        spans = receiver.spans
    plain_id, replayed_id = invocations
    plain = [span for span in spans if span.attributes["restate.invocation.id"] == plain_id]
    replayed = [span for span in spans if span.attributes["restate.invocation.id"] == replayed_id]
    assert len(plain) + len(replayed) == len(spans)

    assert tree(plain) == EXPECTED_TREE
    assert tree(replayed) == tree(plain)  # replays add no span and lose none
    for invocation, spans in ((plain_id, plain), (replayed_id, replayed)):
        assert len({span.span_id for span in spans}) == len(spans)  # each span exactly once
        assert len({span.trace_id for span in spans}) == 1  # one invocation, one trace
        assert {span.attributes["restate.invocation.id"] for span in spans} == {invocation}
        model_calls = [span for span in spans if span.name == f"chat {MODEL}"]
        assert {span.attributes["restate.journal.step"] for span in model_calls} == {f"LLM call: {MODEL}"}
        assert all(span.attributes["gen_ai.usage.input_tokens"] == 10 for span in model_calls)
        (tool,) = [span for span in spans if span.name == "execute_tool get_weather"]
        called = (tool.attributes["gen_ai.tool.name"], tool.attributes["gen_ai.tool.call.id"])
        assert called == ("get_weather", "call_oslo")
        assert not [span for span in spans if span.name in ("call_llm", "invocation")]  # ADK's own: not exported
    # The always-replay run really was replayed: its root began in an earlier attempt than the one exporting it.
    (root,) = [span for span in replayed if span.name == "invocation assistant"]
    assert root.attributes.get("restate.span.resumed") is True
