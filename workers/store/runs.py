"""The run store: run state, transcript streams, run index and shortlists in Redis."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import redis
from redis.client import Pipeline

from agents.errors import InvalidPayload, RunAlreadyFinished, RunNotFound
from agents.ranking import build_shortlist
from agents.shortlist import Shortlist
from agents.state import TERMINAL_STATUSES, RunState, RunStatus, TranscriptEvent
from workers.store.keys import Keys

Enqueue = Callable[[Pipeline], Any]


def _decode(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def merge_external(current: RunState, new: RunState) -> None:
    """Carry over what people change between turns (cancel flag, verdicts) into a turn's result."""
    if current.cancel_requested:
        new.cancel_requested = True
    verdicts = {i.id: i.verdict for i in current.ideas if i.verdict is not None}
    for idea in new.ideas:
        if idea.id in verdicts:
            idea.verdict = verdicts[idea.id]


class RunStore:
    def __init__(self, client: redis.Redis, keys: Keys, elo_min_matches: int) -> None:
        self.r = client
        self.keys = keys
        self.elo_min_matches = elo_min_matches  # shortlists rank by Elo once every candidate has these

    # --- reading -------------------------------------------------------------------------------
    def load(self, run_id: str) -> RunState:
        raw = self.r.get(self.keys.run(run_id))
        if raw is None:
            raise RunNotFound(f"no run with id {run_id!r}")
        try:
            return RunState.model_validate_json(raw)
        except ValueError as exc:
            raise InvalidPayload(f"stored state of run {run_id} is unreadable: {exc}") from None

    def exists(self, run_id: str) -> bool:
        return bool(self.r.exists(self.keys.run(run_id)))

    def list_runs(
        self, *, status: str | None = None, schedule: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[RunState]:
        """Newest first."""
        if schedule:
            raw_ids: Any = self.r.zrevrange(self.keys.runs_by_schedule(schedule), 0, -1)
        else:
            raw_ids = self.r.zrevrange(self.keys.runs, 0, -1)
        ids = [_decode(i) for i in raw_ids]
        if status:
            raw_members: Any = self.r.smembers(self.keys.runs_by_status(status))
            members = {_decode(m) for m in raw_members}
            ids = [i for i in ids if i in members]
        ids = ids[offset : offset + limit]
        if not ids:
            return []
        raws = self.r.mget([self.keys.run(i) for i in ids])
        return [RunState.model_validate_json(raw) for raw in raws if raw is not None]

    def count_by_status(self) -> dict[str, int]:
        with self.r.pipeline(transaction=False) as pipe:
            for status in RunStatus:
                pipe.scard(self.keys.runs_by_status(status.value))
            counts = pipe.execute()
        return {status.value: int(n) for status, n in zip(RunStatus, counts, strict=True)}

    def shortlist(self, run_id: str) -> Shortlist | None:
        raw = self.r.get(self.keys.shortlist(run_id))
        return Shortlist.model_validate_json(raw) if raw is not None else None

    def events(
        self, run_id: str, after: str = "-", count: int | None = None
    ) -> list[tuple[str, TranscriptEvent]]:
        start = "-" if after in ("-", "0", "0-0") else f"({after}"
        entries: Any = self.r.xrange(self.keys.events(run_id), min=start, max="+", count=count)
        return [(_decode(eid), TranscriptEvent.model_validate_json(fields[b"e"])) for eid, fields in entries]

    def follow(
        self, run_id: str, after: str = "0-0", block_ms: int = 1000, stop: Callable[[], bool] | None = None
    ) -> Iterator[tuple[str, TranscriptEvent] | None]:
        """Yield events as they arrive (blocking XREAD); yields None on each idle timeout."""
        key = self.keys.events(run_id)
        last = after
        while not (stop and stop()):
            found: Any = self.r.xread({key: last}, block=block_ms, count=100)
            if not found:
                yield None
                continue
            for _stream, entries in found:
                for eid, fields in entries:
                    last = _decode(eid)
                    yield last, TranscriptEvent.model_validate_json(fields[b"e"])

    # --- writing -------------------------------------------------------------------------------
    def _write_state(self, pipe: Pipeline, state: RunState, previous: RunStatus | None) -> None:
        pipe.set(self.keys.run(state.run_id), state.model_dump_json())
        if previous is not state.status:
            if previous is not None:
                pipe.srem(self.keys.runs_by_status(previous.value), state.run_id)
            pipe.sadd(self.keys.runs_by_status(state.status.value), state.run_id)
        if state.status in TERMINAL_STATUSES:
            shortlist = build_shortlist(state, min_matches=self.elo_min_matches)
            pipe.set(self.keys.shortlist(state.run_id), shortlist.model_dump_json())

    def _append_events(self, pipe: Pipeline, run_id: str, events: list[TranscriptEvent]) -> None:
        for event in events:
            pipe.xadd(self.keys.events(run_id), {"e": event.model_dump_json()})

    def create(self, state: RunState, events: list[TranscriptEvent], enqueue: Enqueue) -> None:
        """Store a new run, its first events and the enqueue of its first turn, atomically."""
        with self.r.pipeline() as pipe:
            pipe.watch(self.keys.run(state.run_id))  # type: ignore[no-untyped-call]
            if pipe.exists(self.keys.run(state.run_id)):
                raise InvalidPayload(f"run {state.run_id} exists already")
            pipe.multi()
            self._write_state(pipe, state, None)
            pipe.zadd(self.keys.runs, {state.run_id: state.created_at})
            if state.brief.schedule:
                pipe.zadd(self.keys.runs_by_schedule(state.brief.schedule), {state.run_id: state.created_at})
            self._append_events(pipe, state.run_id, events)
            enqueue(pipe)
            pipe.execute()

    def commit_turn(
        self,
        expected_step: int,
        new_state: RunState,
        events: list[TranscriptEvent],
        enqueue_next: Enqueue | None,
    ) -> bool:
        """Compare-and-set: apply the turn only if the stored step is still `expected_step`.

        State, transcript events, the shortlist (if the run stopped) and the next turn's enqueue
        go in one MULTI/EXEC, so a duplicated or retried job can never apply a turn twice.
        """
        key = self.keys.run(new_state.run_id)
        with self.r.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]
                    raw = pipe.get(key)
                    if raw is None:
                        pipe.unwatch()
                        return False
                    current = RunState.model_validate_json(raw)
                    if current.step != expected_step or current.terminal:
                        pipe.unwatch()
                        return False
                    merge_external(current, new_state)
                    pipe.multi()
                    self._write_state(pipe, new_state, current.status)
                    self._append_events(pipe, new_state.run_id, events)
                    if enqueue_next is not None and not new_state.terminal:
                        enqueue_next(pipe)
                    pipe.execute()
                    return True
                except redis.WatchError:
                    continue  # a person changed the run meanwhile (cancel, verdict): re-check and merge

    def update(self, run_id: str, change: Callable[[RunState], None]) -> RunState:
        """Apply a person's change to a run (not a turn): optimistic, retried on conflict."""
        key = self.keys.run(run_id)
        with self.r.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]
                    raw = pipe.get(key)
                    if raw is None:
                        raise RunNotFound(f"no run with id {run_id!r}")
                    state = RunState.model_validate_json(raw)
                    change(state)
                    pipe.multi()
                    pipe.set(key, state.model_dump_json())
                    if state.terminal:
                        shortlist = build_shortlist(state, min_matches=self.elo_min_matches)
                        pipe.set(self.keys.shortlist(run_id), shortlist.model_dump_json())
                    pipe.execute()
                    return state
                except redis.WatchError:
                    continue

    def request_cancel(self, run_id: str) -> RunState:
        def change(state: RunState) -> None:
            if state.terminal:
                raise RunAlreadyFinished(f"run {run_id} has already stopped ({state.status.value})")
            state.cancel_requested = True
            state.updated_at = time.time()

        state = self.update(run_id, change)
        self.r.xadd(
            self.keys.events(run_id),
            {
                "e": TranscriptEvent(
                    run_id=run_id,
                    step=state.step,
                    round=state.round,
                    phase=state.phase.value,
                    role="system",
                    kind="system",
                    content="cancel requested",
                    ts=time.time(),
                ).model_dump_json()
            },
        )
        return state
