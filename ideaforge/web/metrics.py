"""Prometheus exposition of `Ideaforge.metrics()` (workers are other processes: the store folds
their transcripts into counters at each scrape; this module only formats them)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from workers.api import Ideaforge


class ForgeCollector(Collector):
    """Runs by status, queue depth, turns, tokens and the model latency histogram, read per scrape."""

    def __init__(self, forge: Ideaforge) -> None:
        self.forge = forge

    def collect(self) -> Iterator[Metric]:
        snap = self.forge.metrics()
        runs = GaugeMetricFamily("ideaforge_runs", "Runs by status.", labels=["status"])
        for status, n in snap.runs_by_status.items():
            runs.add_metric([status], n)
        yield runs
        depth = GaugeMetricFamily("ideaforge_queue_depth", "Turns waiting on the queue.", labels=["queue"])
        depth.add_metric([snap.queue], snap.queue_depth)
        yield depth

        turns = CounterMetricFamily(
            "ideaforge_turns",
            "Agent turns (model calls) by role, phase and outcome.",
            labels=["role", "phase", "outcome"],
        )
        tokens = CounterMetricFamily(
            "ideaforge_tokens", "Model tokens by role and kind.", labels=["role", "kind"]
        )
        by_role: dict[str, dict[str, float]] = defaultdict(dict)
        for key, value in sorted(snap.counters.items()):
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
            for le in (*map(str, snap.latency_buckets_s), "+Inf"):
                cumulative += values.get(le, 0.0)
                buckets.append((le, cumulative))
            latency.add_metric([role], buckets, sum_value=values.get("lat_sum", 0.0))
        yield latency


def render_metrics(forge: Ideaforge) -> bytes:
    """The Prometheus text exposition (format 0.0.4) of one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ForgeCollector(forge))
    return generate_latest(registry)
