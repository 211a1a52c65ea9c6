"""Chapter "parallel tool steps": one tool runs three durable steps at the same time.

    curl localhost:8080/ParallelToolClaimAgent/run --json '{"date":"2024-10-01",
      "category":"orthopedic","reason":"hospital bill for a broken leg","amount":3000,
      "placeOfService":"General Hospital"}'

``restate.gather`` keeps the parallel steps deterministic on replay: the journal records the
``eligibility``, ``cost`` and ``fraud`` steps in the order they were started.
"""

from __future__ import annotations

import restate
from agents import Agent, RunContextWrapper, Runner, function_tool

from integrations.openai_agents import raise_restate_errors

from .utils.models import InsuranceClaim
from .utils.utils import check_eligibility, check_fraud, compare_to_standard_rates, durable_run_config


@function_tool(failure_error_function=raise_restate_errors)
async def calculate_metrics(wrapper: RunContextWrapper[restate.Context], claim: InsuranceClaim) -> list[str]:
    """Calculate claim metrics."""
    restate_context = wrapper.context

    # Start the three journaled steps together, then wait for all of them
    results_done = await restate.gather(
        restate_context.run_typed("eligibility", check_eligibility, claim=claim),
        restate_context.run_typed("cost", compare_to_standard_rates, claim=claim),
        restate_context.run_typed("fraud", check_fraud, claim=claim),
    )
    return [await result for result in results_done]


parallel_tools_agent = Agent[restate.Context](
    name="ParallelToolsAgent",
    instructions="You are a claim analysis agent that analyzes insurance claims.",
    tools=[calculate_metrics],
)


agent_service = restate.Service("ParallelToolClaimAgent")


@agent_service.handler()
async def run(restate_context: restate.Context, claim: InsuranceClaim) -> str:
    result = await Runner.run(
        parallel_tools_agent,
        input=f"Analyze the claim {claim.model_dump_json()}. "
        "Use your tools to calculate key metrics and decide whether to approve.",
        context=restate_context,
        run_config=durable_run_config(restate_context),
    )
    return result.final_output
