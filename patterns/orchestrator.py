"""Orchestrator-workers: one model call plans subtasks, workers run them in parallel, results
are combined in plan order.

The plan is journaled, so a retry never re-plans differently; a failing worker is retried on its
own while the finished workers' results stay in the journal.
"""

from __future__ import annotations

import re

import restate
from pydantic import BaseModel, Field

from integrations.testing import ModelRequest, Reply

from ._llm import chat, llm_step, text_of
from ._offline import answer, instructed, structured
from ._pattern import Pattern

__all__ = [
    "PATTERN",
    "OrchestratorInput",
    "OrchestratorResult",
    "Task",
    "TaskList",
    "WorkerResult",
    "offline_script",
    "orchestrator_service",
]

PLANNER_PROMPT = (
    "You are an orchestrator. Break the request into independent subtasks for specialist workers "
    "(for example sentiment, key points, summary). Return one task per worker."
)
WORKER_PROMPT = "You are a {task_type} specialist."
"""A worker's system prompt; ``{task_type}`` comes from the plan."""


class OrchestratorInput(BaseModel):
    """The request to break down."""

    message: str = (
        "Analyse this text for sentiment and key points, and summarise it: 'Our Q3 results exceeded "
        "expectations. Customer satisfaction reached 95%, revenue grew 40% and we launched three features.'"
    )


class Task(BaseModel):
    """One subtask of the plan."""

    task_type: str = Field(description="The kind of specialist, e.g. 'sentiment'")
    instruction: str = Field(description="What the worker must do")


class TaskList(BaseModel):
    """The orchestrator's plan (structured output)."""

    tasks: list[Task]


class WorkerResult(BaseModel):
    """One worker's task and answer."""

    task_type: str
    instruction: str
    result: str


class OrchestratorResult(BaseModel):
    """Every worker's result, in plan order (a model, since handlers return one JSON value)."""

    results: list[WorkerResult]


def orchestrator_service(
    *,
    name: str = "Orchestrator",
    planner_instructions: str = PLANNER_PROMPT,
    max_tasks: int = 8,
    model: str | None = None,
    worker_model: str | None = None,
) -> restate.Service:
    """A service whose ``process_text`` handler plans with structured output (:class:`TaskList`),
    runs up to ``max_tasks`` workers concurrently and returns their results in plan order."""
    if max_tasks < 1:
        raise ValueError("max_tasks must be at least 1")
    service = restate.Service(name)

    @service.handler()
    async def process_text(ctx: restate.Context, request: OrchestratorInput) -> OrchestratorResult:
        """Plan, fan out to workers, fan in."""
        plan = await llm_step(
            ctx, "Plan", chat(planner_instructions, request.message), response_format=TaskList, model=model
        )
        tasks = plan.parsed_as(TaskList).tasks[:max_tasks]
        workers = [
            llm_step(
                ctx,
                f"Worker {index}: {task.task_type}",
                chat(
                    WORKER_PROMPT.replace("{task_type}", task.task_type),
                    f"Task: {task.instruction}\n\nRequest:\n{request.message}",
                ),
                model=worker_model or model,
            )
            for index, task in enumerate(tasks, 1)
        ]
        if workers:
            await restate.gather(*workers)
        return OrchestratorResult(
            results=[
                WorkerResult(task_type=task.task_type, instruction=task.instruction, result=text_of(await worker))
                for task, worker in zip(tasks, workers, strict=True)
            ]
        )

    return service


# -- offline script ------------------------------------------------------------------------------

_OFFLINE_PLAN = TaskList(
    tasks=[
        Task(task_type="sentiment", instruction="Classify the sentiment of the text."),
        Task(task_type="key_points", instruction="List the key points of the text."),
        Task(task_type="summary", instruction="Summarise the text in one sentence."),
    ]
)
_WORKER = re.compile(re.escape(WORKER_PROMPT).replace(re.escape("{task_type}"), r"(\S+)"))


def offline_script(request: ModelRequest) -> Reply | None:
    """The offline model as the default planner (three tasks) and as each worker."""
    if instructed(request, PLANNER_PROMPT):
        return structured(_OFFLINE_PLAN.model_dump())
    worker = _WORKER.fullmatch(request.system)
    if worker is None:
        return None
    return answer(f"({worker.group(1)} worker) done: {request.last_user_text.splitlines()[0][:80]}")


PATTERN = Pattern(defaults=lambda: {"orchestrator": orchestrator_service()}, offline_script=offline_script)
"""The default instances ``patterns.app`` serves, by name, and the offline script that plays them."""
