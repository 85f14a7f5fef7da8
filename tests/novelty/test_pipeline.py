"""The novelty engine end to end: real Redis (DB from IDEAFORGE_TEST_REDIS_DB), real RQ SimpleWorker,
real MiniLM embeddings; only the chat model is the fake server (made to repeat itself on purpose)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agents.novelty.dedup import Action, Candidate, Source, Thresholds, assess
from agents.novelty.embedder import LocalMiniLMEmbedder, idea_text
from agents.novelty.filter import ledger_lanes
from agents.novelty.index import VectorIndex
from agents.ranking import diverse_order, rank_survivors
from agents.state import RunState, RunStatus, StopReason
from config.settings import Settings, get_settings
from ideaforge.cli import app
from ideaforge.devtools.fake_openai import FakeModelServer, Fault
from tests.conftest import run_burst
from tests.novelty.conftest import DENY_BANDS, IDEA_BANDS
from workers.api import Ideaforge
from workers.jobs import take_turn
from workers.novelty import ledger_for
from workers.verdicts import record_verdict

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

FLOUR = (
    "Upcycled brewery grain flour",
    "Spent grain from breweries is dried and milled into a high-protein flour for bakeries.",
)
FLOUR_COPY = (
    "Upcycled flour from brewery grain",
    "Spent grain from breweries is dried and milled into high-protein flour for bakeries.",
)
CARPOOL = (
    "Carpool matching app",
    "An app that matches commuters going the same way so they share a car and split costs.",
)


def idea_fault(title: str, summary: str) -> Fault:
    return Fault(kind="idea", title=title, summary=summary)


def by_title(state: RunState, title: str) -> list[str]:
    return [i.id for i in state.ideas if i.title == title]


def test_a_repeated_idea_is_dropped_with_its_reason_and_elo_ranks_the_shortlist(
    settings: Settings, fake_model: FakeModelServer
) -> None:
    fake_model.add_faults(idea_fault(*FLOUR), idea_fault(*FLOUR_COPY))  # round 1, then a near-copy in round 2
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "food waste", "rounds": 2, "strategy": "question", "ideas_per_round": 3})
    run_burst(settings)
    state = forge.get_run(run_id)
    assert state.status is RunStatus.FINISHED, state.errors
    [original] = by_title(state, FLOUR[0])
    [copy] = by_title(state, FLOUR_COPY[0])
    dup = state.idea(copy)
    assert dup.round == 2 and not dup.alive and dup.duplicate_of == original
    assert dup.dropped and "cosine 0.9" in dup.dropped and FLOUR[0] in dup.dropped
    assert dup.novelty_distance is not None and dup.novelty_distance < 0.05
    # the fake's own ideas are all kept: distinct under MiniLM
    assert [i.id for i in state.ideas if i.duplicate_of] == [copy]
    assert all(
        i.novelty_distance is not None and i.novelty_distance > 0.2 for i in state.ideas if i.id != copy
    )
    # round 2 dropped the copy and topped up with one more idea
    assert [(r.round, r.attempts, r.generated, r.kept) for r in state.rounds] == [(1, 1, 3, 3), (2, 2, 4, 3)]
    events = list(forge.iter_events(run_id))
    dropped = [e for e in events if e.role == "system" and e.content.startswith(f"dropped {copy} ")]
    assert (
        len(dropped) == 1
        and original in dropped[0].content
        and "duplicate of an idea of this run" in dropped[0].content
    )
    # Elo: both-order matches by the Judge, one event per match, shortlist ranked by Elo
    matches = [e for e in events if e.content.startswith("elo match ")]
    assert matches and all("K=32" in e.content for e in matches)
    pairwise = [e for e in events if e.role == "judge" and '"winner"' in e.content]
    assert len(pairwise) == 2 * len(matches)
    alive = [i for i in state.ideas if i.alive and i.score and not (i.critique and i.critique.fatal)]
    assert all(i.matches >= 2 for i in alive) and sum(i.elo for i in alive) == pytest.approx(
        1200 * len(alive)
    )
    shortlist = forge.get_shortlist(run_id)
    assert shortlist is not None and shortlist.ranked_by == "elo"
    elos = [e.elo for e in shortlist.ideas]
    assert len(set(elos)) > 1
    # Elo order, the best of each cluster first (agents/ranking.py); every kept idea has its cluster
    assert all(i.cluster for i in state.ideas if i.alive) and dup.cluster is None
    best_first = diverse_order(rank_survivors(state, settings.elo_min_matches))
    assert [e.idea_id for e in shortlist.ideas] == [i.id for i in best_first][: len(shortlist.ideas)]
    assert [e.cluster for e in shortlist.ideas] == [state.idea(e.idea_id).cluster for e in shortlist.ideas]
    for cluster in {e.cluster for e in shortlist.ideas}:
        mine = [e.elo for e in shortlist.ideas if e.cluster == cluster]
        assert mine == sorted(mine, reverse=True)
    assert all(e.objection and e.novelty and e.feasibility for e in shortlist.ideas)


def test_a_deny_item_blocks_its_paraphrase(settings: Settings, fake_model: FakeModelServer) -> None:
    fake_model.add_faults(idea_fault(*CARPOOL))
    forge = Ideaforge(settings)
    # cosine 0.746, over the deny drop threshold (0.65); "Ride-sharing apps" scores 0.608 (the Judge's band)
    run_id = forge.submit(
        {"topic": "commuting", "rounds": 1, "ideas_per_round": 2, "deny": ["Carpooling apps"]}
    )
    run_burst(settings)
    state = forge.get_run(run_id)
    [carpool] = by_title(state, CARPOOL[0])
    idea = state.idea(carpool)
    assert not idea.alive and idea.duplicate_of == "deny:0"
    assert idea.dropped and "a deny-list item" in idea.dropped and "Carpooling apps" in idea.dropped
    assert [i.alive for i in state.ideas if i.id != carpool] == [True, True]  # one topped up
    # every idea stores its nearest known items (the Judge's grounding); here the one deny item
    for i in state.ideas:
        [known] = i.nearest_known
        assert known.text == "Carpooling apps" and known.source == "deny"
        # novelty_distance is 1 - the nearest of anything known, run ideas included: never nearer
        assert known.cosine <= 1 - i.novelty_distance + 1e-3


def test_ledger_persists_across_runs_and_a_rejected_idea_blocks_its_near_copy(
    settings: Settings, fake_model: FakeModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDEAFORGE_GENERATE_ATTEMPTS", "1")  # no top-up: run 2 only repeats run 1
    get_settings.cache_clear()
    settings = get_settings()
    forge = Ideaforge(settings)
    ledger = ledger_for(settings, forge.client)
    fake_model.add_faults(idea_fault(*FLOUR))
    first = forge.submit({"topic": "food waste", "rounds": 1, "ideas_per_round": 2, "namespace": "team-a"})
    run_burst(settings)
    shortlist = forge.get_shortlist(first)
    assert shortlist is not None
    entries = ledger.entries("team-a")
    assert {(e.run_id, e.idea_id) for e in entries} == {(first, e.idea_id) for e in shortlist.ideas}
    assert {e.kind for e in entries} == {"shortlisted"}
    # a stale job of the stopped run writes again: updated, never duplicated
    assert take_turn(first, 0)["applied"] is False
    assert len(ledger.entries("team-a")) == len(entries)
    [flour] = by_title(forge.get_run(first), FLOUR[0])
    state, entry = record_verdict(
        forge.store, ledger, first, flour, "reject", note="tried in 2019; bakers refused it"
    )
    assert state.idea(flour).verdict is not None and state.idea(flour).verdict.decision == "rejected"  # type: ignore[union-attr]
    assert (
        entry.kind == "rejected"
        and entry.note.startswith("tried in 2019")
        and len(ledger.entries("team-a")) == len(entries)
    )
    sl = forge.get_shortlist(first)
    assert sl is not None and [e.verdict for e in sl.ideas if e.idea_id == flour] == ["rejected"]
    # another process, another night: the near-copy is blocked by the rejected ledger idea
    fake_model.add_faults(idea_fault(*FLOUR_COPY))
    second = forge.submit({"topic": "food waste", "rounds": 1, "ideas_per_round": 2, "namespace": "team-a"})
    other_ns = forge.submit({"topic": "food waste", "rounds": 1, "ideas_per_round": 2, "namespace": "team-b"})
    fake_model.add_faults(idea_fault(*FLOUR_COPY))
    run_burst(settings)
    later = forge.get_run(second)
    [copy] = by_title(later, FLOUR_COPY[0])
    dup = later.idea(copy)
    assert not dup.alive and dup.duplicate_of == f"ledger:{entry.id}"
    assert dup.dropped and "[rejected]" in dup.dropped and "earlier run" in dup.dropped
    # namespaces do not leak: team-b kept its copy
    assert all(i.alive for i in forge.get_run(other_ns).ideas if i.title == FLOUR_COPY[0])
    # the fake model answers the same prompt with the same ideas: tonight's run repeats last night's
    # shortlisted idea, and the ledger catches that too
    [other] = [i for i in later.ideas if i.id != copy]
    assert (
        not other.alive
        and "[shortlisted]" in (other.dropped or "")
        and "cosine 1.000" in (other.dropped or "")
    )
    assert {e.run_id for e in ledger.entries("team-a")} == {first}  # run 2 shortlisted nothing new


def test_the_dried_up_rule_stops_a_run_that_only_repeats_itself(
    settings: Settings, fake_model: FakeModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDEAFORGE_DRIED_UP_ROUNDS", "1")
    monkeypatch.setenv("IDEAFORGE_DRIED_UP_MIN_YIELD", "0.5")
    monkeypatch.setenv("IDEAFORGE_GENERATE_ATTEMPTS", "1")  # no top-up: a round is its one call
    get_settings.cache_clear()
    settings = get_settings()
    fake_model.add_faults(idea_fault(*FLOUR), idea_fault(*FLOUR_COPY))
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "food waste", "rounds": 5, "ideas_per_round": 1, "strategy": "question"})
    run_burst(settings)
    state = forge.get_run(run_id)
    assert state.stop_reason is StopReason.DRIED_UP and state.round == 2
    assert state.stop_detail == "unique yield under 50% for 1 rounds"
    assert [r.unique_yield for r in state.rounds] == [1.0, 0.0]
    shortlist = forge.get_shortlist(run_id)
    assert shortlist is not None and shortlist.stop_reason == "dried_up" and len(shortlist.ideas) == 1


def test_title_only_known_texts_are_compared_under_the_deny_thresholds(embedder: LocalMiniLMEmbedder) -> None:
    model = embedder.model_id
    ledger = VectorIndex(model, embedder.dim, namespace="n")
    texts = ["Tool libraries", idea_text(*FLOUR)]
    ledger.add(["e1", "e2"], embedder.embed(texts), model, labels=texts, tags=["prior_art", "rejected"])
    new = idea_text(
        "Neighbourhood tool library", "Residents borrow drills, ladders and saws from a shared shelf."
    )
    vecs = embedder.embed([new])
    cand = [Candidate("i1", new)]
    full, short = IDEA_BANDS, DENY_BANDS
    assert short == Thresholds(high=0.65, low=0.40)
    lanes = ledger_lanes(ledger, full, short, short_words=12)
    assert {(lane.source, lane.thresholds) for lane in lanes} == {
        (Source.PRIOR_ART, short),
        (Source.LEDGER, full),
    }
    [decision] = assess(cand, vecs, model, {}, IDEA_BANDS, lanes=lanes)
    assert decision.action is Action.ASK_JUDGE and decision.nearest is not None
    assert decision.nearest.ref == "prior_art:e1" and 0.40 <= decision.nearest.similarity < 0.65
    # the same row under the idea thresholds would have been waved through
    [plain] = assess(cand, vecs, model, {Source.PRIOR_ART: ledger}, IDEA_BANDS)
    assert plain.action is Action.KEEP


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    child_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "ideaforge", *args],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ledger_cli_through_the_real_entry_point(
    settings: Settings, env: dict[str, str], tmp_path: Path
) -> None:
    corpus = tmp_path / "known.md"
    corpus.write_text(
        "# Known answers\n- **Carpool matching app**: an app that matches commuters who share a car\n"
        "- Ride-sharing apps\n",
        encoding="utf-8",
    )
    done = _cli(env, "ledger", "import", str(corpus), "--namespace", "cli")
    assert done.returncode == 0 and "imported 2 new" in done.stdout, done.stderr
    again = runner.invoke(app, ["ledger", "import", str(corpus), "--namespace", "cli"])
    assert again.exit_code == 0 and "imported 0 new" in again.stdout
    listed = json.loads(
        _cli(env, "ledger", "list", "--namespace", "cli", "--kind", "prior_art", "--format", "json").stdout
    )
    assert [e["title"] for e in listed] == ["Carpool matching app", "Ride-sharing apps"]
    found = _cli(
        env, "ledger", "search", "share a car with colleagues", "--namespace", "cli", "--format", "json"
    )
    hits = json.loads(found.stdout)
    assert hits[0]["title"] == "Carpool matching app" and hits[0]["similarity"] > hits[1]["similarity"]
    gone = _cli(env, "ledger", "forget", hits[0]["id"], "--namespace", "cli")
    assert gone.returncode == 0
    left = json.loads(_cli(env, "ledger", "list", "--namespace", "cli", "--format", "json").stdout)
    assert [e["title"] for e in left] == ["Ride-sharing apps"]
    bad_utf8 = tmp_path / "bad.txt"
    bad_utf8.write_bytes(b"\xff\xfe not text")
    empty = tmp_path / "empty.md"
    empty.write_text("", encoding="utf-8")
    for args, message in [
        (("ledger", "import", str(tmp_path / "missing.md")), "cannot read"),
        (("ledger", "import", str(bad_utf8)), "not valid UTF-8"),
        (("ledger", "import", str(empty)), "holds no entries"),
        (("ledger", "forget", "nope", "--namespace", "cli"), "no ledger entry 'nope'"),
        (("ledger", "list", "--namespace", "bad ns"), "namespace 'bad ns'"),
        (("verdict", "abc", "i1", "accept"), "no run with id"),
    ]:
        result = runner.invoke(app, list(args))  # in-process: the same app, much faster than a subprocess
        assert result.exit_code == 2 and message in result.stderr and result.exception is not None, args
        assert isinstance(result.exception, SystemExit)  # a clean exit, never a traceback
    result = _cli(env, "ledger", "import", str(bad_utf8))
    assert result.returncode == 2 and "not valid UTF-8" in result.stderr and "Traceback" not in result.stderr


def test_verdict_cli_sets_the_verdict_and_the_ledger(settings: Settings, env: dict[str, str]) -> None:
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "food waste", "rounds": 1, "ideas_per_round": 1, "strategy": "question"})
    run_burst(settings)
    idea = forge.get_run(run_id).ideas[0]
    done = _cli(env, "verdict", run_id, idea.id, "accept", "--note", "pilot in May")
    assert done.returncode == 0, done.stderr
    verdict = forge.get_run(run_id).idea(idea.id).verdict
    assert verdict is not None and verdict.decision == "accepted" and verdict.note == "pilot in May"
    [entry] = ledger_for(settings, forge.client).entries("default")
    assert (entry.kind, entry.run_id, entry.idea_id, entry.note) == (
        "accepted",
        run_id,
        idea.id,
        "pilot in May",
    )
    missing = runner.invoke(app, ["verdict", run_id, "i99", "reject"])
    assert missing.exit_code == 2 and "has no idea 'i99'" in missing.stderr
