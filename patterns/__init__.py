"""The Restate AI agent patterns as reusable, parametrised services.

Each ``*_service`` function (and ``chat_object``) builds a ready ``restate.Service`` (or Virtual
Object) from your prompts, tools and model; called without arguments it builds the documented
default. One module per pattern, each with its builder and the offline script that plays its
default. The defaults are built in one place, ``patterns.app`` (served as ``patterns.app:app``).
All model calls go through ``integrations.litellm.llm_call`` as journaled steps.
"""

from ._tools import LocalTool, RemoteTool, Tool, ToolFunction, ToolInput
from .agent_routing import (
    DEFAULT_SPECIALISTS,
    RoutingInput,
    Specialist,
    agent_router_service,
    remote_agent_router_service,
    specialist_service,
    specialist_services,
)
from .chaining import DEFAULT_CHAIN, ChainInput, ChainStep, chaining_service
from .chat import MEMORY_KEY, ChatMessage, chat_object
from .evaluator import Evaluation, EvaluatorInput, ImprovementResult, evaluator_optimizer_service
from .human import (
    ModerationInput,
    ModerationResult,
    Notify,
    ReviewRequest,
    human_in_the_loop_service,
    human_in_the_loop_with_timeout_service,
    print_review_request,
)
from .manual_loop import manual_loop_service
from .orchestrator import OrchestratorInput, OrchestratorResult, Task, TaskList, WorkerResult, orchestrator_service
from .parallel import (
    DEFAULT_ANALYSES,
    Analysis,
    ParallelAnalysisInput,
    WeatherQuestion,
    parallel_agents_service,
    parallel_tools_service,
)
from .racing import RaceInput, racing_service
from .saga import DEFAULT_BOOKING_TOOLS, BookingRequest, CompensatedTool, Compensation, saga_service
from .tool_routing import DEFAULT_SUPPORT_TOOLS, SupportQuestion, support_tickets_service, tool_router_service

__all__ = [
    "Analysis",
    "BookingRequest",
    "ChainInput",
    "ChainStep",
    "ChatMessage",
    "CompensatedTool",
    "Compensation",
    "DEFAULT_ANALYSES",
    "DEFAULT_BOOKING_TOOLS",
    "DEFAULT_CHAIN",
    "DEFAULT_SPECIALISTS",
    "DEFAULT_SUPPORT_TOOLS",
    "Evaluation",
    "EvaluatorInput",
    "ImprovementResult",
    "LocalTool",
    "MEMORY_KEY",
    "ModerationInput",
    "ModerationResult",
    "Notify",
    "OrchestratorInput",
    "OrchestratorResult",
    "ParallelAnalysisInput",
    "RaceInput",
    "RemoteTool",
    "ReviewRequest",
    "RoutingInput",
    "Specialist",
    "SupportQuestion",
    "Task",
    "TaskList",
    "Tool",
    "ToolFunction",
    "ToolInput",
    "WeatherQuestion",
    "WorkerResult",
    "agent_router_service",
    "chaining_service",
    "chat_object",
    "evaluator_optimizer_service",
    "human_in_the_loop_service",
    "human_in_the_loop_with_timeout_service",
    "manual_loop_service",
    "orchestrator_service",
    "parallel_agents_service",
    "parallel_tools_service",
    "print_review_request",
    "racing_service",
    "remote_agent_router_service",
    "saga_service",
    "specialist_service",
    "specialist_services",
    "support_tickets_service",
    "tool_router_service",
]
