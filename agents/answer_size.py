"""How much one answer can hold within a model's answer cap (tokens): the one rule for how many
ideas a Generator call asks for.

A truncated answer (`finish_reason: length`) is useless JSON, so the Generator asks only for as
many ideas as the cap can hold, and the re-ask after a truncation asks for half as many (see
`agents.calls.ask_structured`). The estimate is deliberately generous: a title, a two- or
three-sentence summary, an angle and the JSON around them.
"""

from __future__ import annotations

TOKENS_PER_IDEA = 120  # one idea of an `IdeaBatch` answer, JSON included (tokens)
ANSWER_OVERHEAD_TOKENS = 40  # the answer's own JSON frame and slack (tokens)
SHORT_TEXT_CHARS = 300  # a text field's length asked for after a truncated answer (characters)


def ideas_for_cap(cap_tokens: int | None, wanted: int) -> int:
    """How many ideas one Generator call asks for: `wanted`, or fewer when an answer cap of
    `cap_tokens` tokens cannot hold that many (`TOKENS_PER_IDEA` each after
    `ANSWER_OVERHEAD_TOKENS`); always at least 1. `cap_tokens` None (no cap known) gives `wanted`.

    >>> ideas_for_cap(1200, 3), ideas_for_cap(300, 5), ideas_for_cap(50, 5), ideas_for_cap(None, 7)
    (3, 2, 1, 7)
    """
    if cap_tokens is None:
        return max(1, wanted)
    fits = (cap_tokens - ANSWER_OVERHEAD_TOKENS) // TOKENS_PER_IDEA
    return max(1, min(wanted, fits))
