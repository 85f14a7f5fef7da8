"""The model calls of `ideaforge eval` (issue 14), given bound role agents: the single-prompt baseline
and the blind pairwise judge. The queue side (`workers/evaluation/`) builds the agents and runs them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import Sequence

from pydantic import BaseModel

from agents.calls import RoleAgent, ask_structured
from agents.prompts.evaluation import BASELINE_SYSTEM, baseline_request, preference_prompt
from agents.quality import pair_score
from agents.schemas import IdeaBatch, PreferenceVerdict


class EvalIdea(BaseModel):
    """One idea of an arm: title and summary."""

    title: str
    summary: str

    @property
    def text(self) -> str:
        """What the judge is shown: the title, then the summary."""
        return f"{self.title}\n{self.summary}"


class BaselineResult(BaseModel):
    """The baseline's one call: its ideas, how many it asked for, its tokens, wall time (s), the answer
    cap offered (tokens; None: unknown), the model, and the error when no usable answer came."""

    ideas: list[EvalIdea]
    asked: int
    prompt_tokens: int
    completion_tokens: int
    wall_s: float
    cap_tokens: int | None
    model: str
    error: str | None = None


class PairJudgement(BaseModel):
    """One pipeline × baseline pair (indices into each arm's ideas) judged in both orders. `a_first`:
    the verdict with the pipeline idea shown as A; `b_first`: with it shown as B; `novelty` /
    `feasibility`: the pipeline's `agents.quality.pair_score` (None when a verdict is missing)."""

    pipeline: int
    baseline: int
    a_first: PreferenceVerdict | None
    b_first: PreferenceVerdict | None
    novelty: float | None
    feasibility: float | None
    prompt_tokens: int
    completion_tokens: int
    error: str | None = None


async def ask_baseline(agent: RoleAgent, topic: str, count: int) -> BaselineResult:
    """One call with `BASELINE_SYSTEM` (replacing the agent's system prompt) asking for `count` ideas;
    ideas past the `count` asked for are left out (both arms are compared on as many ideas).
    Raises what `ask_structured` raises for an unusable endpoint."""
    baseline = dataclasses.replace(agent, system_prompt=BASELINE_SYSTEM)
    started = time.perf_counter()
    answer, record = await ask_structured(baseline, baseline_request(topic, count), IdeaBatch)
    return BaselineResult(
        ideas=[EvalIdea(title=i.title, summary=i.summary) for i in answer.ideas[:count]] if answer else [],
        asked=count,
        prompt_tokens=record.prompt_tokens,
        completion_tokens=record.completion_tokens,
        wall_s=round(time.perf_counter() - started, 3),
        cap_tokens=agent.cap.tokens if agent.cap else None,
        model=agent.model,
        error=record.error,
    )


def sample_pairs(n_pipeline: int, n_baseline: int, k: int, seed: int) -> list[tuple[int, int]]:
    """`k` distinct (pipeline index, baseline index) pairs drawn without replacement from all
    n_pipeline × n_baseline pairs with `random.Random(seed)`, sorted; all of them when fewer."""
    pairs = [(p, b) for p in range(n_pipeline) for b in range(n_baseline)]
    return sorted(random.Random(seed).sample(pairs, min(k, len(pairs))))


Asked = tuple[PreferenceVerdict | None, int, int, str | None]  # verdict, prompt/completion tokens, error


async def _prefer(agent: RoleAgent, topic: str, a: str, b: str) -> Asked:
    prompt = preference_prompt(topic, a, b)
    asked = dataclasses.replace(agent, system_prompt=prompt.system)
    answer, record = await ask_structured(asked, prompt.user, PreferenceVerdict)
    return answer, record.prompt_tokens, record.completion_tokens, record.error


async def judge_pairs(
    agent: RoleAgent,
    topic: str,
    pipeline: Sequence[EvalIdea],
    baseline: Sequence[EvalIdea],
    pairs: Sequence[tuple[int, int]],
    max_concurrency: int,
) -> list[PairJudgement]:
    """Each pair asked in both orders (pipeline idea as A, then as B), anonymised: the judge sees two
    ideas under neutral headers, never which arm wrote which. At most `max_concurrency` calls at once.
    Raises what `ask_structured` raises for an unusable endpoint."""
    gate = asyncio.Semaphore(max_concurrency)

    async def ask(a: str, b: str) -> Asked:
        async with gate:
            return await _prefer(agent, topic, a, b)

    async def one(p: int, b: int) -> PairJudgement:
        first, second = await asyncio.gather(
            ask(pipeline[p].text, baseline[b].text), ask(baseline[b].text, pipeline[p].text)
        )
        a_first, b_first = first[0], second[0]
        return PairJudgement(
            pipeline=p,
            baseline=b,
            a_first=a_first,
            b_first=b_first,
            novelty=pair_score(a_first.more_novel, b_first.more_novel) if a_first and b_first else None,
            feasibility=(
                pair_score(a_first.more_feasible, b_first.more_feasible) if a_first and b_first else None
            ),
            prompt_tokens=first[1] + second[1],
            completion_tokens=first[2] + second[2],
            error=None if a_first and b_first else (first[3] or second[3] or "no answer"),
        )

    return list(await asyncio.gather(*(one(p, b) for p, b in pairs)))
