"""The Elo tournament over several rounds: real Redis, real RQ SimpleWorker, the fake chat model.

The README promises "pairs not repeated": no pair of ideas is asked (and counted) again in a later
round, and within one round each match is asked exactly twice, once in each order.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from agents.novelty.elo import pair_for_round
from agents.novelty.embedder import idea_text
from agents.state import Idea, RunStatus, TranscriptEvent
from config.settings import Settings
from tests.conftest import run_burst
from workers.api import Ideaforge

pytestmark = pytest.mark.integration


def _shown_order(event: TranscriptEvent, texts: dict[str, str]) -> tuple[str, str]:
    """The two idea ids a pairwise prompt shows, in the order shown (A first)."""
    prompt = "\n".join(m["content"] for m in event.prompt or [] if m["role"] == "user")
    found = sorted((prompt.index(text), idea_id) for idea_id, text in texts.items() if text in prompt)
    assert len(found) == 2, prompt
    return found[0][1], found[1][1]


def test_elo_pairs_are_never_replayed_across_rounds(settings: Settings) -> None:
    # 2 new ideas a round: by round 2 four candidates have 6 possible pairs, which 8 matches a round
    # (3 per idea) would exhaust, so fresh pairs run out and the only way to fill a round is a replay.
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "urban farming", "rounds": 4, "ideas_per_round": 2})
    run_burst(settings)
    state = forge.get_run(run_id)
    assert state.status is RunStatus.FINISHED, state.errors
    events = list(forge.iter_events(run_id))
    texts = {i.id: idea_text(i.title, i.summary) for i in state.ideas}
    assert len(set(texts.values())) == len(texts)  # each idea recognisable in a prompt

    asked: dict[int, Counter[tuple[str, str]]] = defaultdict(Counter)
    for e in events:
        if e.role == "judge" and e.phase == "rank" and '"winner"' in e.content:
            asked[e.round][_shown_order(e, texts)] += 1
    matches = [e for e in events if e.content.startswith("elo match ")]
    counted = [frozenset(e.content.removeprefix("elo match ").split(":")[0].split(" vs ")) for e in matches]
    assert len(asked) >= 3 and len(counted) >= 6  # several rounds played matches

    # within a round: each pair asked exactly once in each order, never more
    for rnd, orders in asked.items():
        assert set(orders.values()) == {1}, (rnd, orders)
        pairs = Counter(frozenset(order) for order in orders)
        assert set(pairs.values()) == {2}, (rnd, pairs)
        assert all((b, a) in orders for a, b in orders)
    # across rounds: no pair asked, counted or remembered twice
    per_round = [{frozenset(o) for o in orders} for orders in asked.values()]
    every = [pair for pairs in per_round for pair in pairs]
    assert len(every) == len(set(every)), per_round
    assert len(counted) == len(set(counted)) == len(every)
    for idea in state.ideas:
        assert len(idea.opponents) == len(set(idea.opponents)) == idea.matches, idea.id


def _idea(n: int, elo: float = 1200.0) -> Idea:
    return Idea(id=f"i{n}", title=f"t{n}", summary="s", round=1, elo=elo)


def test_pairing_skips_played_pairs_even_when_no_fresh_pair_is_left() -> None:
    ideas = [_idea(n, 1200 + 10 * n) for n in range(4)]
    every = {frozenset((a.id, b.id)) for a in ideas for b in ideas if a.id < b.id}
    played = every - {frozenset(("i0", "i3"))}
    [last] = pair_for_round(ideas, max_matches=8, max_per_idea=3, played=played)
    assert set(last) == {"i0", "i3"}
    assert pair_for_round(ideas, max_matches=8, max_per_idea=3, played=every) == []
    # over rounds, fed back as the tournament does: every pair once, then nothing
    seen: set[frozenset[str]] = set()
    for _ in range(5):
        pairs = pair_for_round(ideas, max_matches=2, max_per_idea=1, played=seen)
        keys = [frozenset(p) for p in pairs]
        assert not seen & set(keys) and len(keys) == len(set(keys))
        seen |= set(keys)
    assert seen == every
