"""What every strategy prepares before its first round, through the real queue and a SimpleWorker
(real Redis, real MiniLM; the chat model is the fake server): the common answers that ground the
Judge in every strategy, and the mix pairs drawn from the concept catalog with a recorded seed."""

from __future__ import annotations

from agents.concepts.catalog import FIELDS
from agents.concepts.draw import seed_for_run
from agents.state import RunStatus, TranscriptEvent
from config.settings import Settings
from ideaforge.render import run_detail
from tests.conftest import run_burst
from workers.api import Ideaforge

TOPIC = "Ways to reduce food waste in university cafeterias"


def _user_text(event: TranscriptEvent) -> str:
    return "\n".join(m["content"] for m in event.prompt or [] if m.get("role") == "user")


def test_a_question_run_grounds_the_judge_in_the_common_answers(settings: Settings) -> None:
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": TOPIC, "strategy": "question", "rounds": 1, "ideas_per_round": 2})
    run_burst(settings)
    state = forge.get_run(run_id)
    assert state.status is RunStatus.FINISHED, state.errors
    assert state.common_answers and state.deny == []  # the deny-list stays the brief's (none)
    events = list(forge.iter_events(run_id))
    assert [e.phase for e in events if e.role != "system"][:2] == ["derive_deny", "pose_questions"]
    judged = [e for e in events if e.phase == "judge" and e.role == "judge" and e.kind == "turn"]
    assert judged
    for event in judged:
        text = _user_text(event)
        block = text[text.index("<nearest_known>") : text.index("</nearest_known>")]
        assert "(a common answer" in block
        assert any(f"- {answer} (a common answer" in block for answer in state.common_answers)
    scored = [i for i in state.ideas if i.score is not None]
    assert scored and all(any(k.source == "common" for k in i.nearest_known) for i in scored)
    assert run_detail(state)["common_answers"] == state.common_answers  # the run page's JSON shows them


def test_a_mix_run_records_its_drawn_pairs_and_seed(settings: Settings) -> None:
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": TOPIC, "strategy": "mix", "rounds": 1, "ideas_per_round": 2})
    run_burst(settings)
    state = forge.get_run(run_id)
    assert state.status is RunStatus.FINISHED, state.errors
    assert state.concept_seed == seed_for_run(run_id)
    by_text = {f.text: f for f in FIELDS}
    fields = [by_text[first] for first, _ in state.concept_pairs]  # every first item is a catalog field
    assert len(state.concept_pairs) == 2 and len(set(fields)) == 2
    events = list(forge.iter_events(run_id))
    pairing = [e for e in events if e.phase == "pair_concepts" and not e.content.startswith("run created")]
    assert [e.role for e in pairing] == ["system"]  # drawn in code: the model was not asked
    assert f"seed {state.concept_seed}" in pairing[0].content
    assert all(f.name in pairing[0].content for f in fields)
    generate = next(e for e in events if e.phase == "generate" and e.role == "generator")
    assert all(f"{first} × {second}" in _user_text(generate) for first, second in state.concept_pairs)


def test_switched_off_the_model_proposes_the_pairs_and_no_common_answers_are_derived(
    settings: Settings,
) -> None:
    forge = Ideaforge(settings)
    mechanisms = {"concept_catalog": False, "common_answers": False}
    run_id = forge.submit(
        {"topic": TOPIC, "strategy": "mix", "rounds": 1, "ideas_per_round": 2, "mechanisms": mechanisms}
    )
    run_burst(settings)
    state = forge.get_run(run_id)
    assert state.status is RunStatus.FINISHED, state.errors
    assert state.concept_seed is None and state.common_answers == []
    events = list(forge.iter_events(run_id))
    assert "derive_deny" not in {e.phase for e in events}
    pairing = [e for e in events if e.phase == "pair_concepts" and not e.content.startswith("run created")]
    assert [e.role for e in pairing] == ["generator"]
    assert state.concept_pairs[0] == ["tidal engineering", "canteen queues"]  # the fake model's pairs
