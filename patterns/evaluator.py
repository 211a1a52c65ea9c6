"""Evaluator-optimizer: generate, evaluate, improve, until the evaluator passes the result.

Every generation and evaluation is a journaled call with an iteration-specific name, so a crash
resumes in the middle of the loop and the Restate UI shows each round.
"""

from __future__ import annotations

from typing import Literal

import restate
from pydantic import BaseModel, Field

from integrations.testing import ModelRequest, Reply

from ._llm import chat, llm_step, text_of
from ._offline import answer, instructed, structured
from ._pattern import Pattern

__all__ = [
    "PATTERN",
    "Evaluation",
    "EvaluatorInput",
    "ImprovementResult",
    "evaluator_optimizer_service",
    "offline_script",
]

GENERATOR_PROMPT = "Solve the task. If earlier attempts and feedback are given, fix every issue raised."
EVALUATOR_PROMPT = (
    "Evaluate the solution for correctness, efficiency and readability. Answer PASS only if it is "
    "correct and well implemented; otherwise IMPROVE with specific feedback."
)


class EvaluatorInput(BaseModel):
    """The task to solve."""

    message: str = (
        "Write a Python function that returns the longest palindromic substring of a string. "
        "It should be efficient and handle edge cases."
    )


class Evaluation(BaseModel):
    """The evaluator's structured verdict."""

    verdict: Literal["PASS", "IMPROVE"]
    feedback: str = Field(default="", description="What to fix when the verdict is IMPROVE")


class ImprovementResult(BaseModel):
    """The final solution, whether it passed, and how many rounds it took."""

    solution: str
    passed: bool
    iterations: int


def evaluator_optimizer_service(
    *,
    name: str = "EvaluatorOptimizer",
    generator_instructions: str = GENERATOR_PROMPT,
    evaluator_instructions: str = EVALUATOR_PROMPT,
    max_iterations: int = 5,
    model: str | None = None,
    evaluator_model: str | None = None,
) -> restate.Service:
    """A service whose ``improve_until_good`` handler alternates a generator and an evaluator
    (structured output :class:`Evaluation`) for at most ``max_iterations`` rounds."""
    if max_iterations < 1:
        raise ValueError("max_iterations must be at least 1")
    service = restate.Service(name)

    @service.handler()
    async def improve_until_good(ctx: restate.Context, task: EvaluatorInput) -> ImprovementResult:
        """Generate and evaluate until PASS; return the last solution if the rounds run out."""
        feedback: list[str] = []
        solution = ""
        for iteration in range(1, max_iterations + 1):
            history = "".join(f"\n\nAttempt {i}:\n{text}" for i, text in enumerate(feedback, 1))
            prompt = task.message + (f"\n\nEarlier attempts and feedback:{history}" if history else "")
            generated = await llm_step(ctx, f"generate v{iteration}", chat(generator_instructions, prompt), model=model)
            solution = text_of(generated)
            judged = await llm_step(
                ctx,
                f"evaluate v{iteration}",
                chat(evaluator_instructions, f"Task:\n{task.message}\n\nSolution:\n{solution}"),
                response_format=Evaluation,
                model=evaluator_model or model,
            )
            evaluation = judged.parsed_as(Evaluation)
            if evaluation.verdict == "PASS":
                return ImprovementResult(solution=solution, passed=True, iterations=iteration)
            feedback.append(f"{solution}\nFeedback: {evaluation.feedback}")
        return ImprovementResult(solution=solution, passed=False, iterations=max_iterations)

    return service


# -- offline script ------------------------------------------------------------------------------

_FIRST_DRAFT = "attempt 1"


def offline_script(request: ModelRequest) -> Reply | None:
    """The offline model as the default generator and evaluator: the evaluator asks for one
    improvement of the first draft and passes the second, so the loop runs two rounds."""
    if instructed(request, EVALUATOR_PROMPT):
        if _FIRST_DRAFT in request.last_user_text:
            return structured({"verdict": "IMPROVE", "feedback": "Handle the empty string and explain the complexity."})
        return structured({"verdict": "PASS", "feedback": ""})
    if instructed(request, GENERATOR_PROMPT):
        attempt = request.last_user_text.count("\nAttempt ") + 1
        return answer(
            f"(attempt {attempt}) def longest_palindrome(s: str) -> str: expand around each centre, O(n^2) time."
        )
    return None


PATTERN = Pattern(
    defaults=lambda: {"evaluator_optimizer": evaluator_optimizer_service()}, offline_script=offline_script
)
"""The default instances ``patterns.app`` serves, by name, and the offline script that plays them."""
