"""A person steers a running brainstorm: a note for the Generator, or their own idea (issue 14).

`add_steers(store, limits, run_id, note=..., idea=(title, summary), author=...)` checks the input
against `SteerLimits` (from settings), then appends `Steer`s to the run state through the store's
optimistic path (`RunStore.update`), with one transcript event per steer (kind "steer", role
"human", `author`) in the same MULTI/EXEC. A turn in flight merges them in when it commits
(`workers.store.runs.merge_external`), so a steer is never lost to a concurrent commit.

The next Generator turn consumes the pending steers (`agents/steering.py`): notes go into its
request as data, ideas join the pool and are filtered, critiqued and judged like the others.
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass

from agents.errors import InvalidSteer, RunAlreadyFinished, SteerRefused
from agents.state import Phase, RunState, Steer, TranscriptEvent, author_tag, is_human
from agents.text import first_bidi_control
from config.settings import Settings
from workers.store.runs import RunStore

# phases of a round that come before (or are) its Generator turn (the filter may loop back to
# generate: `filter_loops_back` decides for the last round's)
_BEFORE_GENERATE = frozenset({Phase.DERIVE_DENY, Phase.POSE_QUESTIONS, Phase.PAIR_CONCEPTS, Phase.GENERATE})


@dataclass(frozen=True)
class SteerLimits:
    """What a steer may hold (settings `steering`, `steer_*`): `enabled`; characters of a note,
    an idea's title and its summary; steers per run waiting for the next Generator turn."""

    enabled: bool
    note_chars: int
    title_chars: int
    summary_chars: int
    max_pending: int
    generate_attempts: int = 1  # settings `generate_attempts`: Generator calls a round may make

    @classmethod
    def from_settings(cls, settings: Settings) -> SteerLimits:
        return cls(
            enabled=settings.steering,
            note_chars=settings.steer_note_max_chars,
            title_chars=settings.steer_title_max_chars,
            summary_chars=settings.steer_summary_max_chars,
            max_pending=settings.steer_max_pending,
            generate_attempts=settings.generate_attempts,
        )


def check_text(text: str, what: str, limit: int, *, multiline: bool) -> str:
    """`text` stripped; InvalidSteer when it is empty, longer than `limit` characters, holds a
    control character (a line break only where `multiline`), a bidirectional control character
    (`agents.text.BIDI_CONTROLS`) or a lone surrogate (not Unicode)."""
    clean = text.replace("\r\n", "\n").strip()
    if not clean:
        raise InvalidSteer(f"{what} is empty")
    if len(clean) > limit:
        raise InvalidSteer(f"{what} is {len(clean)} characters; at most {limit}")
    if any(unicodedata.category(c) == "Cs" for c in clean):
        raise InvalidSteer(f"{what} is not valid Unicode (it holds a lone surrogate)")
    allowed = {"\n", "\t"} if multiline else {"\t"}
    bad = next((c for c in clean if unicodedata.category(c) == "Cc" and c not in allowed), None)
    if bad is not None:
        raise InvalidSteer(f"{what} holds a control character ({bad!r})")
    if (bidi := first_bidi_control(clean)) is not None:
        raise InvalidSteer(f"{what} holds a bidirectional control character ({bidi!r})")
    return clean


def _steer_event(state: RunState, steer: Steer) -> TranscriptEvent:
    said = f"note: {steer.text}" if steer.kind == "note" else f"idea: {steer.title} — {steer.summary}"
    return TranscriptEvent(
        run_id=state.run_id,
        step=state.step,
        round=state.round,
        phase=state.phase.value,
        role="human",
        kind="steer",
        author=steer.author,
        content=f"{steer.id} by {steer.author}: {said}",
        ts=steer.at,
    )


def filter_loops_back(state: RunState, generate_attempts: int) -> bool:
    """True when the filter about to run is certain to send the round back to generate: the top-up
    is on, the round has Generator calls left, and even if every new Generator idea survived it
    would still be short of `ideas_per_round` (`agents.phases.round_is_short` decides the same after
    the filter; a person's idea counts in neither)."""
    stats = state.round_stats(state.round)
    fresh = sum(1 for i in state.ideas if i.id in set(state.new_idea_ids) and not is_human(i.author))
    return (
        state.brief.mechanisms.top_up
        and stats.attempts < generate_attempts
        and stats.kept + fresh < state.brief.ideas_per_round
    )


def _check_open(state: RunState, generate_attempts: int) -> None:
    """Refuse a steer the run could never use (it stopped, is being cancelled, or has no Generator
    turn certain to come: its last round is past generate, or at its filter unless that filter is
    certain to loop back to generate, `filter_loops_back`). A steer accepted in a filter that would
    only *maybe* loop back could be left unused, so it is refused."""
    run_id = state.run_id
    if state.terminal:
        raise RunAlreadyFinished(f"run {run_id} already stopped ({state.status.value}); it cannot be steered")
    if state.cancel_requested:
        raise SteerRefused(f"run {run_id} is being cancelled; it cannot be steered")
    last = state.round >= state.brief.rounds
    if last and state.phase is Phase.FILTER and filter_loops_back(state, generate_attempts):
        return
    if last and state.phase not in _BEFORE_GENERATE:
        raise SteerRefused(
            f"run {run_id} has no Generator turn left (round {state.round} of {state.brief.rounds}, "
            f"phase {state.phase.value}); a steer would never be used"
        )


def add_steers(
    store: RunStore,
    limits: SteerLimits,
    run_id: str,
    *,
    note: str | None = None,
    idea: tuple[str, str] | None = None,
    author: str | None = None,
) -> list[Steer]:
    """Store a note and/or an idea (title, summary) by `author` (a name; see `author_tag`) for the
    run's next Generator turn; returns the steers stored (the note first). Atomic: both or neither.

    Raises SteerRefused (steering off, more than `limits.max_pending` would wait, no Generator turn
    left, a cancel requested), InvalidSteer (neither given, empty, too long, control characters, a
    bad author), RunNotFound, RunAlreadyFinished (a stopped run)."""
    if not limits.enabled:
        raise SteerRefused("steering is switched off on this server (IDEAFORGE_STEERING=false)")
    if note is None and idea is None:
        raise InvalidSteer("a steer needs a note, an idea (title and summary), or both")
    tag = author_tag(author)
    parts: list[dict[str, str]] = []
    if note is not None:
        text = check_text(note, "the note", limits.note_chars, multiline=True)
        parts.append({"kind": "note", "text": text})
    if idea is not None:
        title = check_text(idea[0], "the idea's title", limits.title_chars, multiline=False)
        summary = check_text(idea[1], "the idea's summary", limits.summary_chars, multiline=True)
        parts.append({"kind": "idea", "title": title, "summary": summary})
    now = time.time()
    added: list[Steer] = []

    def change(state: RunState) -> None:
        added.clear()  # a retry after a concurrent commit starts again from the state it left
        _check_open(state, limits.generate_attempts)
        waiting = len(state.pending_steers())
        if waiting + len(parts) > limits.max_pending:
            raise SteerRefused(
                f"run {run_id} has {waiting} steer(s) waiting for its next Generator turn; at most "
                f"{limits.max_pending} may wait (IDEAFORGE_STEER_MAX_PENDING)"
            )
        for part in parts:
            steer = Steer.model_validate(
                {"id": f"s{len(state.steers) + 1}", "author": tag, "at": now, **part}
            )
            state.steers.append(steer)
            added.append(steer)
        state.updated_at = now

    store.update(run_id, change, lambda state: [_steer_event(state, s) for s in added])
    return list(added)
