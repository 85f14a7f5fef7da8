"""A person's verdict on an idea: set on the run state and recorded in the idea ledger.

`record_verdict(store, ledger, run_id, idea_id, "accept(ed)" | "reject(ed)", note)` sets `Idea.verdict`
through `RunStore.update` (a turn in flight merges it in; a stopped run's shortlist is rewritten) and
adds or updates the ledger entry of that run/idea with kind `accepted` / `rejected` and the note.
Rejected ledger ideas then block similar ideas in later runs of the namespace.
"""

from __future__ import annotations

import time

from agents.errors import IdeaNotFound
from agents.state import RunState, Verdict, parse_decision
from workers.store.ledger import IdeaLedger, LedgerEntry
from workers.store.runs import RunStore

MAX_NOTE_CHARS = 2000


def record_verdict(
    store: RunStore,
    ledger: IdeaLedger,
    run_id: str,
    idea_id: str,
    decision: str,
    note: str = "",
) -> tuple[RunState, LedgerEntry]:
    """Set the verdict on the run state and in the ledger; returns the new state and the ledger entry.
    Raises InvalidVerdict (a word other than accept(ed)/reject(ed)), RunNotFound, IdeaNotFound."""
    verdict = Verdict(decision=parse_decision(decision), note=note.strip()[:MAX_NOTE_CHARS], at=time.time())

    def change(state: RunState) -> None:
        try:
            idea = state.idea(idea_id)
        except KeyError:
            known = ", ".join(i.id for i in state.ideas) or "none"
            raise IdeaNotFound(f"run {run_id} has no idea {idea_id!r} (ideas: {known})") from None
        idea.verdict = verdict
        state.updated_at = verdict.at

    state = store.update(run_id, change)
    idea = state.idea(idea_id)
    entry = ledger.add(
        state.brief.namespace,
        title=idea.title,
        summary=idea.summary,
        kind=verdict.decision,
        run_id=run_id,
        idea_id=idea_id,
        note=verdict.note,
    )
    return state, entry
