"""Transcripts: one Redis stream per run (`Keys.events`), one entry per `TranscriptEvent`.

Each entry has one field, `e`, holding the event's JSON; the stream ids (`<ms>-<seq>`) are the
event ids the CLI, the API and Server-Sent Events resume from. This module alone encodes and
decodes that field.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.client import Pipeline

from agents.state import TERMINAL_STATUSES, RunStatus, TranscriptEvent
from workers.store import as_text
from workers.store.keys import Keys

FIELD = "e"
Entry = tuple[str, TranscriptEvent]  # (stream id, event)


def _decode(fields: Mapping[Any, Any]) -> TranscriptEvent:
    raw = fields.get(FIELD.encode(), fields.get(FIELD))
    return TranscriptEvent.model_validate_json(raw)


def _start(after: str) -> str:
    return "-" if after in ("-", "0", "0-0") else f"({after}"


@dataclass(frozen=True)
class TailBatch:
    """What one read of the async tail found: `events` (maybe none: an idle timeout), and `stopped`,
    set only on the last batch: the run's terminal status once every event has been delivered."""

    events: list[Entry]
    stopped: RunStatus | None = None


class TranscriptStream:
    """The transcripts of runs under `keys` (sync client for reads and writes; async tail for SSE)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = client
        self.keys = keys

    # --- writing -------------------------------------------------------------------------------
    def append(self, pipe: Pipeline, run_id: str, events: list[TranscriptEvent]) -> None:
        """Queue XADDs of `events` on `pipe` (they land when the caller's pipeline executes)."""
        for event in events:
            pipe.xadd(self.keys.events(run_id), {FIELD: event.model_dump_json()})

    def add(self, run_id: str, event: TranscriptEvent) -> str:
        """Append one event now; returns its stream id."""
        return as_text(self.r.xadd(self.keys.events(run_id), {FIELD: event.model_dump_json()}))

    # --- reading -------------------------------------------------------------------------------
    def read(self, run_id: str, after: str = "-", count: int | None = None) -> list[Entry]:
        """Events after stream id `after` ("-", "0" or "0-0": from the start), oldest first, at most
        `count` (None: all)."""
        entries: Any = self.r.xrange(self.keys.events(run_id), min=_start(after), max="+", count=count)
        return [(as_text(eid), _decode(fields)) for eid, fields in entries]

    def follow(
        self, run_id: str, after: str = "0-0", block_ms: int = 1000, stop: Callable[[], bool] | None = None
    ) -> Iterator[Entry | None]:
        """Yield events as they arrive (blocking XREAD of `block_ms` ms); None on each idle timeout.
        Runs until `stop()` is true (checked before every read) or the caller stops iterating."""
        key = self.keys.events(run_id)
        last = after
        while not (stop and stop()):
            found: Any = self.r.xread({key: last}, block=block_ms, count=100)
            if not found:
                yield None
                continue
            for _stream, entries in found:
                for eid, fields in entries:
                    last = as_text(eid)
                    yield last, _decode(fields)

    async def _stopped(self, aclient: aioredis.Redis, run_id: str) -> RunStatus | None:
        async with aclient.pipeline(transaction=False) as pipe:
            for status in TERMINAL_STATUSES:
                pipe.sismember(self.keys.runs_by_status(status.value), run_id)
            found = await pipe.execute()
        for status, member in zip(TERMINAL_STATUSES, found, strict=True):
            if member:
                return status
        return None

    async def tail(
        self, aclient: aioredis.Redis, run_id: str, after: str = "0-0", block_ms: int = 1000
    ) -> AsyncIterator[TailBatch]:
        """Every event after `after`, then live ones (XREAD blocking `block_ms` ms on `aclient`, so a
        follower pins no thread), until the run stopped and all its events were yielded; the last
        batch carries the terminal status. An idle timeout yields an empty batch."""
        key = self.keys.events(run_id)
        last = after
        while True:
            # read the status first: a stopped run's events were all committed with its final state
            stopped = await self._stopped(aclient, run_id)
            found: Any = await aclient.xread({key: last}, block=None if stopped else block_ms, count=500)
            entries = [entry for _stream, batch in found or [] for entry in batch]
            events = [(as_text(eid), _decode(fields)) for eid, fields in entries]
            if stopped is not None and not events:
                yield TailBatch([], stopped)
                return
            yield TailBatch(events)
            if events:
                last = events[-1][0]
