"""The three novelty strategies: what each adds to the Generator's request."""

from __future__ import annotations

from itertools import combinations

from agents.brief import Strategy
from agents.state import RunState

MAX_DENY_IN_PROMPT = 20  # structural cap on prompt size: the deny-list shown to the Generator


def concept_pairs(state: RunState) -> list[tuple[str, str]]:
    """The pairs to mix: the ones drawn from the concept catalog or proposed by the Generator
    (`state.concept_pairs`), else every pair of the brief's concepts."""
    if state.concept_pairs:
        return [(p[0], p[1]) for p in state.concept_pairs if len(p) == 2]
    return list(combinations(state.brief.concepts, 2))


def _rotate(items: list[str], round_no: int, count: int) -> list[str]:
    """A different slice of `items` each round, so rounds explore different angles."""
    if not items:
        return []
    start = ((round_no - 1) * count) % len(items)
    return [items[(start + i) % len(items)] for i in range(min(count, len(items)))]


def strategy_instructions(state: RunState) -> str:
    """The strategy-specific part of a Generator request for this round."""
    brief = state.brief
    n = brief.ideas_per_round
    parts: list[str] = []
    if brief.strategy is Strategy.MIX and state.concept_seed is not None:
        pairs = [f"{a} × {b}" for a, b in concept_pairs(state)]
        chosen = _rotate(pairs, state.round, n)
        parts.append(
            "Strategy: bring a distant field to the topic. Each pair below was drawn for you: a "
            "field that rarely meets this topic, and a creativity operator (a TRIZ inventive "
            "principle or a SCAMPER operator). For each idea, take a method, material or way of "
            "working of one pair's field and apply it to the topic as its operator says; the idea "
            "must still solve the topic's problem. Pairs to use this round:\n"
            + "\n".join(f"- {p}" for p in chosen)
            + "\nPut the pair you used in `angle`."
        )
    elif brief.strategy is Strategy.MIX:
        pairs = [f"{a} × {b}" for a, b in concept_pairs(state)]
        chosen = _rotate(pairs, state.round, n)
        parts.append(
            "Strategy: combine concepts that rarely meet. Apply the first concept's methods or "
            "framework to the second's field. Pairs to use this round:\n"
            + "\n".join(f"- {p}" for p in chosen)
            + "\nPut the pair you used in `angle`."
        )
    elif brief.strategy is Strategy.QUESTION:
        chosen = _rotate(state.questions, state.round, n)
        parts.append(
            "Strategy: answer questions nobody has asked. Each idea must answer one of these "
            "questions:\n" + "\n".join(f"- {q}" for q in chosen) + "\nPut the question you answer in `angle`."
        )
    else:
        parts.append(
            "Strategy: avoid everything known. Each idea must differ in substance from the list below."
        )
    deny = state.deny[:MAX_DENY_IN_PROMPT]
    if deny:
        parts.append(
            "Known, common answers. Do NOT propose these or variants of them:\n"
            + "\n".join(f"- {d}" for d in deny)
        )
    return "\n\n".join(parts)
