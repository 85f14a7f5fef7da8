"""When a scheduled run ends, (re)write that night's digest file in IDEAFORGE_DIGEST_DIR.

One Markdown file per night, named after the slot's local date (`digest-YYYY-MM-DD.md`), holding
every run that finished in the 24 hours before; the night's last run leaves the complete file.
Called once per stopped run by workers/stopped.py (`on_run_stopped`); agents/ knows nothing of it.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import structlog

from agents.state import RunState
from config.settings import Settings
from workers.digest.build import build_digest
from workers.digest.markdown import digest_markdown
from workers.store.runs import RunStore

log = structlog.get_logger("ideaforge.digest")
WINDOW_S = 24 * 3600


def night_for(state: RunState) -> dt.date:
    """The slot's local date (`2025-03-30T02:00:00+02:00` → 2025-03-30); else the finish date (UTC)."""
    slot = (state.brief.schedule_slot or "").removeprefix("manual-")
    try:
        return dt.datetime.fromisoformat(slot).date()
    except ValueError:
        return dt.datetime.fromtimestamp(state.finished_at or time.time(), dt.UTC).date()


def write_night_digest(store: RunStore, settings: Settings, state: RunState) -> Path | None:
    """Write the night's digest if this is a stopped scheduled run and a digest folder is set."""
    if settings.digest_dir is None or not state.brief.schedule or not state.terminal:
        return None
    night = night_for(state)
    now = time.time()
    digest = build_digest(store, since=now - WINDOW_S, until=now)
    text = digest_markdown(digest, title=f"ideaforge digest — night of {night.isoformat()}")
    folder = Path(settings.digest_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"digest-{night.isoformat()}.md"
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(path)
    log.info("digest.written", path=str(path), run_id=state.run_id, runs=len(digest.runs))
    return path
