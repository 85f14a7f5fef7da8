"""A run never strands and never hides a token: its own queue, the reconcile sweep, `resume`, and
the usage of turn attempts that never committed (issue 13, items 5, 9, 11, 15)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis
from rq.job import JobStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from typer.testing import CliRunner

from agents.engine import pending_stop
from agents.errors import InvalidPayload, RunAlreadyFinished, RunNotFound
from agents.state import StopReason, Usage
from config.settings import Settings, get_settings
from ideaforge.cli import app
from ideaforge.devtools.fake_openai import FakeModelServer, Fault
from tests.conftest import run_burst
from tests.faults.integrity import check_run
from workers.api import Ideaforge
from workers.queue import make_queue, turn_job_id
from workers.recovery import reconcile
from workers.store.queue import turn_queues, turn_whereabouts

BRIEF = {"topic": "Ways to reduce food waste in university cafeterias", "rounds": 1, "ideas_per_round": 2}
RUN_QUEUE = "ideaforge-run-test1"


def _lose_turn(client: redis.Redis, queue_name: str, job_id: str) -> None:
    """What rq-dashboard's delete or a failover does: the job leaves the queue and its hash goes."""
    client.lrem(f"rq:queue:{queue_name}", 0, job_id)
    client.delete(f"rq:job:{job_id}")


# --- item 11: a run's own queue ---------------------------------------------------------------
def test_a_run_on_its_own_queue_is_served_by_a_worker_on_that_queue_only(
    settings: Settings, redis_client: redis.Redis
) -> None:
    forge = Ideaforge(settings)
    run_id = forge.submit(BRIEF, queue=RUN_QUEUE)
    state = forge.get_run(run_id)
    assert state.queue == RUN_QUEUE
    assert redis_client.lrange(f"rq:queue:{RUN_QUEUE}", 0, -1) == [turn_job_id(run_id, 0).encode()]
    assert redis_client.llen(f"rq:queue:{settings.queue_name}") == 0
    assert RUN_QUEUE in turn_queues(redis_client, settings)  # recovery and the sweep cover it

    run_burst(settings)  # a worker on the default queue: not its run
    assert forge.get_run(run_id).step == 0
    assert reconcile(redis_client, settings).dropped_queues == []  # in use: kept

    run_burst(settings.model_copy(update={"queue_name": RUN_QUEUE}))
    state, _ = check_run(forge.store, run_id)
    assert state.status.value == "finished", state.errors
    assert redis_client.llen(f"rq:queue:{settings.queue_name}") == 0  # no later turn went elsewhere
    assert reconcile(redis_client, settings).dropped_queues == [RUN_QUEUE]  # its run is done: forgotten
    assert turn_queues(redis_client, settings) == [settings.queue_name]
    default_run = forge.submit(BRIEF)
    assert forge.get_run(default_run).queue == settings.queue_name


@pytest.mark.parametrize("name", ["", "two words", "x" * 101, "-leading", "a/b"])
def test_a_malformed_queue_name_is_refused(settings: Settings, name: str) -> None:
    forge = Ideaforge(settings)
    with pytest.raises(InvalidPayload, match="queue name"):
        forge.submit(BRIEF, queue=name)
    assert forge.list_runs() == []


# --- item 9: the reconcile sweep and `resume` ---------------------------------------------------
@pytest.mark.parametrize("queue", [None, RUN_QUEUE])
def test_a_deleted_queued_turn_is_enqueued_again_after_the_grace_period(
    settings: Settings, redis_client: redis.Redis, queue: str | None
) -> None:
    forge = Ideaforge(settings)
    run_id = forge.submit(BRIEF, queue=queue)
    name = queue or settings.queue_name
    job_id = turn_job_id(run_id, 0)
    _lose_turn(redis_client, name, job_id)
    assert turn_whereabouts(make_queue(redis_client, settings, name), job_id) is None

    assert reconcile(redis_client, settings).requeued == []  # inside the grace period: left alone
    report = reconcile(redis_client, settings, now=time.time() + settings.reconcile_grace_s + 1)
    assert report.requeued == [job_id]
    assert reconcile(redis_client, settings, now=time.time() + 60).requeued == []  # found now
    run_burst(settings.model_copy(update={"queue_name": name}))
    state, _ = check_run(forge.store, run_id)
    assert state.status.value == "finished", state.errors


