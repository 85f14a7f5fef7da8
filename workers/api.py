"""The Python API: submit a brief, read runs, shortlists and transcripts, cancel.

from workers.api import Ideaforge
forge = Ideaforge()                       # settings from the environment
run_id = forge.submit(Brief(topic="..."))
for event in forge.iter_events(run_id, follow=True): ...
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import redis

from agents.brief import Brief, parse_brief
from agents.ids import new_run_id
from agents.shortlist import Shortlist
from agents.state import RunState, TranscriptEvent, new_run_state
from config.settings import Settings, get_settings
from workers.admission import check_public_brief, check_scheduled_brief
from workers.connection import check, connect
from workers.queue import enqueue_turn, make_queue
from workers.store.keys import Keys
from workers.store.runs import RunStore


class Ideaforge:
    def __init__(self, settings: Settings | None = None, client: redis.Redis | None = None) -> None:
        self.settings = settings or get_settings()
        self.client = client or connect(self.settings.redis_url)
        self.store = RunStore(self.client, Keys(self.settings.key_prefix), self.settings.elo_min_matches)

    def ping(self) -> None:
        check(self.settings.redis_url)

    def submit(self, brief: Brief | dict[str, Any]) -> str:
        """Validate, store and enqueue the first turn atomically; return the run id.

        Every public front door comes here: raises InvalidBrief for an invalid brief, one that sets
        the scheduler's fields or a model the operator does not allow (workers/admission.py)."""
        if not isinstance(brief, Brief):
            brief = parse_brief(brief)
        check_public_brief(brief, self.settings)
        return self._store_new_run(brief)

    def submit_scheduled(self, brief: Brief) -> str:
        """The scheduler's door: like `submit`, for a brief carrying its schedule and slot."""
        check_scheduled_brief(brief)
        return self._store_new_run(brief)

    def _store_new_run(self, brief: Brief) -> str:
        if "namespace" not in brief.model_fields_set:  # the brief names none: the configured default
            brief = brief.model_copy(update={"namespace": self.settings.ledger_namespace})
        now = time.time()
        state = new_run_state(brief, new_run_id(), now)
        created = TranscriptEvent(
            run_id=state.run_id,
            step=0,
            round=1,
            phase=state.phase.value,
            role="system",
            kind="system",
            content=f"run created: strategy {brief.strategy.value}, {brief.rounds} rounds, "
            f"{brief.ideas_per_round} ideas per round",
            ts=now,
        )
        queue = make_queue(self.client, self.settings)
        self.store.create(
            state, [created], lambda pipe: enqueue_turn(queue, self.settings, state.run_id, 0, pipeline=pipe)
        )
        return state.run_id

    def get_run(self, run_id: str) -> RunState:
        return self.store.load(run_id)

    def list_runs(
        self, *, status: str | None = None, schedule: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[RunState]:
        return self.store.list_runs(status=status, schedule=schedule, limit=limit, offset=offset)

    def get_shortlist(self, run_id: str) -> Shortlist | None:
        self.store.load(run_id)  # raises RunNotFound for an unknown id
        return self.store.shortlist(run_id)

    def cancel(self, run_id: str) -> RunState:
        return self.store.request_cancel(run_id)

    def iter_events(
        self,
        run_id: str,
        *,
        follow: bool = False,
        after: str = "0-0",
        block_ms: int = 1000,
        on_idle: Callable[[], None] | None = None,
    ) -> Iterator[TranscriptEvent]:
        """The transcript; with follow=True, keep yielding live events until the run stops
        (calling `on_idle` each time `block_ms` passes without one)."""
        self.store.load(run_id)
        last = after
        for eid, event in self.store.events(run_id, after=last):
            last = eid
            yield event
        if not follow:
            return
        while True:
            if self.store.load(run_id).terminal:
                for eid, event in self.store.events(run_id, after=last):
                    last = eid
                    yield event
                return
            for item in self.store.follow(run_id, after=last, block_ms=block_ms):
                if item is None:
                    if on_idle is not None:
                        on_idle()
                    break
                last, event = item
                yield event


def submit(brief: Brief | dict[str, Any], settings: Settings | None = None) -> str:
    return Ideaforge(settings).submit(brief)


def get_run(run_id: str, settings: Settings | None = None) -> RunState:
    return Ideaforge(settings).get_run(run_id)


def get_shortlist(run_id: str, settings: Settings | None = None) -> Shortlist | None:
    return Ideaforge(settings).get_shortlist(run_id)


def iter_events(
    run_id: str, *, follow: bool = False, settings: Settings | None = None
) -> Iterator[TranscriptEvent]:
    return Ideaforge(settings).iter_events(run_id, follow=follow)
