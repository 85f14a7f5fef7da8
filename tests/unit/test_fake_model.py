"""The fake model reads our requests only through `agents.prompts.markers` and the answer schema,
so rewording a prompt changes nothing about how it answers."""

from __future__ import annotations

import json

import httpx
import pytest

from agents.engine import run_step
from agents.prompts import markers, roles
from agents.prompts.requests import with_schema
from agents.schemas import EvolvedIdea, IdeaBatch, ScoreAnswer
from agents.state import RunState
from config.settings import Settings
from ideaforge.devtools.fake_openai import FakeModelServer, Fault
from tests.unit.helpers import make_state
from workers.runtime import turn_context


async def test_reworded_prompts_still_get_the_right_answers(
    fake_model: FakeModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every marker and every role prompt reworded: counts, ids, titles and roles still come through."""
    monkeypatch.setattr(markers, "COUNT_PHRASE", "Come up with {count} fresh ideas, no fewer.")
    monkeypatch.setattr(markers, "IDEA_TAG", '<concept ref="{id}">')
    monkeypatch.setattr(markers, "TITLE_LINE", "Name: {title}")
    monkeypatch.setattr(markers, "FIRST_IDEA", "Option one")
    monkeypatch.setattr(markers, "SECOND_IDEA", "Option two")
    for role in ("generator", "skeptic", "judge"):
        monkeypatch.setitem(roles.DEFAULT_SYSTEM_PROMPTS, role, f"Act as {role} number {len(role)}.")
    settings = Settings(openai_base_url=fake_model.base_url, model="fake-model", model_max_retries=0)
    state: RunState = make_state(deny=["composting"], rounds=2, ideas_per_round=4)
    fake_model.add_faults(Fault(kind="bad_schema", role="judge"))  # the role comes from the schema
    prompts: list[str] = []
    async with turn_context(settings, state.brief) as ctx:
        while not state.terminal:
            outcome = await run_step(state, ctx)
            prompts += [e.prompt[-1]["content"] for e in outcome.events if e.prompt]
            state = outcome.state
    assert any("Come up with 4 fresh ideas, no fewer." in p for p in prompts)  # the new wording was sent
    assert any('<concept ref="i' in p for p in prompts) and any("Option one:" in p for p in prompts)
    assert [len([i for i in state.ideas if i.round == r]) for r in (1, 2)] == [4, 4]  # count read
    evolved = [i for i in state.ideas if i.origin == "evolved"]
    assert evolved and all(p in {i.id for i in state.ideas if i.round == 1} for p in evolved[0].parents)
    assert {"improve", "combine", "simplify"} <= {i.operator for i in evolved}  # each answered from its schema
    for idea in state.ideas:  # the Skeptic's answer names the idea's title: the title was read
        assert idea.critique is not None and idea.title[:40] in idea.critique.strongest_objection
    assert fake_model.state.faults == []  # the judge's fault was taken by a Judge request
    assert state.usage["judge"].failures == 0  # and the re-ask repaired it
    assert any(i.matches for i in state.ideas)  # Elo matches were judged from the two ideas shown


def test_a_server_without_response_format_is_answered_from_the_schema_hint(
    fake_model: FakeModelServer,
) -> None:
    """With no `response_format`, the schema hint appended to the request decides the answer."""
    for schema, check in ((ScoreAnswer, "novelty"), (IdeaBatch, "ideas"), (EvolvedIdea, "what_changed")):
        request = with_schema("Whatever wording we choose today.", schema.model_json_schema())
        body = {
            "model": "m",
            "messages": [{"role": "system", "content": "x"}, {"role": "user", "content": request}],
        }
        reply = httpx.post(f"{fake_model.base_url}/chat/completions", json=body).json()
        content = reply["choices"][0]["message"]["content"]
        assert check in json.loads(content)
        schema.model_validate_json(content)