def test_a_failed_turn_whose_failure_was_never_written_runs_again(
    settings: Settings, redis_client: redis.Redis
) -> None:
    """The job ended FAILED (retries spent while Redis was down) but the run never became failed."""
    forge = Ideaforge(settings)
    run_id = forge.submit(BRIEF)
    queue = make_queue(redis_client, settings)
    job = queue.fetch_job(turn_job_id(run_id, 0))
    assert job is not None
    redis_client.lrem(queue.key, 0, job.id)
    job.set_status(JobStatus.FAILED)
    FailedJobRegistry(queue=queue).add(job, ttl=600)
    report = reconcile(redis_client, settings, now=time.time() + settings.reconcile_grace_s + 1)
    assert report.requeued == [job.id]
    assert job.id not in FailedJobRegistry(queue=queue).get_job_ids()
    run_burst(settings)
    assert forge.get_run(run_id).status.value == "finished"


def test_an_overdue_retry_left_by_a_dead_scheduler_is_moved_onto_its_queue(
    settings: Settings, redis_client: redis.Redis
) -> None:
    forge = Ideaforge(settings)
    run_id = forge.submit(BRIEF, queue=RUN_QUEUE)
    queue = make_queue(redis_client, settings, RUN_QUEUE)
    job = queue.fetch_job(turn_job_id(run_id, 0))
    assert job is not None
    redis_client.lrem(queue.key, 0, job.id)
    registry = ScheduledJobRegistry(queue=queue)
    registry.schedule(job, datetime.now(UTC) + timedelta(seconds=30))  # a retry waiting its interval
    job.set_status(JobStatus.SCHEDULED)
    assert reconcile(redis_client, settings).promoted == []  # not due yet
    registry.schedule(job, datetime.now(UTC) - timedelta(seconds=settings.reconcile_overdue_s + 1))
    report = reconcile(redis_client, settings)
    assert report.promoted == [job.id] and report.requeued == []
    assert turn_whereabouts(queue, job.id) == "queued"
    run_burst(settings.model_copy(update={"queue_name": RUN_QUEUE}))
    assert forge.get_run(run_id).status.value == "finished"


def test_a_turn_dequeued_by_a_worker_that_then_lost_redis_is_put_back(
    settings: Settings, redis_client: redis.Redis
) -> None:
    """RQ moves a job to an intermediate list, then marks it started; Redis died in between."""
    settings = settings.model_copy(update={"reconcile_overdue_s": 0.3})
    forge = Ideaforge(settings)
    run_id = forge.submit(BRIEF)
    queue = make_queue(redis_client, settings)
    job_id = turn_job_id(run_id, 0)
    assert redis_client.lmove(queue.key, queue.intermediate_queue_key) == job_id.encode()
    assert turn_whereabouts(queue, job_id) == "queued"  # being dequeued, as far as one look can tell
    assert reconcile(redis_client, settings).promoted == []  # first seen there
    time.sleep(0.5)
    assert reconcile(redis_client, settings).promoted == [job_id]
    assert redis_client.llen(queue.intermediate_queue_key) == 0
    assert redis_client.lrange(queue.key, 0, -1) == [job_id.encode()]
    run_burst(settings)
    assert forge.get_run(run_id).status.value == "finished"


def test_resume_enqueues_a_lost_turn_once_and_refuses_unknown_and_stopped_runs(
    settings: Settings, redis_client: redis.Redis
) -> None:
    forge = Ideaforge(settings)
    run_id = forge.submit(BRIEF, queue=RUN_QUEUE)
    _lose_turn(redis_client, RUN_QUEUE, turn_job_id(run_id, 0))
    resumed = forge.resume(run_id)
    assert (resumed.step, resumed.queue, resumed.where) == (0, RUN_QUEUE, None)
    assert forge.resume(run_id).where == "queued"  # no second copy
    assert redis_client.llen(f"rq:queue:{RUN_QUEUE}") == 1
    with pytest.raises(RunNotFound):
        forge.resume("0" * 32)
    run_burst(settings.model_copy(update={"queue_name": RUN_QUEUE}))
    with pytest.raises(RunAlreadyFinished):
        forge.resume(run_id)


def test_resume_on_the_command_line(settings: Settings, redis_client: redis.Redis) -> None:
    forge = Ideaforge(settings)
    run_id = forge.submit(BRIEF)
    _lose_turn(redis_client, settings.queue_name, turn_job_id(run_id, 0))
    runner = CliRunner()
    result = runner.invoke(app, ["resume", run_id])
    assert result.exit_code == 0, result.output
    assert result.output == f"run {run_id}: turn 0 enqueued again on queue {settings.queue_name}\n"
    again = runner.invoke(app, ["resume", run_id])
    assert again.output == f"run {run_id}: turn 0 is queued on queue {settings.queue_name} already\n"
    unknown = runner.invoke(app, ["resume", "0" * 32])
    assert unknown.exit_code == 2 and "no run with id" in unknown.output
    assert "Traceback" not in unknown.output
    run_burst(settings)
    stopped = runner.invoke(app, ["resume", run_id])
    assert stopped.exit_code == 2 and "already stopped (finished)" in stopped.output


