"""A journal-friendly LiteLLM call for hand-written agent loops on Restate.

``llm_call`` runs as a ``ctx.run_typed`` step (or a :func:`model_step`, which adds every Restate
retry setting and a per-attempt timeout, :class:`StepRetry`) and returns an :class:`LLMResponse`
that Restate's default serde journals as-is; ``tool`` / ``tool_result`` build the OpenAI chat shapes for tool
routing; :class:`TokenBudget` caps the tokens one invocation may spend, deterministically on replay.
"""

from .._extras import require_extra

try:
    from ..budget import TokenBudget, TokenBudgetExceeded, token_budget
    from ..retry import StepRetry, model_step
    from ._call import DEFAULT_MODEL, MODEL_ENV_VAR, StructuredOutputError, default_model, llm_call
    from ._messages import Message, tool, tool_result
    from ._response import FunctionCall, LLMResponse, ToolCall, Usage
except ImportError:  # name the extra to install when litellm is missing
    require_extra("integrations.litellm", "litellm", extra="litellm")
    raise

__all__ = [
    "DEFAULT_MODEL",
    "MODEL_ENV_VAR",
    "FunctionCall",
    "LLMResponse",
    "Message",
    "StepRetry",
    "StructuredOutputError",
    "TokenBudget",
    "TokenBudgetExceeded",
    "ToolCall",
    "Usage",
    "default_model",
    "llm_call",
    "model_step",
    "token_budget",
    "tool",
    "tool_result",
]
