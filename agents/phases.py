"""The brainstorm's phases as one explicit table.

derive_deny (once: the common answers, every strategy; `state.derives_common_answers` says when)
→ pose_questions | pair_concepts   (once, by strategy, if needed: `state.strategy_phase`)
→ generate → filter → critique → meta_review → judge → rank → stop_check → generate (next round) … → done

The filter loops back to generate while the round is short: fewer than `ideas_per_round` of its
ideas survived the filter and it has made fewer than `generate_attempts` Generator calls (each
top-up asks only for the shortfall, with the round's dropped titles as "not these"). Each pass is
its own step, so the one-step-per-job model holds. Verdicts after the filter (a fatal critique)
never send a round back.

The meta-review (the Judge's model, one call) sums up the flaws recurring across the round's
critiques; the next rounds' Generator requests show it. A round with fewer than 2 critiques skips
the call (the step still leaves an event).

The common answers (derive_deny) become the deny-list in `restrict`; in the other strategies they
ground the Judge and drop an idea only at or above `novelty_deny_high`, and the phase is optional
there (`engine.optional_step`): a failed call is recorded and the run goes on without them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agents import turns
from agents.context import TurnContext
from agents.state import Phase, RunState, strategy_phase

LoopWhen = Callable[[RunState, TurnContext], bool]


@dataclass(frozen=True)
class PhaseSpec:
    """One phase: the role that acts (None: code only), its handler, and where the run goes next
    (`next`; None: decided by the stop check), unless `back_when(state, ctx)` holds after the
    handler ran, in which case the run goes to `back_to` instead."""

    role: str | None
    handler: turns.Handler | None
    next: Phase | None
    back_to: Phase | None = None
    back_when: LoopWhen | None = None
    next_by: Callable[[RunState], Phase] | None = None  # when set, decides `next` from the state

    def following(self, state: RunState) -> Phase | None:
        """The phase after this one (before `back_when`): `next_by(state)` if set, else `next`."""
        return self.next_by(state) if self.next_by is not None else self.next


def after_common_answers(state: RunState) -> Phase:
    """After the common answers: the strategy's own preparation, else generate."""
    return strategy_phase(state.brief)


def round_is_short(state: RunState, ctx: TurnContext) -> bool:
    """True while this round has fewer than `ideas_per_round` filter survivors and fewer than
    `ctx.generate_attempts` Generator calls: the filter then sends the run back to generate. Never
    when the brief switches the `top_up` mechanism off."""
    stats = state.round_stats(state.round)
    if not state.brief.mechanisms.top_up:
        return False
    return stats.kept < state.brief.ideas_per_round and stats.attempts < ctx.generate_attempts


PHASES: dict[Phase, PhaseSpec] = {
    Phase.DERIVE_DENY: PhaseSpec(
        "generator", turns.derive_deny, Phase.GENERATE, next_by=after_common_answers
    ),
    Phase.POSE_QUESTIONS: PhaseSpec("generator", turns.pose_questions, Phase.GENERATE),
    # code only with the concept catalog on (the draw); the Generator proposes pairs with it off
    Phase.PAIR_CONCEPTS: PhaseSpec("generator", turns.pair_concepts, Phase.GENERATE),
    Phase.GENERATE: PhaseSpec("generator", turns.generate, Phase.FILTER),
    Phase.FILTER: PhaseSpec(None, turns.filter_new, Phase.CRITIQUE, Phase.GENERATE, round_is_short),
    Phase.CRITIQUE: PhaseSpec("skeptic", turns.critique, Phase.META_REVIEW),
    Phase.META_REVIEW: PhaseSpec("judge", turns.meta_review, Phase.JUDGE),
    Phase.JUDGE: PhaseSpec("judge", turns.judge, Phase.RANK),
    Phase.RANK: PhaseSpec("judge", turns.rank, Phase.STOP_CHECK),
    Phase.STOP_CHECK: PhaseSpec(None, None, None),
    Phase.DONE: PhaseSpec(None, None, None),
}
