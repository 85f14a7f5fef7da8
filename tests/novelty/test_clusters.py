"""Proximity: clusters from the filter's own neighbours (hand-made unit vectors, no embedder)."""

from __future__ import annotations

import numpy as np

from agents.novelty.clusters import assign_clusters, crowded_clusters
from agents.novelty.dedup import Action, Candidate, Source, Thresholds, apply_decision, assess, index_texts
from agents.state import Idea
from tests.unit.helpers import make_state

BANDS = Thresholds(high=0.9, low=0.8)
MODEL = "test-model"


def unit(*xs: float) -> np.ndarray:
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def idea(n: int, title: str, cluster: str | None = None) -> Idea:
    return Idea(id=f"i{n}", title=title, summary="s", round=1, cluster=cluster)


def test_a_kept_idea_joins_its_nearest_run_ideas_cluster_at_the_cluster_cosine() -> None:
    state = make_state()
    state.ideas = [idea(1, "Compost bins", "i1"), idea(2, "Cargo bikes", "i2")]
    run = index_texts(
        MODEL, np.stack([unit(1, 0, 0, 0), unit(0, 1, 0, 0)]), ["i1", "i2"], ["compost", "bikes"], "run"
    )
    # i3: cosine 0.6 to i1 (joins); i4: 0.3 to i2 at most (founds its own); i5: 0.7 to i4 of its batch,
    # 0.57 to i3 (the nearest wins)
    i4 = unit(0, 0.3, 0, 0.954)
    new = [unit(0.6, 0, 0.8, 0), i4, unit(*(0.7 * i4 + np.asarray([0, 0, 0.714, 0])))]
    cands = [Candidate("i3", "c3"), Candidate("i4", "c4"), Candidate("i5", "c5")]
    decisions = assess(cands, np.stack(new), MODEL, {Source.RUN: run}, BANDS)
    assert [d.action for d in decisions] == [Action.KEEP] * 3
    clustered = assign_clusters(state, decisions, cluster_cosine=0.5)
    assert [d.cluster for d in clustered] == ["i1", "i4", "i4"]
    # a stricter threshold: everyone alone
    assert [d.cluster for d in assign_clusters(state, decisions, 0.99)] == ["i3", "i4", "i5"]


def test_a_dropped_idea_gets_no_cluster_and_founds_none() -> None:
    state = make_state()
    state.ideas = [idea(1, "Compost bins", "i1")]
    run = index_texts(MODEL, unit(1, 0)[None, :], ["i1"], ["compost"], "run")
    decisions = assess(
        [Candidate("i2", "copy"), Candidate("i3", "near the copy")],
        np.stack([unit(1, 0.01), unit(1, 0.6)]),
        MODEL,
        {Source.RUN: run},
        Thresholds(high=0.95, low=0.9),
    )
    assert [d.action for d in decisions] == [Action.DROP, Action.KEEP]
    dropped, kept = assign_clusters(state, decisions, 0.5)
    assert dropped.cluster is None and kept.cluster == "i1"


def test_apply_decision_records_the_cluster_and_the_nearest_known_items() -> None:
    deny_vecs = np.stack([unit(1, 0, 0), unit(0.8, 0.6, 0), unit(0, 0, 1), unit(0, 1, 0)])
    deny = index_texts(
        MODEL, deny_vecs, ["0", "1", "2", "3"], ["Compost", "Food banks", "Far", "Bikes"], "deny"
    )
    [decision] = assess(
        [Candidate("i1", "new")],
        unit(0.3, 0.2, 0.1)[None, :],
        MODEL,
        {Source.DENY: deny},
        Thresholds(high=0.99, low=0.98),
    )
    [decision] = assign_clusters(make_state(), [decision], 0.5)
    target = idea(1, "New")
    apply_decision(target, decision)
    assert target.cluster == "i1"
    assert [(k.text, k.source) for k in target.nearest_known] == [
        ("Food banks", "deny"),
        ("Compost", "deny"),
        ("Bikes", "deny"),
    ]
    cosines = [k.cosine for k in target.nearest_known]
    assert cosines == sorted(cosines, reverse=True) and cosines[0] == round(
        float(unit(0.3, 0.2, 0.1) @ unit(0.8, 0.6, 0)), 3
    )


def test_crowded_clusters_name_the_crowded_directions_biggest_first() -> None:
    state = make_state()
    state.ideas = [
        idea(1, "Compost bins", "i1"),
        idea(2, "Bike lanes", "i2"),
        idea(3, "Worm farms", "i1"),
        idea(4, "Cargo bikes", "i2"),
        idea(5, "Bike repair", "i2"),
        idea(6, "Alone", "i6"),
        idea(7, "Dead compost", "i1"),
    ]
    state.ideas[6].dropped = "fatal"
    assert crowded_clusters(state) == ["Bike lanes", "Compost bins"]
    state.ideas[1].dropped = "fatal"  # the founder is gone: its earliest living member speaks for it
    assert crowded_clusters(state) == ["Compost bins", "Cargo bikes"]  # a tie: the earlier cluster first
    assert crowded_clusters(state, min_size=3) == []


def test_a_persons_idea_the_filter_would_drop_gets_its_cluster_and_names_the_run_idea_it_repeats() -> None:
    """A person's idea is reported, never dropped: it still joins the cluster of the run idea it
    repeats, and that idea is among its nearest known items (source "run"), for the Judge."""
    state = make_state()
    state.ideas = [
        idea(1, "Compost bins", "i1"),
        Idea(id="i2", title="Compost bins", summary="s", round=2, author="human:bob"),
        Idea(id="i3", title="Compost bins", summary="s", round=2),
    ]
    run = index_texts(MODEL, unit(1, 0)[None, :], ["i1"], ["Compost bins"], "run")
    decisions = assess(
        [Candidate("i2", "copy"), Candidate("i3", "copy")],
        np.stack([unit(1, 0), unit(1, 0)]),
        MODEL,
        {Source.RUN: run},
        BANDS,
    )
    assert [d.action for d in decisions] == [Action.DROP, Action.DROP]
    person, generated = assign_clusters(state, decisions, 0.5)
    assert person.cluster == "i1" and generated.cluster is None
    apply_decision(state.ideas[1], person)
    assert [(k.text, k.source, k.cosine) for k in state.ideas[1].nearest_known] == [("Compost bins", "run", 1.0)]
