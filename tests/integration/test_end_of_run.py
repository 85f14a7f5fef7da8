"""The end of a run: the final shortlist in the stopping commit, the live ranking with the configured
`elo_min_matches`, and the end-of-run work (`on_run_stopped`) done at most once per run."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import workers.stopped as stopped
from agents.brief import parse_brief
from agents.errors import InvalidVerdict
from agents.state import Idea, RunState, RunStatus, Score, StopReason, new_run_state, parse_decision
from config.settings import Settings, get_settings
from ideaforge.web.app import create_app
from tests.conftest import run_burst
from workers.api import Ideaforge
from workers.store.runs import STOPPED_CLAIM_S, RunStore

ROOT = Path(__file__).resolve().parents[2]


def _running_run(run_id: str, **brief: object) -> RunState:
    """Three judged ideas, each with exactly 2 Elo matches; Elo order (c, b, a) is the reverse of
    the Judge's score order (a, b, c)."""
    state = new_run_state(parse_brief({"topic": "Quiet trains", "rounds": 1, **brief}), run_id, time.time())
    state.status = RunStatus.RUNNING
    for n, (name, elo) in enumerate((("a", 1100.0), ("b", 1200.0), ("c", 1300.0))):
        state.ideas.append(
            Idea(
                id=f"i{n}",
                title=f"Idea {name}",
                summary=f"About {name}.",
                round=1,
                score=Score(novelty=9 - n, feasibility=9 - n, rationale="judged"),
                elo=elo,
                matches=2,
            )
        )
    return state


def _stopped(state: RunState) -> RunState:
    done = state.model_copy(deep=True)
    done.step += 1
    done.status = RunStatus.FINISHED
    done.stop_reason = StopReason.ROUNDS_DONE
    done.finished_at = time.time()
    return done


