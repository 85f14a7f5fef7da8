"""Context growth: prompt tokens per Generator turn, round 2 vs round 10.

ideaforge builds each turn's prompt from the state (capped lists). Baseline in the same run: an
autogen `RoundRobinGroupChat` of the same three agents (same system prompts, same structured answer
types, same fake server) given the same task, where every agent sees the whole conversation.
Token counts are the fake server's (characters / 4), so both sides are counted alike.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from benchmarks.common import (
    TOPIC,
    Check,
    FakeServer,
    Options,
    Result,
    bench_env,
    in_process_brainstorm,
    process_env,
)

ROUNDS = 10
SHOWN = (1, 2, 3, 5, 10)


def ideaforge_tokens() -> dict[int, int]:
    _state, events = in_process_brainstorm({"topic": TOPIC, "rounds": ROUNDS, "ideas_per_round": 3})
    return {e.round: e.prompt_tokens for e in events if e.role == "generator" and e.phase == "generate"}


async def group_chat_tokens() -> dict[int, int]:
    from autogen_agentchat.agents import AssistantAgent
    from autogen_agentchat.conditions import MaxMessageTermination
    from autogen_agentchat.messages import StructuredMessage
    from autogen_agentchat.teams import RoundRobinGroupChat

    from agents import schemas
    from agents.brief import Brief
    from agents.models import resolve_role_models
    from agents.prompts.requests import generate_request
    from agents.prompts.roles import system_prompt
    from agents.state import RunState
    from config.settings import get_settings
    from workers.runtime import agents_config

    settings = get_settings()
    cfg = agents_config(settings)
    models = resolve_role_models(settings, cfg)
    answer = {"generator": schemas.IdeaBatch, "skeptic": schemas.CritiqueAnswer, "judge": schemas.ScoreAnswer}
    clients = {role: models[role].create_client() for role in answer}
    team = RoundRobinGroupChat(
        [
            AssistantAgent(
                name=role,
                model_client=clients[role],
                system_message=system_prompt(role, cfg.role(role)),
                output_content_type=answer[role] if models[role].structured else None,
            )
            for role in answer
        ],
        termination_condition=MaxMessageTermination(1 + 3 * ROUNDS),
        custom_message_types=[StructuredMessage[t] for t in answer.values()],
    )
    now = time.time()
    state = RunState(
        run_id="groupchat", brief=Brief(topic=TOPIC), phase="generate", created_at=now, updated_at=now
    )
    try:
        result = await team.run(task=generate_request(state, settings.elo_min_matches))
    finally:
        for client in clients.values():
            await client.close()
    gen = [m for m in result.messages if m.source == "generator"]
    return {n + 1: m.models_usage.prompt_tokens for n, m in enumerate(gen) if m.models_usage is not None}


def run(opts: Options) -> Result:
    t0 = time.time()
    with FakeServer(latency_ms=0) as fake, process_env(bench_env(fake.base_url)):
        mine = ideaforge_tokens()
        chat = asyncio.run(group_chat_tokens())
    rows: list[list[Any]] = [[r, mine.get(r, ""), chat.get(r, "")] for r in SHOWN]
    g_mine = mine[10] / mine[2]
    g_chat = chat[10] / chat[2]
    rows.append(["growth round 10 / round 2", f"{g_mine:.2f}×", f"{g_chat:.2f}×"])
    return Result(
        name="context_growth",
        title=f"Context growth: prompt tokens per Generator turn over {ROUNDS} rounds",
        columns=["round", "ideaforge", "RoundRobinGroupChat (baseline)"],
        rows=rows,
        checks=[
            Check("ideaforge growth round 10 / round 2", "≤ 1.3×", f"{g_mine:.2f}×", g_mine <= 1.3),
            Check("group chat growth round 10 / round 2", "report", f"{g_chat:.2f}×", None),
        ],
        notes=[
            "Tokens as the fake server counts them (prompt characters / 4, system prompt included); "
            "structured-output schemas travel in response_format and are not counted on either side."
        ],
        seconds=time.time() - t0,
    )
