"""The RQ job: `take_turn(run_id, step)` advances one run by one step.

Arguments are plain JSON (a string and an int), so any producer can enqueue turns. The turn is
applied with a compare-and-set on the stored step: a duplicated, retried or orphaned job that
finds the step already taken does nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import redis
import structlog
from rq.job import Job

from agents.calls import ON_CHARGE, RequestUsage
from agents.engine import StepOutcome, fail, run_step
from agents.errors import InvalidPayload, RetryableError, TerminalError
from agents.ids import is_run_id
from agents.state import Phase
from config.logging import bind_turn, configure_logging
from config.settings import Settings, get_settings
from workers.novelty import ledger_index
from workers.queue import enqueue_turn, run_queue
from workers.runtime import turn_context
from workers.stopped import on_run_stopped
from workers.store.runs import RunStore

log = structlog.get_logger("ideaforge.turn")


def _check_args(run_id: Any, step: Any) -> tuple[str, int]:
    if not is_run_id(run_id):
        raise InvalidPayload(f"take_turn needs a run id string, got {run_id!r}")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise InvalidPayload(f"take_turn needs a non-negative integer step, got {step!r}")
    return run_id, step


def _commit(store: RunStore, settings: Settings, step: int, outcome: StepOutcome) -> bool:
    """Commit the turn (CAS, with the next enqueue); if it stopped the run, the end-of-run work."""
    state = outcome.state
    queue = run_queue(store.r, settings, state)
    applied = store.commit_turn(
        step,
        state,
        outcome.events,
        lambda pipe: enqueue_turn(queue, settings, state.run_id, state.step, pipeline=pipe),
    )
    if applied and state.terminal:
        on_run_stopped(settings, store, state)
    return applied


def _charger(store: RunStore, run_id: str) -> Callable[[str, RequestUsage], None]:
    """Counts each request of this turn attempt in the run's charged usage as its response arrives
    (so a crash, a timeout or a lost CAS keeps it: `RunState.unapplied`); never raises."""

    def charge(role: str, request: RequestUsage) -> None:
        try:
            store.charge(run_id, role, request.prompt_tokens, request.completion_tokens, request.cost_usd)
        except redis.RedisError as exc:
            log.warning(
                "usage.uncounted",
                role=role,
                tokens=request.prompt_tokens + request.completion_tokens,
                error=str(exc),
            )

    return charge


def _settle(store: RunStore, run_id: str) -> None:
    """After an attempt that did not commit: store what it charged as the run's unapplied usage
    (best effort; the next commit of the run recomputes it anyway)."""
    try:
        store.settle_unapplied(run_id)
    except (redis.RedisError, TerminalError) as exc:
        log.warning("usage.unsettled", error=str(exc))


def take_turn(run_id: str, step: int) -> dict[str, Any]:
    """Load the run, run one step, commit it (CAS) together with the next turn's enqueue."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    run_id, step = _check_args(run_id, step)
    bind_turn(run_id, step)
    store = RunStore.from_settings(settings)
    state = store.load(run_id)
    if state.step != step or state.terminal:
        log.info("turn.skipped", reason="already applied", stored_step=state.step, status=state.status.value)
        if state.terminal:  # a retry after a crash between the commit and the end-of-run work
            on_run_stopped(settings, store, state)
        return {"applied": False, "stored_step": state.step}
    structlog.contextvars.bind_contextvars(round=state.round, phase=state.phase.value)
    started = time.perf_counter()

    # only the filter phase compares with the ledger: load (or top up) its index just then
    index = ledger_index(settings, store.r, state.brief.namespace) if state.phase is Phase.FILTER else None

    async def advance() -> StepOutcome:
        async with turn_context(settings, state.brief, index) as ctx:
            return await run_step(state, ctx)

    state.unapplied = store.unapplied(state)  # attempts that crashed count toward the budget now
    charging = ON_CHARGE.set(_charger(store, run_id))
    try:
        outcome = asyncio.run(advance())
    except RetryableError:
        _settle(store, run_id)
        raise  # RQ retries the job with backoff; on_turn_failure handles the last failure
    except TerminalError as exc:
        log.error("turn.failed", error=str(exc))
        outcome = fail(state, f"{type(exc).__name__}: {exc}", time.time())
    except BaseException:  # a job timeout, a bug: what the attempt was charged still counts
        _settle(store, run_id)
        raise
    finally:
        ON_CHARGE.reset(charging)
    applied = _commit(store, settings, step, outcome)
    if not applied:  # another attempt committed this step first: ours was paid for, not applied
        _settle(store, run_id)
    new = outcome.state
    calls = [e for e in outcome.events if e.role != "system"]
    log.info(
        "turn.done",
        applied=applied,
        next_phase=new.phase.value,
        status=new.status.value,
        role=calls[0].role if calls else "system",
        calls=len(calls),
        prompt_tokens=sum(e.prompt_tokens for e in calls),
        completion_tokens=sum(e.completion_tokens for e in calls),
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    structlog.contextvars.clear_contextvars()
    return {"applied": applied, "step": new.step, "phase": new.phase.value, "status": new.status.value}


def on_turn_failure(job: Job, connection: Any, exc_type: Any, exc_value: Any, traceback: Any) -> None:
    """RQ calls this on every failure; once retries are exhausted the run stops with the reason."""
    if job.retries_left:
        return
    settings = get_settings()
    try:
        run_id, step = _check_args(*job.args)
    except (InvalidPayload, TypeError, ValueError):
        log.error("turn.bad_payload", job_id=job.id, error=str(exc_value))
        return
    store = RunStore.from_settings(settings)
    try:
        state = store.load(run_id)
    except TerminalError as exc:
        log.error("turn.failure_unrecorded", run_id=run_id, error=str(exc))
        return
    if state.terminal:  # stopped meanwhile: its end-of-run work, unless done already
        on_run_stopped(settings, store, state)
        return
    if state.step != step:
        return
    detail = f"turn {step} ({state.phase.value}) failed after retries: {exc_type.__name__}: {exc_value}"
    _commit(store, settings, step, fail(state, detail, time.time()))  # does the end-of-run work
    log.error("run.failed", run_id=run_id, step=step, error=detail)
