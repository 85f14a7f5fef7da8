"""The distant-concept catalog and its seeded draw (real MiniLM embeddings, no model)."""

from __future__ import annotations

import statistics

import pytest

from agents.concepts.catalog import FIELDS, OPERATORS, SCAMPER_OPERATORS, TRIZ_PRINCIPLES, Field
from agents.concepts.draw import FAR_SHARE, draw_pairs, seed_for_run
from agents.novelty.embedder import LocalMiniLMEmbedder
from agents.prompts.strategies import strategy_instructions
from tests.unit.helpers import make_state

BEES = "How can beekeepers keep their honeybee hives healthy through a cold winter?"


@pytest.fixture(scope="module")
def embedder() -> LocalMiniLMEmbedder:
    emb = LocalMiniLMEmbedder()
    emb.load()
    return emb


class TestCatalog:
    def test_triz_has_its_40_principles_numbered_1_to_40(self) -> None:
        assert [p.number for p in TRIZ_PRINCIPLES] == list(range(1, 41))
        assert len({p.name for p in TRIZ_PRINCIPLES}) == 40
        assert TRIZ_PRINCIPLES[0].name == "Segmentation" and TRIZ_PRINCIPLES[39].name == "Composite materials"
        assert TRIZ_PRINCIPLES[12].label == "The other way round (TRIZ principle 13)"

    def test_scamper_has_its_7_operators_in_the_mnemonics_order(self) -> None:
        assert len(SCAMPER_OPERATORS) == 7
        assert "".join(o.name[0] for o in SCAMPER_OPERATORS) == "SCAMPER"
        assert SCAMPER_OPERATORS[5].label == "Eliminate (SCAMPER)"
        assert len(OPERATORS) == 47 and all(o.meaning for o in OPERATORS)

    def test_fields_are_40_to_60_distinct_names_each_with_a_gist(self) -> None:
        assert 40 <= len(FIELDS) <= 60
        assert len({f.name for f in FIELDS}) == len(FIELDS)
        assert all(f.gist and f.text.startswith(f"{f.name} (") for f in FIELDS)


class TestDraw:
    def test_the_seed_comes_from_the_run_id(self) -> None:
        assert seed_for_run("r1") == seed_for_run("r1")
        assert seed_for_run("r1") != seed_for_run("r2")
        assert 0 <= seed_for_run("r1") < 2**32

    def test_the_same_seed_draws_the_same_pairs_and_another_seed_others(
        self, embedder: LocalMiniLMEmbedder
    ) -> None:
        topic = "Ways to reduce food waste in university cafeterias"
        first = draw_pairs(topic, 6, 1234, embedder)
        again = draw_pairs(topic, 6, 1234, embedder)
        other = draw_pairs(topic, 6, 4321, embedder)
        assert first.pairs == again.pairs and first.seed == 1234
        assert first.pairs != other.pairs
        assert first.model_id == embedder.model_id

    def test_pairs_have_distinct_fields_and_distinct_operators(self, embedder: LocalMiniLMEmbedder) -> None:
        draw = draw_pairs("Quiet trains", 12, 7, embedder)
        assert len({f for f, _ in draw.pairs}) == 12 and len({o for _, o in draw.pairs}) == 12
        # past the pool's size fields repeat, but only once every field of the pool was used
        small = draw_pairs("Quiet trains", 5, 7, embedder, fields=FIELDS[:4], far_share=1.0)
        assert len({f for f, _ in small.pairs}) == 4

    def test_fields_close_to_the_topic_are_never_drawn(self, embedder: LocalMiniLMEmbedder) -> None:
        vectors = embedder.embed([BEES, *(f.text for f in FIELDS)])
        cosine = {f.name: float(v @ vectors[0]) for f, v in zip(FIELDS, vectors[1:], strict=True)}
        nearest = max(cosine, key=lambda name: cosine[name])
        assert nearest == "beekeeping"  # the embedder sees what a person sees
        median = statistics.median(cosine.values())
        drawn = {f.name for seed in range(8) for f, _ in draw_pairs(BEES, 6, seed, embedder).pairs}
        assert "beekeeping" not in drawn
        assert all(cosine[name] <= median + 1e-6 for name in drawn)
        assert len(drawn) > 6  # the seeds sample the far half, not one fixed list
        pool = draw_pairs(BEES, 6, 0, embedder).pool
        assert len(pool) == round(len(FIELDS) * FAR_SHARE)
        assert [c for _, c in pool] == sorted(c for _, c in pool)

    def test_bad_arguments_are_refused(self, embedder: LocalMiniLMEmbedder) -> None:
        with pytest.raises(ValueError, match="count"):
            draw_pairs("x", 0, 1, embedder)
        with pytest.raises(ValueError, match="far_share"):
            draw_pairs("x", 2, 1, embedder, far_share=0.0)
        with pytest.raises(ValueError, match="catalog"):
            draw_pairs("x", 2, 1, embedder, fields=())


def test_the_generator_applies_the_drawn_pairs_and_is_told_they_were_drawn() -> None:
    state = make_state(strategy="mix", ideas_per_round=2, rounds=2)
    mycology = Field("mycology", "fungi")
    state.concept_seed = 99
    state.concept_pairs = [
        [mycology.text, TRIZ_PRINCIPLES[0].text],
        ["origami (paper folding)", SCAMPER_OPERATORS[5].text],
        ["typography (letterforms)", TRIZ_PRINCIPLES[21].text],
    ]
    first = strategy_instructions(state)
    assert "drawn for you" in first
    assert f"- {mycology.text} × {TRIZ_PRINCIPLES[0].text}" in first and "origami" in first
    assert "typography" not in first  # round 1 uses the first ideas_per_round pairs
    state.round = 2
    assert "typography" in strategy_instructions(state)
    state.concept_seed = None  # the model's own pairs keep today's wording
    assert "drawn for you" not in strategy_instructions(state)
