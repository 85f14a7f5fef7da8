"""Is a text English? Decides whether an English-only embedder's cosine may drop an idea unasked.

all-MiniLM-L6-v2 was trained on English: texts in other scripts fall apart into rare word pieces, and
clearly different ideas in Arabic or Hindi score 0.74-0.84 against each other (the same ideas in
English: 0.01-0.28). So the dedup filter auto-drops only pairs of English texts (or any pair when
the embedder is multilingual) and sends the other pairs in the drop band to the Judge.

The rule, in two steps:
1. Script: a text whose letters are less than `MIN_LATIN_SHARE` Latin letters is not English. This
   is exact for Arabic, Hebrew, Cyrillic, Greek, Devanagari, CJK, ... at any length.
2. Language: a Latin-script text that `py3langid` (a maintained fork of langid.py: naive Bayes over
   byte n-grams, 97 languages, its model shipped in the wheel as a numpy archive loaded without
   pickle, ~0.15 ms a text) names as another language with probability >= `MIN_CONFIDENCE` is
   not English (a French or Spanish idea). Short phrases (a deny item such as "Robo-advisors")
   get no confident answer from it and count as English: their script is the one MiniLM knows.
"""

from __future__ import annotations

import threading
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

ENGLISH = "en"
MIN_LATIN_SHARE = 0.8  # share of letters in the Latin script, below which a text is not English
MIN_CONFIDENCE = 0.5  # py3langid's normalised probability for "another language", at which it is believed

_lock = threading.Lock()
_identifier: LanguageIdentifier | None = None


def _langid() -> LanguageIdentifier:
    """py3langid's identifier with normalised probabilities, loaded once per process (~0.8 s)."""
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier


def latin_share(text: str) -> float:
    """The share (0..1) of the text's letters that are Latin letters; 1.0 for a text without letters."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 1.0
    latin = sum(1 for c in letters if c.isascii() or unicodedata.name(c, "").startswith("LATIN"))
    return latin / len(letters)


@lru_cache(maxsize=4096)
def is_english(text: str) -> bool:
    """True unless the text is in another script, or confidently detected as another language."""
    if latin_share(text) < MIN_LATIN_SHARE:
        return False
    if not text.strip():
        return True
    language, probability = _langid().classify(text)
    return bool(language == ENGLISH or probability < MIN_CONFIDENCE)
