"""The Judge's two pairwise questions: "are these the same idea?" (novelty filter, grey band) and
"which of these is more novel and still feasible?" (the Elo tournament).

Each is a `PromptText`: `system` extends the Judge's system prompt (`roles.with_task`) and `user`
shows the two ideas under the `markers.FIRST_IDEA` / `markers.SECOND_IDEA` headers.
"""

from __future__ import annotations

from pydantic import BaseModel

from agents.prompts.markers import idea_pair

SAME_IDEA_SYSTEM = (
    "You decide whether a new idea (A) is really an idea we already have (B). Compare only their core "
    "mechanism: what is done, for whom, against which problem. A is the same idea as B when A does what "
    "B does: B in other words or under another name, or B applied to one place, group or product, or "
    "B with an added detail (\"install solar panels on the school roof\" is the known answer "
    "\"rooftop solar panels\"). A is a different idea when its core mechanism differs, even when both "
    "serve the same topic, share words, or A mentions B only as a minor part (\"a newsletter that also "
    "lists carpool offers\" is not \"carpool matching apps\"). Answer only with JSON matching the schema."
)

PAIRWISE_SYSTEM = (
    "You are a strict judge of research and product ideas. You compare two ideas and pick the one "
    "that is more novel while still feasible: an idea that is new but cannot work loses to a less "
    "novel idea that can. Ignore the order in which the ideas are shown and their length. Be "
    "cautious and realistic. Answer only with JSON matching the schema."
)

# Where a known idea comes from, as the same-idea question names it (by `agents.novelty.dedup.Source`).
KNOWN_IDEA_LABELS = {
    "run": "an idea of this run",
    "deny": "a deny-list item (a known answer)",
    "common": "a common answer (a known answer to this topic)",
    "ledger": "a ledger idea from an earlier run",
    "prior_art": "a prior-art entry",
}


class PromptText(BaseModel):
    """A system and a user message, independent of any chat client's message types."""

    system: str
    user: str


def same_idea_prompt(new_text: str, known_text: str, known_label: str = "a known idea") -> PromptText:
    """The same-idea question; `known_label` says where the known idea comes from."""
    user = (
        idea_pair(new_text, known_text, "new", known_label)
        + "Would someone who knows idea B say that idea A is just B again (B reworded, renamed, or applied "
        "to a particular place, group or detail)? "
        'Reply as JSON: {"same": true|false, "reason": "<one sentence>"}'
    )
    return PromptText(system=SAME_IDEA_SYSTEM, user=user)


def pairwise_prompt(a_text: str, b_text: str, topic: str | None = None) -> PromptText:
    """The match question with idea A shown first; ask again with the ideas swapped."""
    about = f"Topic: {topic.strip()}\n\n" if topic else ""
    user = (
        f"{about}{idea_pair(a_text, b_text)}"
        "Which idea is more novel and still feasible, and why? "
        'Reply as JSON: {"winner": "A"|"B", "reason": "<one or two sentences>"}'
    )
    return PromptText(system=PAIRWISE_SYSTEM, user=user)
