"""Opt-in folds for blocklist matching: leetspeak and Unicode confusables.

Both map one character to one character, so a hit found in the folded text has the same
span in the original. A list with a fold is matched on the text as it is *and* folded;
each fold finds evasions and costs false positives:

* ``leetspeak``: ``0 1 3 4 5 7 @ $ ! | +`` read as ``o i e a s t a s i l t``
  ("gr4p3fru1t" hits "grapefruit"; so does any number that spells a term).
* ``confusables``: the 1,315 characters that Unicode's confusables data (TR39, via the
  ``confusable-homoglyphs`` package: ``pip install 'guardrail[confusables]'``) confuses with
  exactly one ASCII letter or digit, read as it (Cyrillic "а" as "a"). Text in Cyrillic or
  Greek can then hit Latin terms that it only looks like ("сор" hits "cop").
"""

from __future__ import annotations

import functools
import json
from importlib import resources

from ._exceptions import ConfigurationError

__all__ = ["FOLDS", "fold_text"]

FOLDS = ("leetspeak", "confusables")

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
                       "!": "i", "|": "l", "+": "t"})


@functools.lru_cache(maxsize=1)
def _confusables() -> dict[int, str]:
    try:
        data = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    except (ModuleNotFoundError, OSError, ValueError):
        raise ConfigurationError(
            "the confusables fold needs confusable-homoglyphs: pip install 'guardrail[confusables]'"
        ) from None
    table: dict[int, str] = {}
    for ch, entries in data.items():
        if len(ch) != 1 or ch.isascii():
            continue
        targets = {e["c"] for e in entries if len(e["c"]) == 1 and e["c"].isascii() and e["c"].isalnum()}
        if len(targets) == 1:
            table[ord(ch)] = targets.pop()
    return table


def fold_text(text: str, fold: str) -> str:
    """``text`` with one fold applied; the same length, character for character."""
    if fold == "leetspeak":
        return text.translate(_LEET)
    if fold == "confusables":
        return text.translate(_confusables())
    raise ValueError(f"unknown fold {fold!r}")
