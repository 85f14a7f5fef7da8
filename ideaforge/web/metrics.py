"""Prometheus metrics computed from what workers leave in Redis (workers are other processes).

Runs by status come from the run index. Turns, tokens and the model latency histogram are folded
from the transcripts into counters kept in Redis (`Keys.metrics`): each scrape reads only the
events added since the last one (a cursor per run; finished runs are marked done and skipped),
under a short lock so two scrapes never count an event twice.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator

import redis
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from agents.state import TERMINAL_STATUSES, TranscriptEvent
from config.settings import Settings
from workers.queue import make_queue
from workers.store.keys import Keys
from workers.store.runs import RunStore

LATENCY_BUCKETS_S = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
LOCK_MS = 30_000
SEP = "|"


def _s(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _bucket(seconds: float) -> str:
    for le in LATENCY_BUCKETS_S:
        if seconds <= le:
            return str(le)
    return "+Inf"


def _increments(events: Iterable[TranscriptEvent]) -> dict[str, float]:
    inc: dict[str, float] = defaultdict(float)
    for e in events:
        if e.role == "system":
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


class MetricsFolder:
    """Folds new transcript events into the counters in Redis."""

    def __init__(self, client: redis.Redis, keys: Keys, elo_min_matches: int) -> None:
        self.r = client
        self.keys = keys
        self.store = RunStore(client, keys, elo_min_matches)

    def fold(self) -> None:
        lock = self.keys.metrics("lock")
        me = uuid.uuid4().hex
        if not self.r.set(lock, me, nx=True, px=LOCK_MS):
            return  # another scrape is folding; read what is there
        try:
            self._fold_all()
        finally:
            if _s(self.r.get(lock) or b"") == me:
                self.r.delete(lock)

    def _fold_all(self) -> None:
        ids = [_s(i) for i in self.r.zrange(self.keys.runs, 0, -1)]
        done = {_s(i) for i in self.r.smembers(self.keys.metrics("done"))}
        todo = [i for i in ids if i not in done]
        if not todo:
            return
        cursors = dict(zip(todo, self.r.hmget(self.keys.metrics("cursor"), todo), strict=True))
        terminal = set()
        for status in TERMINAL_STATUSES:
            terminal |= {_s(i) for i in self.r.smembers(self.keys.runs_by_status(status.value))}
        for run_id in todo:
            finished = run_id in terminal  # read before the events: nothing is added after the end
            after = _s(cursors[run_id]) if cursors[run_id] else "-"
            entries = self.store.events(run_id, after=after)
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
        raw = self.r.hgetall(self.keys.metrics("counters"))
        return {tuple(_s(k).split(SEP)): float(v) for k, v in raw.items()}


class RedisCollector(Collector):
    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.keys = Keys(settings.key_prefix)

    def collect(self) -> Iterator[Metric]:
        store = RunStore(self.client, self.keys, self.settings.elo_min_matches)
        runs = GaugeMetricFamily("ideaforge_runs", "Runs by status.", labels=["status"])
        for status, n in store.count_by_status().items():
            runs.add_metric([status], n)
        yield runs
        depth = GaugeMetricFamily("ideaforge_queue_depth", "Turns waiting on the queue.", labels=["queue"])
        queue = make_queue(self.client, self.settings)
        depth.add_metric([queue.name], queue.count)
        yield depth

        folder = MetricsFolder(self.client, self.keys, self.settings.elo_min_matches)
        folder.fold()
        counters = folder.counters()
        turns = CounterMetricFamily(
            "ideaforge_turns",
            "Agent turns (model calls) by role, phase and outcome.",
            labels=["role", "phase", "outcome"],
        )
        tokens = CounterMetricFamily(
            "ideaforge_tokens", "Model tokens by role and kind.", labels=["role", "kind"]
        )
        by_role: dict[str, dict[str, float]] = defaultdict(dict)
        for key, value in sorted(counters.items()):
            if key[0] == "turns" and len(key) == 4:
                turns.add_metric(list(key[1:]), value)
            elif key[0] == "tokens" and len(key) == 3:
                tokens.add_metric(list(key[1:]), value)
            elif key[0] in ("lat", "lat_sum", "lat_count"):
                by_role[key[1]][key[0] if key[0] != "lat" else key[2]] = value
        yield turns
        yield tokens
        latency = HistogramMetricFamily(
            "ideaforge_model_latency_seconds", "Model call latency by role.", labels=["role"]
        )
        for role, values in sorted(by_role.items()):
            cumulative, buckets = 0.0, []
            for le in (*map(str, LATENCY_BUCKETS_S), "+Inf"):
                cumulative += values.get(le, 0.0)
                buckets.append((le, cumulative))
            latency.add_metric([role], buckets, sum_value=values.get("lat_sum", 0.0))
        yield latency


def render_metrics(client: redis.Redis, settings: Settings) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RedisCollector(client, settings))
    return generate_latest(registry)