def test_live_and_final_shortlists_rank_alike_with_min_matches_3(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    """With IDEAFORGE_ELO_MIN_MATCHES=3 two matches are too few for Elo: the dashboard's live
    shortlist, the facade's and the stored final one all rank by score, in the same order."""
    monkeypatch.setenv("IDEAFORGE_ELO_MIN_MATCHES", "3")
    get_settings.cache_clear()
    settings = get_settings()
    forge = Ideaforge(settings)
    state = _running_run("minmatch1")
    forge.store.create(state, [], lambda pipe: None)
    # the default (2 matches) would rank by Elo, in the other order: the setting matters here
    default = RunStore(forge.client, forge.store.keys, elo_min_matches=2).live_shortlist(state)
    assert (default.ranked_by, [e.idea_id for e in default.ideas]) == ("elo", ["i2", "i1", "i0"])

    live, final = forge.current_shortlist(forge.get_run("minmatch1"))
    assert not final and (live.ranked_by, [e.idea_id for e in live.ideas]) == ("score", ["i0", "i1", "i2"])
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as http:
        shown = http.get("/runs/minmatch1/shortlist").json()
    assert shown["final"] is False and shown["ranked_by"] == "score"
    assert [e["idea_id"] for e in shown["ideas"]] == ["i0", "i1", "i2"]

    assert forge.store.commit_turn(state.step, _stopped(state), [], None)
    stored = forge.get_shortlist("minmatch1")
    assert stored is not None
    assert (stored.ranked_by, [e.idea_id for e in stored.ideas]) == (live.ranked_by, [e.idea_id for e in live.ideas])
    assert forge.current_shortlist(forge.get_run("minmatch1")) == (stored, True)


def _count_parts(monkeypatch: pytest.MonkeyPatch, fail_digest: bool = False) -> list[str]:
    calls: list[str] = []
    real_digest = stopped.write_night_digest

    def remember(ledger: object, state: RunState, shortlist: object) -> list[object]:
        calls.append("ledger")
        return []

    def digest(store: RunStore, settings: Settings, state: RunState) -> Path | None:
        calls.append("digest")
        if fail_digest:
            raise OSError("disk full")
        return real_digest(store, settings, state)

    monkeypatch.setattr(stopped, "remember_run", remember)
    monkeypatch.setattr(stopped, "write_night_digest", digest)
    return calls


def test_end_of_run_work_is_done_once(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path
) -> None:
    """Called twice (a retried job, the failure callback), the ledger pass and the digest happen once."""
    calls = _count_parts(monkeypatch)
    settings = settings.model_copy(update={"digest_dir": tmp_path})
    store = RunStore.from_settings(settings)
    state = _running_run("once1", schedule="nightly", schedule_slot="2025-01-02T02:00:00+01:00")
    store.create(state, [], lambda pipe: None)
    assert not stopped.on_run_stopped(settings, store, state)  # not stopped: nothing to do
    assert store.commit_turn(state.step, _stopped(state), [], None)
    done = store.load("once1")
    assert stopped.on_run_stopped(settings, store, done) is True
    assert stopped.on_run_stopped(settings, store, done) is False
    assert calls == ["ledger", "digest"]
    assert [p.name for p in tmp_path.iterdir()] == ["digest-2025-01-02.md"]
    assert store.r.get(store.keys.stopped("once1")) == b"done" and store.r.ttl(store.keys.stopped("once1")) == -1


def test_a_crash_after_the_claim_leaves_a_claim_that_expires(settings: Settings) -> None:
    """The claim is taken before the work with a TTL: a process that dies in between does not block
    the work for good; a finished one leaves a permanent marker."""
    store = RunStore.from_settings(settings)
    assert store.claim_stopped("crash1") and not store.claim_stopped("crash1")
    assert 0 < store.r.ttl(store.keys.stopped("crash1")) <= STOPPED_CLAIM_S
    assert store.claim_stopped("crash2", ttl_s=1)
    time.sleep(1.1)  # the claim's TTL is what is under test; there is no event to await
    assert store.claim_stopped("crash2")


def test_a_failing_digest_never_fails_the_turn(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """The stopping turn commits and its job succeeds; the ledger part still ran; the claim is given
    back so the next caller writes the digest."""
    calls = _count_parts(monkeypatch, fail_digest=True)
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "Ways to reuse library returns", "rounds": 1, "ideas_per_round": 2})
    run_burst(settings)
    state = forge.get_run(run_id)
    assert state.status is RunStatus.FINISHED and forge.get_shortlist(run_id) is not None
    assert forge.queue_report()["depths"]["failed"] == 0
    assert calls == ["ledger", "digest"]
    assert forge.client.get(forge.store.keys.stopped(run_id)) is None  # released: not done
    calls.clear()
    monkeypatch.setattr(stopped, "write_night_digest", lambda store, settings, state: None)
    assert stopped.on_run_stopped(settings, forge.store, state) is True
    assert calls == ["ledger"]


def test_verdict_words_in_both_tenses(settings: Settings) -> None:
    """accept/accepted/reject/rejected are all understood; the past tense is what is stored."""
    assert [parse_decision(w) for w in ("accept", "Accepted ", "reject", "REJECTED")] == [
        "accepted", "accepted", "rejected", "rejected",
    ]  # fmt: skip
    with pytest.raises(InvalidVerdict):
        parse_decision("maybe")
    forge = Ideaforge(settings)
    forge.store.create(_running_run("verdict1"), [], lambda pipe: None)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as http:
        bad = http.post("/runs/verdict1/ideas/i0/verdict", json={"decision": "maybe"})
        assert bad.status_code == 422 and "accept(ed)" in bad.json()["detail"]
        ok = http.post("/runs/verdict1/ideas/i0/verdict", json={"decision": "accept", "note": "try it"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["idea"]["verdict"]["decision"] == "accepted"
    verdict = forge.get_run("verdict1").idea("i0").verdict
    assert verdict is not None and verdict.decision == "accepted"


def test_the_facade_imports_no_model_client_or_embedder() -> None:
    """`import workers.api` (what every CLI command and the web load) stays light."""
    heavy = ("autogen_core", "autogen_ext", "openai", "numpy", "onnxruntime", "tokenizers", "fastapi")
    code = f"import sys, workers.api; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
