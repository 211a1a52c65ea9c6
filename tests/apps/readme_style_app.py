"""An app written the README's way, as a user pastes it: ``restate.app([...])`` with no
``guard_inputs``. The bad-input sweep serves it to prove the serve command refuses bad bodies for it."""

from __future__ import annotations

import restate
from agents import Agent
from pydantic import BaseModel

from integrations.openai_agents import DurableRunner

agent = Agent(name="Assistant", instructions="You are a helpful assistant.")

service = restate.Service("ReadmeAgent")


@service.handler()
async def run(ctx: restate.Context, message: str) -> str:
    result = await DurableRunner.run(agent, message, context=ctx)
    return str(result.final_output)


class Question(BaseModel):
    message: str
    language: str = "en"


@service.handler()
async def ask(ctx: restate.Context, question: Question) -> str:
    result = await DurableRunner.run(agent, f"({question.language}) {question.message}", context=ctx)
    return str(result.final_output)


notes = restate.VirtualObject("ReadmeNotes")


@notes.handler()
async def add(ctx: restate.ObjectContext, note: str) -> list[str]:
    saved = await ctx.get("notes", type_hint=list[str]) or []
    saved.append(note.strip())
    ctx.set("notes", saved)
    return saved


app = restate.app([service, notes])
