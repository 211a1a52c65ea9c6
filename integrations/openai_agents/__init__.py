"""Durable OpenAI Agents SDK: journaled model calls, plain tools, hooks, MCP requests and approvals,
Restate-aware tools and session memory.

```python
result = await Runner.run(
    agent, input=message, context=ctx, run_config=RunConfig(model="gpt-4o", model_provider=DurableModelCalls(ctx))
)
result = await DurableRunner.run(agent, message, context=ctx)  # also MCP servers and approvals
```
"""

from .._extras import require_extra

try:
    from ..retry import StepRetry
    from ._approvals import (
        PENDING_APPROVALS_KEY,
        ApprovalDecision,
        ApprovalPolicy,
        ApprovalRequest,
        PendingApprovals,
        pending_approvals,
        resolve_approvals,
    )
    from ._compaction import Compaction, CompactionPolicy, DropOldest
    from ._mcp import DurableMCPServer, make_mcp_durable
    from ._model import DurableModel
    from ._provider import DurableModelCalls
    from ._runner import DurableRunner, durable_run_config
    from ._serde import ModelResponseSerde
    from ._session import RestateSession
    from ._tool_errors import AgentTerminalError, raise_restate_errors
    from ._tool_journal import not_journaled
    from ._tools import durable_function_tool
except ImportError:  # name the extra to install when openai-agents is missing
    require_extra("integrations.openai_agents", "openai-agents", extra="openai-agents")
    raise

__all__ = [
    "PENDING_APPROVALS_KEY",
    "AgentTerminalError",
    "ApprovalDecision",
    "ApprovalPolicy",
    "ApprovalRequest",
    "Compaction",
    "CompactionPolicy",
    "DropOldest",
    "DurableMCPServer",
    "DurableModel",
    "DurableModelCalls",
    "DurableRunner",
    "ModelResponseSerde",
    "PendingApprovals",
    "RestateSession",
    "StepRetry",
    "durable_function_tool",
    "durable_run_config",
    "make_mcp_durable",
    "not_journaled",
    "pending_approvals",
    "raise_restate_errors",
    "resolve_approvals",
]
