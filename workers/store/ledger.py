"""The cross-run idea ledger in Redis: shortlisted, accepted, rejected and prior-art ideas per namespace.

Its keys (`{prefix}:ledger:namespaces` and `{prefix}:ledger:{ns}:entries|vectors|order|seq|origin|epoch`)
are listed, with their types, in `workers/store/keys.py`.

Search loads a namespace's vectors lazily into one `VectorIndex` per (namespace, embedder model id)
and afterwards fetches only entries with a higher sequence number. Entries embedded by another model
are kept but never compared (they are skipped when the index is built).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import redis
from pydantic import BaseModel, Field

from agents.novelty.embedder import Embedder, Matrix, idea_text
from agents.novelty.index import VectorIndex
from agents.novelty.prior_art import parse_prior_art
from workers.store import as_text
from workers.store.keys import Keys

Kind = Literal["shortlisted", "accepted", "rejected", "prior_art"]
KINDS: tuple[Kind, ...] = ("shortlisted", "accepted", "rejected", "prior_art")


class LedgerEntry(BaseModel):
    id: str
    namespace: str
    kind: Kind
    title: str
    summary: str = ""
    run_id: str | None = None
    idea_id: str | None = None
    model_id: str
    note: str = ""
    ts: float = Field(default_factory=time.time)
    seq: int = 0

    @property
    def text(self) -> str:
        return idea_text(self.title, self.summary)


@dataclass
class NewEntry:
    """Input for `IdeaLedger.add_many`."""

    title: str
    summary: str = ""
    kind: Kind = "shortlisted"
    run_id: str | None = None
    idea_id: str | None = None
    note: str = ""


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


@dataclass
class _Cached:
    index: VectorIndex
    last_seq: int
    epoch: int


class IdeaLedger:
    """Redis-backed ledger; `client` must be a plain `redis.Redis` with decode_responses=False."""

    def __init__(self, client: redis.Redis, embedder: Embedder, prefix: str = "ideaforge") -> None:
        self.r = client
        self.embedder = embedder
        self.prefix = prefix
        self.keys = Keys(prefix)
        self._cache: dict[str, _Cached] = {}

    # --- writing -------------------------------------------------------------------------------
    def add(
        self,
        namespace: str,
        *,
        title: str,
        summary: str = "",
        kind: Kind = "shortlisted",
        run_id: str | None = None,
        idea_id: str | None = None,
        note: str = "",
    ) -> LedgerEntry:
        """Add one idea (embedded now); the same run/idea again updates its kind and note."""
        new = NewEntry(title, summary, kind, run_id, idea_id, note)
        return self.add_many(namespace, [new])[0]

    def add_many(self, namespace: str, items: list[NewEntry]) -> list[LedgerEntry]:
        if not items:
            return []
        for item in items:
            if item.kind not in KINDS:
                raise ValueError(f"unknown ledger kind {item.kind!r}")
        origins = [self._origin(i) for i in items]
        known = self.r.hmget(self.keys.ledger(namespace, "origin"), origins)
        out: list[LedgerEntry | None] = [None] * len(items)
        fresh: list[int] = []
        for n, (item, existing) in enumerate(zip(items, known, strict=True)):
            if existing is None:
                fresh.append(n)
                continue
            entry = self.get(namespace, as_text(existing))
            if entry is None:  # forgotten meanwhile: add it again
                fresh.append(n)
                continue
            changed = entry.kind != item.kind
            entry = entry.model_copy(update={"kind": item.kind, "note": item.note or entry.note})
            self.r.hset(self.keys.ledger(namespace, "entries"), entry.id, entry.model_dump_json())
            if changed:  # cached indexes carry the kind as a tag: make them reload
                self.r.incr(self.keys.ledger(namespace, "epoch"))
            out[n] = entry
        if fresh:
            texts = [idea_text(items[n].title, items[n].summary) for n in fresh]
            vectors = self.embedder.embed(texts)
            last = int(self.r.incrby(self.keys.ledger(namespace, "seq"), len(fresh)))
            pipe = self.r.pipeline(transaction=True)
            pipe.sadd(self.keys.ledger_namespaces, namespace)
            for j, n in enumerate(fresh):
                item = items[n]
                entry = LedgerEntry(
                    id=uuid.uuid4().hex[:12], namespace=namespace, kind=item.kind, title=item.title.strip(),
                    summary=item.summary.strip(), run_id=item.run_id, idea_id=item.idea_id,
                    model_id=self.embedder.model_id, note=item.note, seq=last - len(fresh) + 1 + j,
                )  # fmt: skip
                pipe.hset(self.keys.ledger(namespace, "entries"), entry.id, entry.model_dump_json())
                vector = vectors[j].astype("<f4").tobytes()
                pipe.hset(self.keys.ledger(namespace, "vectors"), entry.id, vector)
                pipe.zadd(self.keys.ledger(namespace, "order"), {entry.id: entry.seq})
                pipe.hset(self.keys.ledger(namespace, "origin"), origins[n], entry.id)
                out[n] = entry
            pipe.execute()
        return [e for e in out if e is not None]

    @staticmethod
    def _origin(item: NewEntry) -> str:
        if item.run_id and item.idea_id:
            return f"{item.run_id}/{item.idea_id}"
        text = idea_text(item.title, item.summary).lower()
        return f"{item.kind}/{hashlib.sha1(text.encode()).hexdigest()[:20]}"

    def forget(self, namespace: str, entry_id: str) -> bool:
        """Remove an entry for good; cached indexes of the namespace reload."""
        entry = self.get(namespace, entry_id)
        if entry is None:
            return False
        pipe = self.r.pipeline(transaction=True)
        pipe.hdel(self.keys.ledger(namespace, "entries"), entry_id)
        pipe.hdel(self.keys.ledger(namespace, "vectors"), entry_id)
        pipe.zrem(self.keys.ledger(namespace, "order"), entry_id)
        origin = NewEntry(entry.title, entry.summary, entry.kind, entry.run_id, entry.idea_id)
        pipe.hdel(self.keys.ledger(namespace, "origin"), self._origin(origin))
        pipe.incr(self.keys.ledger(namespace, "epoch"))
        pipe.execute()
        return True

    def import_file(self, namespace: str, path: Path, kind: Kind = "prior_art") -> int:
        """Import a prior-art corpus (Markdown, text or JSONL); returns how many entries were new."""
        return self.import_text(namespace, path.read_text(encoding="utf-8"), path.name, kind)

    def import_text(self, namespace: str, text: str, filename: str = "", kind: Kind = "prior_art") -> int:
        items = parse_prior_art(text, filename)
        before = self.r.hlen(self.keys.ledger(namespace, "entries"))
        for start in range(0, len(items), 256):
            chunk = items[start : start + 256]
            self.add_many(namespace, [NewEntry(i.title, i.summary, kind) for i in chunk])
        return int(self.r.hlen(self.keys.ledger(namespace, "entries"))) - int(before)

    # --- reading -------------------------------------------------------------------------------
    def get(self, namespace: str, entry_id: str) -> LedgerEntry | None:
        raw = self.r.hget(self.keys.ledger(namespace, "entries"), entry_id)
        return LedgerEntry.model_validate_json(raw) if raw else None

    def entries(
        self, namespace: str, kind: Kind | None = None, limit: int | None = None
    ) -> list[LedgerEntry]:
        """Entries in insertion order (newest last), optionally of one kind."""
        ids: list[bytes] = [_bytes(i) for i in self.r.zrange(self.keys.ledger(namespace, "order"), 0, -1)]  # type: ignore[arg-type]
        raws = self.r.hmget(self.keys.ledger(namespace, "entries"), ids) if ids else []
        entries = [LedgerEntry.model_validate_json(r) for r in raws if r]
        if kind is not None:
            entries = [e for e in entries if e.kind == kind]
        return entries[-limit:] if limit else entries

    def namespaces(self) -> list[str]:
        return sorted(as_text(m) for m in self.r.smembers(self.keys.ledger_namespaces))

    def index(self, namespace: str) -> VectorIndex:
        """The namespace's vectors of this embedder's model, loaded lazily and topped up incrementally."""
        epoch = int(self.r.get(self.keys.ledger(namespace, "epoch")) or 0)
        cached = self._cache.get(namespace)
        if cached is None or cached.epoch != epoch or cached.index.model_id != self.embedder.model_id:
            index = VectorIndex(self.embedder.model_id, self.embedder.dim, namespace=namespace)
            cached = self._cache[namespace] = _Cached(index, 0, epoch)
        found: Any = self.r.zrangebyscore(
            self.keys.ledger(namespace, "order"), f"({cached.last_seq}", "+inf", withscores=True
        )
        rows: list[tuple[bytes, float]] = [(_bytes(m), float(sc)) for m, sc in found]
        if not rows:
            return cached.index
        ids = [r[0] for r in rows]
        raws = self.r.hmget(self.keys.ledger(namespace, "entries"), ids)
        vecs = self.r.hmget(self.keys.ledger(namespace, "vectors"), ids)
        keys: list[str] = []
        labels: list[str] = []
        tags: list[str] = []
        mats: list[Matrix] = []
        for raw, vec in zip(raws, vecs, strict=True):
            if not raw or not vec:
                continue
            entry = LedgerEntry.model_validate_json(raw)
            if entry.model_id != self.embedder.model_id:
                continue  # another model's space: never compared
            keys.append(entry.id)
            labels.append(entry.text)
            tags.append(entry.kind)
            mats.append(np.frombuffer(_bytes(vec), dtype="<f4").astype(np.float32))
        if keys:
            matrix: Matrix = np.vstack(mats).astype(np.float32)
            cached.index.add(keys, matrix, self.embedder.model_id, labels=labels, tags=tags)
        cached.last_seq = int(max(score for _, score in rows))
        return cached.index

    def search(self, namespace: str, text: str, k: int = 5) -> list[tuple[LedgerEntry, float]]:
        """The `k` entries nearest to `text` (embedded now), with their cosine similarity."""
        index = self.index(namespace)
        hits = index.search(self.embedder.embed([text]), self.embedder.model_id, k=k)[0]
        out: list[tuple[LedgerEntry, float]] = []
        for hit in hits:
            entry = self.get(namespace, hit.key)
            if entry is not None:
                out.append((entry, hit.score))
        return out
