"""The queue gate: a worker runs only the code ideaforge itself puts on its queue.

Anyone who can write to Redis can write a job hash (`rq:job:<id>`) and push its id onto the turn
queue. RQ resolves the names in that hash with `import_attribute`, so without this gate a foreign
job runs any importable function (`os.system`, ...) and requests any URL. Every field of an RQ 3.0
job hash that names code or a URL is checked here against ideaforge's own allowlist, before
anything is resolved or imported:

- `data` → function name: one of `ALLOWED_FUNCTIONS` (the jobs ideaforge enqueues:
  `workers.jobs.take_turn` from `workers.queue.enqueue_turn`, `workers.intake.submit_brief` from
  producers; the scheduler enqueues nothing, it submits in its own process). `data` must be the
  JSON payload `[func, instance, args, kwargs]` (a worker never unpickles a job);
- `data` → `instance`: must be null (a method of a stored object would be called otherwise);
- `success_callback_name`: must be empty (ideaforge sets none);
- `failure_callback_name`: empty or `workers.jobs.on_turn_failure`, and that only on `take_turn`;
- `stopped_callback_name`: must be empty;
- `webhooks`: must be empty (RQ requests those URLs when a job ends; ideaforge sets none).

The other fields (ids, status, timeouts, TTLs, retries, repeats, dependencies, group, rate limit,
`meta`, `result`, `exc_info`) name no code and no URL; `meta` and `result` are read with the JSON
serializer, which builds plain data only.

Two layers use the check:
- `GatedWorkerMixin.execute_job` refuses a job before it is prepared, forked or performed: the
  job ends FAILED in RQ's failed registry with `exc_info` "refused by the ideaforge queue gate: …",
  and none of its callbacks or webhooks run (its dependents stay deferred).
- `GatedJob` (the job class of ideaforge's queues and workers) refuses the same names wherever
  RQ resolves them outside that path, e.g. the failure callback that the started-job registry's
  cleanup runs for an abandoned job, or a `rq` command using these queues.

Trust boundary: access to Redis is full access (it can also rewrite runs); this gate stops
Redis-level access from turning into code execution and outbound requests from the workers.
"""

from __future__ import annotations

from typing import Any

import structlog
from redis import Redis
from rq.exceptions import DeserializationError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.queue import Queue
from rq.serializers import JSONSerializer
from rq.utils import as_text, decode_redis_hash

TAKE_TURN = "workers.jobs.take_turn"
SUBMIT_BRIEF = "workers.intake.submit_brief"
ON_TURN_FAILURE = "workers.jobs.on_turn_failure"

ALLOWED_FUNCTIONS: frozenset[str] = frozenset({TAKE_TURN, SUBMIT_BRIEF})
# callback kind → function name → the allowed callback names for a job of that function
ALLOWED_CALLBACKS: dict[str, dict[str, frozenset[str]]] = {
    "success": {},
    "failure": {TAKE_TURN: frozenset({ON_TURN_FAILURE})},
    "stopped": {},
}

log = structlog.get_logger("ideaforge.gate")


class JobRefused(Exception):
    """A job names code or a URL that ideaforge did not put on its queue (the message says which)."""


def _callback_names(job: Job) -> dict[str, str | None]:
    # RQ keeps the names read from the hash in these attributes (rq/job.py, Job.restore)
    return {
        "success": job._success_callback_name,
        "failure": job._failure_callback_name,
        "stopped": job._stopped_callback_name,
    }


def refusal(job: Job) -> str | None:
    """Why `job` may not run, or None when it is one ideaforge enqueues. Imports nothing.

    Reads only what `Job.restore` already holds plus the JSON `data` payload.
    """
    unreadable = getattr(job, "unreadable", None)
    if unreadable:
        return f"its job hash cannot be read ({unreadable})"
    try:
        func_name, instance = job.func_name, job.instance
    except DeserializationError:
        return "its data is not ideaforge's JSON payload [function, null, args, kwargs]"
    problems = []
    if not isinstance(func_name, str) or func_name not in ALLOWED_FUNCTIONS:
        names = ", ".join(sorted(ALLOWED_FUNCTIONS))
        problems.append(f"function {func_name!r} is not one ideaforge enqueues ({names})")
    if instance is not None:
        problems.append("instance must be null (ideaforge jobs call module functions)")
    for kind, name in _callback_names(job).items():
        allowed = ALLOWED_CALLBACKS[kind].get(str(func_name), frozenset())
        if name and name not in allowed:
            problems.append(f"{kind} callback {name!r} is not allowed")
    if job.webhooks:
        urls = ", ".join(repr(w.url) for w in job.webhooks)
        problems.append(f"webhooks are not allowed ({urls})")
    return "; ".join(problems) or None


