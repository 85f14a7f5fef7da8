"""The Python API, and the one door from the front (CLI, HTTP API, dashboard) into workers/.

from workers.api import Ideaforge
forge = Ideaforge()                       # settings from the environment
run_id = forge.submit(Brief(topic="..."))
for event in forge.iter_events(run_id, follow=True): ...

The facade is a thin layer over the store (`workers/store/`), submission (`workers/submit.py`)
and the queue; it stays light to import (no model client, no embedder).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis
import redis.asyncio as aioredis

from agents.brief import Brief
from agents.errors import InvalidPayload
from agents.shortlist import Shortlist
from agents.state import RunState, Steer, TranscriptEvent
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

if TYPE_CHECKING:
    from agents.eval_arms import BaselineResult
    from workers.digest.build import Digest
    from workers.evaluation.evaluate import EvalResult, TopicResult
    from workers.evaluation.topics import EvalTopic
    from workers.recovery import Resumed
    from workers.schedules.firing import Fired
    from workers.schedules.model import ScheduleSpec
    from workers.store.ledger import IdeaLedger, LedgerEntry


class Ideaforge:
    """Submit, read, follow and cancel runs; what the dashboard shows of the queue and metrics.

    `settings` defaults to the environment's (`get_settings()`); `client` to the process's shared
    connection to `settings.redis_url` (a plain `redis.Redis`, decode_responses=False). Errors:
    `RunNotFound` for an unknown run id, `InvalidBrief` for a broken brief, `RunAlreadyFinished`
    when cancelling or steering a stopped run, `InvalidSteer` / `SteerRefused` for a steer, redis'
    ConnectionError when Redis is unreachable.
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
    def submit(self, brief: Brief | dict[str, Any], *, queue: str | None = None) -> str:
        """Validate, store and enqueue the first turn atomically; return the run id. Every turn of
        the run goes on `queue` (default `settings.queue_name`): only workers on that queue serve it
        (`run_worker(queue=...)`). Raises InvalidBrief, InvalidPayload for a malformed queue name."""
        return self.submitter.submit(brief, queue=queue)

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

    def steer(
        self,
        run_id: str,
        *,
        note: str | None = None,
        idea: tuple[str, str] | None = None,
        author: str | None = None,
    ) -> list[Steer]:
        """A person steers a running run: a `note` for the Generator and/or their own `idea`
        (title, summary), by `author` (a name, stored as "human:<name>"; None: "anonymous"). The
        run's next Generator turn consumes them: the note goes into its request as data, the idea
        joins the pool and is filtered (reported, never dropped), critiqued and judged like the
        others. Returns the stored `Steer`s (the note first); the transcript gets one "steer" event
        each. Limits are settings (`steering`, `steer_*`).
        Raises RunNotFound, RunAlreadyFinished (a stopped run), InvalidSteer (empty, too long, a
        bad author), SteerRefused (steering off, too many pending, no Generator turn left)."""
        from workers.steering import SteerLimits, add_steers

        limits = SteerLimits.from_settings(self.settings)
        return add_steers(self.store, limits, run_id, note=note, idea=idea, author=author)

    def cancel_now(self, run_id: str, detail: str) -> RunState:
        """Stop the run at once as `cancelled`, with its shortlist, when nothing will serve its queue
        any more (the workers that did were stopped): the turn in flight is abandoned and its late
        commit, if any, is refused by the compare-and-set. Returns the stored state (unchanged when
        the run had stopped already, or a turn committed meanwhile and it was tried again)."""
        from agents.engine import cancel_now

        for _ in range(5):  # a turn may commit between our load and our commit: load again
            state = self.store.load(run_id)
            if state.terminal:
                return state
            outcome = cancel_now(state, detail, time.time())
            if self.store.commit_turn(state.step, outcome.state, outcome.events, None):
                break
        state = self.store.load(run_id)
        if state.terminal:
            from workers.stopped import on_run_stopped

            on_run_stopped(self.settings, self.store, state)
        return state

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
    # Heavy modules (numpy and the embedder via the ledger, the model client via the digest, RQ's
    # worker and cron scheduler) are imported inside the methods, so importing the facade stays light.
    def redis_location(self) -> str:
        """The configured Redis URL without its password, for messages and logs."""
        from workers.connection import redact_url

        return redact_url(self.settings.redis_url)

    def _ledger(self) -> IdeaLedger:
        from workers.novelty import ledger_for

        return ledger_for(self.settings, self.client)

    def ledger_entries(
        self, namespace: str, *, kind: str | None = None, limit: int | None = None
    ) -> list[LedgerEntry]:
        """A namespace's ledger entries, oldest first; only those of `kind` (shortlisted, accepted,
        rejected, prior_art) if given; only the newest `limit` if given."""
        return self._ledger().entries(namespace, kind=kind, limit=limit)  # type: ignore[arg-type]

    def ledger_search(self, namespace: str, text: str, *, k: int = 5) -> list[tuple[LedgerEntry, float]]:
        """The `k` ledger entries nearest to `text` with their cosine similarity (-1..1), nearest first.
        Embeds `text` now (loads the embedder; raises EmbeddingModelError if it cannot)."""
        return self._ledger().search(namespace, text, k=k)

    def ledger_forget(self, namespace: str, entry_id: str) -> bool:
        """Remove one ledger entry for good; False if the namespace holds no such entry."""
        return self._ledger().forget(namespace, entry_id)

    def import_prior_art(self, namespace: str, text: str, filename: str) -> tuple[int, int]:
        """Import a prior-art corpus (Markdown, text or JSONL, told apart by `filename`'s suffix, else
        sniffed) as ledger entries of kind prior_art. Returns (entries added, entries already known).
        Raises InvalidPayload, naming `filename`, when the text does not parse or holds no entries."""
        from agents.novelty.prior_art import parse_prior_art

        try:
            items = parse_prior_art(text, filename)
        except ValueError as exc:
            raise InvalidPayload(f"{filename}: {exc}") from None
        if not items:
            raise InvalidPayload(f"{filename} holds no entries (an empty file, or only comments)")
        added = self._ledger().import_text(namespace, text, filename)
        return added, len(items) - added

    def record_verdict(
        self, run_id: str, idea_id: str, decision: str, note: str = ""
    ) -> tuple[RunState, LedgerEntry]:
        """A person's verdict on an idea: set on the run (kept through later turns; a stopped run's
        shortlist is rewritten) and in the idea ledger. `decision` is accept/accepted or
        reject/rejected; stored in the past tense. Returns the new state and the ledger entry.
        Raises RunNotFound (checked before the ledger's embedder loads), IdeaNotFound, InvalidPayload."""
        from workers.verdicts import record_verdict

        self.store.load(run_id)
        return record_verdict(self.store, self._ledger(), run_id, idea_id, decision, note)

    def digest(self, since: float, until: float | None = None) -> Digest:
        """The morning digest of runs that stopped between `since` and `until` (Unix seconds; until
        defaults to now): their shortlists, stop reasons, tokens, and which ideas are new."""
        from workers.digest.build import build_digest

        return build_digest(self.store, since=since, until=until)

    @staticmethod
    def digest_markdown(digest: Digest) -> str:
        """A digest as a Markdown document."""
        from workers.digest.markdown import digest_markdown

        return digest_markdown(digest)

    def schedules(self) -> dict[str, ScheduleSpec]:
        """The schedules of `settings.schedules_file` by name (no Redis needed).
        Raises ScheduleError for a missing or invalid file."""
        from workers.schedules.loader import load_schedules

        return load_schedules(self.settings.schedules_file)

    def schedule_status(self, spec: ScheduleSpec) -> dict[str, Any]:
        """One schedule's next fire, tonight's rotation and last run (the JSON of `schedule list`)."""
        from workers.schedules.status import schedule_status

        return schedule_status(self.store, spec)

    def live_schedulers(self) -> list[str]:
        """Names of the ideaforge cron schedulers registered in Redis (exactly one should run)."""
        from workers.schedules.scheduler import live_schedulers

        return live_schedulers(self.settings)

    def fire_schedule(self, name: str) -> Fired:
        """Fire schedule `name` now (tonight's brief, slot `manual-…`); the run is queued.
        Raises ScheduleError for an unknown name or a bad schedules file."""
        from workers.schedules.firing import fire_now
        from workers.schedules.loader import get_schedule

        return fire_now(self.submitter, get_schedule(self.schedules(), name))

    def run_scheduler(self, name: str = "") -> None:
        """Run THE cron scheduler in this process until stopped (`name` defaults to host:pid:random).
        Raises ScheduleError for a bad schedules file, StoreUnavailable when Redis cannot be reached."""
        from workers.schedules.scheduler import run_scheduler

        run_scheduler(self.settings, name=name)

    def run_worker(self, *, burst: bool = False, simple: bool = False, queue: str | None = None) -> bool:
        """Run an RQ worker in this process until stopped, on turn queue `queue` (default
        `settings.queue_name`): it serves the runs submitted there (with `burst`, until the queue is
        empty; with `simple`, jobs run in this process, no fork). The worker always runs its own
        scheduler (retries with an interval). Returns RQ's result. Raises InvalidPayload for a
        malformed queue name."""
        from workers.queue import check_queue_name
        from workers.worker import run_worker

        settings = self.settings
        if queue is not None:
            settings = settings.model_copy(update={"queue_name": check_queue_name(queue)})
        return run_worker(settings, burst=burst, simple=simple)

    def resume(self, run_id: str) -> Resumed:
        """Put a stranded run's next turn back on its queue now (a no-op when it waits or runs there
        already; a retry waiting for its interval runs now). Returns what was found and done
        (`run_id`, `step`, `queue`, `where`: "queued" / "started" / "deferred", None = enqueued
        now). Raises RunNotFound, RunAlreadyFinished for a stopped run."""
        from workers.recovery import resume_run

        return resume_run(self.client, self.settings, run_id)

    # --- `ideaforge eval` (issue 14): the pipeline against a single-prompt baseline ---

    @staticmethod
    def load_eval_topics(path: Path) -> list[EvalTopic]:
        """The eval's topics from a YAML file; InvalidInput (one line) for a bad file."""
        from workers.evaluation.topics import load_topics

        return load_topics(path)

    def evaluate(
        self,
        topics: list[EvalTopic],
        brief_fields: dict[str, Any],
        *,
        queue: str,
        workers_alive: Callable[[], bool],
        judge_model: str | None = None,
        pairs_per_topic: int = 9,
        seed: int = 0,
        on_topic: Callable[[TopicResult], None] | None = None,
        arm: str = "full",
        baselines: dict[str, BaselineResult] | None = None,
    ) -> EvalResult:
        """Run the eval of one arm (`workers.evaluation.evaluate.evaluate` says what `arm` and
        `baselines` do; each brief is `Brief(topic=..., **brief_fields)`): each topic's brainstorm is
        submitted to `queue` and followed until it stops (its workers are the caller's;
        IdeaforgeError when `workers_alive()` turns False with the run unfinished), then the baseline
        and the judge run here. Raises ModelUnavailable / ModelConfigError for an endpoint that
        cannot be used."""
        from agents.errors import IdeaforgeError
        from agents.eval_arms import EvalIdea
        from workers.evaluation.evaluate import evaluate

        def run_pipeline(brief: Brief) -> tuple[RunState, list[EvalIdea]]:
            run_id = self.submit(brief, queue=queue)

            def on_idle() -> None:
                if not workers_alive():
                    raise IdeaforgeError(f"all workers exited; eval run {run_id} is unfinished on {queue}")

            for _ in self.iter_events(run_id, follow=True, block_ms=500, on_idle=on_idle):
                pass
            sl = self.get_shortlist(run_id)
            ideas = [EvalIdea(title=e.title, summary=e.summary) for e in sl.ideas] if sl else []
            return self.get_run(run_id), ideas

        return evaluate(
            self.settings, topics, brief_fields, run_pipeline,
            judge_model=judge_model, pairs_per_topic=pairs_per_topic, seed=seed, on_topic=on_topic,
            arm=arm, baselines=baselines,
        )

    @staticmethod
    def write_arms_report(results: list[EvalResult], out_dir: Path) -> list[Path]:
        """Write arms.md and arms.json (one row per arm) into `out_dir`; returns their paths."""
        from workers.evaluation.report import write_arms_report

        return write_arms_report(results, out_dir)

    @staticmethod
    def write_eval_report(result: EvalResult, out_dir: Path) -> list[Path]:
        """Write eval.json, eval.md and eval.html into `out_dir`; returns their paths."""
        from workers.evaluation.report import write_report

        return write_report(result, out_dir)
