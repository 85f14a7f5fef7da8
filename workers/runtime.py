"""Builds what a turn needs from settings: role agents whose clients are opened on first use."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path

from autogen_core.models import ChatCompletionClient

from agents.brief import Brief
from agents.calls import Prices, RoleAgent
from agents.concepts.draw import ConceptDraw, draw_pairs
from agents.context import ConceptDrawer, StopRules, TurnContext
from agents.models import RoleModel, resolve_role_models
from agents.novelty.dedup import Thresholds
from agents.novelty.filter import EmbeddingNoveltyFilter
from agents.novelty.index import VectorIndex
from agents.tournament import EloTournament
from config.agents import AgentsConfig, load_agents_config
from config.settings import Settings
from workers.novelty import get_embedder
from workers.pricing import check_cost_budget_in_turn, role_prices


@lru_cache(maxsize=8)
def _agents_config(path: Path, mtime: float, settings_json: str) -> AgentsConfig:
    return load_agents_config(path, Settings.model_validate_json(settings_json))


def agents_config(settings: Settings) -> AgentsConfig:
    """Parsed once per file version (YAML parsing is a visible share of a short turn)."""
    path = Path(settings.agents_file)
    fingerprint = settings.model_dump_json(
        include={"model", "generator_model", "skeptic_model", "judge_model"}
    )
    return _agents_config(path, path.stat().st_mtime, fingerprint).model_copy(deep=True)


def warm_turn_context(settings: Settings) -> None:
    """Fill the per-process caches a turn uses (the parsed agents file), e.g. before a worker forks,
    so that each work horse inherits them instead of parsing the YAML again. Never raises."""
    with contextlib.suppress(Exception):
        cfg = agents_config(settings)
        for role_model in resolve_role_models(settings, cfg).values():
            role_prices(settings, role_model)  # loads the price table once


class LazyAgents(Mapping[str, RoleAgent]):
    """Opens a role's client only when a phase needs that role (code-only phases open none)."""

    def __init__(
        self, role_models: Mapping[str, RoleModel], prices: Mapping[str, Prices]
    ) -> None:
        self._models = role_models
        self._prices = prices
        self._agents: dict[str, RoleAgent] = {}
        self._clients: list[ChatCompletionClient] = []

    def __getitem__(self, role: str) -> RoleAgent:
        if role not in self._agents:
            agent = self._models[role].role_agent(self._prices[role])
            self._clients.append(agent.client)
            self._agents[role] = agent
        return self._agents[role]

    def __iter__(self) -> Iterator[str]:
        return iter(self._models)

    def __len__(self) -> int:
        return len(self._models)

    async def close(self) -> None:
        for client in self._clients:
            await client.close()
        self._clients.clear()
        self._agents.clear()


def novelty_filter(settings: Settings, ledger_index: VectorIndex | None = None) -> EmbeddingNoveltyFilter:
    """The embedding filter with the configured thresholds; `ledger_index` is the brief's namespace."""
    return EmbeddingNoveltyFilter(
        embedder=get_embedder(settings),
        thresholds=Thresholds(high=settings.novelty_high, low=settings.novelty_low),
        deny_thresholds=Thresholds(high=settings.novelty_deny_high, low=settings.novelty_deny_low),
        short_words=settings.novelty_short_words,
        cluster_cosine=settings.cluster_cosine,
        ledger=ledger_index,
        max_concurrency=settings.max_concurrency,
    )


def concept_drawer(settings: Settings) -> ConceptDrawer:
    """The mix strategy's catalog draw on the process's embedder (used when a brief's
    `concept_catalog` mechanism is on)."""

    def draw(topic: str, count: int, seed: int) -> ConceptDraw:
        return draw_pairs(topic, count, seed, get_embedder(settings))

    return draw


@asynccontextmanager
async def turn_context(
    settings: Settings, brief: Brief, ledger_index: VectorIndex | None = None
) -> AsyncIterator[TurnContext]:
    """Clients live for one job and are closed at its end (module-level clients break on a second
    `asyncio.run()` in the same process). `ledger_index` (the brief's ledger namespace, loaded by the
    job for the filter phase only) is what the novelty filter compares new ideas with besides the run.
    Raises ModelConfigError when the brief has a cost budget and a role's model has no known price
    (workers/pricing.py), so that the run ends `failed` before a request is paid."""
    cfg = agents_config(settings)
    role_models = resolve_role_models(settings, cfg, brief.model)
    check_cost_budget_in_turn(brief, settings, role_models)
    agents = LazyAgents(
        role_models,
        {role: role_prices(settings, rm) for role, rm in role_models.items()},
    )
    matches = settings.elo_matches_per_round
    if all(rm.local for rm in role_models.values()):
        matches = min(matches, settings.local_elo_matches_per_round)
    try:
        yield TurnContext(
            agents=agents,
            max_concurrency=settings.max_concurrency,
            elo_min_matches=settings.elo_min_matches,
            generate_attempts=settings.generate_attempts,
            novelty=novelty_filter(settings, ledger_index),
            stop_rules=StopRules(
                min_yield=settings.dried_up_min_yield, dried_up_rounds=settings.dried_up_rounds
            ),
            tournament=EloTournament(
                k=settings.elo_k,
                matches_per_round=matches,
                max_per_idea=settings.elo_max_matches_per_idea,
            ),
            concepts=concept_drawer(settings),
        )
    finally:
        await agents.close()
