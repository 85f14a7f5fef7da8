"""Server-Sent Events for a run's transcript: replay after `Last-Event-ID`, then a live tail.

The transcript's event ids are the SSE ids, so a reconnecting browser resumes exactly where it
stopped. The tail is `Ideaforge.tail_events` (asyncio: a blocking read per client would pin a
worker thread each).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

from agents.state import TranscriptEvent
from workers.api import Ideaforge

STREAM_ID = re.compile(r"^\d{1,20}(-\d{1,20})?$")
RETRY_MS = 2000

Render = Callable[[str, TranscriptEvent], dict[str, Any]]


def valid_stream_id(value: str) -> bool:
    """True for a transcript event id (`<ms>` or `<ms>-<seq>`), the form `after` and Last-Event-ID take."""
    return bool(STREAM_ID.match(value))


def frame(data: str, *, event: str | None = None, event_id: str | None = None) -> bytes:
    """One SSE frame (UTF-8): optional `id:` and `event:` lines, one `data:` line per line of `data`."""
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if event is not None:
        lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    return ("\n".join(lines) + "\n\n").encode()


async def transcript_stream(
    forge: Ideaforge,
    run_id: str,
    after: str,
    render: Render,
    *,
    block_ms: int = 1000,
    heartbeat_s: float = 15.0,
) -> AsyncIterator[bytes]:
    """Yield SSE frames: every event after `after`, live, then one `end` frame once the run stopped
    (`{"status": <terminal status>}`); a comment line every `heartbeat_s` seconds of silence."""
    idle = 0
    yield f"retry: {RETRY_MS}\n\n".encode()
    async for batch in forge.tail_events(run_id, after, block_ms=block_ms):
        for event_id, event in batch.events:
            yield frame(json.dumps(render(event_id, event)), event_id=event_id)
        if batch.stopped is not None:
            yield frame(json.dumps({"status": batch.stopped.value}), event="end")
            return
        idle = 0 if batch.events else idle + 1
        if idle and idle % max(1, int(heartbeat_s * 1000 // block_ms)) == 0:
            yield b": keep-alive\n\n"
