"""Bounded session memory: compaction policies and the windowed storage they use.

A long conversation costs twice on every turn if the whole history is kept in view: the model is
sent every item ever said, and the session reads every item from Virtual Object state, which Restate
journals with its value. A policy keeps a small *live window* that the model sees, and moves older
items to *archive* keys that a normal turn never reads:

- ``<key>/window``: ``{"items": [...], "summary": str | None, "archived": int, "chunks": int}``, the
  only key a turn reads (a session's first turn also reads ``<key>``, to adopt a history the default
  "list" layout kept there);
- ``<key>/archive-<n>``: the items each compaction moved out of the window, written once and then only
  read by :meth:`RestateSession.history` (every item ever added, in order).

Windows are only ever cut where the Responses API accepts the result: a tool call keeps its output
(items sharing a ``call_id``, an MCP approval request and its response), and a reasoning item keeps the
item that follows it. An orphaned call or output is rejected by the API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import restate
from agents.model_settings import ModelSettings
from agents.models.interface import Model, ModelTracing
from agents.models.multi_provider import MultiProvider
from openai.types.responses import ResponseOutputMessage, ResponseOutputText

from ..errors import setup_errors_as_terminal
from ..retry import StepRetry
from ._model import DurableModel

AnyObjectContext: TypeAlias = restate.ObjectContext | restate.ObjectSharedContext

DEFAULT_SUMMARY_INSTRUCTIONS = (
    "You keep the memory of a conversation between a user and an AI assistant. Summarise the "
    "conversation you are given so the assistant can continue it without the original messages: keep "
    "facts, names, numbers, the user's preferences and decisions, tool results that still matter, and "
    "open questions or tasks; drop pleasantries. If a previous summary is given, merge it into the new "
    "one. Reply with the summary only."
)
SUMMARY_PREFIX = "Summary of the earlier conversation (older messages were compacted):\n"
MAX_TRANSCRIPT_ITEM_CHARS = 4000


@dataclass(frozen=True)
class DropOldest:
    """The cheap policy: the model sees at most the last ``max_items`` items; older ones are dropped
    from its view (no model call, no summary) and kept in the archive for ``RestateSession.history``.

    Why a window and not the SDK's ``SessionSettings(limit=...)``: a limit still reads, and journals,
    the whole history every turn, and it may cut a tool call from its output. Here a turn reads only the
    live window, and the cut moves forward (the model sees fewer items) rather than orphan a call.

    The stored window may hold up to ``2 * max_items`` items: the overflow is archived in one write
    every ``max_items`` items or so, not a little on every turn.
    """

    max_items: int

    def __post_init__(self) -> None:
        if self.max_items < 1:
            raise ValueError("DropOldest(max_items=...) must keep at least 1 item")


@dataclass(frozen=True)
class Compaction:
    """Summarise older items once the live window grows past ``summarize_after`` items.

    At the start of a turn (when the SDK reads the session), a window longer than ``summarize_after``
    is cut so that at least ``keep_last`` recent items stay verbatim; the items before the cut, merged
    with the previous summary, are summarised by **one journaled model call**, and the summary replaces
    them in what the model sees (a ``system`` message in front of the window). The call is an ordinary
    ``DurableModel`` step: made once, returned from the journal on replay, retried by Restate on
    transient provider errors. The summarised items move to the archive, unchanged. (A window far over
    the threshold, such as a long history adopted from the "list" layout, is folded in several calls
    of at most ``summarize_after`` items, so no request grows with the conversation.)

    ``summarizer`` is a model name resolved like the SDK's (``"gpt-4o-mini"``,
    ``"litellm/anthropic/..."``), a ``Model`` instance, or ``None`` for the SDK's default model. The
    session cannot see the run's ``RunConfig``, so name a small, cheap model here if the default is not
    what you want summaries from.

    The model's input is bounded by ``summarize_after`` items plus the summary plus the current run's
    own items; a summary is made about once every ``summarize_after - keep_last`` items.
    ``instructions`` and ``model_settings`` are those of the summary request, and ``retry`` (a
    :class:`~integrations.retry.StepRetry`, default 3 attempts) governs its journaled step before the turn
    fails with a ``TerminalError``.

    A turn reads only the live window, but by default Restate sends *all* of an object's state to
    each invocation up front ("eager state"), the archive included: not journaled, yet a cost that
    still grows with the conversation. For sessions of hundreds of turns declare the handler with
    ``state_preload=False`` so only the window crosses the wire (see docs/benchmark.md).
    """

    keep_last: int = 20
    summarize_after: int = 60
    summarizer: str | Model | None = None
    instructions: str = DEFAULT_SUMMARY_INSTRUCTIONS
    model_settings: ModelSettings = field(default_factory=ModelSettings)
    retry: StepRetry | None = None

    def __post_init__(self) -> None:
        if self.keep_last < 0:
            raise ValueError("Compaction(keep_last=...) cannot be negative")
        if self.summarize_after <= self.keep_last:
            raise ValueError(
                f"Compaction(summarize_after={self.summarize_after}) must be larger than "
                f"keep_last={self.keep_last}: otherwise every turn would make a summary"
            )


CompactionPolicy: TypeAlias = Compaction | DropOldest


# -- where a window may be cut ---------------------------------------------------------------------
def _links(item: Any) -> list[str]:
    """Keys that tie ``item`` to its partner: a call and its output, an MCP approval request and reply."""
    if not isinstance(item, dict):
        return []
    keys = []
    item_type = item.get("type")
    call_id = item.get("call_id")
    if call_id is None and item_type == "local_shell_call_output":
        call_id = item.get("id")
    if call_id:
        keys.append(f"call:{call_id}")
    if item_type == "mcp_approval_request" and item.get("id"):
        keys.append(f"approval:{item['id']}")
    if item_type == "mcp_approval_response" and item.get("approval_request_id"):
        keys.append(f"approval:{item['approval_request_id']}")
    return keys


def _is_answer(item: Any) -> bool:
    item_type = item.get("type", "") if isinstance(item, dict) else ""
    return item_type.endswith("_output") or item_type == "mcp_approval_response"


def safe_cuts(items: list[Any], *, pin_open_calls: bool) -> list[bool]:
    """``cuts[s]`` says whether ``items[:s]`` / ``items[s:]`` is a valid split, for ``s`` in ``0..len``.

    A cut is invalid inside a call/output pair and right after a reasoning item. With
    ``pin_open_calls``, nothing at or after a call still waiting for its output may be cut off either:
    the output arrives later and would be orphaned (used when items leave the window for good).
    """
    n = len(items)
    spans: dict[str, list[int]] = {}
    answered: set[str] = set()
    for index, item in enumerate(items):
        for key in _links(item):
            spans.setdefault(key, [index, index])[1] = index
            if _is_answer(item):
                answered.add(key)
    blocked = [0] * (n + 2)  # difference array over cut positions
    for key, (first, last) in spans.items():
        end = n if pin_open_calls and key not in answered else last
        if end > first:
            blocked[first + 1] += 1
            blocked[end + 1] -= 1
    cuts, depth = [], 0
    for s in range(n + 1):
        depth += blocked[s]
        after_reasoning = s > 0 and isinstance(items[s - 1], dict) and items[s - 1].get("type") == "reasoning"
        cuts.append(depth == 0 and not after_reasoning)
    return cuts


def last_cut_at_most(items: list[Any], limit: int) -> int:
    """The largest valid cut ``<= limit`` that archives nothing still needed (0 if none)."""
    cuts = safe_cuts(items, pin_open_calls=True)
    for s in range(min(limit, len(items)), 0, -1):
        if cuts[s]:
            return s
    return 0


def first_cut_at_least(items: list[Any], limit: int) -> int:
    """The smallest valid cut ``>= limit`` (``len(items)`` if none): the view shrinks rather than orphan."""
    cuts = safe_cuts(items, pin_open_calls=False)
    for s in range(max(limit, 0), len(items) + 1):
        if cuts[s]:
            return s
    return len(items)


# -- the summary call ------------------------------------------------------------------------------
def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text") or part.get("refusal") or "") for part in content if isinstance(part, dict)
        )
    return "" if content is None else str(content)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TRANSCRIPT_ITEM_CHARS else text[:MAX_TRANSCRIPT_ITEM_CHARS] + " [...]"


def render_transcript(items: list[Any]) -> str:
    """Items as plain text: any model can read it, and no reasoning item or provider id is re-sent."""
    lines = []
    for item in items:
        if not isinstance(item, dict):
            lines.append(_clip(str(item)))
            continue
        item_type = item.get("type")
        if item.get("role") and item_type in (None, "message"):
            lines.append(f"{item['role']}: {_clip(_text_of(item.get('content')))}")
        elif item_type == "function_call":
            lines.append(f"tool call {item.get('name')}({_clip(str(item.get('arguments', '')))})")
        elif item_type == "function_call_output":
            lines.append(f"tool result: {_clip(_text_of(item.get('output')))}")
        elif item_type == "reasoning":
            continue
        else:
            lines.append(f"{item_type}: {_clip(json.dumps(item, sort_keys=True, default=str))}")
    return "\n".join(lines)


def summary_item(summary: str) -> dict[str, Any]:
    """What the model sees in place of the archived items."""
    return {"role": "system", "content": SUMMARY_PREFIX + summary}


async def summarize(ctx: restate.ObjectContext, policy: Compaction, previous: str | None, items: list[Any]) -> str:
    """One journaled model call: the previous summary plus ``items`` in, the new summary out."""
    provider: MultiProvider | None = None
    summarizer = policy.summarizer
    if isinstance(summarizer, DurableModel):
        model = summarizer
    elif isinstance(summarizer, Model):
        model = DurableModel(summarizer, context=ctx, retry=policy.retry, name=_step_name(summarizer))
    else:
        provider = MultiProvider()
        with setup_errors_as_terminal(f"building the summarizer model {summarizer or 'default'!r}"):
            inner = provider.get_model(summarizer)
        model = DurableModel(inner, context=ctx, retry=policy.retry, name=_step_name(inner, summarizer))
    parts = []
    if previous:
        parts.append(f"Previous summary:\n{previous}")
    parts.append(f"Conversation to add to the summary:\n{render_transcript(items)}")
    try:
        response = await model.get_response(
            policy.instructions,
            [{"role": "user", "content": "\n\n".join(parts)}],
            policy.model_settings,
            [],
            None,
            [],
            ModelTracing.DISABLED,
            previous_response_id=None,
            conversation_id=None,
            prompt=None,
        )
    finally:
        if provider is not None:
            await provider.aclose()
    text = "".join(
        part.text
        for output in response.output
        if isinstance(output, ResponseOutputMessage)
        for part in output.content
        if isinstance(part, ResponseOutputText)
    ).strip()
    return text or (previous or "")


def _step_name(model: Model, name: str | None = None) -> str:
    label = name or getattr(model, "model", None) or type(model).__name__
    return f"{label} (session summary)"


# -- storage ---------------------------------------------------------------------------------------
class CompactedHistory:
    """The live window (one small state key, read once per turn) plus write-once archive chunks."""

    def __init__(self, ctx: restate.ObjectContext, key: str, policy: CompactionPolicy, state: dict[str, Any]) -> None:
        self._ctx = ctx
        self._key = key
        self._policy = policy
        self._items: list[Any] = list(state.get("items") or [])
        self._summary: str | None = state.get("summary")
        self._archived: int = int(state.get("archived") or 0)
        self._chunks: int = int(state.get("chunks") or 0)

    @staticmethod
    def window_key(key: str) -> str:
        return f"{key}/window"

    @staticmethod
    def archive_key(key: str, chunk: int) -> str:
        return f"{key}/archive-{chunk}"

    @classmethod
    async def load(cls, ctx: restate.ObjectContext, key: str, policy: CompactionPolicy) -> CompactedHistory:
        state = await ctx.get(cls.window_key(key), type_hint=dict)
        if state is None:
            # the session's first turn under a policy: adopt what the default "list" layout kept under
            # ``key``, so turning compaction on for an existing conversation does not forget it
            legacy = await ctx.get(key, type_hint=list)
            if legacy:
                history = cls(ctx, key, policy, {"items": legacy})
                history._persist()
                ctx.clear(key)
                return history
        return cls(ctx, key, policy, state or {})

    @classmethod
    async def history(cls, ctx: AnyObjectContext, key: str) -> list[Any]:
        """Every item ever added: the archive chunks in order, then the live window."""
        state = await ctx.get(cls.window_key(key), type_hint=dict) or {}
        items: list[Any] = []
        for chunk in range(int(state.get("chunks") or 0)):
            items.extend(await ctx.get(cls.archive_key(key, chunk), type_hint=list) or [])
        return items + list(state.get("items") or [])

    def _persist(self) -> None:
        self._ctx.set(
            self.window_key(self._key),
            {"items": self._items, "summary": self._summary, "archived": self._archived, "chunks": self._chunks},
        )

    def _archive(self, count: int) -> None:
        """Move the first ``count`` window items to a new archive chunk (a write, no read)."""
        self._ctx.set(self.archive_key(self._key, self._chunks), self._items[:count])
        self._chunks += 1
        self._archived += count
        self._items = self._items[count:]

    async def _compact(self, policy: Compaction) -> None:
        """Fold the oldest items into the summary until the window is back under ``summarize_after``.

        Usually one summary call. A window far over the threshold (an adopted long history, items
        added without reading the session) is folded ``summarize_after`` items per call, so no single
        summary request grows with the conversation.
        """
        folded = False
        while len(self._items) > policy.summarize_after:
            cut = last_cut_at_most(self._items, min(len(self._items) - policy.keep_last, policy.summarize_after))
            if cut <= 0:  # one unbroken tool exchange: nothing can leave without orphaning a call
                break
            self._summary = await summarize(self._ctx, policy, self._summary, self._items[:cut])
            self._archive(cut)
            folded = True
        if folded:
            self._persist()

    def _view(self) -> list[Any]:
        policy = self._policy
        if isinstance(policy, DropOldest):
            return list(self._items[first_cut_at_least(self._items, len(self._items) - policy.max_items) :])
        prefix = [summary_item(self._summary)] if self._summary else []
        return prefix + list(self._items)

    async def get_items(self, limit: int | None) -> list[Any]:
        policy = self._policy
        if isinstance(policy, Compaction) and len(self._items) > policy.summarize_after:
            await self._compact(policy)
        view = self._view()
        if limit is None:
            return view
        # a limit is taken literally: the SDK also uses it to peek at the tail it just wrote
        return view[-limit:] if limit > 0 else []

    async def add_items(self, items: list[Any]) -> None:
        self._items.extend(items)
        policy = self._policy
        if isinstance(policy, DropOldest) and len(self._items) > 2 * policy.max_items:
            cut = last_cut_at_most(self._items, len(self._items) - policy.max_items)
            if cut > 0:
                self._archive(cut)
        self._persist()

    async def pop_item(self) -> Any | None:
        if self._items:
            item = self._items.pop()
            self._persist()
            return item
        if self._chunks == 0:
            return None
        # the window is empty (keep_last=0, or repeated pops): take the item back from the last chunk
        last_key = self.archive_key(self._key, self._chunks - 1)
        chunk = list(await self._ctx.get(last_key, type_hint=list) or [])  # chunks are never left empty
        item = chunk.pop()
        if chunk:
            self._ctx.set(last_key, chunk)
        else:
            self._ctx.clear(last_key)
            self._chunks -= 1
        self._archived -= 1
        self._persist()
        return item

    async def clear(self) -> None:
        for chunk in range(self._chunks):
            self._ctx.clear(self.archive_key(self._key, chunk))
        self._ctx.clear(self.window_key(self._key))
        self._items, self._summary, self._archived, self._chunks = [], None, 0, 0
