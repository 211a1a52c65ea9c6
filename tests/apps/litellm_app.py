"""Services over ``integrations.litellm``: the Restate docs' tool-routing loop, a single journaled
model call (for the error-classification tests) and a token-budgeted loop."""

from __future__ import annotations

import restate
from pydantic import BaseModel
from restate import RunOptions

from integrations.litellm import llm_call, token_budget, tool, tool_result
from tests.apps._support import record_effect


class SupportTicket(BaseModel):
    user_id: str
    description: str


TOOLS = [
    tool("query_user_database", "Get user account and billing info"),
    tool("create_support_ticket", "Create support tickets", SupportTicket.model_json_schema()),
]


async def query_user_db(user_id: str) -> dict[str, str]:
    record_effect(f"query_user_database:{user_id}")
    return {"user_id": user_id, "plan": "enterprise", "status": "api quota exceeded"}


async def create_ticket(ticket: SupportTicket) -> str:
    record_effect(f"create_support_ticket:{ticket.user_id}")
    return f"ticket created for {ticket.user_id}: {ticket.description}"


class Prompt(BaseModel):
    user_id: str = "user_12345"
    message: str


router = restate.Service("LitellmToolRouter")


@router.handler()
async def route(ctx: restate.Context, prompt: Prompt) -> str | None:
    messages = [
        {"role": "system", "content": "You are a support agent. Use the tools to answer."},
        {"role": "user", "content": prompt.message},
    ]
    while True:
        response = await ctx.run_typed("LLM call", llm_call, RunOptions(max_attempts=3), messages=messages, tools=TOOLS)
        messages.append(response.model_dump())
        if not response.tool_calls:
            return response.content
        for tool_call in response.tool_calls:
            fn = tool_call.function
            if fn.name == "query_user_database":
                result: dict[str, str] | str = await ctx.run_typed(
                    "Query user DB", query_user_db, user_id=prompt.user_id
                )
            elif fn.name == "create_support_ticket":
                ticket = SupportTicket.model_validate_json(fn.arguments)
                result = await ctx.run_typed("Create ticket", create_ticket, ticket=ticket)
            else:
                result = f"unknown tool {fn.name}"
            messages.append(tool_result(tool_call.id, fn.name, result))


class Ask(BaseModel):
    prompt: str
    max_attempts: int | None = 3
    """``None``: Restate's default, retry without end (what a plain ``ctx.run_typed`` does)."""


class Answer(BaseModel):
    content: str | None
    total_tokens: int


probe = restate.Service("LitellmProbe")


@probe.handler()
async def ask(ctx: restate.Context, req: Ask) -> Answer:
    response = await ctx.run_typed("LLM call", llm_call, RunOptions(max_attempts=req.max_attempts), messages=req.prompt)
    return Answer(content=response.content, total_tokens=response.usage.total_tokens)


class BudgetedRun(BaseModel):
    prompt: str
    calls: int
    max_tokens: int


budgeted = restate.Service("LitellmBudget")


@budgeted.handler()
async def run(ctx: restate.Context, req: BudgetedRun) -> int:
    budget = token_budget(ctx, req.max_tokens, name="research")
    for i in range(req.calls):
        response = await ctx.run_typed(f"LLM call {i}", llm_call, RunOptions(max_attempts=3), messages=req.prompt)
        budget.charge(response)
    return budget.used


app = restate.app([router, probe, budgeted])
