"""A per-invocation token budget that stays deterministic under replay.

Shared by both adapters: ``llm_call`` responses (``LLMResponse``) and the Agents SDK's
``ModelResponse`` both carry ``usage.total_tokens``.

The running total is summed from the ``usage`` of *journaled* responses, in handler code (outside
the ``ctx.run`` step). On replay the steps return the same journaled responses, the handler charges
them again in the same order, and arrives at the same total: the budget trips at the same call on
every attempt, never earlier or later. (Counting inside ``llm_call`` would not work: a replayed step
does not run its function.)
"""

from __future__ import annotations

import weakref
from typing import Any, Protocol, TypeVar

from restate.exceptions import TerminalError

__all__ = ["TokenBudget", "TokenBudgetExceeded", "token_budget"]


class _Usage(Protocol):
    @property
    def total_tokens(self) -> int: ...


class _Response(Protocol):
    @property
    def usage(self) -> _Usage: ...


R = TypeVar("R", bound=_Response)


class TokenBudgetExceeded(TerminalError):
    """The invocation spent more tokens than its budget allows; never retried."""

    def __init__(self, name: str, used: int, limit: int) -> None:
        super().__init__(f"token budget {name!r} exceeded: {used} tokens used, limit {limit}", 400)
        self.name = name
        self.used = used
        self.limit = limit


class TokenBudget:
    """Counts the tokens of journaled responses; :meth:`charge` raises once the limit is passed.

    The call that crosses the limit has already been paid for; the budget stops the *next* ones,
    and fails the invocation with :class:`TokenBudgetExceeded` (a ``TerminalError``).
    """

    def __init__(self, max_tokens: int, name: str = "tokens") -> None:
        if max_tokens <= 0:
            raise ValueError("max_tokens must be positive")
        self.max_tokens = max_tokens
        self.name = name
        self.used = 0
        self.calls = 0

    @property
    def remaining(self) -> int:
        return max(0, self.max_tokens - self.used)

    def charge(self, response: R) -> R:
        """Add ``response.usage.total_tokens``; raise :class:`TokenBudgetExceeded` past the limit."""
        self.used += response.usage.total_tokens
        self.calls += 1
        if self.used > self.max_tokens:
            raise TokenBudgetExceeded(self.name, self.used, self.max_tokens)
        return response

    def __repr__(self) -> str:
        return f"TokenBudget({self.name!r}, used={self.used}, max_tokens={self.max_tokens})"


_budgets: weakref.WeakKeyDictionary[Any, dict[str, TokenBudget]] = weakref.WeakKeyDictionary()


def token_budget(ctx: Any, max_tokens: int, name: str = "tokens") -> TokenBudget:
    """The budget ``name`` of this invocation attempt, created on first use.

    Handy when several helper functions of one handler share a budget: each asks for it with the
    same ``ctx``. Every attempt (after a crash or suspension) gets a fresh context, and therefore
    a fresh budget that replay fills again from the journal.
    """
    per_ctx = _budgets.setdefault(ctx, {})
    budget = per_ctx.get(name)
    if budget is None:
        budget = per_ctx[name] = TokenBudget(max_tokens, name)
    elif budget.max_tokens != max_tokens:
        raise ValueError(f"token budget {name!r} already exists with max_tokens={budget.max_tokens}")
    return budget
