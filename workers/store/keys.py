"""Every Redis key ideaforge uses, in one place. All keys start with the configured prefix `{p}`.
Only the modules of `workers/store/` read or write them: `runs.py` the run keys and the run index,
`events.py` the transcripts, `queue.py` the queue set, `ledger.py` the ledger, `metrics.py`,
`schedules.py` and `workers.py` theirs.

| key | type | what |
|---|---|---|
| {p}:run:{id} | string (JSON) | the RunState, versioned; its `step` is the compare-and-set guard |
| {p}:run:{id}:events | stream | the transcript: one entry per event, field `e` = TranscriptEvent JSON |
| {p}:run:{id}:shortlist | string (JSON) | the Shortlist, written in the commit that stops the run |
| {p}:run:{id}:stopped | string | end-of-run work: `claimed` (600 s TTL) while it runs, then `done` |
| {p}:run:{id}:charged | hash | `{role}:{field}` -> usage of all turn attempts (`unapplied` = this - usage) |
| {p}:queues | set | RQ queue names ideaforge turns go on (recovery and the sweep cover each) |
| {p}:runs | sorted set | run ids scored by creation time, epoch seconds (the run index) |
| {p}:runs:status:{status} | set | run ids by status |
| {p}:runs:active | hash | run id -> `{"step", "queue", "at"}` JSON of each run not stopped (sweep index) |
| {p}:sweep:lock | string, short TTL | held by the worker running this period's reconcile sweep |
| {p}:runs:schedule:{name} | sorted set | run ids started by a schedule, by creation time |
| {p}:ledger:namespaces | set | every ledger namespace that has held an entry |
| {p}:ledger:{ns}:entries | hash | entry id -> LedgerEntry JSON (title, summary, kind, run/idea, note) |
| {p}:ledger:{ns}:vectors | hash | entry id -> float32 little-endian embedding |
| {p}:ledger:{ns}:order | sorted set | entry ids by sequence number (insertion order, incremental loads) |
| {p}:ledger:{ns}:seq | string | last ledger sequence number handed out (INCR) |
| {p}:ledger:{ns}:origin | hash | `run_id/idea_id` or `kind/<sha1 of text>` -> entry id (idempotent adds) |
| {p}:ledger:{ns}:epoch | string | bumped by forget and kind changes; cached ledger indexes reload in full |
| {p}:schedule:{name}:slot:{slot} | string, 35-day TTL | `claiming`, then the run id: a slot fires once |
| {p}:workers | set | names of live ideaforge workers |
| {p}:worker:{name}:alive | string, short TTL | a worker's liveness beat; expired = the worker is dead |
| {p}:metrics:counters | hash | turns, tokens, latency buckets folded from transcripts |
| {p}:metrics:cursor | hash | run id -> last transcript event id already counted |
| {p}:metrics:done | set | finished runs whose transcript is fully counted |
| {p}:metrics:lock | string, 30 s TTL | held by the scrape that is folding |

RQ's own keys (`rq:*`) hold the queue; they are read only through RQ's API (`queue.py`, `workers.py`);
turn job ids are `turn-{run_id}-{step}` (`workers.queue.turn_job_id`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    """The key names under `prefix` (IDEAFORGE_KEY_PREFIX); see the table above."""

    prefix: str = "ideaforge"

    def run(self, run_id: str) -> str:
        return f"{self.prefix}:run:{run_id}"

    def events(self, run_id: str) -> str:
        return f"{self.prefix}:run:{run_id}:events"

    def shortlist(self, run_id: str) -> str:
        return f"{self.prefix}:run:{run_id}:shortlist"

    def stopped(self, run_id: str) -> str:
        return f"{self.prefix}:run:{run_id}:stopped"

    def charged(self, run_id: str) -> str:
        return f"{self.prefix}:run:{run_id}:charged"

    @property
    def queues(self) -> str:
        return f"{self.prefix}:queues"

    @property
    def runs(self) -> str:
        return f"{self.prefix}:runs"

    def runs_by_status(self, status: str) -> str:
        return f"{self.prefix}:runs:status:{status}"

    @property
    def runs_active(self) -> str:
        return f"{self.prefix}:runs:active"

    @property
    def sweep_lock(self) -> str:
        return f"{self.prefix}:sweep:lock"

    def runs_by_schedule(self, schedule: str) -> str:
        return f"{self.prefix}:runs:schedule:{schedule}"

    def ledger(self, namespace: str, part: str) -> str:
        """One key of a ledger namespace; `part` is entries, vectors, order, seq, origin or epoch."""
        return f"{self.prefix}:ledger:{namespace}:{part}"

    @property
    def ledger_namespaces(self) -> str:
        return f"{self.prefix}:ledger:namespaces"

    def schedule_slot(self, name: str, slot: str) -> str:
        return f"{self.prefix}:schedule:{name}:slot:{slot}"

    @property
    def workers(self) -> str:
        return f"{self.prefix}:workers"

    def worker_alive(self, name: str) -> str:
        return f"{self.prefix}:worker:{name}:alive"

    def metrics(self, part: str) -> str:
        """counters, cursor, done or lock."""
        return f"{self.prefix}:metrics:{part}"
