"""Tool routing with LiteLLM: the Restate docs' pattern, journaled step by step.

Run it (offline, with the scripted model answering) or with OPENAI_API_KEY set:

    python -m integrations.runtime.serve examples/tool_routing.py:app --port 9080
    curl localhost:8080/SupportAgent/route --json '{"message": "Why was I charged twice?", "user_id": "u-1"}'

Every model call is one ``ctx.run_typed`` step: a crash after the first call never pays for it again.
"""

from __future__ import annotations

import json

import restate
from pydantic import BaseModel
from restate import RunOptions

from integrations.inputs import guard_inputs
from integrations.litellm import llm_call, tool, tool_result


class SupportTicket(BaseModel):
    user_id: str
    subject: str
    priority: str = "normal"


class SupportRequest(BaseModel):
    message: str = "I was charged twice this month, please fix it."
    user_id: str = "user-42"


TOOLS = [
    tool("query_user_database", "Get user account and billing info"),
    tool("create_support_ticket", "Create support tickets", SupportTicket.model_json_schema()),
]

support = restate.Service("SupportAgent")


async def query_user_database(user_id: str) -> dict:
    return {"user_id": user_id, "plan": "pro", "last_invoices": [49, 49]}


@support.handler()
async def route(ctx: restate.Context, request: SupportRequest) -> str:
    messages: list = [
        {"role": "system", "content": "You are a support agent. Use the tools, then answer briefly."},
        {"role": "user", "content": request.message},
    ]
    for _ in range(5):
        response = await ctx.run_typed("LLM call", llm_call, RunOptions(max_attempts=3), messages=messages, tools=TOOLS)
        messages.append(response.model_dump())  # usable as the next chat message
        if not response.tool_calls:
            return response.content or ""
        for tool_call in response.tool_calls:
            fn = tool_call.function
            result: dict[str, object] | str
            if fn.name == "query_user_database":
                result = await ctx.run_typed("query user database", query_user_database, user_id=request.user_id)
            elif fn.name == "create_support_ticket":
                ticket = SupportTicket.model_validate(json.loads(fn.arguments) | {"user_id": request.user_id})
                result = {"ticket_id": f"T-{str(ctx.uuid())[:8]}", "subject": ticket.subject}
            else:
                result = f"unknown tool {fn.name}"
            messages.append(tool_result(tool_call.id, fn.name, result))
    raise restate.TerminalError("no answer after 5 model turns")


app = restate.app(guard_inputs([support]))  # bad or oversized bodies: a 4xx at once
