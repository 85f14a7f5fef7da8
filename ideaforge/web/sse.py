"""Server-Sent Events for a run's transcript: replay after `Last-Event-ID`, then a live tail.

The Redis stream ids are the SSE ids, so a reconnecting browser resumes exactly where it stopped.
The tail uses redis.asyncio (a blocking XREAD per client would pin a worker thread each).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import redis.asyncio as aioredis

from agents.state import TERMINAL_STATUSES, TranscriptEvent
from workers.store.keys import Keys

STREAM_ID = re.compile(r"^\d{1,20}(-\d{1,20})?$")
RETRY_MS = 2000


def valid_stream_id(value: str) -> bool:
    return bool(STREAM_ID.match(value))


def frame(data: str, *, event: str | None = None, event_id: str | None = None) -> bytes:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if event is not None:
        lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    return ("\n".join(lines) + "\n\n").encode()


async def _terminal(client: aioredis.Redis, keys: Keys, run_id: str) -> str | None:
    async with client.pipeline(transaction=False) as pipe:
        for status in TERMINAL_STATUSES:
            pipe.sismember(keys.runs_by_status(status.value), run_id)
        found = await pipe.execute()
    for status, member in zip(TERMINAL_STATUSES, found, strict=True):
        if member:
            return status.value
    return None


Render = Callable[[str, TranscriptEvent], dict[str, Any]]


def _frames(entries: list[tuple[Any, dict[bytes, bytes]]], render: Render) -> tuple[list[bytes], str | None]:
    out, last = [], None
    for raw_id, fields in entries:
        last = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
        event = TranscriptEvent.model_validate_json(fields[b"e"])
        out.append(frame(json.dumps(render(last, event)), event_id=last))
    return out, last


async def transcript_stream(
    client: aioredis.Redis,
    keys: Keys,
    run_id: str,
    after: str,
    render: Render,
    *,
    block_ms: int = 1000,
    heartbeat_s: float = 15.0,
) -> AsyncIterator[bytes]:
    """Yield SSE frames: every event after `after`, live, then one `end` frame once the run stopped."""
    key = keys.events(run_id)
    last = after
    idle = 0
    yield f"retry: {RETRY_MS}\n\n".encode()
    while True:
        # read the status first: a stopped run's events were all committed with its final state
        status = await _terminal(client, keys, run_id)
        found = await client.xread({key: last}, block=None if status else block_ms, count=500)
        entries = [entry for _stream, batch in found or [] for entry in batch]
        frames, newest = _frames(entries, render)
        for chunk in frames:
            yield chunk
        last = newest or last
        if status is not None and not entries:
            yield frame(json.dumps({"status": status}), event="end")
            return
        idle = 0 if entries else idle + 1
        if idle and idle % max(1, int(heartbeat_s * 1000 // block_ms)) == 0:
            yield b": keep-alive\n\n"
