"""Ranking: how survivors are ordered and which reach the shortlist.

The one ranking rule (the shortlist and the survivors shown to the Generator both use `rank_ideas`):

- Candidates: living ideas with a Judge score; ideas the Skeptic marked fatal, duplicates and
  unscored ideas never make the list.
- Absolute ranking: `combined = sqrt(novelty * feasibility)` (the geometric mean, so an idea must
  be both new and workable to rank high: 9x2 scores 4.2, 6x6 scores 6.0). Ties break by novelty,
  then feasibility, then the earlier idea.
- Elo ranking: once there are at least two candidates and every one of them has played at least
  `min_matches` pairwise matches (the setting `elo_min_matches`, passed by every caller), they
  are ranked by Elo (see `agents/novelty/elo.py`) with the absolute ranking as the tie-break; the
  shortlist says which rule it used (`ranked_by`: "elo" or "score") and still shows the absolute scores
  and the Skeptic's strongest objection beside each idea.
- Diversity (the shortlist only): the ranked candidates are taken the best of each cluster first
  (`Idea.cluster`, see `agents/novelty/clusters.py`), then the second best of each cluster, and so
  on, each pass in rank order (`diverse_order`): no cluster gets a second place on the shortlist
  while another cluster's best is left out. An idea without a cluster counts as a cluster of its own.
  The survivors shown to the Generator keep the plain ranking.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from agents.shortlist import Shortlist, ShortlistEntry
from agents.state import Idea, RunState, Score


def combined_score(score: Score) -> float:
    return math.sqrt(score.novelty * score.feasibility)


def _key(idea: Idea, by_elo: bool) -> tuple[float, ...]:
    assert idea.score is not None
    base = (combined_score(idea.score), idea.score.novelty, idea.score.feasibility)
    return (idea.elo, *base) if by_elo else base


def is_candidate(idea: Idea) -> bool:
    return idea.alive and idea.score is not None and not (idea.critique and idea.critique.fatal)


def candidates(state: RunState) -> list[Idea]:
    return [i for i in state.ideas if is_candidate(i)]


def ranks_by_elo(ideas: Sequence[Idea], min_matches: int) -> bool:
    """True when there are two or more ideas and each has played `min_matches` matches."""
    return len(ideas) > 1 and all(i.matches >= min_matches for i in ideas)


def rank_ideas(ideas: Sequence[Idea], min_matches: int) -> tuple[list[Idea], bool]:
    """The candidates among `ideas`, best first, and whether Elo decided the order."""
    pool = [i for i in ideas if is_candidate(i)]
    by_elo = ranks_by_elo(pool, min_matches)
    order = {idea.id: n for n, idea in enumerate(pool)}
    return sorted(pool, key=lambda i: (*(-v for v in _key(i, by_elo)), order[i.id])), by_elo


def rank_survivors(state: RunState, min_matches: int) -> list[Idea]:
    """The run's candidates, best first (`rank_ideas`)."""
    return rank_ideas(state.ideas, min_matches)[0]


def diverse_order(ranked: Sequence[Idea]) -> list[Idea]:
    """`ranked` (best first) reordered by (place within its cluster, rank): every cluster's best,
    then every cluster's second, ... (`Idea.cluster`; None: the idea's own cluster)."""
    seen: dict[str, int] = {}
    depth = []
    for idea in ranked:
        cluster = idea.cluster or idea.id
        depth.append(seen.get(cluster, 0))
        seen[cluster] = depth[-1] + 1
    order = sorted(range(len(ranked)), key=lambda n: (depth[n], n))
    return [ranked[n] for n in order]


def build_shortlist(state: RunState, now: float | None = None, *, min_matches: int) -> Shortlist:
    """The run's best `brief.shortlist_size` candidates (`rank_ideas`, then `diverse_order` unless the
    brief switches the `proximity` mechanism off); `now` is Unix seconds."""
    ranked, by_elo = rank_ideas(state.ideas, min_matches)
    entries = []
    ordered = diverse_order(ranked) if state.brief.mechanisms.proximity else list(ranked)
    for rank, idea in enumerate(ordered[: state.brief.shortlist_size], start=1):
        assert idea.score is not None
        entries.append(
            ShortlistEntry(
                rank=rank,
                idea_id=idea.id,
                title=idea.title,
                summary=idea.summary,
                angle=idea.angle,
                round=idea.round,
                origin=idea.origin,
                operator=idea.operator,
                parents=idea.parents,
                novelty=idea.score.novelty,
                feasibility=idea.score.feasibility,
                combined=round(combined_score(idea.score), 2),
                elo=round(idea.elo, 1),
                matches=idea.matches,
                rationale=idea.score.rationale,
                objection=idea.critique.strongest_objection if idea.critique else None,
                novelty_distance=idea.novelty_distance,
                verdict=idea.verdict.decision if idea.verdict else None,
                cluster=idea.cluster,
                author=idea.author,
            )
        )
    return Shortlist(
        run_id=state.run_id,
        topic=state.brief.topic,
        status=state.status.value,
        stop_reason=state.stop_reason.value if state.stop_reason else None,
        stop_detail=state.stop_detail,
        ranked_by="elo" if by_elo else "score",
        generated=len(state.ideas),
        dropped=sum(1 for i in state.ideas if not i.alive),
        created_at=now if now is not None else time.time(),
        ideas=entries,
    )
