"""Novelty engine: embeddings, dedup in code against run/deny-list/ledger/prior art, and Elo ranking.

Redis-free; the ledger store lives in `workers/ledger.py`.
"""

from agents.novelty.dedup import (
    DEFAULT_PER_SOURCE,
    Action,
    Candidate,
    Neighbour,
    NoveltyDecision,
    Source,
    Thresholds,
    apply_decision,
    assess,
    deny_index,
    dried_up,
    idea_candidates,
    resolve_with_verdict,
    run_index,
)
from agents.novelty.embedder import (
    Embedder,
    EmbedderMismatch,
    EmbeddingModelError,
    LocalMiniLMEmbedder,
    OpenAIEmbedder,
    idea_text,
)
from agents.novelty.index import Hit, VectorIndex
from agents.novelty.same_idea import PromptText, SameIdeaVerdict, same_idea_prompt

__all__ = [
    "DEFAULT_PER_SOURCE",
    "Action",
    "Candidate",
    "Embedder",
    "EmbedderMismatch",
    "EmbeddingModelError",
    "Hit",
    "LocalMiniLMEmbedder",
    "Neighbour",
    "NoveltyDecision",
    "OpenAIEmbedder",
    "PromptText",
    "SameIdeaVerdict",
    "Source",
    "Thresholds",
    "VectorIndex",
    "apply_decision",
    "assess",
    "deny_index",
    "dried_up",
    "idea_candidates",
    "idea_text",
    "resolve_with_verdict",
    "run_index",
    "same_idea_prompt",
]
