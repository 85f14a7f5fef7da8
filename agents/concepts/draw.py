"""Draw distant field × operator pairs for a topic, in code, from a recorded seed.

Method (the `mix` strategy's pairs when the catalog is on; the model only applies them):
1. embed the topic and every catalog field (`Field.text`) with the novelty filter's embedder;
2. keep the `far_share` of the fields with the lowest cosine to the topic (at least `count`, if the
   catalog has that many), so that fields close to the topic are never drawn;
3. with `random.Random(seed)`, sample distinct fields from that far pool and distinct operators from
   TRIZ's 40 principles and SCAMPER's 7 operators (`catalog.OPERATORS`), one operator per field.

The same topic, count, seed, catalog and embedder give the same pairs (reproducible from the seed
recorded in the run state, `RunState.concept_seed`). The seed of a run comes from its id
(`seed_for_run`).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from agents.concepts.catalog import FIELDS, OPERATORS, Field, Operator
from agents.novelty.embedder import Embedder

T = TypeVar("T")

FAR_SHARE = 0.5
"""Share (0-1] of the catalog's fields, the farthest from the topic, that the draw picks from."""


def seed_for_run(run_id: str) -> int:
    """A run's draw seed: the first 4 bytes of sha256(run id), big-endian (0 to 2**32 - 1)."""
    return int.from_bytes(hashlib.sha256(run_id.encode("utf-8")).digest()[:4], "big")


@dataclass(frozen=True)
class ConceptDraw:
    """What one draw gave: `pairs` (field, operator), the `seed`, the embedder's `model_id`, and the
    far pool it sampled from (`pool`, farthest first, each with its cosine to the topic, -1..1)."""

    seed: int
    model_id: str
    pairs: list[tuple[Field, Operator]]
    pool: list[tuple[Field, float]]


def far_fields(
    topic: str, embedder: Embedder, fields: Sequence[Field], keep: int
) -> list[tuple[Field, float]]:
    """The `keep` fields with the lowest cosine to `topic` (L2-normalised embeddings, so cosine is a
    dot product), farthest first, each with its cosine; ties keep the catalog's order."""
    vectors = embedder.embed([topic, *(f.text for f in fields)])
    cosines = np.asarray(vectors[1:] @ vectors[0], dtype=np.float64)
    order = np.argsort(cosines, kind="stable")[: max(0, keep)]
    return [(fields[int(i)], float(cosines[int(i)])) for i in order]


def draw_pairs(
    topic: str,
    count: int,
    seed: int,
    embedder: Embedder,
    *,
    fields: Sequence[Field] = FIELDS,
    operators: Sequence[Operator] = OPERATORS,
    far_share: float = FAR_SHARE,
) -> ConceptDraw:
    """`count` (field, operator) pairs for `topic`: distinct fields from the `far_share` farthest
    from the topic (the pool holds at least `count` fields when the catalog does; past the pool's
    size fields repeat), distinct operators (repeating past their number), sampled with
    `random.Random(seed)`.

    Raises ValueError for `count` < 1, `far_share` outside (0, 1], or an empty catalog; whatever the
    embedder raises (e.g. ModelUnavailable from a remote embedder).
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    if not 0.0 < far_share <= 1.0:
        raise ValueError(f"far_share must be in (0, 1], got {far_share}")
    if not fields or not operators:
        raise ValueError("the catalog needs at least one field and one operator")
    keep = min(len(fields), max(count, round(len(fields) * far_share)))
    pool = far_fields(topic, embedder, fields, keep)
    rng = random.Random(seed)
    chosen_fields = _sample(rng, [f for f, _ in pool], count)
    chosen_ops = _sample(rng, list(operators), count)
    return ConceptDraw(seed, embedder.model_id, list(zip(chosen_fields, chosen_ops, strict=True)), pool)


def _sample(rng: random.Random, items: list[T], count: int) -> list[T]:
    """`count` items, distinct until every item was used once, then again in a fresh order."""
    out: list[T] = []
    while len(out) < count:
        out.extend(rng.sample(items, min(len(items), count - len(out))))
    return out
