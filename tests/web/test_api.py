"""The HTTP API over real HTTP (uvicorn), a real Redis, real RQ workers and the fake model."""

from __future__ import annotations

import json
import threading

import httpx
import pytest
import redis

from agents.state import RunStatus
from config.settings import Settings
from tests.conftest import run_burst
from tests.web.conftest import wait_until
from workers.store.keys import Keys
from workers.store.runs import RunStore

BRIEF = {"topic": "Ways to reduce food waste in university cafeterias", "rounds": 1, "ideas_per_round": 3}


def submit(client: httpx.Client, **changes: object) -> str:
    response = client.post("/runs", json={**BRIEF, **changes})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def store(settings: Settings) -> RunStore:
    return RunStore(
        redis.Redis.from_url(settings.redis_url), Keys(settings.key_prefix), settings.elo_min_matches
    )


def test_submit_list_show_and_finish(client: httpx.Client, settings: Settings) -> None:
    created = client.post("/runs", json=BRIEF)
    assert created.status_code == 201
    run_id = created.json()["id"]
    assert created.json()["run"]["status"] == "queued"
    queued = client.get("/runs", params={"status": "queued"}).json()
    assert [r["id"] for r in queued["runs"]] == [run_id]
    assert client.get("/runs", params={"status": "finished"}).json()["runs"] == []

    run_burst(settings)

    run = client.get(f"/runs/{run_id}").json()
    assert run["status"] == "finished" and run["stop_reason"] == "rounds_done" and run["terminal"]
    assert run["ideas_alive"] == 3 and len(run["ideas"]) == 3
    assert set(run["usage_by_role"]) == {"generator", "skeptic", "judge"}
    assert run["tokens"] == sum(u["tokens"] for u in run["usage_by_role"].values()) > 0
    events = client.get(f"/runs/{run_id}/events").json()["events"]
    assert events[0]["content"].startswith("run created") and events[-1]["content"].startswith("run stopped")
    turns = [e for e in events if e["role"] != "system"]
    assert turns and all(e["latency_ms"] is not None and e["prompt"] for e in turns)
    shortlist = client.get(f"/runs/{run_id}/shortlist").json()
    assert shortlist["final"] is True and shortlist["ideas"]
    assert shortlist["ideas"][0]["rank"] == 1


def test_runs_are_paginated_newest_first(client: httpx.Client) -> None:
    ids = [submit(client, topic=f"topic number {n}") for n in range(5)]
    first = client.get("/runs", params={"limit": 2}).json()
    second = client.get("/runs", params={"limit": 2, "offset": 2}).json()
    last = client.get("/runs", params={"limit": 2, "offset": 4}).json()
    seen = [r["id"] for page in (first, second, last) for r in page["runs"]]
    assert seen == list(reversed(ids))
    assert first["next_offset"] == 2 and second["next_offset"] == 4 and last["next_offset"] is None
    assert client.get("/runs", params={"status": "bogus"}).status_code == 422
    assert client.get("/runs", params={"limit": 0}).status_code == 422


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"topic": "  "}, "topic must not be empty"),
        ({"topic": "x", "rounds": 0}, "rounds"),
        ({"topic": "x", "strategy": "dream"}, "unknown strategy 'dream'"),
        ({"topic": "x", "colour": "red"}, "unknown key 'colour'"),
        ({"rounds": 2}, "topic"),
        ([1, 2], "must be a mapping"),
        ("not json", "JSON object"),
    ],
)
def test_invalid_briefs_are_422_with_a_clear_message(
    client: httpx.Client, settings: Settings, body: object, needle: str
) -> None:
    if body == "not json":
        response = client.post("/runs", content=b"{nope", headers={"Content-Type": "application/json"})
    else:
        response = client.post("/runs", json=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, str) and needle in detail and detail.startswith("invalid brief")
    assert store(settings).list_runs() == []  # nothing was stored or enqueued


def test_unknown_runs_and_ideas_are_404_and_bad_ids_422(client: httpx.Client, settings: Settings) -> None:
    for method, path in [
        ("GET", "/runs/abc123"),
        ("GET", "/runs/abc123/events"),
        ("GET", "/runs/abc123/events?follow=1"),
        ("GET", "/runs/abc123/shortlist"),
        ("POST", "/runs/abc123/cancel"),
    ]:
        response = client.request(method, path)
        assert response.status_code == 404, path
        assert "abc123" in response.json()["detail"]
    assert client.get("/runs/no%20such%3Bid").status_code == 422
    run_id = submit(client)
    bad_idea = client.post(f"/runs/{run_id}/ideas/i99/verdict", json={"decision": "accepted"})
    assert bad_idea.status_code == 404 and "i99" in bad_idea.json()["detail"]
    bad_after = client.get(f"/runs/{run_id}/events", params={"after": "yesterday"})
    assert bad_after.status_code == 422 and "after" in bad_after.json()["detail"]
    bad_header = client.get(f"/runs/{run_id}/events", headers={"Last-Event-ID": "x"})
    assert bad_header.status_code == 422 and "last-event-id" in bad_header.json()["detail"]


