"""Ideas in other languages with the English-only MiniLM (real model): never auto-dropped on its cosine.

Four clearly different ideas (brewery-grain flour, carpooling, a tool library, balcony solar), written
in Arabic, in Hindi and in English. MiniLM scores the Arabic and Hindi versions 0.74-0.84 against
each other, the English ones 0.01-0.28.
"""

from __future__ import annotations

import json

import pytest

from agents.novelty.dedup import (
    Action,
    Candidate,
    NoveltyDecision,
    Source,
    assess,
    index_texts,
    title_words,
)
from agents.novelty.embedder import LocalMiniLMEmbedder, OpenAIEmbedder, idea_text
from agents.novelty.language import is_english, latin_share
from agents.state import RunStatus
from config.settings import Settings, get_settings
from ideaforge.devtools.fake_openai import FakeModelServer, Fault
from tests.conftest import run_burst
from tests.novelty.conftest import DATA, DENY_BANDS, IDEA_BANDS
from workers.api import Ideaforge
from workers.novelty import get_embedder

ARABIC = [
    (
        "دقيق من حبوب مصانع الجعة",
        "تجفف الحبوب المستهلكة من مصانع الجعة وتطحن لتصبح دقيقا غنيا بالبروتين للمخابز.",
    ),
    (
        "تطبيق لمشاركة السيارات",
        "تطبيق يجمع الموظفين الذين يسلكون الطريق نفسه ليتشاركوا سيارة واحدة ويقتسموا التكاليف.",
    ),
    ("مكتبة أدوات في الحي", "يستعير السكان المثاقب والسلالم والمناشير من رف مشترك بدلا من شرائها."),
    ("ألواح شمسية للشرفات", "ألواح شمسية صغيرة تعلق على الشرفة وتوصل بالمقبس ليولد المستأجرون كهرباءهم."),
]
HINDI = [
    (
        "शराब कारखाने के अनाज से आटा",
        "शराब कारखानों का बचा हुआ अनाज सुखाकर बेकरी के लिए प्रोटीन से भरपूर आटा बनाया जाता है।",
    ),
    (
        "कारपूल मिलान ऐप",
        "एक ऐप जो एक ही रास्ते पर जाने वाले यात्रियों को जोड़ता है ताकि वे एक कार साझा करें और खर्च बाँटें।",
    ),
    ("मोहल्ले की औज़ार लाइब्रेरी", "निवासी ड्रिल, सीढ़ी और आरी खरीदने के बजाय साझा शेल्फ से उधार लेते हैं।"),
    ("बालकनी सोलर पैनल", "बालकनी पर टांगे गए छोटे सोलर पैनल सॉकेट में लगते हैं ताकि किराएदार अपनी बिजली बनाएं।"),
]
ENGLISH = [
    (
        "Upcycled brewery grain flour",
        "Spent grain from breweries is dried and milled into a high-protein flour for bakeries.",
    ),
    (
        "Carpool matching app",
        "An app that matches commuters going the same way so they share a car and split costs.",
    ),
    (
        "Neighbourhood tool library",
        "Residents borrow drills, ladders and saws from a shared shelf instead of buying them.",
    ),
    (
        "Balcony solar panels",
        "Small solar panels hung on the balcony and plugged into a socket so renters make their own power.",
    ),
]
FLOUR_COPY = (
    "Upcycled flour from brewery grain",
    "Spent grain from breweries is dried and milled into high-protein flour for bakeries.",
)
FRENCH = (
    "Application de covoiturage",
    "Une application met en relation les salariés qui font le même trajet pour partager une voiture.",
)


def _batch(
    embedder: LocalMiniLMEmbedder, ideas: list[tuple[str, str]], *, multilingual: bool = False
) -> list[NoveltyDecision]:
    texts = [idea_text(*i) for i in ideas]
    cands = [Candidate(f"i{n}", t) for n, t in enumerate(texts)]
    return assess(cands, embedder.embed(texts), embedder.model_id, {}, IDEA_BANDS, multilingual=multilingual)


@pytest.mark.parametrize("ideas", [ARABIC, HINDI], ids=["arabic", "hindi"])
def test_different_ideas_in_another_script_are_asked_about_never_dropped(
    embedder: LocalMiniLMEmbedder, ideas: list[tuple[str, str]]
) -> None:
    vecs = embedder.embed([idea_text(*i) for i in ideas])
    sims = vecs @ vecs.T
    assert (
        max(sims[i, j] for i in range(4) for j in range(i)) >= IDEA_BANDS.high
    )  # MiniLM's cosine would drop
    decisions = _batch(embedder, ideas)
    assert [d.action for d in decisions][1:] == [Action.ASK_JUDGE] * 3  # the Judge decides, nothing dropped
    over = [d for d in decisions if d.nearest and d.nearest.similarity >= IDEA_BANDS.high]
    assert over and all("not both texts are English" in d.reason for d in over)
    # an embedder that says it is multilingual is trusted: the same cosines drop
    trusted = _batch(embedder, ideas, multilingual=True)
    assert Action.DROP in {d.action for d in trusted}


