"""The Judge's cheap pairwise question for the grey band: "are these two the same idea?".

The core sends `same_idea_prompt(...)` to the Judge, validates the answer as `SameIdeaVerdict`
(JSON schema via `SameIdeaVerdict.model_json_schema()`), and applies it with
`agents.novelty.dedup.resolve_with_verdict`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

SAME_IDEA_SYSTEM = (
    "You compare two ideas and decide whether they are the same idea. Two ideas are the same when "
    "they propose the same core mechanism for the same problem, even if worded differently, with "
    "different names, or with minor variations in detail. They are different when the mechanism, "
    "the problem, or the user they serve differs in a way that would lead to a different product, "
    "study or solution. Answer only with JSON matching the schema."
)


class SameIdeaVerdict(BaseModel):
    """The Judge's answer: `same` and one short sentence of why."""

    model_config = ConfigDict(extra="ignore")

    same: bool
    reason: str = Field(default="", max_length=1000)


class PromptText(BaseModel):
    """A system and a user message, independent of any chat client's message types."""

    system: str
    user: str


def same_idea_prompt(new_text: str, known_text: str, known_label: str = "a known idea") -> PromptText:
    """Build the pairwise same-idea question; `known_label` says where the known idea comes from."""
    user = (
        f"Idea A (new):\n{new_text.strip()}\n\n"
        f"Idea B ({known_label}):\n{known_text.strip()}\n\n"
        'Is idea A the same idea as idea B? Reply as JSON: {"same": true|false, "reason": "<one sentence>"}'
    )
    return PromptText(system=SAME_IDEA_SYSTEM, user=user)
