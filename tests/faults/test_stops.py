"""Budget stops and cancel at every phase: a clean stop, a shortlist, the reason, nothing more enqueued."""

from __future__ import annotations

import threading

import pytest

from agents.state import Phase
from config.settings import get_settings
from ideaforge.devtools.fake_openai import FakeModelServer
from tests.conftest import run_burst
from tests.faults.integrity import check_run
from tests.faults.procs import wait_for
from workers.api import Ideaforge
from workers.jobs import take_turn
from workers.queue import turn_job_id

TOPIC = "Ways to reduce food waste in university cafeterias"


def _assert_clean_stop(forge: Ideaforge, run_id: str, status: str, reason: str) -> None:
    state, events = check_run(forge.store, run_id)
    assert state.status.value == status, (state.status, state.stop_detail, state.errors)
    assert state.stop_reason is not None and state.stop_reason.value == reason
    assert state.stop_detail
    assert forge.get_shortlist(run_id) is not None
    assert events[-1].content.startswith(f"run stopped: {reason}")
    queue = f"rq:queue:{forge.settings.queue_name}"
    assert forge.client.llen(queue) == 0
    assert not forge.client.exists(f"rq:job:{turn_job_id(run_id, state.step)}")  # nothing after the stop


@pytest.mark.parametrize(
    ("budget", "reason", "env_extra"),
    [
        ({"max_tokens": 300}, "token_budget", {}),
        (
            {"max_cost_usd": 0.05},
            "cost_budget",
            {"IDEAFORGE_PROMPT_PRICE_PER_1K": "0.2", "IDEAFORGE_COMPLETION_PRICE_PER_1K": "0"},
        ),
        ({"max_seconds": 0.5}, "time_budget", {}),
    ],
    ids=["tokens", "cost", "wall-clock"],
)
def test_budget_ends_the_run_cleanly(
    env: dict[str, str],
    fake_model: FakeModelServer,
    monkeypatch: pytest.MonkeyPatch,
    budget: dict[str, float],
    reason: str,
    env_extra: dict[str, str],
) -> None:
    for name, value in env_extra.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    fake_model.set_latency(150)
    forge = Ideaforge(get_settings())
    run_id = forge.submit({"topic": TOPIC, "rounds": 5, "ideas_per_round": 2, "budget": budget})
    run_burst(get_settings())
    _assert_clean_stop(forge, run_id, "finished", reason)
    state = forge.get_run(run_id)
    assert state.round < 5  # the budget, not the rounds, ended it


PHASES = ["derive_deny", "generate", "filter", "critique", "meta_review", "judge", "rank", "stop_check"]


@pytest.mark.parametrize("phase", PHASES)
def test_cancel_at_every_phase(env: dict[str, str], phase: str) -> None:
    settings = get_settings()
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": TOPIC, "rounds": 2, "ideas_per_round": 2})
    while (state := forge.get_run(run_id)).phase.value != phase:
        take_turn(run_id, state.step)  # the stale queued jobs are skipped later (compare-and-set)
    forge.cancel(run_id)
    run_burst(settings)
    _assert_clean_stop(forge, run_id, "cancelled", "cancelled")
    assert forge.get_run(run_id).phase is Phase.DONE


def test_cancel_while_a_turn_is_in_flight(env: dict[str, str], fake_model: FakeModelServer) -> None:
    settings = get_settings()
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": TOPIC, "rounds": 2, "ideas_per_round": 2})
    while (state := forge.get_run(run_id)).phase is not Phase.CRITIQUE:
        take_turn(run_id, state.step)
    critique_step = state.step
    fake_model.set_latency(600)
    job_key = f"rq:job:{turn_job_id(run_id, critique_step)}"
    cancelled: list[int] = []

    def cancel_mid_turn() -> None:  # RQ workers need the main thread (signals): the canceller moves
        wait_for(lambda: forge.client.hget(job_key, "status") == b"started", timeout=20, what="turn")
        cancelled.append(forge.cancel(run_id).step)

    canceller = threading.Thread(target=cancel_mid_turn)
    canceller.start()
    run_burst(settings)
    canceller.join(timeout=30)
    assert cancelled == [critique_step]  # requested while the critique turn was in flight
    _assert_clean_stop(forge, run_id, "cancelled", "cancelled")
    _, events = check_run(forge.store, run_id)
    critiques = [e for e in events if e.step == critique_step and e.role == "skeptic" and e.kind == "turn"]
    assert len(critiques) == 2  # the turn in flight finished and was kept
    assert forge.get_run(run_id).step == critique_step + 2  # ...and the very next step stopped the run
