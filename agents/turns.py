"""What each phase does. Each handler mutates the (copied) state and logs its events; a phase whose
model calls all failed, or that had nothing to do, needs no code of its own: `engine.run_step` fails
the run, or records that the step had nothing to do."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel

from agents.brief import Strategy
from agents.calls import CallRecord, ask_structured
from agents.concepts.draw import ConceptDraw, seed_for_run
from agents.context import EventLog, TurnContext
from agents.errors import ModelUnavailable
from agents.evolution import EvolutionTask, plan_round
from agents.novelty.clusters import crowded_clusters
from agents.novelty.dedup import apply_decision
from agents.prompts import requests as prompts
from agents.schemas import (
    CommonAnswers,
    ConceptPairs,
    CritiqueAnswer,
    EvolvedIdea,
    IdeaBatch,
    MetaReview,
    ScoreAnswer,
    UnaskedQuestions,
)
from agents.state import Critique, Idea, Operator, RunState, Score, is_human
from agents.steering import consume_steers, report_human_novelty

T = TypeVar("T", bound=BaseModel)
MAX_DENY_ITEMS = 20
MAX_CONCEPT_PAIRS = 20
MIN_CRITIQUES_REVIEWED = 2  # fewer critiques in a round have no pattern to find: no meta-review call


def _dedupe(items: list[str], limit: int) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in (i.strip() for i in items):
        if item and item.lower() not in seen:
            seen.add(item.lower())
            out.append(item[:300])
    return out[:limit]


async def derive_deny(state: RunState, ctx: TurnContext, log: EventLog) -> None:
    """The common answers to the topic, once per run (one Generator call): in `restrict` they join
    the deny-list (`state.deny`), in the other strategies they go to `state.common_answers`."""
    answer, record = await ask_structured(
        ctx.agents["generator"], prompts.derive_deny_request(state), CommonAnswers
    )
    log.call(record)
    if answer is None:
        return  # the engine fails the run in restrict; elsewhere it goes on without them
    if state.brief.strategy is Strategy.RESTRICT:
        state.deny = _dedupe([*state.deny, *answer.common_answers], MAX_DENY_ITEMS)
    else:
        state.common_answers = _dedupe(answer.common_answers, MAX_DENY_ITEMS)


async def pose_questions(state: RunState, ctx: TurnContext, log: EventLog) -> None:
    answer, record = await ask_structured(
        ctx.agents["generator"], prompts.questions_request(state), UnaskedQuestions
    )
    log.call(record)
    if answer is None:
        return  # the engine fails the run: its one call gave no usable answer
    state.questions = _dedupe(answer.questions, 40)


def _drawn_pairs_line(draw: ConceptDraw) -> str:
    """The transcript line of a catalog draw: the seed, the embedder and every pair drawn."""
    pairs = "; ".join(f"{f.name} × {op.label}" for f, op in draw.pairs)
    return (
        f"drew {len(draw.pairs)} concept pairs from the catalog (seed {draw.seed}; fields among the "
        f"{len(draw.pool)} farthest from the topic by {draw.model_id}): {pairs}"
    )


async def pair_concepts(state: RunState, ctx: TurnContext, log: EventLog) -> None:
    """The mix strategy's pairs: with the brief's `concept_catalog` mechanism on (and `ctx.concepts`,
    the process's draw), drawn in code, enough
    for every round (`ideas_per_round` x `rounds`, at most `MAX_CONCEPT_PAIRS`), each a distant field
    and an operator, with the run's seed (`seed_for_run`) recorded in `state.concept_seed`; else
    proposed by the Generator (one call)."""
    if state.brief.mechanisms.concept_catalog and ctx.concepts is not None:
        count = min(MAX_CONCEPT_PAIRS, max(2, state.brief.ideas_per_round * state.brief.rounds))
        draw = await asyncio.to_thread(ctx.concepts, state.brief.topic, count, seed_for_run(state.run_id))
        state.concept_seed = draw.seed
        state.concept_pairs = [[f.text, op.text] for f, op in draw.pairs]
        log.system(_drawn_pairs_line(draw))
        return
    answer, record = await ask_structured(
        ctx.agents["generator"], prompts.concept_pairs_request(state), ConceptPairs
    )
    log.call(record)
    if answer is None:
        return  # the engine fails the run: its one call gave no usable answer
    state.concept_pairs = [[p.first[:200], p.second[:200]] for p in answer.pairs][:MAX_CONCEPT_PAIRS]


async def generate(state: RunState, ctx: TurnContext, log: EventLog) -> None:
    """One Generator turn for the round's shortfall: `ideas_per_round` less the round's filter
    survivors so far; a top-up (not the round's first call) is logged with its attempt number.

    The turn's plan (`agents.evolution.plan_round`): from round 2 on, with the brief's `evolution`
    mechanism, the round's first call also runs its evolution tasks (combine, simplify; one call
    and one idea each, concurrent with the main request, bounded by `ctx.max_concurrency`), and the
    main request asks for the rest. Lineage: a main-request idea with known ids in `builds_on` is
    "improve", else "new"; an evolved idea has its task's operator and parents. A main request that raises
    ModelUnavailable retries the step; an evolution call that does is logged and skipped."""
    agent = ctx.agents["generator"]
    cap = agent.cap.tokens if agent.cap else None
    stats = state.round_stats(state.round)
    wanted = state.brief.ideas_per_round - stats.kept
    stats.attempts += 1
    consume_steers(state, log)  # people's ideas join the pool; their notes go into this request
    if stats.attempts > 1:
        log.system(
            f"round {state.round}: attempt {stats.attempts} of {ctx.generate_attempts}: "
            f"{stats.kept} of {state.brief.ideas_per_round} ideas survived the filter; "
            f"asking for {wanted} more"
        )
    plan = plan_round(
        state, ctx.elo_min_matches, wanted, cap, evolution=state.brief.mechanisms.evolution,
        first_call=stats.attempts == 1,
    )
    gate = asyncio.Semaphore(max(1, ctx.max_concurrency))

    async def bounded(request: str, schema: type[T]) -> tuple[T | None, CallRecord]:
        async with gate:
            return await ask_structured(agent, request, schema)

    crowded = crowded_clusters(state) if state.brief.mechanisms.proximity else None
    request = prompts.generate_request(state, ctx.elo_min_matches, cap, plan.fresh, crowded)
    main = asyncio.create_task(bounded(request, IdeaBatch))
    evolved = await asyncio.gather(
        *(bounded(_evolution_request(state, task), EvolvedIdea) for task in plan.tasks),
        return_exceptions=True,
    )
    answer, record = await main
    log.call(record)
    if plan.tasks:
        log.system(
            f"round {state.round}: evolution: {'; '.join(t.describe() for t in plan.tasks)} "
            f"(besides {plan.fresh} new or improved idea(s) asked above)"
        )
    known_ids = {i.id for i in state.ideas}
    for draft in answer.ideas[: plan.fresh] if answer is not None else []:
        parents = [p for p in draft.builds_on if p in known_ids]
        _add_new_idea(
            state,
            title=draft.title,
            summary=draft.summary,
            angle=draft.angle,
            operator="improve" if parents else "new",
            parents=parents,
        )
    for task, result in zip(plan.tasks, evolved, strict=True):
        if isinstance(result, ModelUnavailable):
            log.system(f"{task.describe()}: the generator was unavailable ({result})", kind="error")
            continue
        if isinstance(result, BaseException):
            raise result
        evolved_answer, evolved_record = result
        log.call(evolved_record)
        if evolved_answer is not None:
            _add_new_idea(
                state,
                title=evolved_answer.title,
                summary=evolved_answer.summary,
                angle=evolved_answer.what_changed,
                operator=task.operator,
                parents=list(task.parents),
            )


def _evolution_request(state: RunState, task: EvolutionTask) -> str:
    parents = [state.idea(p) for p in task.parents]
    if task.operator == "combine":
        return prompts.combine_request(state, parents[0], parents[1])
    return prompts.simplify_request(state, parents[0])


def _add_new_idea(
    state: RunState, *, title: str, summary: str, angle: str, operator: Operator, parents: list[str]
) -> None:
    """Append a generated idea to the pool and to the ideas the filter checks next (counted as generated)."""
    idea = Idea(
        id=f"i{len(state.ideas) + 1}",
        title=title.strip(),
        summary=summary.strip(),
        angle=angle.strip() or None,
        round=state.round,
        operator=operator,
        parents=parents,
    )
    state.ideas.append(idea)
    state.new_idea_ids.append(idea.id)
    state.round_stats(state.round).generated += 1


async def filter_new(state: RunState, ctx: TurnContext, log: EventLog) -> None:
    new = [state.idea(i) for i in state.new_idea_ids]
    state.new_idea_ids = []
    if not new:
        return
    for decision, calls in await ctx.novelty.review(state, new, ctx.agents):
        for record in calls:
            log.call(record, idea_id=decision.idea_id)
        idea = state.idea(decision.idea_id)
        apply_decision(idea, decision)
        if is_human(idea.author):
            report_human_novelty(idea, log)  # reported, never dropped; not in the Generator's yield
        elif idea.alive:
            state.round_stats(idea.round).kept += 1
        else:
            log.system(f"dropped {idea.id} '{idea.title}': {idea.dropped}")
    stats = state.round_stats(state.round)
    log.system(f"round {state.round}: kept {stats.kept} of {stats.generated} new ideas")


async def _per_idea(
    state: RunState,
    ctx: TurnContext,
    log: EventLog,
    ideas: list[Idea],
    role: str,
    build: Callable[[RunState, Idea], str],
    schema: type[T],
    apply: Callable[[Idea, T], None],
) -> None:
    """One call per idea, concurrently (bounded). Retry the step only if every call was unavailable."""
    if not ideas:
        return
    gate = asyncio.Semaphore(max(1, ctx.max_concurrency))

    async def one(idea: Idea) -> tuple[T | None, CallRecord]:
        async with gate:
            return await ask_structured(ctx.agents[role], build(state, idea), schema)

    results = await asyncio.gather(*(one(i) for i in ideas), return_exceptions=True)
    unavailable = [r for r in results if isinstance(r, ModelUnavailable)]
    if len(unavailable) == len(results):
        raise unavailable[0]
    for idea, result in zip(ideas, results, strict=True):
        if isinstance(result, ModelUnavailable):
            idea.failure = f"{role}: {result}"
            log.system(f"{role} unavailable for {idea.id}; it is tried again next round", kind="error")
            continue
        if isinstance(result, BaseException):
            raise result
        answer, record = result
        log.call(record, idea_id=idea.id)
        if answer is None:
            idea.failure = f"{role}: {record.error}"
        else:
            idea.failure = None
            apply(idea, answer)


def _apply_critique(idea: Idea, answer: CritiqueAnswer) -> None:
    idea.critique = Critique(
        flaws=answer.flaws[:8], strongest_objection=answer.strongest_objection, fatal=answer.fatal
    )
    if answer.fatal:
        idea.dropped = f"fatal flaw: {answer.strongest_objection}"


def _apply_score(idea: Idea, answer: ScoreAnswer) -> None:
    idea.score = Score(novelty=answer.novelty, feasibility=answer.feasibility, rationale=answer.rationale)


async def critique(state: RunState, ctx: TurnContext, log: EventLog) -> None:
    targets = [i for i in state.alive_ideas() if i.critique is None]
    await _per_idea(
        state, ctx, log, targets, "skeptic", prompts.critique_request, CritiqueAnswer, _apply_critique
    )


async def meta_review(state: RunState, ctx: TurnContext, log: EventLog) -> None:
    """One call (the Judge's model) summing up the flaws that recur across this round's critiques
    into `state.meta_review` (at most `prompts.MAX_META_REVIEW_ITEMS`, each cut to
    `prompts.MAX_META_REVIEW_CHARS`); skipped, with a system event, under 2 critiques or when the
    brief switches the `meta_review` mechanism off."""
    if not state.brief.mechanisms.meta_review:
        log.system("meta_review: switched off for this run (brief.mechanisms.meta_review)")
        return
    critiqued = [i for i in state.ideas if i.round == state.round and i.critique is not None]
    if len(critiqued) < MIN_CRITIQUES_REVIEWED:
        log.system(
            f"meta_review: {len(critiqued)} critique(s) this round, a meta-review needs "
            f"{MIN_CRITIQUES_REVIEWED}; the Generator keeps the last one ({len(state.meta_review)} items)"
        )
        return
    answer, record = await ask_structured(
        ctx.agents["judge"], prompts.meta_review_request(state, critiqued), MetaReview
    )
    log.call(record)
    if answer is None:
        return  # the engine fails the run: its one call gave no usable answer
    state.meta_review = _dedupe(
        [f[: prompts.MAX_META_REVIEW_CHARS] for f in answer.recurring_flaws], prompts.MAX_META_REVIEW_ITEMS
    )


async def judge(state: RunState, ctx: TurnContext, log: EventLog) -> None:
    # an idea whose critique failed waits for it (the Skeptic tries again next round) before the Judge
    targets = [i for i in state.alive_ideas() if i.score is None and i.critique is not None]
    await _per_idea(state, ctx, log, targets, "judge", prompts.judge_request, ScoreAnswer, _apply_score)


async def rank(state: RunState, ctx: TurnContext, log: EventLog) -> None:
    """Pairwise matches among the survivors (the Elo tournament), when one is configured."""
    if ctx.tournament is not None:
        await ctx.tournament(state, ctx, log)


Handler = Callable[[RunState, TurnContext, EventLog], Awaitable[None]]
