"""The journal encoding of ModelResponse round-trips every output item type the SDK produces."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from agents.items import ModelResponse, TResponseOutputItem
from agents.usage import Usage
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails
from pydantic import TypeAdapter

from integrations.openai_agents import ModelResponseSerde

DONE = "completed"
ITEMS: dict[str, dict[str, Any]] = {
    "message": {
        "id": "msg_1",
        "role": "assistant",
        "status": DONE,
        "content": [
            {
                "type": "output_text",
                "text": "hi",
                "annotations": [
                    {"type": "url_citation", "url": "https://x", "title": "x", "start_index": 0, "end_index": 2}
                ],
            },
            {"type": "refusal", "refusal": "no"},
        ],
    },
    "file_search_call": {
        "id": "fs_1",
        "queries": ["q"],
        "status": DONE,
        "results": [{"file_id": "f", "text": "t", "score": 0.5}],
    },
    "function_call": {
        "id": "fc_1",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"city": "Oslo"}',
        "status": DONE,
    },
    "function_call_output": {"id": "fco_1", "call_id": "call_1", "output": "sunny", "status": DONE},
    "web_search_call": {"id": "ws_1", "status": DONE, "action": {"type": "search", "query": "weather"}},
    "computer_call": {
        "id": "cc_1",
        "call_id": "call_2",
        "status": DONE,
        "pending_safety_checks": [],
        "action": {"type": "click", "button": "left", "x": 1, "y": 2},
    },
    "computer_call_output": {
        "id": "cco_1",
        "call_id": "call_2",
        "status": DONE,
        "output": {"type": "computer_screenshot", "image_url": "data:image/png;base64,AA=="},
    },
    "reasoning": {"id": "rs_1", "summary": [{"type": "summary_text", "text": "thinking"}], "encrypted_content": "enc"},
    "program": {"id": "pg_1", "call_id": "call_3", "code": "print(1)", "fingerprint": "fp"},
    "program_output": {"id": "pgo_1", "call_id": "call_3", "result": "1", "status": DONE},
    "tool_search_call": {"id": "ts_1", "arguments": {"query": "x"}, "execution": "server", "status": DONE},
    "tool_search_output": {"id": "tso_1", "execution": "server", "status": DONE, "tools": []},
    "additional_tools": {"id": "at_1", "role": "developer", "tools": []},
    "compaction": {"id": "cmp_1", "encrypted_content": "enc"},
    "image_generation_call": {"id": "ig_1", "status": DONE, "result": "AA=="},
    "code_interpreter_call": {
        "id": "ci_1",
        "container_id": "c",
        "status": DONE,
        "code": "1+1",
        "outputs": [{"type": "logs", "logs": "2"}],
    },
    "local_shell_call": {
        "id": "ls_1",
        "call_id": "call_4",
        "status": DONE,
        "action": {"type": "exec", "command": ["ls"], "env": {}},
    },
    "local_shell_call_output": {"id": "lso_1", "output": "file"},
    "shell_call": {"id": "sh_1", "call_id": "call_5", "status": DONE, "action": {"commands": ["ls"]}},
    "shell_call_output": {
        "id": "sho_1",
        "call_id": "call_5",
        "status": DONE,
        "output": [{"stdout": "a", "stderr": "", "outcome": {"type": "exit", "exit_code": 0}}],
    },
    "apply_patch_call": {
        "id": "ap_1",
        "call_id": "call_6",
        "status": DONE,
        "operation": {"type": "delete_file", "path": "a.txt"},
    },
    "apply_patch_call_output": {"id": "apo_1", "call_id": "call_6", "status": DONE, "output": "ok"},
    "mcp_call": {"id": "mcp_1", "name": "t", "arguments": "{}", "server_label": "s", "output": "o"},
    "mcp_list_tools": {"id": "mcpl_1", "server_label": "s", "tools": [{"name": "t", "input_schema": {}}]},
    "mcp_approval_request": {"id": "mcpa_1", "name": "t", "arguments": "{}", "server_label": "s"},
    "mcp_approval_response": {"id": "mcpr_1", "approval_request_id": "mcpa_1", "approve": True},
    "custom_tool_call": {"id": "ct_1", "call_id": "call_7", "name": "grammar", "input": "text"},
    "custom_tool_call_output": {"id": "cto_1", "call_id": "call_7", "output": "done", "status": DONE},
}
_ADAPTER: TypeAdapter[TResponseOutputItem] = TypeAdapter(TResponseOutputItem)


def every_item() -> list[TResponseOutputItem]:
    """One output item of every type in :data:`ITEMS`, in type order: a response that uses them all."""
    return [_ADAPTER.validate_python({"type": kind, **fields}) for kind, fields in sorted(ITEMS.items())]


def detailed_usage(cached_tokens: int, reasoning_tokens: int) -> Usage:
    """Usage with every count set, token details included: the nested parts an encoding could drop."""
    return Usage(
        requests=1,
        input_tokens=120,
        output_tokens=30,
        total_tokens=150,
        input_tokens_details=InputTokensDetails(cached_tokens=cached_tokens, cache_write_tokens=0),
        output_tokens_details=OutputTokensDetails(reasoning_tokens=reasoning_tokens),
    )


def _union_types() -> set[str]:
    members = typing.get_args(typing.get_args(TResponseOutputItem)[0])
    return {typing.get_args(m.model_fields["type"].annotation)[0] for m in members}


def test_fixtures_cover_every_output_item_type_of_this_sdk() -> None:
    assert set(ITEMS) == _union_types()


@pytest.mark.parametrize("item_type", sorted(ITEMS))
def test_each_item_type_round_trips(item_type: str) -> None:
    item = _ADAPTER.validate_python({"type": item_type, **ITEMS[item_type]})
    response = ModelResponse(output=[item], usage=Usage(), response_id=None)
    serde = ModelResponseSerde()
    back = serde.deserialize(serde.serialize(response))
    assert back == response
    assert type(back.output[0]) is type(item)
    assert back.output[0].model_fields_set == item.model_fields_set  # the SDK re-sends exclude_unset dumps


def test_usage_ids_and_raw_usage_round_trip() -> None:
    usage = detailed_usage(cached_tokens=100, reasoning_tokens=12)
    response = ModelResponse(
        output=every_item(), usage=usage, response_id="resp_9", request_id="req_9", raw_usage={"x": 1}
    )
    serde = ModelResponseSerde()
    back = serde.deserialize(serde.serialize(response))
    assert back == response
    assert (back.usage.input_tokens_details.cached_tokens, back.usage.output_tokens_details.reasoning_tokens) == (
        100,
        12,
    )
    assert serde.deserialize(serde.serialize(None)) is None
