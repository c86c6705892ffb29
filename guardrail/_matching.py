"""Multi-term matching over Unicode-normalized text, with spans into the original text.

Text and terms are folded the same way: NFKC, then casefold, with invisible format
characters (zero-width space, soft hyphen, ...) dropped so they cannot split a term.
A term matches only on word boundaries where its own edge is a word character, so
``ass`` does not hit ``class``; in scripts written without spaces (CJK, Thai, ...) no
boundary is required. Offsets are mapped back so a span covers exactly the original
characters, including any dropped or combined ones inside it.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any, NamedTuple, Sequence

import ahocorasick_rs

from ._evasion import TAG_TO_ASCII, TAGS
from ._text import clean

__all__ = [
    "Match", "Offsets", "Term", "TermMatcher", "fold", "fold_with_offsets", "is_ignorable", "needs_boundary", "validate_regex",
]

# Unicode's default-ignorable code points (and the interlinear annotation controls): they
# render as nothing, so they can split a banned word without changing how it looks.
_INVISIBLE_CLASS = ("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
                    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
                    "\ufff9-\ufffb\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")
_INVISIBLE = re.compile(_INVISIBLE_CLASS)
_MARK_CATEGORIES = ("Mn", "Me")


def is_ignorable(ch: str) -> bool:
    """Whether ``ch`` folds to nothing or onto its neighbour (invisible, or a combining mark)."""
    return _INVISIBLE.match(ch) is not None or unicodedata.category(ch) in _MARK_CATEGORIES


def _has_marks(text: str) -> bool:
    return any(unicodedata.category(c) in _MARK_CATEGORIES for c in text)


def _strip_marks(text: str) -> str:
    # Accents and other combining marks are dropped (after NFKD), so "grapefrúit" and
    # "g\u0332rapefruit" match "grapefruit": the cost is that "café" also matches "cafe".
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if unicodedata.category(c) not in _MARK_CATEGORIES)
    )


_WS_RUN = re.compile(r"\s+")
# Whitespace that is not already a single plain space: a tab, newline, or a run.
_ODD_WS = re.compile(r"[^\S ]|  ")


def _fold_chars(text: str) -> str:
    if text.isascii():
        return text.lower()
    text = _INVISIBLE.sub("", text)
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return _strip_marks(folded) if _has_marks(unicodedata.normalize("NFKD", folded)) else folded


def fold(text: str) -> str:
    """Fold a term or text for matching (no offsets); whitespace runs become one space."""
    return _WS_RUN.sub(" ", _fold_chars(text)).strip()


class Offsets:
    """Maps a span of the folded text back to the original text."""

    __slots__ = ("_starts", "_ends", "_break_at", "_shift")

    def __init__(
        self,
        starts: list[int] | None = None,
        ends: list[int] | None = None,
        break_at: list[int] | None = None,
        shift: list[int] | None = None,
    ) -> None:
        self._starts = starts
        self._ends = ends
        self._break_at = break_at or []
        self._shift = shift or []

    def _unshift(self, pos: int) -> int:
        i = bisect_right(self._break_at, pos)
        return pos + (self._shift[i - 1] if i else 0)

    def span(self, start: int, end: int) -> tuple[int, int]:
        first = self._unshift(start)
        last = self._unshift(end - 1)
        if self._starts is None or self._ends is None:
            return first, last + 1
        return self._starts[first], self._ends[last]


_IDENTITY = Offsets()


def fold_with_offsets(text: str) -> tuple[str, Offsets]:
    """Fold ``text`` for matching and return it with the map back to ``text``."""
    starts: list[int] | None = None
    ends: list[int] | None = None
    if text.isascii():
        folded = text.lower()
    else:
        folded = text.casefold()
        if not (
            len(folded) == len(text)
            and _INVISIBLE.search(text) is None
            and unicodedata.is_normalized("NFKC", text)
            and unicodedata.is_normalized("NFKC", folded)
            and not _has_marks(unicodedata.normalize("NFKD", folded))
        ):
            folded, starts, ends = _fold_by_cluster(text)
    if not _has_odd_whitespace(folded):
        return folded, (_IDENTITY if starts is None else Offsets(starts, ends))
    # Collapse whitespace runs to one space, remembering how far each later char moved.
    pieces: list[str] = []
    break_at: list[int] = []
    shift: list[int] = []
    pos = 0
    out_len = 0
    moved = 0
    for m in _WS_RUN.finditer(folded):
        pieces.append(folded[pos : m.start()])
        pieces.append(" ")
        out_len += m.start() - pos + 1
        pos = m.end()
        if m.end() - m.start() > 1:
            moved += m.end() - m.start() - 1
            break_at.append(out_len)
            shift.append(moved)
    pieces.append(folded[pos:])
    return "".join(pieces), Offsets(starts, ends, break_at, shift)


_ASCII_SPACES = ("  ", "\n", "\t", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")


def _has_odd_whitespace(folded: str) -> bool:
    if folded.isascii():  # a few memchr scans beat one regex scan
        return any(ws in folded for ws in _ASCII_SPACES)
    return _ODD_WS.search(folded) is not None


def _fold_by_cluster(text: str) -> tuple[str, list[int], list[int]]:
    # Fold a base character with its combining marks at a time, so composition stays
    # right and every output character maps to the cluster it came from.
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    n = len(text)
    i = 0
    while i < n:
        j = i + 1
        while j < n and is_ignorable(text[j]):
            j += 1
        piece = _fold_chars(text[i:j])
        out.append(piece)
        starts.extend([i] * len(piece))
        ends.extend([j] * len(piece))
        i = j
    return "".join(out), starts, ends


_NO_SPACE_SCRIPTS = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified
    (0xF900, 0xFAFF),  # CJK Compatibility
    (0x20000, 0x2FA1F),  # CJK Extensions B-F
)


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def needs_boundary(ch: str) -> bool:
    """A word character of a script written with spaces (so a term needs a boundary there)."""
    if not _is_word(ch):
        return False
    cp = ord(ch)
    return not any(lo <= cp <= hi for lo, hi in _NO_SPACE_SCRIPTS)


@dataclass(frozen=True)
class Term:
    """A term to find. ``key`` is returned with each match (e.g. a blocklist item id)."""

    key: str
    text: str
    is_regex: bool = False


class Match(NamedTuple):
    """One hit: the term and its half-open span in the original text."""

    term: Term
    start: int
    end: int


_SIMPLE = re.compile(r"[a-z0-9_]+")
# Bytes table for the ASCII fast path: lowercase letters, keep digits and "_", turn every
# other byte into a space so that padded patterns (" term ") only match whole words.
_WORD_BYTES = bytes(
    (b + 32 if 65 <= b <= 90 else b)
    if b < 128 and (chr(b).isalnum() or b == 95)
    else 32
    for b in range(256)
)


class TermMatcher:
    """Finds every occurrence of many terms at once (Aho-Corasick), on word boundaries.

    Plain ASCII words, the bulk of most lists, go to a byte automaton over padded
    patterns so that only whole-word hits ever come back from the scan; other terms
    (phrases, punctuation, other scripts) go to a second automaton whose hits are
    checked for boundaries. Build once per term list; ``find`` is thread-safe.
    """

    def __init__(self, terms: Sequence[Term]) -> None:
        self._regexes: list[tuple[Term, Any]] = []
        groups: dict[str, list[Term]] = {}
        for term in terms:
            if term.is_regex:
                self._regexes.append((term, compile_regex(term.text)))
                continue
            folded = fold(term.text)
            if folded:
                groups.setdefault(folded, []).append(term)
        self._all = [(terms_, needs_boundary(k[0]), needs_boundary(k[-1])) for k, terms_ in groups.items()]
        keys = list(groups)
        simple = [i for i, k in enumerate(keys) if k.isascii() and _SIMPLE.fullmatch(k)]
        simple_set = set(simple)
        rest = [i for i in range(len(keys)) if i not in simple_set]
        self._simple_ids = simple
        self._rest_ids = rest
        self._fast = (
            ahocorasick_rs.BytesAhoCorasick([f" {keys[i]} ".encode("ascii") for i in simple])
            if simple
            else None
        )
        self._rest = _automaton([keys[i] for i in rest])
        self._keys = keys
        self._every: ahocorasick_rs.AhoCorasick | None = None
        self.size = len(terms)
        self.has_regex = bool(self._regexes)
        self.longest = max((len(t.text) for t in terms if not t.is_regex), default=0)
        self.longest_folded = max((len(k) for k in keys), default=0)

    def find(self, text: str) -> list[Match]:
        """All matches, in order of start, with spans into ``text`` itself."""
        text = clean(text)
        found = self._find(text)
        if text.isascii() or TAGS.search(text) is None:
            return found
        # Tag characters render as nothing, so folding drops them, but a model reads them
        # as the ASCII they shadow: match that too. One for one, so spans stay the same.
        seen = {(id(m.term), m.start, m.end) for m in found}
        found += [m for m in self._find(text.translate(TAG_TO_ASCII)) if (id(m.term), m.start, m.end) not in seen]
        found.sort(key=lambda m: (m.start, m.end))
        return found

    def _find(self, text: str) -> list[Match]:
        raw: list[Match] = []
        if text.isascii() and self._fast is not None:
            padded = b" " + text.encode("ascii").translate(_WORD_BYTES) + b" "
            ids = self._simple_ids
            groups = self._all
            for idx, s, e in self._fast.find_matches_as_indexes(padded, overlapping=True):
                for term in groups[ids[idx]][0]:
                    raw.append(Match(term, s, e - 2))  # unpad: [s+1, e-1) shifted back by one
            if self._rest is None and not self._regexes:
                return raw  # whole single words never overlap: end order is start order
            automaton, ids = self._rest, self._rest_ids
        else:
            automaton, ids = self._every_automaton(), list(range(len(self._keys)))
        folded, offsets = fold_with_offsets(text)
        n = len(folded)
        spans: list[tuple[Term, int, int]] = []
        if automaton is not None:
            for idx, s, e in automaton.find_matches_as_indexes(folded, overlapping=True):
                group, left, right = self._all[ids[idx]]
                if left and s > 0 and _is_word(folded[s - 1]):
                    continue
                if right and e < n and _is_word(folded[e]):
                    continue
                for term in group:
                    spans.append((term, s, e))
        for term, rx in self._regexes:
            for m in rx.finditer(folded):
                if m.end() > m.start():
                    spans.append((term, m.start(), m.end()))
        raw.extend(Match(t, *offsets.span(s, e)) for t, s, e in spans)
        raw.sort(key=lambda m: (m.start, m.end))
        return raw

    def _every_automaton(self) -> ahocorasick_rs.AhoCorasick | None:
        # Texts with non-ASCII characters need every term on the folded text; built on
        # first use, since many apps never see such text.
        if self._every is None and self._keys:
            self._every = _automaton(self._keys)
        return self._every


def _automaton(patterns: list[str]) -> ahocorasick_rs.AhoCorasick | None:
    if not patterns:
        return None
    return ahocorasick_rs.AhoCorasick(patterns, implementation=ahocorasick_rs.Implementation.DFA)


def _re2_options() -> Any:
    import re2

    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = 8 << 20  # bounds the automaton of one pattern
    return options


def compile_regex(pattern: str) -> Any:
    """A user regex on RE2: matching time is linear in the text, whatever the pattern
    (``(a+)+$`` cannot backtrack). RE2 has no backreferences or lookaround."""
    import re2

    return re2.compile(pattern, _re2_options())


def validate_regex(pattern: str) -> str | None:
    """Return None when ``pattern`` compiles on RE2, else the reason it does not."""
    import re2

    try:
        compile_regex(pattern)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return (f"{reason} (blocklist regexes run on RE2, linear-time: no backreferences, "
                "lookahead or lookbehind)")
    return None
