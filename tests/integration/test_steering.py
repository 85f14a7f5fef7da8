"""Steering a running brainstorm (issue 14): a person's note or idea for the next Generator turn,
stored through the store's compare-and-set path on a real Redis, consumed by real RQ workers."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import redis

from agents.engine import working_copy
from agents.errors import InvalidSteer, RunAlreadyFinished, RunNotFound, SteerRefused
from agents.prompts import markers
from agents.state import Phase, RunState, RunStatus
from config.settings import Settings
from ideaforge.devtools.fake_openai import FakeModelServer
from tests.conftest import run_burst
from workers import steering
from workers.api import Ideaforge
from workers.store.runs import RunStore
from workers.worker import build_worker

TOPIC = "Ways to reduce food waste in university cafeterias"
KNOWN = "Composting food scraps from the kitchen"
NOTE = "Prefer ideas a student union could try within one term"
IDEA = (
    "Leftover futures market",
    "Students pre-buy tomorrow's leftovers at a discount through the canteen app.",
)


def submit(forge: Ideaforge, **brief: Any) -> str:
    return forge.submit({"topic": TOPIC, "deny": [KNOWN], **brief})


def work_until(settings: Settings, forge: Ideaforge, run_id: str, phase: Phase) -> RunState:
    """Take the run's turns one job at a time (a real in-process RQ worker) until it reaches `phase`."""
    worker = build_worker(settings, simple=True)
    while (state := forge.get_run(run_id)).phase is not phase:
        assert not state.terminal, f"run stopped before {phase.value}"
        assert worker.work(burst=True, max_jobs=1, logging_level="WARNING")
    return state


class TestFacade:
    def test_a_note_and_an_idea_are_stored_pending_with_one_steer_event_each(
        self, settings: Settings
    ) -> None:
        forge = Ideaforge(settings)
        run_id = submit(forge)
        steers = forge.steer(run_id, note=f"  {NOTE}\n", idea=IDEA, author="Ann Lee")
        assert [(s.id, s.kind, s.author) for s in steers] == [
            ("s1", "note", "human:Ann Lee"),
            ("s2", "idea", "human:Ann Lee"),
        ]
        assert steers[0].text == NOTE and (steers[1].title, steers[1].summary) == IDEA  # stripped
        state = forge.get_run(run_id)
        assert [s.id for s in state.pending_steers()] == ["s1", "s2"]
        assert state.ideas == []  # a person's idea joins the pool at the next Generator turn
        events = [e for e in forge.iter_events(run_id) if e.kind == "steer"]
        assert [(e.role, e.author) for e in events] == [("human", "human:Ann Lee")] * 2
        assert NOTE in events[0].content and IDEA[0] in events[1].content
        assert forge.steer(run_id, idea=IDEA)[0].author == "human:anonymous"

    def test_bad_steers_are_refused_with_one_line_and_nothing_is_stored(self, settings: Settings) -> None:
        forge = Ideaforge(settings.model_copy(update={"steer_note_max_chars": 50, "steer_max_pending": 2}))
        run_id = submit(forge)
        bad: list[tuple[dict[str, Any], type[Exception], str]] = [
            ({}, InvalidSteer, "needs a note, an idea"),
            ({"note": "   "}, InvalidSteer, "the note is empty"),
            ({"note": "x" * 51}, InvalidSteer, "51 characters; at most 50"),
            ({"idea": ("Two\nlines", "summary")}, InvalidSteer, "control character"),
            ({"idea": ("Title", "")}, InvalidSteer, "summary is empty"),
            ({"note": "ok", "author": "<script>"}, InvalidSteer, "author"),
        ]
        for kwargs, error, words in bad:
            with pytest.raises(error, match=words):
                forge.steer(run_id, **kwargs)
        with pytest.raises(RunNotFound):
            forge.steer("0" * 26, note="hello")
        forge.steer(run_id, note="one", idea=IDEA)
        with pytest.raises(SteerRefused, match=r"2 steer\(s\) waiting .* at most 2"):
            forge.steer(run_id, note="three")
        off = Ideaforge(settings.model_copy(update={"steering": False}))
        with pytest.raises(SteerRefused, match="IDEAFORGE_STEERING=false"):
            off.steer(run_id, note="hello")
        state = forge.get_run(run_id)
        assert [s.text or s.title for s in state.steers] == ["one", IDEA[0]]
        assert len([e for e in forge.iter_events(run_id) if e.kind == "steer"]) == 2

    def test_a_stopped_run_cannot_be_steered(self, settings: Settings) -> None:
        forge = Ideaforge(settings)
        run_id = submit(forge, rounds=1, ideas_per_round=1)
        run_burst(settings)
        assert forge.get_run(run_id).status is RunStatus.FINISHED
        with pytest.raises(RunAlreadyFinished, match=f"run {run_id} already stopped \\(finished\\)"):
            forge.steer(run_id, note="too late")

    def test_a_run_with_no_generator_turn_left_refuses_a_steer(self, settings: Settings) -> None:
        forge = Ideaforge(settings)
        run_id = submit(forge, rounds=1, ideas_per_round=1)
        work_until(settings, forge, run_id, Phase.CRITIQUE)
        with pytest.raises(SteerRefused, match="no Generator turn left \\(round 1 of 1, phase critique\\)"):
            forge.steer(run_id, note="too late")

    def test_the_last_rounds_filter_refuses_a_steer_unless_it_must_loop_back_to_generate(
        self, settings: Settings
    ) -> None:
        """The new-user report: a steer taken at the last round's filter was never used (the filter
        went on to critique). Refused there, unless the round is certain to top up."""
        forge = Ideaforge(settings)
        run_id = submit(forge, rounds=1, ideas_per_round=1)
        work_until(settings, forge, run_id, Phase.FILTER)
        with pytest.raises(SteerRefused, match="no Generator turn left \\(round 1 of 1, phase filter\\)"):
            forge.steer(run_id, note="late")

    def test_a_steer_at_a_last_filter_certain_to_top_up_is_taken_and_used(self, settings: Settings) -> None:
        forge = Ideaforge(settings)
        run_id = submit(forge, rounds=1, ideas_per_round=20)
        state = work_until(settings, forge, run_id, Phase.FILTER)
        assert len(state.new_idea_ids) < 20 and settings.generate_attempts > 1  # short: it must top up
        [steer] = forge.steer(run_id, note="late but in time")
        run_burst(settings)
        [stored] = [s for s in forge.get_run(run_id).steers if s.id == steer.id]
        assert stored.used_step is not None


