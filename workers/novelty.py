"""The novelty engine's worker side: one embedder per process, the ledger, what a stopped run leaves.

- `get_embedder(settings)`: built once per process (module-level cache; the local ONNX model is loaded
  lazily on first use, with `embedder_threads` threads, and preloaded by `workers.worker` before
  forking so work horses inherit it).
- `ledger_for(settings, client)`: an `IdeaLedger` under the configured key prefix, cached per process
  so its per-namespace vector index is topped up incrementally rather than reloaded.
- `remember_run(ledger, state, shortlist)`: when a run stops, its shortlisted ideas go into the ledger
  (kind `shortlisted`, or the person's verdict if one is set), and so does every other idea with a
  verdict. Keyed by run/idea, so doing it again updates instead of duplicating. Called by
  `workers.stopped.on_run_stopped`.
"""

from __future__ import annotations

import os

import redis
import structlog

from agents.errors import EmbeddingModelError
from agents.novelty.embedder import Embedder, LocalMiniLMEmbedder, OpenAIEmbedder
from agents.novelty.index import VectorIndex
from agents.shortlist import Shortlist
from agents.state import RunState
from config.settings import Settings
from workers.store.keys import Keys
from workers.store.ledger import IdeaLedger, Kind, LedgerEntry, NewEntry

log = structlog.get_logger("ideaforge.ledger")

_embedders: dict[tuple[str, ...], Embedder] = {}
_ledgers: dict[tuple[object, ...], IdeaLedger] = {}


def _embedder_key(settings: Settings) -> tuple[str, ...]:
    if settings.embedder == "openai":
        return (
            "openai",
            settings.embedding_model,
            str(settings.embedding_dim),
            str(settings.embedding_multilingual),
            settings.openai_base_url or "",
        )
    return ("local", str(settings.embedder_threads))


def get_embedder(settings: Settings) -> Embedder:
    """The process's embedder for these settings (built once; the ONNX model loads on first use)."""
    key = _embedder_key(settings)
    embedder = _embedders.get(key)
    if embedder is None:
        if settings.embedder == "openai":
            secret = settings.openai_api_key
            embedder = OpenAIEmbedder(
                model=settings.embedding_model,
                dim=settings.embedding_dim,
                api_key=secret.get_secret_value() if secret else None,
                base_url=settings.openai_base_url,
                timeout_s=settings.model_timeout_s,
                max_retries=settings.model_max_retries,
                multilingual=settings.embedding_multilingual,
            )
        else:
            embedder = LocalMiniLMEmbedder(threads=settings.embedder_threads)
        _embedders[key] = embedder
    return embedder


def preload(settings: Settings) -> None:
    """Load the local model now (before a worker forks its work horses)."""
    embedder = get_embedder(settings)
    if isinstance(embedder, LocalMiniLMEmbedder):
        try:
            embedder.load()
        except EmbeddingModelError as exc:  # the filter turn reports it on the run; the worker starts
            log.error("embedder.unavailable", error=str(exc))


def ledger_for(settings: Settings, client: redis.Redis) -> IdeaLedger:
    """The ledger under `Keys(settings.key_prefix)`, cached per process, client and embedder."""
    key = (os.getpid(), id(client), settings.key_prefix, _embedder_key(settings))
    ledger = _ledgers.get(key)
    if ledger is None:
        ledger = _ledgers[key] = IdeaLedger(
            client, get_embedder(settings), prefix=Keys(settings.key_prefix).prefix
        )
    return ledger


def ledger_index(settings: Settings, client: redis.Redis, namespace: str) -> VectorIndex:
    return ledger_for(settings, client).index(namespace)


def _kind(decision: str | None, default: Kind) -> Kind:
    if decision == "accepted":
        return "accepted"
    if decision == "rejected":
        return "rejected"
    return default


def remember_run(ledger: IdeaLedger, state: RunState, shortlist: Shortlist | None) -> list[LedgerEntry]:
    """Put a stopped run's shortlist (and every idea with a verdict) into its namespace's ledger."""
    listed = {e.idea_id for e in shortlist.ideas} if shortlist is not None else set()
    items = []
    for idea in state.ideas:
        if idea.id not in listed and idea.verdict is None:
            continue
        verdict = idea.verdict
        items.append(
            NewEntry(
                title=idea.title,
                summary=idea.summary,
                kind=_kind(verdict.decision if verdict else None, "shortlisted"),
                run_id=state.run_id,
                idea_id=idea.id,
                note=verdict.note if verdict else "",
            )
        )
    return ledger.add_many(state.brief.namespace, items)
