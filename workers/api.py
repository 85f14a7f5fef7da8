"""The Python API: submit a brief, read runs, shortlists and transcripts, cancel.

from workers.api import Ideaforge
forge = Ideaforge()                       # settings from the environment
run_id = forge.submit(Brief(topic="..."))
for event in forge.iter_events(run_id, follow=True): ...
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import redis

from agents.brief import Brief, parse_brief
from agents.errors import InvalidPayload
from agents.ids import new_run_id
from agents.shortlist import Shortlist
from agents.state import RunState, TranscriptEvent, new_run_state
from config.settings import Settings, get_settings
from workers.connection import check, connect
from workers.queue import enqueue_turn, make_queue
from workers.store.keys import Keys
from workers.store.runs import RunStore

if TYPE_CHECKING:
    from workers.digest.build import Digest
    from workers.schedules.firing import Fired
    from workers.schedules.model import ScheduleSpec
    from workers.store.ledger import IdeaLedger, LedgerEntry


class Ideaforge:
    def __init__(self, settings: Settings | None = None, client: redis.Redis | None = None) -> None:
        self.settings = settings or get_settings()
        self.client = client or connect(self.settings.redis_url)
        self.store = RunStore(self.client, Keys(self.settings.key_prefix), self.settings.elo_min_matches)

    def ping(self) -> None:
        check(self.settings.redis_url)

    def submit(self, brief: Brief | dict[str, Any]) -> str:
        """Validate, store and enqueue the first turn atomically; return the run id."""
        if not isinstance(brief, Brief):
            brief = parse_brief(brief)
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
        return record_verdict(self, self._ledger(), run_id, idea_id, decision, note)

    def digest(self, since: float, until: float | None = None) -> Digest:
        """The morning digest of runs that stopped between `since` and `until` (Unix seconds; until
        defaults to now): their shortlists, stop reasons, tokens, and which ideas are new."""
        from workers.digest.build import build_digest

        return build_digest(self.store, self.settings, since=since, until=until)

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

        return schedule_status(self, spec)

    def live_schedulers(self) -> list[str]:
        """Names of the ideaforge cron schedulers registered in Redis (exactly one should run)."""
        from workers.schedules.scheduler import live_schedulers

        return live_schedulers(self.settings)

    def fire_schedule(self, name: str) -> Fired:
        """Fire schedule `name` now (tonight's brief, slot `manual-…`); the run is queued.
        Raises ScheduleError for an unknown name or a bad schedules file."""
        from workers.schedules.firing import fire_now
        from workers.schedules.loader import get_schedule

        return fire_now(self, get_schedule(self.schedules(), name))

    def run_scheduler(self, name: str = "") -> None:
        """Run THE cron scheduler in this process until stopped (`name` defaults to host:pid:random).
        Raises ScheduleError for a bad schedules file, StoreUnavailable when Redis cannot be reached."""
        from workers.schedules.scheduler import run_scheduler

        run_scheduler(self.settings, name=name)

    def run_worker(self, *, burst: bool = False, simple: bool = False) -> bool:
        """Run an RQ worker on the turn queue in this process until stopped (with `burst`, until the
        queue is empty; with `simple`, jobs run in this process, no fork). Returns RQ's result."""
        from workers.worker import run_worker

        return run_worker(self.settings, burst=burst, simple=simple)


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
