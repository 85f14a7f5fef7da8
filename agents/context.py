"""What a turn needs besides the state: live role agents, the novelty filter, the clock, limits."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from agents.calls import CallRecord, RoleAgent
from agents.concepts.draw import ConceptDraw
from agents.novelty.filter import NoveltyFilter
from agents.state import RunState, TranscriptEvent


@dataclass(frozen=True)
class StopRules:
    """A run ends early when the unique yield (kept / generated, 0-1) stays under `min_yield` for
    `dried_up_rounds` rounds; values from settings `dried_up_min_yield` and `dried_up_rounds`."""

    min_yield: float
    dried_up_rounds: int


# The distant-concept draw (`agents.concepts.draw.draw_pairs` bound to the process's embedder):
# (topic, count, seed) -> the drawn pairs. Blocking (it embeds): call it off the event loop.
ConceptDrawer = Callable[[str, int, int], ConceptDraw]

# The rank phase's pairwise tournament (the novelty engine's Elo tournament plugs in here).
Tournament = Callable[[RunState, "TurnContext", "EventLog"], Awaitable[None]]


@dataclass
class TurnContext:
    """What a turn needs besides the state; built per job by `workers.runtime.turn_context`.

    `max_concurrency`: model calls in flight per phase; `elo_min_matches`: matches each candidate
    needs before Elo ranks (the Generator's "best so far" ranks as the shortlist does);
    `generate_attempts`: Generator calls per round at most (settings `generate_attempts`); `clock`
    returns Unix seconds; `tournament` None turns the rank phase's matches off; `concepts` draws
    the mix strategy's pairs from the concept catalog (used when the brief's `concept_catalog`
    mechanism is on). Which quality mechanisms a turn uses is the brief's
    (`state.brief.mechanisms`), not the context's.
    """

    agents: Mapping[str, RoleAgent]
    novelty: NoveltyFilter
    max_concurrency: int
    stop_rules: StopRules
    elo_min_matches: int
    generate_attempts: int
    clock: Callable[[], float] = time.time
    tournament: Tournament | None = None
    concepts: ConceptDrawer | None = None


class EventLog:
    """Collects the transcript events of one step."""

    def __init__(self, state: RunState, clock: Callable[[], float]) -> None:
        self.state = state
        self.clock = clock
        self.events: list[TranscriptEvent] = []

    def _add(self, **fields: Any) -> None:
        """Append an event stamped with the run, step, round and phase now, and the clock's time."""
        s = self.state
        self.events.append(
            TranscriptEvent(
                run_id=s.run_id, step=s.step, round=s.round, phase=s.phase.value, ts=self.clock(), **fields
            )
        )

    def system(self, content: str, *, kind: str = "system") -> None:
        """Record a line of the system (code, not a model): kind "system", or "error" for a failure."""
        self._add(
            role="system",
            kind="error" if kind == "error" else "system",
            content=content,
        )

    def call(self, record: CallRecord, *, idea_id: str | None = None) -> None:
        """Record an agent call and charge each of its HTTP requests' tokens and cost to the role.

        `Usage.calls` counts agent calls (transcript lines); tokens and cost sum over requests, a
        request with an unknown price counting in `unpriced_calls` (a run with a cost budget has
        none: workers/pricing.py refuses a model without a known price on it).
        """
        s = self.state
        usage = s.usage_for(record.role)
        usage.calls += 1
        if not record.ok:
            usage.failures += 1
        for request in record.requests:
            usage.prompt_tokens += request.prompt_tokens
            usage.completion_tokens += request.completion_tokens
            if request.cost_usd is None:
                usage.unpriced_calls += 1
            else:
                usage.cost_usd += request.cost_usd
        self._add(
            role=record.role,
            kind="turn" if record.ok else "error",
            model=record.model,
            endpoint=record.endpoint,
            temperature=record.temperature,
            prompt_hash=record.prompt_hash,
            prompt=record.prompt,
            latency_ms=record.latency_ms,
            prompt_tokens=record.prompt_tokens,
            completion_tokens=record.completion_tokens,
            cost_usd=record.cost_usd,
            idea_id=idea_id,
            content=record.content if record.ok else f"FAILED: {record.error}",
            reasoning=record.reasoning,
        )
