"""Opt-in folds for blocklist matching: leetspeak, Unicode confusables and spacing.

Leetspeak and confusables map one character to one character, so a hit found in the
folded text has the same span in the original; spacing drops the separators and maps each
hit back through an index. A list with a fold is matched on the text as it is *and*
folded; each fold finds evasions and costs false positives:

* ``leetspeak``: ``0 1 3 4 5 7 @ $ ! | +`` read as ``o i e a s t a s i l t``
  ("gr4p3fru1t" hits "grapefruit"; so does any number that spells a term).
* ``confusables``: the 1,315 characters that Unicode's confusables data (TR39, via the
  ``confusable-homoglyphs`` package: ``pip install 'guardrail[confusables]'``) confuses with
  exactly one ASCII letter or digit, read as it (Cyrillic "а" as "a"). Text in Cyrillic or
  Greek can then hit Latin terms that it only looks like ("сор" hits "cop").
* ``spacing``: three or more letters or digits typed one separator apart (space, ``.``,
  ``-``, ``_``, ``*``) read as one word ("b a d", "b.a.d"; "U.S.A" hits "usa"). Streams
  hold back twice as much for such a list: a spaced hit is up to twice as long.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources

from ._evasion import Reading
from ._exceptions import ConfigurationError

__all__ = ["FOLDS", "fold_text"]

FOLDS = ("leetspeak", "confusables", "spacing")
SPACED = "spacing"
SPACING_SEPARATORS = " .-_*"
_SPACED = re.compile(rf"(?<![^\W_])(?:[^\W_][{re.escape(SPACING_SEPARATORS)}]){{2,}}[^\W_](?![^\W_])")

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


def spaced_reading(text: str) -> Reading | None:
    """``text`` with letters typed apart joined ("b a d" -> "bad"), each character keeping
    its original index; None when nothing is typed apart."""
    if _SPACED.search(text) is None:
        return None
    out: list[str] = []
    index: list[int] = []
    pos = 0
    for m in _SPACED.finditer(text):
        out.append(text[pos : m.start()])
        index.extend(range(pos, m.start()))
        for k in range(m.start(), m.end(), 2):  # every unit is a character and one separator
            out.append(text[k])
            index.append(k)
        pos = m.end()
    out.append(text[pos:])
    index.extend(range(pos, len(text)))
    return Reading("".join(out), index)


def fold_text(text: str, fold: str) -> str:
    """``text`` with a one-for-one fold applied; the same length, character for character."""
    if fold == "leetspeak":
        return text.translate(_LEET)
    if fold == "confusables":
        return text.translate(_confusables())
    raise ValueError(f"unknown fold {fold!r}")