# --- item 5: usage of turn attempts that never committed ---------------------------------------
def test_a_retried_turn_keeps_what_its_first_attempt_paid_apart_and_counts_it(
    env: dict[str, str], fake_model: FakeModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDEAFORGE_MODEL_MAX_RETRIES", "0")
    get_settings.cache_clear()
    settings = get_settings()
    forge = Ideaforge(settings)
    run_id = forge.submit(BRIEF)
    # the first Generator call gets an invalid answer (paid), and its re-ask finds the endpoint down:
    # the turn raises ModelUnavailable and RQ runs it again
    fake_model.add_faults(Fault("bad_schema", role="generator"), Fault("status", status=503, role="generator"))
    run_burst(settings)
    state, events = check_run(forge.store, run_id)
    assert state.status.value == "finished", state.errors
    assert fake_model.state.faults == []
    calls = [e for e in events if e.role == "generator"]
    assert fake_model.state.requests["generator"] == len(calls) + 2  # the lost attempt's two requests
    unapplied = state.unapplied["generator"]
    assert set(state.unapplied) == {"generator"}
    assert unapplied.calls == 0 and unapplied.prompt_tokens > 0 and unapplied.completion_tokens > 0
    assert unapplied.unpriced_calls == 1  # one paid request (the 503 carried no usage), price unknown
    assert state.usage["generator"].prompt_tokens == sum(e.prompt_tokens for e in calls)
    committed = sum(u.total_tokens for u in state.usage.values())
    assert state.total_tokens == committed + unapplied.total_tokens  # the budget counts it
    # ...and every front door shows it apart from the roles' committed tokens
    shown = CliRunner().invoke(app, ["show", run_id, "--format", "json"])
    summary = json.loads(shown.output)
    assert summary["tokens_unapplied_by_role"] == {"generator": unapplied.total_tokens}
    assert summary["tokens"] == sum(summary["tokens_by_role"].values()) + unapplied.total_tokens
    table = CliRunner().invoke(app, ["show", run_id])
    flat = " ".join(table.output.split())
    assert f"charged but not applied (turns that never committed; included above): generator {unapplied.total_tokens:,}" in flat
    from ideaforge.render import run_detail
    from workers.digest.build import build_digest
    from workers.digest.markdown import digest_markdown

    assert run_detail(state)["unapplied_by_role"]["generator"]["tokens"] == unapplied.total_tokens
    digest = build_digest(forge.store, since=0)
    assert f"charged but not applied {unapplied.total_tokens:,}" in digest_markdown(digest)


def test_unapplied_usage_counts_toward_the_token_and_cost_budgets(settings: Settings) -> None:
    # a cost budget needs a known price (workers/admission.py): price the fake model
    forge = Ideaforge(settings.model_copy(update={"prices": {"fake-model": (0.001, 0.002)}}))
    run_id = forge.submit({**BRIEF, "budget": {"max_tokens": 1000, "max_cost_usd": 0.5}})
    state = forge.get_run(run_id)
    state.usage["generator"] = Usage(calls=1, prompt_tokens=400, completion_tokens=100, cost_usd=0.2)
    assert pending_stop(state, time.time()) is None
    state.unapplied["skeptic"] = Usage(prompt_tokens=400, completion_tokens=100, cost_usd=0.1)
    stop = pending_stop(state, time.time())
    assert stop is not None and stop[0] is StopReason.TOKEN_BUDGET and "1000 tokens used" in stop[1]
    state.unapplied["skeptic"] = Usage(prompt_tokens=1, cost_usd=0.3)
    stop = pending_stop(state, time.time())
    assert stop is not None and stop[0] is StopReason.COST_BUDGET
    state.unapplied["skeptic"] = Usage(prompt_tokens=1, unpriced_calls=1)
    assert state.cost_usd is None  # an unpriced unapplied request makes the cost unknown


def test_charges_of_an_attempt_that_lost_the_compare_and_set_are_kept_apart(settings: Settings) -> None:
    forge = Ideaforge(settings)
    run_id = forge.submit(BRIEF)
    # a duplicate attempt (an orphaned work horse) paid for a Generator request, then lost the CAS
    forge.store.charge(run_id, "generator", 120, 30, 0.001)
    state = forge.store.settle_unapplied(run_id)
    assert state.unapplied["generator"] == Usage(prompt_tokens=120, completion_tokens=30, cost_usd=0.001)
    run_burst(settings)
    state, _ = check_run(forge.store, run_id)
    assert state.unapplied["generator"].total_tokens == 150  # each commit recomputes it, unchanged
