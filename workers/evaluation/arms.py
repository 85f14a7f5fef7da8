"""The eval's arms on the queue side: role agents built as a run builds them, closed after use.

The baseline uses the Generator role's endpoint and model; the judge the Judge role's model (or
`judge_model` on the Judge's endpoint). The calls themselves are `agents.eval_arms`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from agents.brief import Brief
from agents.eval_arms import BaselineResult, EvalIdea, PairJudgement, ask_baseline, judge_pairs
from agents.models import RoleModel, resolve_role_models
from config.settings import Settings
from workers.pricing import role_prices
from workers.runtime import agents_config


def role_model(settings: Settings, role: str, brief: Brief, model: str | None = None) -> RoleModel:
    """The role's resolved model for this brief; `model` replaces the model name (same endpoint).
    Raises ModelConfigError / AgentsConfigError as a run's turn would."""
    resolved = resolve_role_models(settings, agents_config(settings), brief.model)[role]
    return dataclasses.replace(resolved, model=model) if model else resolved


async def run_baseline(settings: Settings, brief: Brief, count: int) -> BaselineResult:
    """The single-prompt baseline on the Generator's model and answer cap, asking for `count` ideas."""
    rm = role_model(settings, "generator", brief)
    agent = rm.role_agent(role_prices(settings, rm))
    try:
        return await ask_baseline(agent, brief.topic, count)
    finally:
        await agent.client.close()


async def run_judge(
    settings: Settings,
    brief: Brief,
    pipeline: Sequence[EvalIdea],
    baseline: Sequence[EvalIdea],
    pairs: Sequence[tuple[int, int]],
    judge_model: str | None = None,
) -> list[PairJudgement]:
    """The sampled pairs judged blind in both orders (`agents.eval_arms.judge_pairs`)."""
    rm = role_model(settings, "judge", brief, judge_model)
    agent = rm.role_agent(role_prices(settings, rm))
    try:
        return await judge_pairs(agent, brief.topic, pipeline, baseline, pairs, settings.max_concurrency)
    finally:
        await agent.client.close()