def test_cancel_stops_the_run_and_a_second_cancel_is_409(client: httpx.Client, settings: Settings) -> None:
    run_id = submit(client, rounds=3)
    response = client.post(f"/runs/{run_id}/cancel")
    assert response.status_code == 202 and response.json()["cancel_requested"] is True
    run_burst(settings)
    run = client.get(f"/runs/{run_id}").json()
    assert run["status"] == "cancelled" and run["stop_reason"] == "cancelled"
    again = client.post(f"/runs/{run_id}/cancel")
    assert again.status_code == 409 and "already stopped" in again.json()["detail"]
    assert client.get(f"/runs/{run_id}/shortlist").json()["final"] is True


def test_verdict_is_stored_and_the_shortlist_rebuilt(client: httpx.Client, settings: Settings) -> None:
    run_id = submit(client)
    run_burst(settings)
    idea_id = client.get(f"/runs/{run_id}/shortlist").json()["ideas"][0]["idea_id"]
    response = client.post(
        f"/runs/{run_id}/ideas/{idea_id}/verdict",
        json={"decision": "accepted", "note": "pilot <b>it</b>"},
    )
    assert response.status_code == 200
    assert response.json()["idea"]["verdict"]["decision"] == "accepted"
    state = store(settings).load(run_id)
    assert state.idea(idea_id).verdict is not None
    assert state.idea(idea_id).verdict.note == "pilot <b>it</b>"  # stored as given, escaped on display
    stored = store(settings).shortlist(run_id)
    assert stored is not None and {e.idea_id: e.verdict for e in stored.ideas}[idea_id] == "accepted"
    from workers.novelty import ledger_for

    ledger = ledger_for(settings, redis.Redis.from_url(settings.redis_url))
    (entry,) = [e for e in ledger.entries(state.brief.namespace) if e.idea_id == idea_id]
    assert entry.kind == "accepted" and entry.run_id == run_id  # in the cross-run ledger, like the CLI
    rejected = client.post(f"/runs/{run_id}/ideas/{idea_id}/verdict", json={"decision": "rejected"})
    assert rejected.json()["shortlist"]["ideas"][0]["verdict"] == "rejected"
    for bad in ({"decision": "maybe"}, {"decision": "accepted", "extra": 1}, {"note": "x"}):
        invalid = client.post(f"/runs/{run_id}/ideas/{idea_id}/verdict", json=bad)
        assert invalid.status_code == 422 and isinstance(invalid.json()["detail"], str)
    assert store(settings).load(run_id).idea(idea_id).verdict.decision == "rejected"  # type: ignore[union-attr]


def test_a_verdict_given_mid_run_survives_later_turns(client: httpx.Client, settings: Settings) -> None:
    """commit_turn merges person-made verdicts into turns computed from an older state."""
    from workers.worker import build_worker

    run_id = submit(client, rounds=2)
    worker = build_worker(settings, simple=True)
    while not store(settings).load(run_id).ideas:  # work turn by turn until ideas exist
        assert worker.work(burst=True, max_jobs=1, logging_level="WARNING")
    idea_id = store(settings).load(run_id).ideas[0].id
    assert (
        client.post(f"/runs/{run_id}/ideas/{idea_id}/verdict", json={"decision": "rejected"}).status_code
        == 200
    )
    run_burst(settings)
    state = store(settings).load(run_id)
    assert state.status is RunStatus.FINISHED and state.step > 3
    assert state.idea(idea_id).verdict is not None and state.idea(idea_id).verdict.decision == "rejected"


def _read_sse(response: httpx.Response) -> list[dict[str, object]]:
    frames, current = [], {}
    for line in response.iter_lines():
        if not line:
            if current:
                frames.append(current)
            current = {}
            continue
        field, _, value = line.partition(": ")
        if field in ("id", "event"):
            current[field] = value
        elif field == "data":
            current["data"] = json.loads(value)
    return frames