def refusal_message(job: Job, reason: str) -> str:
    return f"JobRefused: refused by the ideaforge queue gate: job {job.id}: {reason}"


class GatedJob(Job):
    """An RQ job that resolves only allowlisted names: a foreign function raises JobRefused, a
    foreign callback resolves to None (it does not run) and webhooks are never requested.

    A hash RQ cannot read (a field of the wrong type: `timeout=abc`, `status=weird`,
    `dependency_ids` that is not JSON, ...) does not raise while it is fetched, which would stop
    the worker that dequeued it: `unreadable` says why, and the gate refuses the job."""

    unreadable: str | None = None

    def restore(self, raw_data: Any) -> Any:
        try:
            return super().restore(raw_data)
        except NoSuchJobError:
            raise  # no `data` at all: RQ skips it as no job
        except Exception as exc:  # the fields read so far stay; the rest keep Job's defaults
            self.unreadable = f"{type(exc).__name__}: {str(exc)[:200]}"
            fields = decode_redis_hash(raw_data)  # the queue it came from, for the failed registry
            self.origin = as_text(fields.get("origin") or b"")
            if not isinstance(self._status, JobStatus):
                self._status = JobStatus.QUEUED
            return None

    @property
    def func(self) -> Any:
        reason = refusal(self)
        if reason is not None:
            raise JobRefused(refusal_message(self, reason))
        return super().func

    def _allowed_callback(self, kind: str) -> bool:
        name = _callback_names(self)[kind]
        try:
            func_name = self.func_name
        except DeserializationError:
            func_name = None
        ok = bool(name) and name in ALLOWED_CALLBACKS[kind].get(str(func_name), frozenset())
        if name and not ok:
            log.error("gate.callback_refused", job_id=self.id, kind=kind, callback=name)
        return ok

    @property
    def success_callback(self) -> Any:
        return super().success_callback if self._allowed_callback("success") else None

    @property
    def failure_callback(self) -> Any:
        return super().failure_callback if self._allowed_callback("failure") else None

    @property
    def stopped_callback(self) -> Any:
        return super().stopped_callback if self._allowed_callback("stopped") else None

    def send_webhooks(self, status: str | JobStatus, *, exc_string: str | None = None) -> None:
        if self.webhooks:
            log.error("gate.webhooks_refused", job_id=self.id, urls=[w.url for w in self.webhooks])


class GatedWorkerMixin:
    """Put first in an RQ worker's bases: JSON serializer and `GatedJob` forced (also under
    `rq worker --worker-class ...`), and every dequeued job checked before it is prepared."""

    connection: Redis
    name: str
    queues: list[Queue]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["serializer"] = JSONSerializer
        kwargs["job_class"] = GatedJob
        super().__init__(*args, **kwargs)
        for queue in self.queues:  # queues built by a caller (e.g. the `rq` CLI) with its own classes
            queue.job_class = GatedJob
            queue.serializer = JSONSerializer

    def execute_job(self, job: Job, queue: Queue) -> None:
        reason = refusal(job)
        if reason is None:
            super().execute_job(job, queue)  # type: ignore[misc]
            return
        refuse(job, queue, reason, worker_name=self.name)


def refuse(job: Job, queue: Queue, reason: str, worker_name: str = "") -> None:
    """End `job` FAILED with the reason, running none of its callbacks, webhooks or dependents."""
    message = refusal_message(job, reason)
    log.error("gate.job_refused", job_id=job.id, queue=queue.name, reason=reason)
    job.webhooks = []
    job._success_callback_name = job._failure_callback_name = job._stopped_callback_name = None
    job.retries_left = None
    with job.connection.pipeline() as pipe:
        pipe.lrem(queue.intermediate_queue_key, 1, job.id)
        job.set_status(JobStatus.FAILED, pipeline=pipe)
        job._handle_failure(message, pipeline=pipe, worker_name=worker_name)
        pipe.execute()