def test_the_same_ideas_in_english_and_english_repeats_behave_as_before(
    embedder: LocalMiniLMEmbedder,
) -> None:
    assert [d.action for d in _batch(embedder, ENGLISH)] == [Action.KEEP] * 4
    decisions = _batch(embedder, [*ENGLISH, FLOUR_COPY])
    assert decisions[-1].action is Action.DROP and decisions[-1].nearest is not None
    assert decisions[-1].nearest.key == "i0" and "duplicate of" in decisions[-1].reason


def test_deny_items_and_the_ledger_in_another_script_are_asked_about_too(
    embedder: LocalMiniLMEmbedder,
) -> None:
    model = embedder.model_id
    deny = ["مشاركة السيارات"]  # "car sharing"
    known = [idea_text(*ARABIC[2])]  # the tool library
    new = [idea_text(*ARABIC[3])]  # balcony solar: neither car sharing nor a tool library
    deny_idx = index_texts(model, embedder.embed(deny), ["0"], deny, "deny")
    ledger = index_texts(model, embedder.embed(known), ["e1"], known, "ledger")
    vec = embedder.embed(new)
    for source, index, bands in [(Source.DENY, deny_idx, DENY_BANDS), (Source.LEDGER, ledger, IDEA_BANDS)]:
        [d] = assess([Candidate("n", new[0])], vec, model, {source: index}, IDEA_BANDS, {source: bands})
        assert d.nearest is not None and d.nearest.similarity >= bands.high, source  # would have dropped
        assert d.action is Action.ASK_JUDGE, source


def test_language_rule() -> None:
    for title, summary in [
        *ARABIC,
        *HINDI,
        FRENCH,
        ("拼车匹配应用", "一款应用把同路的通勤者配对，让他们合乘一辆车。"),
    ]:
        assert not is_english(idea_text(title, summary)), title
    assert latin_share(idea_text(*ARABIC[0])) == 0.0 and latin_share("Vélos à la carte") == 1.0
    # every English text of the calibration data, short deny items included, counts as English
    texts = set()
    for name in ("idea_pairs.jsonl", "deny_pairs.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            pair = json.loads(line)
            texts |= {
                s if isinstance(s, str) else idea_text(s["title"], s["summary"])
                for s in (pair["a"], pair["b"])
            }
    assert len(texts) > 150 and all(is_english(t) for t in texts)
    assert all(is_english(t) for t in ["Robo-advisors", "Uber for X", "AI tutor", "", "42"])


def test_titles_in_any_script_have_words() -> None:
    arabic = [title_words(t) for t, _ in ARABIC]
    assert all(arabic) and len(set(arabic)) == 4  # the digest no longer takes them for repeats of each other
    assert title_words("A Market for the Leftovers!") == title_words("market, leftovers")


def test_which_embedders_are_multilingual(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    assert get_embedder(settings).multilingual is False  # the local MiniLM
    monkeypatch.setenv("IDEAFORGE_EMBEDDER", "openai")
    get_settings.cache_clear()
    remote = get_embedder(get_settings())
    assert isinstance(remote, OpenAIEmbedder) and remote.multilingual is True
    monkeypatch.setenv("IDEAFORGE_EMBEDDING_MULTILINGUAL", "false")
    get_settings.cache_clear()
    assert get_embedder(get_settings()).multilingual is False


@pytest.mark.integration
def test_a_run_keeps_four_different_arabic_ideas(settings: Settings, fake_model: FakeModelServer) -> None:
    fake_model.add_faults(*(Fault(kind="idea", title=t, summary=s) for t, s in ARABIC))
    forge = Ideaforge(settings)
    run_id = forge.submit({"topic": "الاستدامة في المدن", "rounds": 4, "ideas_per_round": 1})
    run_burst(settings)
    state = forge.get_run(run_id)
    assert state.status is RunStatus.FINISHED, state.errors
    arabic = [i for i in state.ideas if (i.title, i.summary) in ARABIC]
    assert len(arabic) == 4
    assert [i.duplicate_of for i in arabic] == [None] * 4, [i.dropped for i in arabic]
    events = list(forge.iter_events(run_id))
    asked = [e for e in events if e.role == "judge" and '"same"' in e.content]
    assert asked  # the near pairs went to the Judge, whose answers are in the transcript
