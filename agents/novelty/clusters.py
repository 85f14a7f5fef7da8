"""Proximity: which of a run's ideas huddle together (clusters on the filter's embeddings).

Method: sequential nearest-neighbour clustering (single link, never merging or renumbering). When
the novelty filter keeps a new idea, the idea joins the cluster of its most similar earlier run idea
(the run's earlier ideas and the earlier kept ideas of its batch: the filter's `Source.RUN`
neighbour, no new embedding) if their cosine is at least `cluster_cosine` (setting, default 0.45:
under the "same idea?" band that starts at `novelty_low` 0.55, so a cluster holds ideas in one
direction that are not duplicates); otherwise it founds a new cluster. A cluster is named by the id
of the idea that founded it; an idea's cluster is fixed once it is filtered (`Idea.cluster`).
Dropped duplicates get no cluster; a person's idea the filter would drop is kept (reported, never
dropped: `agents/steering.py`), so it gets its cluster like any kept idea (a repeat of a run idea
joins that idea's cluster, and the shortlist takes it only after every other cluster's best).

Used by the shortlist (`agents/ranking.py`: the best of each cluster before a second from any) and
by the Generator's request (`crowded_clusters`: the directions it should leave alone).
"""

from __future__ import annotations

from collections.abc import Sequence

from agents.novelty.dedup import Action, NoveltyDecision, Source
from agents.state import RunState, is_human

CROWDED_SIZE = 2
"""A cluster with at least this many living ideas is crowded."""


def assign_clusters(
    state: RunState, decisions: Sequence[NoveltyDecision], cluster_cosine: float
) -> list[NoveltyDecision]:
    """The final decisions (KEEP/DROP, in batch order) with `cluster` set on each kept one.

    `cluster_cosine` is the cosine (-1..1) at or above which a new idea joins its nearest run idea's
    cluster. A person's idea (`is_human`) gets its cluster whatever the action, since it is kept
    anyway. A neighbour dropped in this batch, or unknown to `state`, is no cluster to join; an earlier
    idea filtered before clusters existed counts as the founder of its own.
    """
    human = {i.id for i in state.ideas if is_human(i.author)}
    dropped = {d.idea_id for d in decisions if d.action is Action.DROP and d.idea_id not in human}
    known = {i.id: i.cluster or i.id for i in state.ideas if i.duplicate_of is None}
    out = []
    for d in decisions:
        if d.action is not Action.KEEP and d.idea_id not in human:
            out.append(d)
            continue
        near = [n for n in d.neighbours if n.source is Source.RUN and n.key not in dropped and n.key in known]
        best = max(near, key=lambda n: n.similarity, default=None)
        cluster = known[best.key] if best is not None and best.similarity >= cluster_cosine else d.idea_id
        known[d.idea_id] = cluster
        out.append(d.model_copy(update={"cluster": cluster}))
    return out


def crowded_clusters(state: RunState, min_size: int = CROWDED_SIZE) -> list[str]:
    """Titles representing the run's crowded clusters (at least `min_size` living ideas), the biggest
    first (ties: the earlier cluster): each is the founder's title, or the earliest member's if the
    founder is gone. Meant for the Generator's request ("these directions are crowded")."""
    members: dict[str, list[str]] = {}
    for idea in state.ideas:
        if idea.alive and idea.cluster is not None:
            members.setdefault(idea.cluster, []).append(idea.title)
    founders = {i.id: i.title for i in state.ideas if i.alive}
    crowded = [(c, t) for c, t in members.items() if len(t) >= min_size]
    crowded.sort(key=lambda ct: -len(ct[1]))  # stable: ties keep the order of first appearance
    return [founders.get(c, titles[0]) for c, titles in crowded]
