"""Structured answers the agents must give (part of the shared vocabulary: pydantic only).

Each is a JSON *object* (small models do better); the front doors read transcript answers through them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CommonAnswers(_Answer):
    """restrict: the known, common answers to a topic (they become the deny-list)."""

    common_answers: list[str] = Field(min_length=1)


class UnaskedQuestions(_Answer):
    """question: questions about the topic that nobody seems to have asked."""

    questions: list[str] = Field(min_length=1)


class ConceptPair(_Answer):
    first: str
    second: str


class ConceptPairs(_Answer):
    """mix: pairs of concepts or fields that rarely meet."""

    pairs: list[ConceptPair] = Field(min_length=1)


class IdeaDraft(_Answer):
    title: str = Field(min_length=3, max_length=200)
    summary: str = Field(min_length=10, max_length=2000)
    angle: str = Field(description="the question answered or the concepts combined; may be empty")
    builds_on: list[str] = Field(description="ids of earlier ideas this one improves on; empty if fresh")


class IdeaBatch(_Answer):
    ideas: list[IdeaDraft] = Field(min_length=1)


class EvolvedIdea(_Answer):
    """An evolution operator's answer (combine, simplify; agents/evolution.py): ONE new idea made from
    the idea(s) shown. Its parents and operator come from the request, never from the answer."""

    title: str = Field(min_length=3, max_length=200)
    summary: str = Field(min_length=10, max_length=2000)
    what_changed: str = Field(
        max_length=500, description="how it differs from the idea(s) it comes from, in one sentence"
    )


class CritiqueAnswer(_Answer):
    flaws: list[str] = Field(min_length=1)
    strongest_objection: str = Field(min_length=3)
    verdict: Literal["fixable", "fatal"] = Field(
        description="fatal only if the idea cannot work at all or is already common practice"
    )

    @property
    def fatal(self) -> bool:
        return self.verdict == "fatal"


class MetaReview(_Answer):
    """The meta-review: the flaws and weaknesses that recur across one round's critiques."""

    recurring_flaws: list[str] = Field(min_length=1)


class ScoreAnswer(_Answer):
    novelty: int = Field(ge=1, le=10)
    feasibility: int = Field(ge=1, le=10)
    rationale: str = Field(min_length=3)


class SameIdeaVerdict(_Answer):
    """The Judge's same-idea answer (novelty filter): `same` and one short sentence of why."""

    same: bool
    reason: str = Field(default="", max_length=1000)


class PairwiseVerdict(_Answer):
    """The Judge's answer to one ordered Elo match: which idea, as shown, wins."""

    winner: Literal["A", "B"]
    reason: str = Field(default="", max_length=2000)


class PreferenceVerdict(_Answer):
    """The eval judge's blind comparison of two ideas as shown: the more novel and the more feasible."""

    more_novel: Literal["A", "B"]
    more_feasible: Literal["A", "B"]
    reason: str = Field(default="", max_length=2000)
