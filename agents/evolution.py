"""Evolution operators: new ideas made from the run's best survivors, and which ones to make.

Design source: the AI co-scientist (Gottweis et al. 2025, "Towards an AI co-scientist",
arXiv:2502.18864): an Evolution agent makes *new* hypotheses from the best-ranked ones (combination,
simplification, improvement against the reviews) instead of editing them in place, and every new
hypothesis competes in the Elo tournament, so an evolved idea ranks high only if it beats the
ideas it came from.

The operators (`agents.state.Operator`, stored with the parents' ids on each `Idea`):

- `new`: a fresh idea of the Generator's main request;
- `improve`: a variant of a survivor that overcomes its objection (the main request shows the best
  survivors with their critique; a draft listing their ids in `builds_on` is an improvement);
- `combine`: two survivors from different clusters (`Idea.cluster`) joined in one idea (its own call,
  `prompts.requests.combine_request`);
- `simplify`: one survivor cut to its core (its own call, `prompts.requests.simplify_request`);
- `human`: a person's idea.

The mix, decided here in code (`plan_round`), for a round's first Generator call from round 2 on,
when the brief's `evolution` mechanism is on (`brief.mechanisms`): at most `MAX_COMBINES` combine
and `MAX_SIMPLIFIES` simplify, and at most `wanted - 1` of them, so that every round keeps at
least one idea of the main request
(new or improve); the main request asks for the rest. Top-up calls of a short round ask only the
main request. Each evolved idea is an answer of its own holding one idea, which any answer cap
holds (`ideas_for_cap(cap, 1) == 1`); the main request asks for `ideas_for_cap(cap, rest)`.

Selection is deterministic, from the ranking the shortlist uses (`agents.ranking.rank_survivors`):

- combine: over the candidates ranked best first (positions 0, 1, 2, ...), the pairs in order of
  the sum of their positions, ties by the better one's position ((0,1), (0,2), (0,3), (1,2), ...);
  the first pair whose clusters differ (no cluster: an idea's own), neither a parent of the other,
  that no earlier combine used;
- simplify: the best-ranked candidate that is not a simplification itself, was never simplified,
  and is not a parent of this round's combine.

The rank phase then matches each evolved idea with its parents first (`agents.novelty.elo.pair_for_round`
with `lineage_first`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Literal

from agents.answer_size import ideas_for_cap
from agents.ranking import rank_survivors
from agents.state import Idea, RunState

MAX_COMBINES = 1  # combine operations per round (structural: one call each)
MAX_SIMPLIFIES = 1  # simplify operations per round

EvolveOperator = Literal["combine", "simplify"]


@dataclass(frozen=True)
class EvolutionTask:
    """One evolution call: `operator` applied to `parents` (idea ids: two for combine, one for simplify)."""

    operator: EvolveOperator
    parents: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.operator} {' + '.join(self.parents)}"


@dataclass(frozen=True)
class RoundPlan:
    """What one Generator turn asks for: `tasks` (evolution calls, one idea each) and `fresh`, the
    number of ideas the main request asks for (new or improve), at least 1."""

    tasks: tuple[EvolutionTask, ...]
    fresh: int


def _cluster(idea: Idea) -> str:
    return idea.cluster or idea.id


def combine_pair(ranked: list[Idea], used: set[frozenset[str]]) -> tuple[Idea, Idea] | None:
    """The best-ranked pair of `ranked` (best first) from different clusters, neither a parent of the
    other, whose id pair is not in `used` (pairs earlier combines took), in the module's pair order;
    None when there is none."""
    pairs = sorted(combinations(range(len(ranked)), 2), key=lambda p: (p[0] + p[1], p[0]))
    for a, b in pairs:
        first, second = ranked[a], ranked[b]
        related = first.id in second.parents or second.id in first.parents
        fresh_pair = frozenset((first.id, second.id)) not in used
        if _cluster(first) != _cluster(second) and not related and fresh_pair:
            return first, second
    return None


def simplify_target(ranked: list[Idea], simplified: set[str], exclude: set[str]) -> Idea | None:
    """The best-ranked idea of `ranked` that is no simplification itself, not in `simplified` (ids
    simplified before) and not in `exclude`; None when there is none."""
    for idea in ranked:
        if idea.operator != "simplify" and idea.id not in simplified and idea.id not in exclude:
            return idea
    return None


def plan_evolution(state: RunState, min_matches: int, slots: int) -> list[EvolutionTask]:
    """At most `slots` evolution tasks for this round (combine first, then simplify), chosen among the
    run's candidates ranked as the shortlist ranks them (`min_matches`: Elo matches each needs before
    Elo decides). Empty in round 1 or with no slot; lineage already in the pool is never redone."""
    if state.round < 2 or slots <= 0:
        return []
    ranked = rank_survivors(state, min_matches)
    used = {frozenset(i.parents) for i in state.ideas if i.operator == "combine"}
    simplified = {p for i in state.ideas if i.operator == "simplify" for p in i.parents}
    tasks: list[EvolutionTask] = []
    for _ in range(MAX_COMBINES):
        pair = combine_pair(ranked, used)
        if pair is None or len(tasks) >= slots:
            break
        used.add(frozenset(i.id for i in pair))
        tasks.append(EvolutionTask("combine", (pair[0].id, pair[1].id)))
    taken = {p for t in tasks for p in t.parents}
    for _ in range(MAX_SIMPLIFIES):
        target = simplify_target(ranked, simplified, taken)
        if target is None or len(tasks) >= slots:
            break
        simplified.add(target.id)
        tasks.append(EvolutionTask("simplify", (target.id,)))
    return tasks


def plan_round(
    state: RunState,
    min_matches: int,
    wanted: int,
    cap_tokens: int | None,
    *,
    evolution: bool,
    first_call: bool,
) -> RoundPlan:
    """The Generator turn's plan for `wanted` ideas (the round's shortfall, at least 1): evolution
    tasks only when `evolution` (the brief's mechanism) is on and this is the round's `first_call`, at most
    `wanted - 1` of them; the main request asks for the rest, as many as an answer cap of `cap_tokens`
    tokens holds (`ideas_for_cap`; None: no cap known)."""
    wanted = max(1, wanted)
    tasks = plan_evolution(state, min_matches, wanted - 1) if evolution and first_call else []
    return RoundPlan(tuple(tasks), ideas_for_cap(cap_tokens, wanted - len(tasks)))
