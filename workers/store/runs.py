"""The run store: run state, the run index, shortlists and end-of-run markers in Redis (transcripts
are `events.TranscriptStream`, reached as `RunStore.transcripts`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import redis
from redis.client import Pipeline

from agents.errors import InvalidPayload, RunAlreadyFinished, RunNotFound
from agents.ranking import build_shortlist
from agents.shortlist import Shortlist
from agents.state import TERMINAL_STATUSES, RunState, RunStatus, TranscriptEvent, Usage
from config.settings import Settings
from workers.connection import connect
from workers.store import as_text
from workers.store.events import TranscriptStream
from workers.store.keys import Keys

T = TypeVar("T")
Enqueue = Callable[[Pipeline], Any]
STOPPED_CLAIM_S = 600  # an end-of-run claim whose holder crashed expires after this (seconds)
_CHARGED_FIELDS = ("prompt_tokens", "completion_tokens", "cost_usd", "unpriced_calls")


def unapplied_usage(charged: dict[Any, Any], applied: dict[str, Usage]) -> dict[str, Usage]:
    """Per role, what was charged (the `charged` hash: `{role}:{field}` -> number) beyond what the
    committed calls `applied`; roles with nothing unapplied are left out. Never negative (a charge
    that could not be written while Redis was down is simply not there)."""
    totals: dict[str, dict[str, float]] = {}
    for key, value in charged.items():
        role, _, name = as_text(key).rpartition(":")
        if role and name in _CHARGED_FIELDS:
            totals.setdefault(role, {})[name] = float(as_text(value))
    out: dict[str, Usage] = {}
    for role, fields in totals.items():
        done = applied.get(role, Usage())
        usage = Usage(
            prompt_tokens=max(0, int(fields.get("prompt_tokens", 0)) - done.prompt_tokens),
            completion_tokens=max(0, int(fields.get("completion_tokens", 0)) - done.completion_tokens),
            cost_usd=max(0.0, round(fields.get("cost_usd", 0.0) - done.cost_usd, 9)),
            unpriced_calls=max(0, int(fields.get("unpriced_calls", 0)) - done.unpriced_calls),
        )
        if usage.total_tokens or usage.cost_usd or usage.unpriced_calls:
            out[role] = usage
    return out


def merge_external(current: RunState, new: RunState) -> None:
    """Carry over what people change between turns (cancel flag, verdicts, steers) into a turn's result.

    Steers only ever arrive (people append them; a turn only marks those it loaded as used), so a
    steer stored after the turn loaded its state is one `new` lacks by id: it is appended, still
    pending, for the next Generator turn. None is lost, whichever commit comes first."""
    if current.cancel_requested:
        new.cancel_requested = True
    verdicts = {i.id: i.verdict for i in current.ideas if i.verdict is not None}
    for idea in new.ideas:
        if idea.id in verdicts:
            idea.verdict = verdicts[idea.id]
    known = {s.id for s in new.steers}
    new.steers.extend(s for s in current.steers if s.id not in known)


@dataclass(frozen=True)
class ActiveTurn:
    """The next turn of a run that has not stopped: its step, its queue (None: the configured
    default) and when the run last changed (`updated_at`, Unix seconds)."""

    run_id: str
    step: int
    queue: str | None
    updated_at: float


class RunStore:
    """Runs under `keys` on `client` (a plain `redis.Redis`, decode_responses=False).

    `elo_min_matches`: a shortlist ranks by Elo once every candidate has played this many matches
    (else by the Judge's scores); the live ranking and the stored final shortlist both use it.
    Build it with `RunStore.from_settings` so that it is the configured value.
    """

    def __init__(self, client: redis.Redis, keys: Keys, *, elo_min_matches: int) -> None:
        self.r = client
        self.keys = keys
        self.elo_min_matches = elo_min_matches
        self.transcripts = TranscriptStream(client, keys)

    @classmethod
    def from_settings(cls, settings: Settings, client: redis.Redis | None = None) -> RunStore:
        """The store of `settings` (key prefix, `elo_min_matches`); `client` defaults to the process's
        shared connection to `settings.redis_url`."""
        return cls(
            client if client is not None else connect(settings.redis_url),
            Keys(settings.key_prefix),
            elo_min_matches=settings.elo_min_matches,
        )

    # --- reading -------------------------------------------------------------------------------
    def exists(self, run_id: str) -> bool:
        """True when a run with this id is stored."""
        return bool(self.r.exists(self.keys.run(run_id)))

    def load(self, run_id: str) -> RunState:
        raw = self.r.get(self.keys.run(run_id))
        if raw is None:
            raise RunNotFound(f"no run with id {run_id!r}")
        try:
            return RunState.model_validate_json(raw)
        except ValueError as exc:
            raise InvalidPayload(f"stored state of run {run_id} is unreadable: {exc}") from None

    def list_runs(
        self, *, status: str | None = None, schedule: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[RunState]:
        """Newest first."""
        if schedule:
            raw_ids: Any = self.r.zrevrange(self.keys.runs_by_schedule(schedule), 0, -1)
        else:
            raw_ids = self.r.zrevrange(self.keys.runs, 0, -1)
        ids = [as_text(i) for i in raw_ids]
        if status:
            raw_members: Any = self.r.smembers(self.keys.runs_by_status(status))
            members = {as_text(m) for m in raw_members}
            ids = [i for i in ids if i in members]
        ids = ids[offset : offset + limit]
        if not ids:
            return []
        raws = self.r.mget([self.keys.run(i) for i in ids])
        return [RunState.model_validate_json(raw) for raw in raws if raw is not None]

    def created_until(self, until: float) -> list[RunState]:
        """Every run created at or before `until` (epoch seconds), oldest first."""
        raw_ids: Any = self.r.zrangebyscore(self.keys.runs, 0, until)
        ids = [as_text(i) for i in raw_ids]
        if not ids:
            return []
        raws = self.r.mget([self.keys.run(i) for i in ids])
        return [RunState.model_validate_json(raw) for raw in raws if raw is not None]

    def active_turns(self) -> list[ActiveTurn]:
        """The next turn of every run that has not stopped, from one small index (no state loads)."""
        raw: Any = self.r.hgetall(self.keys.runs_active)
        out = []
        for run_id, value in raw.items():
            turn = json.loads(value)
            out.append(ActiveTurn(as_text(run_id), int(turn["step"]), turn["queue"], float(turn["at"])))
        return out

    def count_by_status(self) -> dict[str, int]:
        """Run count per status value (every `RunStatus`, zeros included)."""
        with self.r.pipeline(transaction=False) as pipe:
            for status in RunStatus:
                pipe.scard(self.keys.runs_by_status(status.value))
            counts = pipe.execute()
        return {status.value: int(n) for status, n in zip(RunStatus, counts, strict=True)}

    def shortlist(self, run_id: str) -> Shortlist | None:
        """The stored (final) shortlist, written when the run stopped; None before."""
        raw = self.r.get(self.keys.shortlist(run_id))
        return Shortlist.model_validate_json(raw) if raw is not None else None

    def shortlists(self, run_ids: list[str]) -> dict[str, Shortlist]:
        """The stored shortlists of those of `run_ids` that have one."""
        if not run_ids:
            return {}
        raws = self.r.mget([self.keys.shortlist(i) for i in run_ids])
        found = zip(run_ids, raws, strict=True)
        return {i: Shortlist.model_validate_json(raw) for i, raw in found if raw is not None}

    def live_shortlist(self, state: RunState) -> Shortlist:
        """The ranking of `state` as it stands, with this store's `elo_min_matches` (what the final
        shortlist will be if the run stops now)."""
        return build_shortlist(state, min_matches=self.elo_min_matches)

    # --- writing -------------------------------------------------------------------------------
    def _write_state(self, pipe: Pipeline, state: RunState, previous: RunStatus | None) -> None:
        pipe.set(self.keys.run(state.run_id), state.model_dump_json())
        if previous is not state.status:
            if previous is not None:
                pipe.srem(self.keys.runs_by_status(previous.value), state.run_id)
            pipe.sadd(self.keys.runs_by_status(state.status.value), state.run_id)
        if state.status in TERMINAL_STATUSES:
            pipe.set(self.keys.shortlist(state.run_id), self.live_shortlist(state).model_dump_json())
            pipe.hdel(self.keys.runs_active, state.run_id)
        else:
            turn = {"step": state.step, "queue": state.queue, "at": state.updated_at}
            pipe.hset(self.keys.runs_active, state.run_id, json.dumps(turn))

    def create(self, state: RunState, events: list[TranscriptEvent], enqueue: Enqueue) -> None:
        """Store a new run, its first events and the enqueue of its first turn, atomically."""
        with self.r.pipeline() as pipe:
            pipe.watch(self.keys.run(state.run_id))  # type: ignore[no-untyped-call]
            if pipe.exists(self.keys.run(state.run_id)):
                raise InvalidPayload(f"run {state.run_id} exists already")
            pipe.multi()
            self._write_state(pipe, state, None)
            pipe.zadd(self.keys.runs, {state.run_id: state.created_at})
            if state.queue:
                pipe.sadd(self.keys.queues, state.queue)
            if state.brief.schedule:
                pipe.zadd(self.keys.runs_by_schedule(state.brief.schedule), {state.run_id: state.created_at})
            self.transcripts.append(pipe, state.run_id, events)
            enqueue(pipe)
            pipe.execute()

    def _optimistic(self, key: str, attempt: Callable[[Pipeline, Any], T]) -> T:
        """Run `attempt(pipe, stored value)` under WATCH `key`, again whenever someone else changed
        the key before `attempt`'s MULTI/EXEC (redis' WatchError): the one optimistic-locking loop."""
        with self.r.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]
                    return attempt(pipe, pipe.get(key))
                except redis.WatchError:
                    continue  # a person changed the run meanwhile (cancel, verdict): re-check and merge

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

        def attempt(pipe: Pipeline, raw: Any) -> bool:
            current = RunState.model_validate_json(raw) if raw is not None else None
            if current is None or current.step != expected_step or current.terminal:
                pipe.unwatch()
                return False
            merge_external(current, new_state)
            charged = pipe.hgetall(self.keys.charged(new_state.run_id))
            new_state.unapplied = unapplied_usage(charged, new_state.usage)
            pipe.multi()
            self._write_state(pipe, new_state, current.status)
            self.transcripts.append(pipe, new_state.run_id, events)
            if enqueue_next is not None and not new_state.terminal:
                enqueue_next(pipe)
            pipe.execute()
            return True

        return self._optimistic(self.keys.run(new_state.run_id), attempt)

    # --- usage the endpoint charged (see `unapplied_usage`) ---------------------------------------
    def charge(
        self, run_id: str, role: str, prompt_tokens: int, completion_tokens: int, cost_usd: float | None
    ) -> None:
        """Count one HTTP request of a turn attempt of `run_id` as charged (cost in USD, None =
        unknown price), whether or not its turn ever commits."""
        key = self.keys.charged(run_id)
        with self.r.pipeline(transaction=False) as pipe:
            pipe.hincrby(key, f"{role}:prompt_tokens", prompt_tokens)
            pipe.hincrby(key, f"{role}:completion_tokens", completion_tokens)
            if cost_usd is None:
                pipe.hincrby(key, f"{role}:unpriced_calls", 1)
            else:
                pipe.hincrbyfloat(key, f"{role}:cost_usd", cost_usd)
            pipe.execute()

    def unapplied(self, state: RunState) -> dict[str, Usage]:
        """What the endpoint charged `state`'s run beyond the usage `state` applied, per role."""
        return unapplied_usage(self.r.hgetall(self.keys.charged(state.run_id)), state.usage)

    def settle_unapplied(self, run_id: str) -> RunState:
        """Store the run's `unapplied` usage as charged now (after a turn attempt that did not
        commit; a stopped run too); returns the state. Raises RunNotFound."""

        def attempt(pipe: Pipeline, raw: Any) -> RunState:
            if raw is None:
                pipe.unwatch()
                raise RunNotFound(f"no run with id {run_id!r}")
            state = RunState.model_validate_json(raw)
            unapplied = unapplied_usage(pipe.hgetall(self.keys.charged(run_id)), state.usage)
            if unapplied == state.unapplied:
                pipe.unwatch()
                return state
            state.unapplied = unapplied
            pipe.multi()
            pipe.set(self.keys.run(run_id), state.model_dump_json())
            pipe.execute()
            return state

        return self._optimistic(self.keys.run(run_id), attempt)

    def update(
        self,
        run_id: str,
        change: Callable[[RunState], None],
        events: Callable[[RunState], list[TranscriptEvent]] | None = None,
    ) -> RunState:
        """Apply a person's change to a run (not a turn): optimistic, retried on conflict (a turn's
        commit in between: `change` runs again on the state it left). `events(changed state)`, if
        given, are appended to the transcript in the same MULTI/EXEC as the state.
        Raises RunNotFound, or whatever `change` raises (nothing is written then)."""

        def attempt(pipe: Pipeline, raw: Any) -> RunState:
            if raw is None:
                raise RunNotFound(f"no run with id {run_id!r}")
            state = RunState.model_validate_json(raw)
            change(state)
            pipe.multi()
            self._write_state(pipe, state, state.status)
            if events is not None:
                self.transcripts.append(pipe, run_id, events(state))
            pipe.execute()
            return state

        return self._optimistic(self.keys.run(run_id), attempt)

    def request_cancel(self, run_id: str) -> RunState:
        def change(state: RunState) -> None:
            if state.terminal:
                raise RunAlreadyFinished(f"run {run_id} has already stopped ({state.status.value})")
            state.cancel_requested = True
            state.updated_at = time.time()

        state = self.update(run_id, change)
        self.transcripts.add(
            run_id,
            TranscriptEvent(
                run_id=run_id,
                step=state.step,
                round=state.round,
                phase=state.phase.value,
                role="system",
                kind="system",
                content="cancel requested",
                ts=time.time(),
            ),
        )
        return state

    # --- end of run (see workers/stopped.py) ---------------------------------------------------
    def claim_stopped(self, run_id: str, ttl_s: int = STOPPED_CLAIM_S) -> bool:
        """True for one caller: the end-of-run work of `run_id` is its to do. The claim expires after
        `ttl_s` seconds unless `finish_stopped` made it permanent (a crash in between: redo later)."""
        return bool(self.r.set(self.keys.stopped(run_id), "claimed", nx=True, ex=ttl_s))

    def finish_stopped(self, run_id: str) -> None:
        """The end-of-run work of `run_id` is done: the marker stays for good."""
        self.r.set(self.keys.stopped(run_id), "done")

    def release_stopped(self, run_id: str) -> None:
        """The end-of-run work failed in part: let the next caller do it again (its parts are idempotent)."""
        self.r.delete(self.keys.stopped(run_id))
