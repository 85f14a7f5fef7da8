"""Checks that a run's transcript and state are whole: no turn lost, none applied twice, every token
the endpoint charged counted once (applied by its committed call, or kept apart as unapplied)."""

from __future__ import annotations

from collections import Counter

from agents.state import RunState, TranscriptEvent
from workers.store.runs import RunStore


def check_run(store: RunStore, run_id: str) -> tuple[RunState, list[TranscriptEvent]]:
    state = store.load(run_id)
    events = [e for _, e in store.transcripts.read(run_id)]
    turn_events = [e for e in events if e.content not in ("cancel requested",)]
    steps = [e.step for e in turn_events]
    # Steps appear in order, each committed step at least once, none skipped.
    assert steps == sorted(steps), f"{run_id}: transcript steps out of order: {steps}"
    assert sorted(set(steps)) == list(range(state.step)), (
        f"{run_id}: transcript steps {sorted(set(steps))} are not 0..{state.step - 1}"
    )
    # No agent call recorded twice within a step: a duplicated commit would repeat every call of
    # the step with the same prompt (the Elo matches of one idea differ in their prompts).
    calls = [e for e in turn_events if e.model is not None]
    seen = Counter((e.step, e.role, e.idea_id, e.prompt_hash) for e in calls)
    dupes = {k: n for k, n in seen.items() if n > 1}
    detail = [
        (eid, e.step, e.role, e.idea_id, e.kind, round(e.ts, 3), e.content[:60])
        for eid, e in store.transcripts.read(run_id)
        if (e.step, e.role, e.idea_id, e.prompt_hash) in dupes or e.model is None
    ]
    assert not dupes, f"{run_id}: duplicated turns {dupes}: {detail}"
    # Usage charged once per recorded call: the applied usage is exactly the transcript's calls.
    assert sum(u.calls for u in state.usage.values()) == len(calls), f"{run_id}: usage != calls"
    for role, usage in state.usage.items():
        recorded = [e for e in calls if e.role == role]
        assert usage.prompt_tokens == sum(e.prompt_tokens for e in recorded), f"{run_id}: {role} prompt tokens"
        assert usage.completion_tokens == sum(e.completion_tokens for e in recorded), f"{run_id}: {role}"
    # What attempts that never committed were charged is kept apart, never counted as a call, and
    # is all the endpoint charged beyond the applied usage (the stored `charged` counter).
    assert all(u.calls == 0 and u.failures == 0 for u in state.unapplied.values()), state.unapplied
    if state.terminal:
        assert state.unapplied == store.unapplied(state), f"{run_id}: unapplied {state.unapplied} not settled"
    stops = [e for e in events if e.content.startswith("run stopped")]
    if state.terminal:
        assert len(stops) == 1, f"{run_id}: {len(stops)} stop events"
        assert store.shortlist(run_id) is not None, f"{run_id}: no shortlist"
    return state, events
