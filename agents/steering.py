"""The engine's side of steering: a Generator turn consumes the steers people left (issue 14).

People add `Steer`s to a running run through `workers/steering.py`. The next Generator turn
(`agents.turns.generate`) calls `consume_steers` before it asks the model:

- a person's idea joins the pool as an `Idea` with `author` "human:<name>", among the round's new
  ideas, so the novelty filter, the Skeptic and the Judge treat it like the others;
- a note is marked used by this step; the Generator's request shows it once, as data between tags
  (`agents.prompts.requests.generate_request`, via `RunState.steer_notes_at`).

The novelty filter **reports, never drops** a person's idea (`report_human_novelty`): someone asked
for it to be judged, so a close match to a known answer or an earlier idea is written to the
transcript and kept in `Idea.nearest_known` / `novelty_distance` (which the Judge's novelty score
sees), and the idea goes on to the critique. A fatal critique drops it like any other idea. A
person's idea counts neither in the round's generated nor in its kept ideas: the unique yield
and the top-up measure the Generator.
"""

from __future__ import annotations

from agents.context import EventLog
from agents.state import Idea, RunState, is_human


def consume_steers(state: RunState, log: EventLog) -> None:
    """Mark every pending steer used by this step (`state.step`); each idea steer becomes a new idea
    of this round (id `i<n>`, author the steer's), queued for the filter before the Generator's."""
    for steer in state.pending_steers():
        steer.used_step = state.step
        if steer.kind == "idea":
            idea = Idea(
                id=f"i{len(state.ideas) + 1}",
                title=steer.title,
                summary=steer.summary,
                round=state.round,
                operator="human",
                author=steer.author,
            )
            state.ideas.append(idea)
            state.new_idea_ids.append(idea.id)
            steer.idea_id = idea.id
            log.system(f"{steer.id} by {steer.author}: idea {idea.id} '{idea.title}' joins the pool")
        else:
            log.system(f"{steer.id} by {steer.author}: note shown to the Generator")


def report_human_novelty(idea: Idea, log: EventLog) -> None:
    """After the filter's decision was applied: a person's idea the filter would drop is kept, and
    the would-be drop is reported instead (no-op for a Generator idea or a kept one)."""
    if not is_human(idea.author) or idea.alive:
        return
    log.system(f"kept {idea.id} by {idea.author} (a person's idea is reported, not dropped): {idea.dropped}")
    idea.dropped = None
    idea.duplicate_of = None


def unused_steers_line(state: RunState) -> str | None:
    """The line a stopping run logs for steers no Generator turn consumed, or None."""
    pending = state.pending_steers()
    if not pending:
        return None
    ids = ", ".join(f"{s.id} by {s.author}" for s in pending)
    return f"not used (the run stopped before another Generator turn): {ids}"
