"""Runs the eval's topics and computes its metrics (definitions: `agents.quality` and `DEFINITIONS`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel

from agents import quality
from agents.brief import Brief
from agents.eval_arms import BaselineResult, EvalIdea, PairJudgement, sample_pairs
from agents.novelty.embedder import idea_text
from agents.state import RunState
from config.settings import Settings
from workers.evaluation.arms import role_model, run_baseline, run_judge
from workers.evaluation.topics import EvalTopic
from workers.novelty import get_embedder

Matrix = quality.Matrix
PAIRS_PER_TOPIC = 9
ARMS = ("pipeline", "baseline")

DEFINITIONS = {
    "pairwise preference": (
        "per topic, a random sample (seeded) of distinct pipeline × baseline idea pairs (pipeline ideas: "
        "the run's shortlist; baseline ideas: the one call's ideas); the judge sees each pair twice, "
        "anonymised as 'Idea A'/'Idea B', once with the pipeline idea first and once second, and says "
        "which is more novel and which is more feasible. A pair scores 1 for the pipeline when both "
        "orders prefer its idea, 0 when both prefer the baseline's, 0.5 when the pick followed the "
        "position (position bias cancels). Win rate = mean pair score over all pairs; 95% interval = "
        "percentile bootstrap (2,000 resamples) over topics, since pairs within a topic are not "
        "independent. Pairs with a missing verdict are left out and counted."
    ),
    "distance to the known": (
        "embeddings of each idea (title + summary) and of the topic's known answers; for each idea the "
        "highest cosine to a known answer; 'near known' = share of ideas at or above the deny "
        "threshold (novelty_deny_high), 'nearest-known cosine' = the mean of those highest cosines. "
        "Lower is further from the known."
    ),
    "diversity": (
        "mean cosine over all pairs of an arm's ideas within a topic (lower = more diverse), and the "
        "number of clusters: single-link clustering where two ideas link at cosine >= the idea "
        "threshold (novelty_high); a cluster is a connected component."
    ),
    "baseline": (
        "one call on the Generator role's endpoint, model and answer cap (tokens per answer, the same "
        "cap each Generator call of the pipeline gets) with a strong 'never suggest known solutions; "
        "only ideas with a chance of working' system prompt (agents/prompts/evaluation.py), asking for "
        "as many ideas as the run's shortlist holds (the brief's shortlist size when it holds none). "
        "Both arms' token counts are reported."
    ),
    "unique yield": (
        "pipeline: kept / generated per round as the run records it (RoundStats: ideas that survived "
        "the novelty filter over all generated); baseline: one 'round', ideas returned / asked. Tokens "
        "and wall time per kept idea: the arm's tokens (prompt + completion) and seconds divided by "
        "its kept ideas (pipeline: the shortlist; baseline: ideas returned)."
    ),
    "overall": "the mean over topics of each per-topic value (each topic weighs the same).",
    "arms": (
        "`--arm full` runs the pipeline with every mechanism on; `--arm without-NAME` with mechanism NAME "
        "switched off (brief.mechanisms, agents/brief.py). All arms of one eval share each topic's "
        "baseline call (made once, for the first arm, asking for as many ideas as that arm's shortlist "
        "held), the judge, the seed and the pair sample's seed, so their rows differ only by the "
        "pipeline."
    ),
}


class PipelineResult(BaseModel):
    """The brainstorm of one topic as the run left it."""

    run_id: str
    status: str
    stop_detail: str | None
    ideas: list[EvalIdea]
    rounds: list[tuple[int, int]]
    prompt_tokens: int
    completion_tokens: int
    wall_s: float


class TopicResult(BaseModel):
    """One topic: both arms, the judged pairs and the metrics (`metrics[arm][name]`, `preference`)."""

    topic: str
    known: list[str]
    pipeline: PipelineResult
    baseline: BaselineResult
    pairs: list[PairJudgement]
    metrics: dict[str, Any]
    map_xy: dict[str, list[list[float]]]

    def failure(self) -> str | None:
        """Why this topic measured nothing, or None when it did: the pipeline run did not finish
        (its status), kept no idea, the baseline returned none, or no pair got a judgement. An eval
        with any such topic exits RUN_FAILED (`ideaforge eval`) after writing its reports."""
        why = []
        if self.pipeline.status != "finished":
            why.append(f"pipeline run {self.pipeline.run_id} {self.pipeline.status}")
        elif not self.pipeline.ideas:
            why.append(f"pipeline run {self.pipeline.run_id} kept no idea")
        if not self.baseline.ideas:
            why.append("the baseline returned no idea")
        if not self.metrics.get("judged_pairs"):
            why.append("no pair judged")
        return ", ".join(why) or None


class EvalResult(BaseModel):
    """The whole eval of one arm: per topic, overall, the models and the thresholds used; `arm` names
    it ("full", or "without-NAME"), `mechanisms_off` lists the mechanisms it ran without."""

    arm: str = "full"
    mechanisms_off: list[str] = []
    generator_model: str
    judge_model: str
    self_evaluation: bool
    endpoint: str | None
    embedder: str
    thresholds: dict[str, float]
    pairs_per_topic: int
    seed: int
    topics: list[TopicResult]
    overall: dict[str, Any]
    definitions: dict[str, str]

    def failures(self) -> list[str]:
        """One entry per topic that measured nothing ("arm ARM, topic 'T': why"; `TopicResult.failure`)."""
        return [
            f"arm {self.arm}, topic {t.topic[:60]!r}: {why}"
            for t in self.topics
            if (why := t.failure()) is not None
        ]


def pipeline_result(state: RunState, ideas: list[EvalIdea]) -> PipelineResult:
    """What the eval keeps of a stopped run; `ideas`: its shortlist."""
    end = state.finished_at or state.updated_at
    return PipelineResult(
        run_id=state.run_id,
        status=state.status.value,
        stop_detail=state.stop_detail,
        ideas=ideas,
        rounds=[(r.generated, r.kept) for r in state.rounds],
        prompt_tokens=sum(u.prompt_tokens for u in state.usage.values()),
        completion_tokens=sum(u.completion_tokens for u in state.usage.values()),
        wall_s=round(end - (state.started_at or state.created_at), 3),
    )


def _embed(settings: Settings, texts: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, 1), dtype=np.float32)
    return get_embedder(settings).embed(texts)


def arm_metrics(
    ideas: Matrix, known: Matrix, settings: Settings, tokens: int, wall_s: float, curve: list[float | None]
) -> dict[str, Any]:
    """The per-arm metrics of one topic (see DEFINITIONS)."""
    near = quality.known_distance(ideas, known, settings.novelty_deny_high)
    kept = len(ideas)
    return {
        "ideas": kept,
        "near_known_share": near.share_near,
        "nearest_known_cosine": near.mean_nearest,
        "mean_pairwise_cosine": quality.mean_pairwise_cosine(ideas),
        "clusters": len(set(quality.clusters(ideas, settings.novelty_high))),
        "yield_curve": curve,
        "tokens": tokens,
        "wall_s": round(wall_s, 3),
        "tokens_per_kept": quality.per_kept(tokens, kept),
        "seconds_per_kept": quality.per_kept(wall_s, kept),
    }



def topic_metrics(
    settings: Settings, topic: EvalTopic, pipeline: PipelineResult, baseline: BaselineResult,
    pairs: list[PairJudgement],
) -> tuple[dict[str, Any], dict[str, list[list[float]]]]:
    """Both arms' metrics, the topic's preference scores, and the 2-D map of both arms' ideas."""
    p_vecs = _embed(settings, [idea_text(i.title, i.summary) for i in pipeline.ideas])
    b_vecs = _embed(settings, [idea_text(i.title, i.summary) for i in baseline.ideas])
    k_vecs = _embed(settings, list(topic.known))
    metrics: dict[str, Any] = {
        "pipeline": arm_metrics(
            p_vecs, k_vecs, settings, pipeline.prompt_tokens + pipeline.completion_tokens,
            pipeline.wall_s, quality.yield_curve(pipeline.rounds),
        ),
        "baseline": arm_metrics(
            b_vecs, k_vecs, settings, baseline.prompt_tokens + baseline.completion_tokens,
            baseline.wall_s, quality.yield_curve([(baseline.asked, len(baseline.ideas))]),
        ),
        "judged_pairs": sum(1 for p in pairs if p.novelty is not None),
        "failed_pairs": sum(1 for p in pairs if p.novelty is None),
        "judge_tokens": sum(p.prompt_tokens + p.completion_tokens for p in pairs),
    }
    both = [v for v in (p_vecs, b_vecs) if len(v)]
    xy = quality.project_2d(np.vstack(both)) if both else np.zeros((0, 2))
    n = len(pipeline.ideas)
    map_xy = {
        "pipeline": [[round(float(x), 4) for x in row] for row in xy[:n]],
        "baseline": [[round(float(x), 4) for x in row] for row in xy[n:]],
    }
    return metrics, map_xy


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 4) if present else None


