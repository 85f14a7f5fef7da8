"""Counters folded from the transcripts (workers are other processes; the scrape does the counting).

Each fold reads only the events added since the last one (a cursor per run; finished runs are
marked done and skipped), under a short lock so two scrapes never count an event twice. Counter
fields are `|`-joined tuples:
- `turns|{role}|{phase}|{ok|error}`: model calls;
- `tokens|{role}|{prompt|completion}`: tokens;
- `lat|{role}|{le}` (bucket upper bound in seconds, or `+Inf`), `lat_sum|{role}` (seconds),
  `lat_count|{role}`: the model latency histogram (non-cumulative buckets).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import redis

from agents.state import TERMINAL_STATUSES, TranscriptEvent
from workers.store import as_text
from workers.store.events import TranscriptStream
from workers.store.keys import Keys

LATENCY_BUCKETS_S = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
LOCK_MS = 30_000
SEP = "|"


def _bucket(seconds: float) -> str:
    for le in LATENCY_BUCKETS_S:
        if seconds <= le:
            return str(le)
    return "+Inf"


def _increments(events: Iterable[TranscriptEvent]) -> dict[str, float]:
    inc: dict[str, float] = defaultdict(float)
    for e in events:
        if e.role == "system" or e.kind == "steer":  # code's lines and people's steers: no model call
            continue
        outcome = "ok" if e.kind == "turn" else "error"
        inc[SEP.join(("turns", e.role, e.phase, outcome))] += 1
        inc[SEP.join(("tokens", e.role, "prompt"))] += e.prompt_tokens
        inc[SEP.join(("tokens", e.role, "completion"))] += e.completion_tokens
        if e.latency_ms is not None:
            seconds = e.latency_ms / 1000
            inc[SEP.join(("lat", e.role, _bucket(seconds)))] += 1
            inc[SEP.join(("lat_sum", e.role))] += seconds
            inc[SEP.join(("lat_count", e.role))] += 1
    return inc


class MetricsCounters:
    """The counters under `keys` (see the module docstring for their fields)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.r = client
        self.keys = keys
        self.transcripts = TranscriptStream(client, keys)

    def fold(self) -> None:
        """Count the events added since the last fold; a no-op while another process folds."""
        lock = self.keys.metrics("lock")
        me = uuid.uuid4().hex
        if not self.r.set(lock, me, nx=True, px=LOCK_MS):
            return  # another scrape is folding; read what is there
        try:
            self._fold_all()
        finally:
            if as_text(self.r.get(lock)) == me:
                self.r.delete(lock)

    def _fold_all(self) -> None:
        raw_ids: Any = self.r.zrange(self.keys.runs, 0, -1)
        raw_done: Any = self.r.smembers(self.keys.metrics("done"))
        done = {as_text(i) for i in raw_done}
        todo = [i for i in map(as_text, raw_ids) if i not in done]
        if not todo:
            return
        cursors = dict(zip(todo, self.r.hmget(self.keys.metrics("cursor"), todo), strict=True))
        terminal: set[str] = set()
        for status in TERMINAL_STATUSES:
            members: Any = self.r.smembers(self.keys.runs_by_status(status.value))
            terminal |= {as_text(i) for i in members}
        for run_id in todo:
            finished = run_id in terminal  # read before the events: nothing is added after the end
            after = as_text(cursors[run_id]) or "-"
            entries = self.transcripts.read(run_id, after=after)
            with self.r.pipeline() as pipe:
                for field, amount in _increments(e for _, e in entries).items():
                    if amount:
                        pipe.hincrbyfloat(self.keys.metrics("counters"), field, amount)
                if entries:
                    pipe.hset(self.keys.metrics("cursor"), run_id, entries[-1][0])
                if finished:
                    pipe.sadd(self.keys.metrics("done"), run_id)
                pipe.execute()

    def counters(self) -> dict[tuple[str, ...], float]:
        """Every counter, its field split on `|` (e.g. `("turns", "judge", "judge", "ok")`) → value."""
        raw: Any = self.r.hgetall(self.keys.metrics("counters"))
        return {tuple(as_text(k).split(SEP)): float(v) for k, v in raw.items()}