class TestRace:
    """A steer and a turn's commit both write the run key; the compare-and-set keeps both."""

    def test_a_steer_stored_while_a_turn_is_in_flight_survives_the_turns_commit(
        self, settings: Settings
    ) -> None:
        forge = Ideaforge(settings)
        run_id = submit(forge)
        loaded = forge.store.load(run_id)  # a worker loads the state for its turn ...
        forge.steer(run_id, note=NOTE)  # ... a person steers meanwhile ...
        result = working_copy(loaded)  # ... and the turn, computed without the steer, commits
        result.step += 1
        assert forge.store.commit_turn(loaded.step, result, [], None)
        state = forge.get_run(run_id)
        assert state.step == loaded.step + 1
        assert [(s.text, s.pending) for s in state.steers] == [(NOTE, True)]

    def test_a_turn_that_consumed_steers_keeps_those_that_arrived_after_it_loaded(
        self, settings: Settings
    ) -> None:
        forge = Ideaforge(settings)
        run_id = submit(forge)
        forge.steer(run_id, note="first")
        loaded = forge.store.load(run_id)
        forge.steer(run_id, note="second")
        result = working_copy(loaded)
        result.steers[0].used_step = loaded.step  # the Generator turn consumed what it loaded
        result.step += 1
        assert forge.store.commit_turn(loaded.step, result, [], None)
        state = forge.get_run(run_id)
        assert [(s.text, s.used_step) for s in state.steers] == [("first", loaded.step), ("second", None)]

    def test_a_turn_committed_between_a_steers_read_and_write_makes_the_steer_retry(
        self, settings: Settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        forge = Ideaforge(settings)
        run_id = submit(forge)
        other = RunStore.from_settings(settings, redis.Redis.from_url(settings.redis_url))  # a worker
        checks: list[int] = []
        check_open = steering._check_open

        def commit_a_turn_first(state: RunState, generate_attempts: int) -> None:
            checks.append(state.step)
            if len(checks) == 1:  # after the steer read the state, before it writes: a turn commits
                turn = working_copy(state)
                turn.step += 1
                assert other.commit_turn(state.step, turn, [], None)
            check_open(state, generate_attempts)

        monkeypatch.setattr(steering, "_check_open", commit_a_turn_first)
        forge.steer(run_id, note=NOTE)
        assert checks == [0, 1]  # WATCH saw the commit: the steer was applied again on the new state
        state = forge.get_run(run_id)
        assert state.step == 1 and [s.text for s in state.steers] == [NOTE]

    def test_steers_racing_many_turn_commits_are_never_lost(self, settings: Settings) -> None:
        forge = Ideaforge(settings.model_copy(update={"steer_max_pending": 100}))
        run_id = submit(forge, rounds=20)
        turns = RunStore.from_settings(settings, redis.Redis.from_url(settings.redis_url))
        people, each = 4, 20
        done = threading.Event()
        committed = 0

        def worker() -> None:  # a Generator turn after another: load, consume what is pending, commit
            nonlocal committed
            while not done.is_set():
                loaded = turns.load(run_id)
                result = working_copy(loaded)
                for s in result.pending_steers():
                    s.used_step = loaded.step
                result.step += 1
                committed += turns.commit_turn(loaded.step, result, [], None)

        def person(n: int) -> None:
            f = Ideaforge(
                settings.model_copy(update={"steer_max_pending": 100}),
                redis.Redis.from_url(settings.redis_url),
            )
            for k in range(each):
                f.steer(run_id, note=f"p{n} note {k}", author=f"p{n}")

        committer = threading.Thread(target=worker)
        committer.start()
        writers = [threading.Thread(target=person, args=(n,)) for n in range(people)]
        for t in writers:
            t.start()
        for t in writers:
            t.join()
        done.set()
        committer.join()
        state = forge.get_run(run_id)
        assert committed > 0 and state.step == committed
        sent = {f"p{n} note {k}" for n in range(people) for k in range(each)}
        assert sorted(s.text for s in state.steers) == sorted(sent)  # every steer, once
        assert [s.id for s in state.steers] == [f"s{k}" for k in range(1, people * each + 1)]
        assert len([e for e in forge.iter_events(run_id) if e.kind == "steer"]) == people * each


def test_a_steer_in_round_1_reaches_round_2s_generator_and_the_idea_is_critiqued_and_judged(
    settings: Settings, fake_model: FakeModelServer
) -> None:
    forge = Ideaforge(settings)
    run_id = submit(forge, rounds=2, ideas_per_round=2)
    work_until(settings, forge, run_id, Phase.CRITIQUE)  # round 1 generated and filtered
    forge.steer(run_id, note=NOTE, idea=IDEA, author="ann")
    forge.steer(run_id, idea=(KNOWN, "Compost the kitchen's scraps for the campus gardens."), author="bo")
    run_burst(settings)

    state = forge.get_run(run_id)
    assert state.status is RunStatus.FINISHED and state.round == 2
    generator = [user for kind, user in fake_model.state.received if kind == "ideas"]
    assert NOTE not in generator[0]  # round 1's request: before the steer
    [with_note] = [n for n, user in enumerate(generator) if NOTE in user]  # shown once, then consumed
    events = list(forge.iter_events(run_id))
    round2 = [e for e in events if e.role == "generator" and e.round == 2 and e.prompt]
    assert NOTE in str(round2[0].prompt[-1]["content"]) == generator[with_note]
    assert '<note author="human:ann">' in generator[with_note]

    mine = [i for i in state.ideas if i.author == "human:ann"]
    assert [(i.title, i.round, i.operator) for i in mine] == [(IDEA[0], 2, "human")]
    assert mine[0].critique is not None and mine[0].score is not None and mine[0].alive
    critiqued = [markers.first_title(user) for kind, user in fake_model.state.received if kind == "flaws"]
    judged = [markers.first_title(user) for kind, user in fake_model.state.received if kind == "novelty"]
    assert IDEA[0] in critiqued and IDEA[0] in judged

    # the filter reports a person's idea that repeats a known answer, and keeps it
    [known] = [i for i in state.ideas if i.author == "human:bo"]
    assert known.alive and known.nearest_known and known.nearest_known[0].source == "deny"
    assert any(e.content.startswith(f"kept {known.id} by human:bo") for e in events)
    assert known.critique is not None and known.score is not None

    steers = [e for e in events if e.kind == "steer"]
    assert [e.author for e in steers] == ["human:ann", "human:ann", "human:bo"]
    assert all(s.used_step is not None for s in state.steers)
    # a person's ideas are not the Generator's yield
    assert sum(r.generated for r in state.rounds) == len([i for i in state.ideas if i.author == "generator"])


def test_the_same_idea_steered_twice_is_kept_twice_in_one_cluster_and_the_judge_sees_the_repeat(
    settings: Settings, fake_model: FakeModelServer
) -> None:
    """The new-user report: two people steer the same idea; both were kept with no cluster (so the
    shortlist could hold it twice side by side) and the Judge never saw that the second repeats
    the first. Now the repeat joins the first's cluster and its nearest_known names the run idea."""
    forge = Ideaforge(settings)
    run_id = submit(forge, rounds=2, ideas_per_round=2)
    work_until(settings, forge, run_id, Phase.CRITIQUE)
    forge.steer(run_id, idea=IDEA, author="ann")
    forge.steer(run_id, idea=IDEA, author="bob")
    run_burst(settings)

    state = forge.get_run(run_id)
    [ann] = [i for i in state.ideas if i.author == "human:ann"]
    [bob] = [i for i in state.ideas if i.author == "human:bob"]
    assert ann.alive and bob.alive
    assert ann.cluster is not None and bob.cluster == ann.cluster
    assert bob.novelty_distance == 0.0
    repeat = [k for k in bob.nearest_known if k.source == "run"]
    assert [(k.text.startswith(IDEA[0]), k.cosine) for k in repeat] == [(True, 1.0)]
    # the Judge's novelty request for bob's idea shows the run idea it repeats
    novelty = [u for kind, u in fake_model.state.received if kind == "novelty" and IDEA[0] in u]
    assert any("an idea of this run" in u for u in novelty)
    sl = forge.get_shortlist(run_id)
    assert sl is not None and all(e.cluster is not None for e in sl.ideas if e.title == IDEA[0])
