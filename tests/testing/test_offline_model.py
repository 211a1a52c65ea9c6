"""The generic offline model answers any app from the request alone."""

from __future__ import annotations

import json

from integrations.testing import OFFLINE_LABEL, ModelRequest, offline_model, sample_arguments


def responses_request(**body: object) -> ModelRequest:
    return ModelRequest(api="responses", body={"input": [{"role": "user", "content": "hello"}], **body}, headers={})


WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "units": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "default": 3},
        "where": {"$ref": "#/$defs/Place"},
        "note": {"anyOf": [{"type": "null"}, {"type": "string"}]},
    },
    "required": ["city", "units", "days", "where", "note"],
    "$defs": {"Place": {"type": "object", "properties": {"lat": {"type": "number"}}, "required": ["lat"]}},
}


def test_arguments_are_drawn_from_the_schema() -> None:
    assert sample_arguments(WEATHER) == {
        "city": "sample",
        "units": "celsius",
        "days": 3,
        "where": {"lat": 1.0},
        "note": "sample",
    }


def test_it_calls_every_offered_tool_once_then_reports_their_results() -> None:
    tools = [
        {"type": "function", "name": "get_weather", "parameters": WEATHER},
        {"type": "function", "name": "get_time", "parameters": {"type": "object", "properties": {}}},
        {"type": "function", "name": "transfer_to_billing", "parameters": {}},  # a handoff: not called
    ]
    reply = offline_model(responses_request(tools=tools))
    assert [call.name for call in reply.tool_calls] == ["get_weather", "get_time"]

    answered = responses_request(
        tools=tools,
        input=[
            {"role": "user", "content": "hello"},
            {"type": "function_call_output", "call_id": "1", "output": "sunny"},
            {"type": "function_call_output", "call_id": "2", "output": "noon"},
        ],
    )
    final = offline_model(answered)
    assert final.tool_calls == () and final.text == f"{OFFLINE_LABEL} the tools answered: sunny; noon"


def test_without_tools_it_echoes_and_says_it_is_offline() -> None:
    reply = offline_model(responses_request())
    assert (
        reply.text is not None
        and reply.text.startswith(OFFLINE_LABEL)
        and "hello" in reply.text
        and "OPENAI_API_KEY" in reply.text
    )


def test_structured_output_is_an_instance_of_the_schema() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}
    reply = offline_model(responses_request(text={"format": {"type": "json_schema", "schema": schema}}))
    assert reply.text is not None and json.loads(reply.text) == {"city": "sample", "days": 1}


def test_chat_completions_tools_are_read_too() -> None:
    request = ModelRequest(
        api="chat",
        body={
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}],
        },
        headers={},
    )
    assert [call.name for call in offline_model(request).tool_calls] == ["lookup"]
