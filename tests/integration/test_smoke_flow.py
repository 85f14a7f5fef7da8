"""A full 2-round brainstorm through the real queue and an in-process SimpleWorker."""

from __future__ import annotations

from collections import Counter

from config.settings import Settings
from tests.conftest import run_burst
from workers.api import Ideaforge


def test_two_round_brainstorm_through_simple_worker(settings: Settings) -> None:
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "Ways to reduce food waste in university cafeterias", "rounds": 2})
    run_burst(settings)
    state = forge.get_run(run_id)
    assert state.status.value == "finished"
    assert state.stop_reason is not None and state.stop_reason.value == "rounds_done"
    assert state.round == 2
    shortlist = forge.get_shortlist(run_id)
    assert shortlist is not None and shortlist.ideas
    # the Elo tournament ran in the judge phases: every candidate played, so Elo decides the order
    assert shortlist.ranked_by == "elo"
    # by Elo, each cluster's best before any cluster's second (the diverse shortlist: an evolved idea
    # may share its parent's cluster)
    depth: Counter[str] = Counter()
    ranks = []
    for e in shortlist.ideas:
        ranks.append((depth[e.cluster or e.idea_id], -e.elo, -e.combined, -e.novelty))
        depth[e.cluster or e.idea_id] += 1
    assert ranks == sorted(ranks)
