"""The store: it alone reads and writes ideaforge's Redis keys (every key is listed in `keys.py`).

- `runs.RunStore`: run state (compare-and-set commits), the run index, shortlists, end-of-run markers.
- `events.TranscriptStream`: the transcripts (one Redis stream per run): read, follow (blocking), async tail.
- `ledger.IdeaLedger`: the cross-run idea ledger per namespace (titles, summaries, vectors, verdicts).
- `metrics.MetricsCounters`: turn/token/latency counters folded from the transcripts.
- `schedules.ScheduleSlots`: schedule slots fired (at most once each).
- `workers.WorkerLiveness`: live ideaforge workers and their liveness beats.
- `queue`: what RQ's own registries say (queue report, abandoned turn entries), through RQ's API.
- `keys.Keys`: the key table.
- `as_text`: the one bytes → str helper (clients never decode responses: RQ needs bytes).
"""

from __future__ import annotations


def as_text(raw: bytes | str | None) -> str:
    """A Redis reply as `str` (UTF-8); None becomes ""."""
    if raw is None:
        return ""
    return raw.decode() if isinstance(raw, bytes) else str(raw)
