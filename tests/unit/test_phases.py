from __future__ import annotations

import pytest

from agents.phases import PHASES
from agents.state import Phase, first_phase
from tests.unit.helpers import make_state


@pytest.mark.parametrize(
    ("brief", "common", "expected"),
    [
        ({"strategy": "restrict"}, True, Phase.DERIVE_DENY),
        ({"strategy": "restrict"}, False, Phase.DERIVE_DENY),  # its deny-list: not switched off
        ({"strategy": "restrict", "deny": ["composting"]}, True, Phase.GENERATE),
        ({"strategy": "question"}, True, Phase.DERIVE_DENY),
        ({"strategy": "question"}, False, Phase.POSE_QUESTIONS),
        ({"strategy": "question", "deny": ["composting"]}, True, Phase.POSE_QUESTIONS),
        ({"strategy": "mix"}, True, Phase.DERIVE_DENY),
        ({"strategy": "mix"}, False, Phase.PAIR_CONCEPTS),
        ({"strategy": "mix", "concepts": ["auction theory", "tides"]}, False, Phase.GENERATE),
    ],
)
def test_initial_phase_depends_on_strategy_and_the_common_answers_mechanism(
    brief: dict[str, object], common: bool, expected: Phase
) -> None:
    assert first_phase(make_state(**brief, mechanisms={"common_answers": common}).brief) is expected


@pytest.mark.parametrize(
    ("brief", "after"),
    [
        ({"strategy": "restrict"}, Phase.GENERATE),
        ({"strategy": "question"}, Phase.POSE_QUESTIONS),
        ({"strategy": "mix"}, Phase.PAIR_CONCEPTS),
        ({"strategy": "mix", "concepts": ["auction theory", "tides"]}, Phase.GENERATE),
    ],
)
def test_the_common_answers_lead_to_the_strategys_own_preparation(
    brief: dict[str, object], after: Phase
) -> None:
    assert PHASES[Phase.DERIVE_DENY].following(make_state(**brief)) is after


def test_phase_table_is_one_cycle_per_round() -> None:
    order = [Phase.GENERATE]
    while PHASES[order[-1]].next is not None:
        order.append(PHASES[order[-1]].next)  # type: ignore[arg-type]
    assert order == [
        Phase.GENERATE,
        Phase.FILTER,
        Phase.CRITIQUE,
        Phase.META_REVIEW,
        Phase.JUDGE,
        Phase.RANK,
        Phase.STOP_CHECK,
    ]
    assert PHASES[Phase.FILTER].back_to is Phase.GENERATE and PHASES[Phase.META_REVIEW].role == "judge"
    for prep in (Phase.POSE_QUESTIONS, Phase.PAIR_CONCEPTS):
        assert PHASES[prep].next is Phase.GENERATE and PHASES[prep].role == "generator"
    assert PHASES[Phase.DERIVE_DENY].role == "generator"
    assert PHASES[Phase.FILTER].role is None and PHASES[Phase.STOP_CHECK].role is None
    assert PHASES[Phase.CRITIQUE].role == "skeptic" and PHASES[Phase.JUDGE].role == "judge"
    assert PHASES[Phase.RANK].role == "judge"
