"""The Elo tournament of the rank phase (`TurnContext.tournament`).

After the Judge's absolute scores, up to `matches_per_round` pairs of candidates (alive, scored, not
fatal) are drawn by `pair_for_round` (new ideas and close ratings first, at most `max_per_idea`
matches per idea per round, never a pair already played in the run: `Idea.opponents` holds them, so
late rounds may play fewer matches, or none; with `lineage_first`, each evolved idea meets its
parents first). Each match is asked twice, concurrently
and bounded by `ctx.max_concurrency`, with the ideas in both orders; `combine_verdicts` cancels the
position bias and `apply_match` updates both ratings (K = `k`). Every answer and every result is a
transcript event. A match whose calls all fail is skipped (logged), never failing the turn.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, replace

from agents.calls import CallRecord, ask_structured
from agents.context import EventLog, TurnContext
from agents.errors import ModelUnavailable
from agents.novelty.elo import apply_match, combine_verdicts, pair_for_round
from agents.novelty.embedder import idea_text
from agents.prompts.judging import PAIRWISE_SYSTEM, pairwise_prompt
from agents.prompts.roles import with_task
from agents.ranking import candidates
from agents.schemas import PairwiseVerdict
from agents.state import Idea, RunState

Answer = tuple[PairwiseVerdict | None, CallRecord] | BaseException


@dataclass(frozen=True)
class EloTournament:
    """The rank phase's tournament; values from settings `elo_k` (Elo points),
    `elo_matches_per_round` (0: off) and `elo_max_matches_per_idea` (per round). With the brief's
    `evolution` mechanism on, each evolved idea meets its parents before any other match."""

    k: float
    matches_per_round: int
    max_per_idea: int

    async def __call__(self, state: RunState, ctx: TurnContext, log: EventLog) -> None:
        ideas = candidates(state)
        if len(ideas) < 2 or self.matches_per_round <= 0:
            return
        played = {frozenset((i.id, o)) for i in ideas for o in i.opponents}
        rng = random.Random(f"{state.run_id}:{state.round}")
        pairs = pair_for_round(
            ideas,
            self.matches_per_round,
            max_per_idea=self.max_per_idea,
            played=played,
            rng=rng,
            lineage_first=state.brief.mechanisms.evolution,
        )
        if not pairs:
            return
        judge = ctx.agents["judge"]
        agent = replace(judge, system_prompt=with_task(judge.system_prompt, PAIRWISE_SYSTEM))
        gate = asyncio.Semaphore(max(1, ctx.max_concurrency))
        topic = state.brief.topic

        async def ask(first: Idea, second: Idea) -> tuple[PairwiseVerdict | None, CallRecord]:
            prompt = pairwise_prompt(
                idea_text(first.title, first.summary), idea_text(second.title, second.summary), topic
            )
            async with gate:
                return await ask_structured(agent, prompt.user, PairwiseVerdict)

        matches = [(state.idea(a), state.idea(b)) for a, b in pairs]
        answers: list[Answer] = await asyncio.gather(
            *(call for a, b in matches for call in (ask(a, b), ask(b, a))), return_exceptions=True
        )
        for n, (a, b) in enumerate(matches):
            verdicts: list[PairwiseVerdict | None] = []
            for answer in answers[2 * n : 2 * n + 2]:
                if isinstance(answer, ModelUnavailable):
                    log.system(f"match {a.id} vs {b.id}: the Judge was unavailable ({answer})", kind="error")
                    verdicts.append(None)
                    continue
                if isinstance(answer, BaseException):
                    raise answer
                verdict, record = answer
                log.call(record, idea_id=a.id)
                verdicts.append(verdict)
            score = combine_verdicts(verdicts[0], verdicts[1])
            if score is None:
                log.system(f"match {a.id} vs {b.id}: no usable verdict, not counted", kind="error")
                continue
            before = (a.elo, b.elo)
            apply_match(a, b, score, self.k)
            a.opponents.append(b.id)
            b.opponents.append(a.id)
            result = {1.0: f"{a.id} wins", 0.0: f"{b.id} wins"}.get(score, "split (each won one order)")
            log.system(
                f"elo match {a.id} vs {b.id}: {result}; {a.id} {before[0]:.0f}->{a.elo:.0f}, "
                f"{b.id} {before[1]:.0f}->{b.elo:.0f} (K={self.k:g})"
            )
