"""Every fault the fake model can inject: retried or repaired per policy, recorded, never a crash."""

from __future__ import annotations

import pytest

from config.settings import get_settings
from ideaforge.devtools.fake_openai import FakeModelServer, Fault
from tests.conftest import run_burst
from tests.faults.integrity import check_run
from workers.api import Ideaforge

BRIEF = {"topic": "Ways to reduce food waste in university cafeterias", "rounds": 1, "ideas_per_round": 2}


@pytest.fixture
def quick_model(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDEAFORGE_MODEL_TIMEOUT_S", "1")
    monkeypatch.setenv("IDEAFORGE_MODEL_MAX_RETRIES", "2")
    get_settings.cache_clear()


# (fault, how the policy deals with it): "client" = the OpenAI client retries the request,
# "reask" = the answer is unusable and ideaforge re-asks once with the validation error.
ONE_OFF = [
    pytest.param(
        Fault("status", status=429, retry_after=0.2, role="skeptic"), "client", id="429-retry-after"
    ),
    pytest.param(Fault("status", status=500, role="skeptic"), "client", id="500"),
    pytest.param(Fault("status", status=503, role="judge"), "client", id="503"),
    pytest.param(Fault("reset", role="generator"), "client", id="connection-reset"),
    pytest.param(Fault("timeout", seconds=2.5, role="judge"), "client", id="read-timeout"),
    pytest.param(Fault("non_json", role="generator"), "reask", id="non-json-body"),
    pytest.param(Fault("bad_schema", role="skeptic"), "reask", id="bad-schema"),
    pytest.param(Fault("empty", role="judge"), "reask", id="empty-content"),
    pytest.param(Fault("long", role="generator"), "reask", id="absurdly-long"),
]


@pytest.mark.usefixtures("quick_model")
@pytest.mark.parametrize(("fault", "policy"), ONE_OFF)
def test_one_fault_is_absorbed(fake_model: FakeModelServer, fault: Fault, policy: str) -> None:
    settings = get_settings()
    forge = Ideaforge(settings)
    run_id = forge.submit(BRIEF)
    fake_model.add_faults(fault)
    run_burst(settings)
    state, events = check_run(forge.store, run_id)
    assert fake_model.state.faults == [], "the fault was never hit"
    assert state.status.value == "finished", (state.status, state.errors)
    assert state.stop_reason is not None and state.stop_reason.value == "rounds_done"
    shortlist = forge.get_shortlist(run_id)
    assert shortlist is not None and shortlist.ideas
    failed = [e for e in events if e.kind == "error"]
    assert failed == [], [e.content for e in failed]
    role_calls = [e for e in events if e.role == fault.role]
    assert role_calls
    if policy == "reask":
        assert fake_model.state.requests[fault.role or "total"] == len(role_calls) + 1  # one re-ask
    else:
        assert fake_model.state.requests[fault.role or "total"] >= len(role_calls) + 1  # client retry


@pytest.mark.usefixtures("quick_model")
def test_unusable_answers_twice_fail_the_call_and_a_phase_without_an_answer_fails_the_run(
    fake_model: FakeModelServer,
) -> None:
    settings = get_settings()
    forge = Ideaforge(settings)
    run_id = forge.submit({**BRIEF, "ideas_per_round": 1})
    fake_model.add_faults(Fault("bad_schema", role="skeptic"), Fault("bad_schema", role="skeptic"))
    run_burst(settings)
    state, events = check_run(forge.store, run_id)
    assert [i.critique for i in state.ideas] == [None]  # the call failed for good, the idea stays
    assert state.usage["skeptic"].failures == 1
    errors = [e for e in events if e.kind == "error" and e.role == "skeptic"]
    assert len(errors) == 1 and errors[0].content.startswith("FAILED: invalid answer")
    # the critique phase got no usable answer at all: the run fails, quoting the model's error
    assert state.status.value == "failed", (state.status, state.stop_detail)
    assert (state.stop_detail or "").startswith(
        "critique: no usable answer (the skeptic call failed): invalid answer"
    )


@pytest.mark.usefixtures("quick_model")
def test_exhausted_retries_fail_the_run_with_the_reason(fake_model: FakeModelServer) -> None:
    settings = get_settings()
    assert settings.turn_retries == 3
    forge = Ideaforge(settings)
    run_id = forge.submit(BRIEF)
    # Every Judge request fails: 3 tries per call (client) x 4 tries of the turn (queue).
    fake_model.add_faults(*[Fault("status", status=503, role="judge") for _ in range(200)])
    run_burst(settings)
    state, events = check_run(forge.store, run_id)
    assert state.status.value == "failed"
    assert state.stop_reason is not None and state.stop_reason.value == "error"
    # the Judge's model first acts in a round's meta-review (after the Skeptic's critiques)
    assert state.stop_detail is not None and "(meta_review) failed after retries" in state.stop_detail
    assert "ModelUnavailable" in state.stop_detail and "503" in state.stop_detail
    assert any(e.kind == "error" and "failed after retries" in e.content for e in events)
    assert forge.get_shortlist(run_id) is not None  # every stop writes a shortlist
    assert fake_model.state.requests["judge"] == 1 * 3 * 4  # the meta-review call, 3 client tries, 4 turn tries
    assert forge.client.llen(f"rq:queue:{settings.queue_name}") == 0
