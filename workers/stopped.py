"""What follows the end of a run, in one place: `on_run_stopped(settings, store, state)`.

The final shortlist is not here: it is written inside the compare-and-set commit that stops the
run (`RunStore.commit_turn`), so every stop has one. What follows the commit runs here, at most once
per run (the `{p}:run:{id}:stopped` marker, see `RunStore.claim_stopped`):
1. the ledger: the run's shortlisted ideas and every idea with a verdict (`workers.novelty.remember_run`);
2. the night's digest file, for a scheduled run when IDEAFORGE_DIGEST_DIR is set
   (`workers.digest.autowrite.write_night_digest`).
(Later: notifications.) Each part is idempotent and none of them fails the turn: a failed part is
logged and the claim is released, so the next caller (a retried turn job that finds the run
stopped, or the failure callback) does it again. A caller that crashes between the claim and the
end leaves a claim that expires after `STOPPED_CLAIM_S`; the next caller then does the work.

Callers: `workers.jobs` where a turn commits a stopped run, where a turn finds its run stopped
already, and where the failure callback stops a run.
"""

from __future__ import annotations

import structlog

from agents.state import RunState
from config.settings import Settings
from workers.digest.autowrite import write_night_digest
from workers.novelty import ledger_for, remember_run
from workers.store.runs import RunStore

log = structlog.get_logger("ideaforge.stopped")


def on_run_stopped(settings: Settings, store: RunStore, state: RunState) -> bool:
    """Do the end-of-run work of the stopped run `state` unless it was done (or is being done)
    already. Returns True when this call did it completely. Raises nothing of its own parts (they
    are logged); a Redis error while claiming propagates (the caller's job is retried)."""
    if not state.terminal:
        return False
    run_id = state.run_id
    if not store.claim_stopped(run_id):
        log.info("run.stopped_handled_already", run_id=run_id)
        return False
    ok = True
    try:
        entries = remember_run(ledger_for(settings, store.r), state, store.shortlist(run_id))
        log.info("ledger.remembered", run_id=run_id, namespace=state.brief.namespace, entries=len(entries))
    except Exception as exc:  # the run is committed; a ledger failure must not fail the turn
        ok = False
        log.error("ledger.write_failed", run_id=run_id, error=f"{type(exc).__name__}: {exc}")
    try:
        write_night_digest(store, settings, state)
    except Exception as exc:  # nor a digest problem
        ok = False
        log.error("digest.write_failed", run_id=run_id, error=f"{type(exc).__name__}: {exc}")
    if ok:
        store.finish_stopped(run_id)
    else:
        store.release_stopped(run_id)
    return ok
