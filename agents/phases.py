"""The brainstorm's phases as one explicit table.

derive_deny | pose_questions | pair_concepts   (once, by strategy, if needed)
→ generate → filter → critique → judge → rank → stop_check → generate (next round) … → done
"""

from __future__ import annotations

from dataclasses import dataclass

from agents import turns
from agents.state import Phase


@dataclass(frozen=True)
class PhaseSpec:
    role: str | None  # the agent that acts; None for code-only phases
    handler: turns.Handler | None
    next: Phase | None  # None: decided by the stop check


PHASES: dict[Phase, PhaseSpec] = {
    Phase.DERIVE_DENY: PhaseSpec("generator", turns.derive_deny, Phase.GENERATE),
    Phase.POSE_QUESTIONS: PhaseSpec("generator", turns.pose_questions, Phase.GENERATE),
    Phase.PAIR_CONCEPTS: PhaseSpec("generator", turns.pair_concepts, Phase.GENERATE),
    Phase.GENERATE: PhaseSpec("generator", turns.generate, Phase.FILTER),
    Phase.FILTER: PhaseSpec(None, turns.filter_new, Phase.CRITIQUE),
    Phase.CRITIQUE: PhaseSpec("skeptic", turns.critique, Phase.JUDGE),
    Phase.JUDGE: PhaseSpec("judge", turns.judge, Phase.RANK),
    Phase.RANK: PhaseSpec("judge", turns.rank, Phase.STOP_CHECK),
    Phase.STOP_CHECK: PhaseSpec(None, None, None),
    Phase.DONE: PhaseSpec(None, None, None),
}
