"""Which language a text is in, so a verdict can say when a check reads a language its
model was not trained on (py3langid: offline, numpy only, ~0.1 ms per short text)."""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

from ._evasion import compat_letters

__all__ = ["CANDIDATES", "MIN_CONFIDENCE", "Language", "detect"]

# The languages told apart. A short list keeps slang and typos from landing on a rare
# language: with all 97 of langid's, 1 in 5 English tweets was "confidently" something else.
CANDIDATES = tuple(
    "af ar bg bn ca cs da de el en es et eu fa fi fr gl gu he hi hr hu id it ja jv ko lt lv mr ms "
    "nl no pa pl pt ro ru sk sl sq sr sv sw ta te th tl tr uk ur vi zh".split()
)
MIN_CONFIDENCE = 0.8  # below it the language is undetermined: no language rule applies
MIN_LETTERS = 12  # fewer letters than this say too little ("ok", "lol", "u r dumb")
# A Chinese, Japanese or Korean character says about as much as a short word: it counts 3.
SAMPLE_CHARS = 4000  # the start of a long text is enough to tell its language

_lock = threading.Lock()
_identifier: Any = None


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1
    confidence: float


def load() -> Any:
    """The identifier, loaded once (about a second); later calls return it."""
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            ident.set_languages(list(CANDIDATES))
            _identifier = ident
        return _identifier


def detect(text: str) -> Language | None:
    """The language of ``text``, or None when it is too short or too mixed to tell."""
    sample = text[:SAMPLE_CHARS]
    if not sample.isascii():  # fullwidth, mathematical or small-capital letters are the letters they show
        sample = unicodedata.normalize("NFKC", sample)
        folded = compat_letters(sample)
        sample = folded[0] if folded else sample
    if _letters(sample) < MIN_LETTERS:
        return None
    code, confidence = load().classify(sample)
    if confidence < MIN_CONFIDENCE:
        return None
    return Language(str(code), round(float(confidence), 3))


def _letters(text: str) -> int:
    return sum(3 if _dense(c) else 1 for c in text if c.isalpha())


def _dense(c: str) -> bool:
    return "\u3040" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af" or "\uf900" <= c <= "\ufaff"
