"""The Python API, and the one door from the front (CLI, HTTP API, dashboard) into workers/.

from workers.api import Ideaforge
forge = Ideaforge()                       # settings from the environment
run_id = forge.submit(Brief(topic="..."))
for event in forge.iter_events(run_id, follow=True): ...

The facade is a thin layer over the store (`workers/store/`), submission (`workers/submit.py`)
and the queue; it stays light to import (no model client, no embedder).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio as aioredis

from agents.brief import Brief
from agents.shortlist import Shortlist
from agents.state import RunState, TranscriptEvent
from config.settings import Settings, get_settings
from workers.connection import check, connect
from workers.store.events import TailBatch
from workers.store.metrics import LATENCY_BUCKETS_S, MetricsCounters
from workers.store.queue import queue_depth, queue_report
from workers.store.runs import RunStore
from workers.submit import Submitter


@dataclass(frozen=True)
class MetricsSnapshot:
    """What the metrics endpoint exposes, read at one scrape.

    - `runs_by_status`: status value -> number of runs;
    - `queue`, `queue_depth`: the turn queue's name and the turns waiting on it;
    - `counters`: folded from the transcripts up to now; keys are tuples
      `("turns", role, phase, "ok"|"error")`, `("tokens", role, "prompt"|"completion")`,
      `("lat", role, le)` (le = bucket bound in seconds as text, or "+Inf"; non-cumulative counts),
      `("lat_sum", role)` (seconds), `("lat_count", role)`;
    - `latency_buckets_s`: the bucket bounds, ascending (seconds).
    """

    runs_by_status: dict[str, int]
    queue: str
    queue_depth: int
    counters: dict[tuple[str, ...], float]
    latency_buckets_s: tuple[float, ...]


class Ideaforge:
    """Submit, read, follow and cancel runs; what the dashboard shows of the queue and metrics.

    `settings` defaults to the environment's (`get_settings()`); `client` to the process's shared
    connection to `settings.redis_url` (a plain `redis.Redis`, decode_responses=False). Errors:
    `RunNotFound` for an unknown run id, `InvalidBrief` for a broken brief, `RunAlreadyFinished`
    when cancelling a stopped run, redis' ConnectionError when Redis is unreachable.
    """

    def __init__(self, settings: Settings | None = None, client: redis.Redis | None = None) -> None:
        self.settings = settings or get_settings()
        self.client = client or connect(self.settings.redis_url)
        self.store = RunStore.from_settings(self.settings, self.client)
        self.submitter = Submitter(self.settings, self.store)
        self._aclient: aioredis.Redis | None = None

    def ping(self) -> None:
        """Raise StoreUnavailable (with the redacted URL) unless Redis answers now (no retries)."""
        check(self.settings.redis_url)

    # --- runs ----------------------------------------------------------------------------------
    def submit(self, brief: Brief | dict[str, Any]) -> str:
        """Validate, store and enqueue the first turn atomically; return the run id."""
        return self.submitter.submit(brief)

    def get_run(self, run_id: str) -> RunState:
        """The run's current state (RunNotFound if none)."""
        return self.store.load(run_id)

    def list_runs(
        self, *, status: str | None = None, schedule: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[RunState]:
        """Runs newest first, optionally only of one status value or one schedule name."""
        return self.store.list_runs(status=status, schedule=schedule, limit=limit, offset=offset)

    def count_runs(self) -> dict[str, int]:
        """Number of runs per status value (every status, zeros included)."""
        return self.store.count_by_status()

    def cancel(self, run_id: str) -> RunState:
        """Ask the run to stop after the turn in flight (RunAlreadyFinished if it has stopped)."""
        return self.store.request_cancel(run_id)

    # --- shortlists ----------------------------------------------------------------------------
    def get_shortlist(self, run_id: str) -> Shortlist | None:
        """The final shortlist, stored when the run stopped; None while it runs."""
        self.store.load(run_id)  # raises RunNotFound for an unknown id
        return self.store.shortlist(run_id)

    def current_shortlist(self, state: RunState) -> tuple[Shortlist, bool]:
        """(shortlist, final): the stored final shortlist once the run stopped (final=True); until
        then the ranking as it stands, ranked with the configured `elo_min_matches` like the final one."""
        stored = self.store.shortlist(state.run_id) if state.terminal else None
        if stored is not None:
            return stored, True
        return self.store.live_shortlist(state), False

    # --- transcripts ---------------------------------------------------------------------------
    def events(
        self, run_id: str, after: str = "0-0", limit: int | None = None
    ) -> list[tuple[str, TranscriptEvent]]:
        """(event id, event) after event id `after` ("0-0": from the start), oldest first, at most `limit`."""
        return self.store.transcripts.read(run_id, after=after, count=limit)

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
        (calling `on_idle` each time `block_ms` passes without one). RunNotFound if no such run."""
        self.store.load(run_id)
        transcripts = self.store.transcripts
        last = after
        for eid, event in transcripts.read(run_id, after=last):
            last = eid
            yield event
        if not follow:
            return
        while True:
            if self.store.load(run_id).terminal:
                for eid, event in transcripts.read(run_id, after=last):
                    last = eid
                    yield event
                return
            for item in transcripts.follow(run_id, after=last, block_ms=block_ms):
                if item is None:
                    if on_idle is not None:
                        on_idle()
                    break
                last, event = item
                yield event

    def tail_events(self, run_id: str, after: str = "0-0", block_ms: int = 1000) -> AsyncIterator[TailBatch]:
        """Async: batches of (event id, event) after `after`, live, until the run stopped and every
        event was delivered; an idle `block_ms` yields an empty batch; the last batch has `stopped`
        (the terminal status). Uses one asyncio connection pool per facade (see `aclose`)."""
        if self._aclient is None:
            self._aclient = aioredis.Redis.from_url(self.settings.redis_url, socket_connect_timeout=5)
        return self.store.transcripts.tail(self._aclient, run_id, after=after, block_ms=block_ms)

    async def aclose(self) -> None:
        """Close the asyncio connections opened by `tail_events` (an app's shutdown)."""
        if self._aclient is not None:
            await self._aclient.aclose()
            self._aclient = None

    # --- operations ----------------------------------------------------------------------------
    def queue_report(self) -> dict[str, Any]:
        """The turn queue now: depths, workers and their turns, failed turns (shape in
        `workers.store.queue.queue_report`)."""
        return queue_report(self.client, self.settings)

    def metrics(self) -> MetricsSnapshot:
        """Fold the transcripts' new events into the counters, then read everything a scrape shows."""
        counters = MetricsCounters(self.client, self.store.keys)
        counters.fold()
        queue, depth = queue_depth(self.client, self.settings)
        return MetricsSnapshot(
            runs_by_status=self.store.count_by_status(),
            queue=queue,
            queue_depth=depth,
            counters=counters.counters(),
            latency_buckets_s=LATENCY_BUCKETS_S,
        )

    # --- CLI-side operations (ledger, verdicts, schedules, digest) ---