def test_events_follow_streams_live_and_resumes_from_last_event_id(
    client: httpx.Client, settings: Settings
) -> None:
    run_id = submit(client)
    frames: list[dict[str, object]] = []
    connected = threading.Event()

    def listen() -> None:
        with client.stream("GET", f"/runs/{run_id}/events", params={"follow": 1}) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            connected.set()
            frames.extend(_read_sse(response))

    listener = threading.Thread(target=listen)
    listener.start()
    assert connected.wait(10)
    run_burst(settings)  # the run happens while the stream is open
    listener.join(30)
    assert not listener.is_alive(), "the stream did not end when the run stopped"
    assert frames[-1] == {"event": "end", "data": {"status": "finished"}}
    live = [f for f in frames if "id" in f]
    stored = client.get(f"/runs/{run_id}/events").json()["events"]
    assert [f["id"] for f in live] == [e["id"] for e in stored]  # every event once, in order
    assert [f["data"]["id"] for f in live] == [f["id"] for f in live]  # type: ignore[index]

    resume_from = live[3]["id"]
    with client.stream(
        "GET", f"/runs/{run_id}/events", params={"follow": 1}, headers={"Last-Event-ID": str(resume_from)}
    ) as response:
        resumed = _read_sse(response)
    assert [f["id"] for f in resumed if "id" in f] == [f["id"] for f in live[4:]]


def test_metrics_count_runs_turns_tokens_and_latency_without_double_counting(
    client: httpx.Client, settings: Settings
) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    finished = submit(client)
    run_burst(settings)
    submit(client)  # stays queued: no worker

    def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        response = client.get("/metrics")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples
        }

    first = scrape()
    assert first[("ideaforge_runs", (("status", "finished"),))] == 1
    assert first[("ideaforge_runs", (("status", "queued"),))] == 1
    assert first[("ideaforge_queue_depth", (("queue", settings.queue_name),))] == 1
    state = store(settings).load(finished)
    calls = [e for _, e in store(settings).events(finished) if e.role != "system"]
    turns = sum(v for (name, _), v in first.items() if name == "ideaforge_turns_total")
    assert turns == len(calls) == sum(u.calls for u in state.usage.values())
    for role, usage in state.usage.items():
        assert first[("ideaforge_tokens_total", (("kind", "prompt"), ("role", role)))] == usage.prompt_tokens
        count = first[("ideaforge_model_latency_seconds_count", (("role", role),))]
        assert count == usage.calls
        assert first[("ideaforge_model_latency_seconds_bucket", (("le", "+Inf"), ("role", role)))] == count
    assert scrape() == first  # a second scrape counts nothing twice


def test_queues_show_failed_turns_with_their_error(client: httpx.Client, settings: Settings) -> None:
    from workers.connection import connect
    from workers.queue import enqueue_turn, make_queue

    queue = make_queue(connect(settings.redis_url), settings.model_copy(update={"turn_retries": 0}))
    enqueue_turn(queue, settings.model_copy(update={"turn_retries": 0}), "deadbeef0000", 0)
    assert client.get("/queues").json()["depths"]["queued"] == 1
    run_burst(settings)
    report = client.get("/queues").json()
    assert report["depths"]["queued"] == 0 and report["depths"]["failed"] == 1
    (failed,) = report["failed"]
    assert failed["run_id"] == "deadbeef0000" and failed["step"] == 0
    assert "RunNotFound" in failed["error"] and "deadbeef0000" in failed["error"]


def test_queues_show_a_busy_worker_with_its_turn(
    client: httpx.Client, settings: Settings, fake_model: object, start_worker: object
) -> None:
    fake_model.set_latency(1500)  # type: ignore[attr-defined]
    run_id = submit(client)
    start_worker()  # type: ignore[operator]

    def busy() -> dict[str, object] | None:
        for worker in client.get("/queues").json()["workers"]:
            if worker["current_turn"]:
                return worker  # type: ignore[no-any-return]
        return None

    worker = wait_until(busy, timeout=60, what="a worker running a turn")
    assert worker["current_turn"]["run_id"] == run_id  # type: ignore[index]
    assert worker["state"] == "busy"  # type: ignore[index]
    assert client.get("/health").json() == {"status": "ok", "redis": "ok"}


def test_pages_render(client: httpx.Client, settings: Settings) -> None:
    run_id = submit(client)
    run_burst(settings)
    for path in ("/", f"/ui/runs/{run_id}", "/ui/queues"):
        response = client.get(path)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in response.headers["content-security-policy"]
    assert run_id in client.get("/").text
    assert client.get("/ui/runs/nope12").status_code == 404
    assert client.get("/static/run.js").status_code == 200
