"""A foreign producer puts a JSON brief straight onto the queue."""

from __future__ import annotations

import redis
from rq import Queue
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from config.settings import Settings
from tests.conftest import run_burst
from workers.api import Ideaforge


def test_a_brief_job_on_the_queue_becomes_a_finished_run(
    settings: Settings, redis_client: redis.Redis
) -> None:
    queue = Queue(settings.queue_name, connection=redis_client, serializer=JSONSerializer)
    job = queue.enqueue("workers.intake.submit_brief", {"topic": "Less food waste", "rounds": 1})
    run_burst(settings)
    job = Job.fetch(job.id, connection=redis_client, serializer=JSONSerializer)
    run_id = job.return_value()
    state = Ideaforge(settings).get_run(run_id)
    assert state.brief.topic == "Less food waste" and state.status.value == "finished"


def test_an_invalid_brief_job_fails_clearly_and_stores_nothing(
    settings: Settings, redis_client: redis.Redis
) -> None:
    queue = Queue(settings.queue_name, connection=redis_client, serializer=JSONSerializer)
    job = queue.enqueue("workers.intake.submit_brief", {"topic": "x", "rounds": 0, "colour": "red"})
    run_burst(settings)
    job = Job.fetch(job.id, connection=redis_client, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FAILED
    assert "unknown key 'colour'" in (job.latest_result().exc_string or "")  # type: ignore[union-attr]
    assert Ideaforge(settings).list_runs() == []


def test_submit_reads_a_brief_from_stdin(settings: Settings) -> None:
    from typer.testing import CliRunner

    from ideaforge.cli import app

    result = CliRunner().invoke(
        app, ["submit", "--file", "-", "-q"], input='{"topic": "From stdin", "rounds": 1}'
    )
    assert result.exit_code == 0
    assert Ideaforge(settings).get_run(result.stdout.strip()).brief.topic == "From stdin"