def overall(topics: Sequence[TopicResult], seed: int) -> dict[str, Any]:
    """Win rates with their bootstrap interval over topics, and the mean of each per-topic metric."""
    result: dict[str, Any] = {
        criterion: quality.win_rate(
            [[getattr(p, criterion) for p in t.pairs if getattr(p, criterion) is not None] for t in topics],
            seed=seed,
        ).as_dict()
        for criterion in ("novelty", "feasibility")
    }
    for arm in ARMS:
        result[arm] = {
            name: _mean([t.metrics[arm][name] for t in topics])
            for name in (
                "ideas", "near_known_share", "nearest_known_cosine", "mean_pairwise_cosine", "clusters",
                "tokens", "wall_s", "tokens_per_kept", "seconds_per_kept",
            )
        }
    return result


def evaluate(
    settings: Settings,
    topics: Sequence[EvalTopic],
    brief_fields: dict[str, Any],
    run_pipeline: Callable[[Brief], tuple[RunState, list[EvalIdea]]],
    *,
    judge_model: str | None = None,
    pairs_per_topic: int = PAIRS_PER_TOPIC,
    seed: int = 0,
    on_topic: Callable[[TopicResult], None] | None = None,
    arm: str = "full",
    baselines: dict[str, BaselineResult] | None = None,
) -> EvalResult:
    """`arm` names the result; `baselines` (topic → its baseline), when given, is read before the
    baseline call and filled after it, so several arms share each topic's one baseline call.
    Per topic (its brief: `Brief(topic=..., **brief_fields)`): the pipeline (`run_pipeline(brief)`:
    the stopped run and its shortlist ideas, run through the queue by the caller), the baseline (one
    call), `pairs_per_topic` sampled pairs judged in both orders, and the metrics. Raises
    ModelUnavailable / ModelConfigError when the endpoint cannot be used."""
    results: list[TopicResult] = []
    first_brief = Brief(topic=topics[0].topic, **brief_fields)
    generator = role_model(settings, "generator", first_brief)
    judge = role_model(settings, "judge", first_brief, judge_model)
    for n, topic in enumerate(topics):
        brief = Brief(topic=topic.topic, **brief_fields)
        started = time.time()
        state, ideas = run_pipeline(brief)
        pipeline = pipeline_result(state, ideas)
        if not state.finished_at:
            pipeline.wall_s = round(time.time() - started, 3)
        # as many ideas as the run's shortlist holds (its size when the run kept none)
        baseline = (baselines or {}).get(topic.topic)
        if baseline is None:
            baseline = asyncio.run(run_baseline(settings, brief, len(ideas) or brief.shortlist_size))
            if baselines is not None:
                baselines[topic.topic] = baseline
        pairs_idx = sample_pairs(len(ideas), len(baseline.ideas), pairs_per_topic, seed + n)
        pairs = asyncio.run(run_judge(settings, brief, ideas, baseline.ideas, pairs_idx, judge_model))
        metrics, map_xy = topic_metrics(settings, topic, pipeline, baseline, pairs)
        result = TopicResult(
            topic=topic.topic, known=topic.known, pipeline=pipeline, baseline=baseline, pairs=pairs,
            metrics=metrics, map_xy=map_xy,
        )
        results.append(result)
        if on_topic is not None:
            on_topic(result)
    return EvalResult(
        arm=arm,
        mechanisms_off=first_brief.mechanisms.off(),
        generator_model=generator.model,
        judge_model=judge.model,
        self_evaluation=(judge.model, judge.base_url) == (generator.model, generator.base_url),
        endpoint=generator.endpoint,
        embedder=get_embedder(settings).model_id,
        thresholds={"novelty_high": settings.novelty_high, "novelty_deny_high": settings.novelty_deny_high},
        pairs_per_topic=pairs_per_topic,
        seed=seed,
        topics=results,
        overall=overall(results, seed),
        definitions=DEFINITIONS,
    )
