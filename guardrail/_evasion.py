r"""A de-obfuscated reading of a text for the harm check: what users type to slip past a filter.

Read as the words they stand for:

- letters typed apart: "k i l l", "k.i.l.l", "k - i - l - l", two spaces, CRLF, "k💀i💀l💀l",
  "k.i-l_l" (but a mix of spaces and other separators, "k.i-l l", is ambiguous and left);
- leetspeak ("k1ll"), stretched letters ("kiiiill"), slang ("kys"), Cyrillic or Greek
  look-alikes inside a Latin word, words cut in two ("ki ll", "sui-cide");
- letters from other Unicode blocks ("ｋｉｌｌ", "𝐤𝐢𝐥𝐥", "ⓚⓘⓛⓛ", "ᴋɪʟʟ", "ⅼ");
- letters written as HTML references, code escapes or percent-encoding ("&#107;ill",
  "\u006bill", "%6Bill"), and prose encoded in base64;
- text hidden from a reader: Unicode tag characters (invisible, but a model reads them as
  ASCII), blank fillers used as spaces, letters a right-to-left override (U+202E) shows
  reversed;
- emoji typed for a word in a threat or in hate ("I am going to 🔪 you", "kill all ✡️").

The harm analyzer scores this reading beside the text as it is and keeps the worse score
per category, so a reading can raise a score, never lower it. Every character of the
reading remembers the original characters it came from, so spans still point into the
original text.

Only texts with a sign of obfuscation get a reading (``reading`` returns None for the
rest), so ordinary text costs a few cheap searches and no second model pass.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet

__all__ = ["TAG_TO_ASCII", "TAGS", "Reading", "compat_letters", "known_words", "reading"]

_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
         "@": "a", "$": "s", "!": "i", "|": "l", "+": "t"}
# Cyrillic and Greek letters drawn like Latin ones; used only inside a word that also
# has Latin letters (a Russian word stays Russian).
_LOOKALIKE = str.maketrans({
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ү": "y",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S",
    "α": "a", "ο": "o", "ρ": "p", "τ": "t", "ι": "i", "κ": "k", "ν": "v", "υ": "u", "ε": "e",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Χ": "X", "Υ": "Y",
})
_LOOKALIKE_CHARS = "".join(chr(c) for c in _LOOKALIKE)
# Whole words typed instead of the word a filter looks for.
_SLANG = {"kys": "kill yourself", "kms": "kill myself", "unalive": "kill", "unalived": "killed",
          "unaliving": "killing", "unalives": "kills", "sewerslide": "suicide", "urself": "yourself",
          "urselves": "yourselves"}
# Letters and digits drawn from other blocks (fullwidth, mathematical bold/italic/script,
# circled, squared, superscript): the model's tokenizer reads them as unknown, NFKC as the
# letters they show.
# Small capitals ("ᴋɪʟʟ") have no NFKC form; "fancy text" generators use them as letters.
_SMALL_CAPS = dict(zip("ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡʏᴢ", "abcdefghijklmnopqrstuvwyz"))  # no small x
_COMPAT = re.compile("[\u00aa\u00b2\u00b3\u00b9\u00ba\u1d2c-\u1d6a\u2070-\u209f\u2160-\u217f\u2460-\u24ff"
                     "\uff10-\uff5a\U0001d400-\U0001d7ff\U0001f130-\U0001f149"
                     + "".join(_SMALL_CAPS) + "]")
_ENTITY = re.compile(r"&#([0-9]{1,7}|[xX][0-9a-fA-F]{1,6});")  # HTML's numeric character references
# Tag characters shadow printable ASCII and render as nothing, yet models read them as the
# ASCII they shadow ("ASCII smuggling"): read them so. Fillers render as a blank: a space.
_TAGS = "\U000e0020-\U000e007e"
TAGS = re.compile(f"[{_TAGS}]")  # tag characters that shadow printable ASCII
_BLANKS = {"\u2800": " ", "\u3164": " ", "\uffa0": " "}  # Braille blank, Hangul fillers
# Code escapes and percent-encoding of a letter ("\\u006bill", "%6Bill"): nothing needs a
# letter escaped, so one escaped is a sign of hiding it (read only when it is a letter or digit).
_ESCAPE = r"\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|%([0-9a-fA-F]{2})"
_HIDDEN = re.compile(f"[{_TAGS}{''.join(_BLANKS)}]")
TAG_TO_ASCII = {code: code - 0xE0000 for code in range(0xE0020, 0xE007F)}  # for str.translate
_REVEAL = {**TAG_TO_ASCII, **{ord(b): ord(" ") for b in _BLANKS}}
_FOLDABLE = re.compile(f"{_ENTITY.pattern}|{_ESCAPE}|{_COMPAT.pattern}|{_HIDDEN.pattern}")
# Emoji typed in a word's place: the tokenizer reads every emoji as unknown, so "I am going to
# 🔪 you" or "kill all ✡️" scored as harmless. Only emoji with one plain reading in a threat
# or in hate (weapons, death, faith and identity symbols, animals used to dehumanise);
# not food or hand signs, whose everyday use would read as sexual or rude.
_EMOJI_WORDS = {
    "🔪": "knife", "🗡": "dagger", "⚔": "swords", "🔫": "gun", "💣": "bomb", "🧨": "dynamite",
    "🪓": "axe", "⚰": "coffin", "🪦": "grave", "🩸": "blood", "🪢": "rope", "💊": "pills",
    "🏳️‍🌈": "gay", "🏳‍🌈": "gay", "🏳️‍⚧️": "trans", "🏳‍⚧": "trans", "✡": "jewish", "☪": "muslim",
    "✝": "christian", "🕉": "hindu", "🐒": "monkey", "🐵": "monkey", "🦍": "gorilla", "🦧": "ape",
    "🐷": "pig", "🐖": "pig", "🐀": "rat", "🐁": "rat", "🪳": "cockroach", "🐍": "snake", "🦠": "virus",
}
_EMOJI_START = frozenset(e[0] for e in _EMOJI_WORDS)  # a cheap first look
_EMOJI = re.compile("(" + "|".join(re.escape(e) for e in sorted(_EMOJI_WORDS, key=len, reverse=True))
                    + ")[\ufe0f\U0001f3fb-\U0001f3ff]*")
# Words a filter looks for, cut in two to slip past it ("ki ll", "sui-cide", "n igger"):
# two pieces that spell one of these are read as it, unless both are words themselves
# ("be heading" stays). Harm-bearing words only: a join can only raise a score.
_CUT_WORDS = frozenset("""
kill kills killed killing killer murder murdered murdering murderer stab stabbed stabbing shoot
shooting behead beheading beheaded bomb bombing bomber massacre slaughter strangle strangled torture
tortured genocide terrorist terrorism rape raped raping rapist die suicide suicidal overdose
selfharm hang hanging lynch lynching cutting nigger niggers nigga niggas faggot faggots fag fags kike
kikes spic spics chink chinks retard retards retarded tranny trannies dyke wetback raghead towelhead
nazi nazis hitler porn porno pussy dick cock penis vagina nude nudes naked fuck fucking fucked
blowjob whore whores slut sluts bitch bitches pedophile paedophile molest molested molester incest
""".split())
_CUT_STARTS = frozenset(w[:k] for w in _CUT_WORDS for k in range(1, len(w)))
_CUT_GAP = re.compile(r"[ \t]?[-.\n][ \t]?|\r\n|[ \t]")  # the longest first: " - " before " "
_CUT_FIRST = re.compile(r"(?<![\w'\u2019])[^\W\d_]{1,11}(?=[-. \t\r\n])")  # a first piece, before a gap
_PIECE = re.compile(r"[^\W\d_]{1,12}(?![^\W\d_])")
# Base64 that decodes to prose: 16 characters or more (12 bytes), unbroken.
_B64_MIN = 16
_B64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{16,}={0,2}(?![A-Za-z0-9+/=])")
# A right-to-left override shows the letters after it reversed, up to a pop or a line end.
_OVERRIDE = re.compile("\u202e([^\u202c\n]*)")
# Single letters apart by one to three separators of any mix: whitespace,
# dots, dashes, symbols, emoji (not , ; : ! ? quotes or brackets, which end words in prose,
# nor the symbols leetspeak uses as letters).
_GAP = r"(?:[\s_]|[^\w\s!?,;:\"'()@$|+\u2018\u2019\u201c\u201d\u00ab\u00bb])"
_LETTERED = re.compile(rf"(?<![\w'\u2019])(?:[^\W\d_]{_GAP}{{1,3}}){{2,}}[^\W\d_](?![^\W_])")
_SEP = ".-_*·/~"
_EDGE = "!?.,;:\"'()"  # punctuation around a word, kept as typed
_UNIT = r"(?:[^\W_]|[@$!|+])"  # a letter or digit, or a symbol leetspeak uses as a letter
_SPLIT_WORD = re.compile(rf"{_UNIT}(?:[{re.escape(_SEP)}]+{_UNIT}){{2,}}[{re.escape(_SEP)}]*")
# "!" and "|" only between lower-case letters ("sh!t"; not "hun!Feelings" with a space lost)
_LEET_INSIDE = re.compile(r"(?<=[^\W\d_])[013457890@$+]+(?=[^\W\d_])|(?<=[a-z])[!|]+(?=[a-z])"
                          r"|^\$[^\W\d_]{2}|^[013457]+[^\W\d_]{3}")
_REPEAT = re.compile(r"([^\W\dw_])\1{2,}", re.IGNORECASE)
_TRIGGERS = tuple(re.compile(p, re.IGNORECASE) for p in (  # one search each: faster than one alternation
    r"(?:(?<!\S)\S[ \t\n]){2,}\S(?!\S)",  # spaced letters (or one per line)
    _SPLIT_WORD.pattern,  # dotted or hyphenated letters
    r"[^\W\d_][013457890@$+]+[^\W\d_]|[a-z][!|]+[a-z]|(?<!\S)\$[^\W\d_]{2}|(?<!\S)[013457]+[^\W\d_]{3}",  # leetspeak
    r"([^\W\dw_])\1{2,}",  # stretched letters
    rf"\b(?:{'|'.join(_SLANG)}|sewer slide)\b",
    rf"[{_LOOKALIKE_CHARS}]",
))


def known_words(vocabulary: Iterable[str]) -> frozenset[str]:
    """The whole lower-case ASCII words of a tokenizer's vocabulary: spaced-out letters are
    cut back into them (``reading``'s ``words``)."""
    return frozenset(w for w in vocabulary if w.isascii() and w.isalpha() and w.islower())


class Reading:
    """The de-obfuscated text and, for each of its characters, the original index."""

    __slots__ = ("ends", "index", "text")

    def __init__(self, text: str, index: list[int], ends: list[int] | None = None) -> None:
        self.text = text
        self.index = index
        # Where each character's source ends: past a whole "&#107;", not one character in.
        self.ends = ends

    def end(self, k: int) -> int:
        """Where the source of the reading's character ``k`` ends in the original."""
        return self.ends[k] if self.ends is not None else self.index[k] + 1

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the reading's ``[start, end)``."""
        if end <= start:
            at = self.index[min(start, len(self.index) - 1)] if self.index else 0
            return at, at
        # min and max, not the ends: letters after a right-to-left override are reversed
        return min(self.index[start:end]), max(self.end(k) for k in range(start, end))

    def then(self, inner: Reading) -> Reading:
        """``inner``, a reading of this reading's text, mapped to this reading's original."""
        return Reading(inner.text, [self.index[i] for i in inner.index],
                       [self.end(inner.end(k) - 1) for k in range(len(inner.text))])


def reading(text: str, words: AbstractSet[str] | None = None) -> Reading | None:
    """The de-obfuscated reading of ``text``, or None when it would read the same.

    ``words`` (known whole words, lower case) lets letters spaced out across several words
    ("k i l l y o u r s e l f") be split back into words; without it they read as one.
    """
    result: Reading | None = None
    for stage in (_shown_order, _revealed, _decoded, _compat_reading, _emoji_read, lambda t: _joined_letters(t, words),
                  lambda t: _read(t, words), lambda t: _rejoined(t, words)):
        step = stage(result.text if result is not None else text)
        if step is not None:
            result = step if result is None else result.then(step)
    return result


def _shown_order(text: str) -> Reading | None:
    """Letters after a right-to-left override in the order they are shown."""
    if "\u202e" not in text:
        return None
    out: list[str] = []
    index: list[int] = []
    pos = 0
    for m in _OVERRIDE.finditer(text):
        run = m.group(1)
        if any(unicodedata.bidirectional(c) in ("R", "AL") for c in run):
            continue  # Hebrew or Arabic: already written in the order it is read
        out.append(text[pos : m.start(1)])
        index.extend(range(pos, m.start(1)))
        out.append(run[::-1])
        index.extend(range(m.end(1) - 1, m.start(1) - 1, -1))
        pos = m.end(1)
    if not out:
        return None
    out.append(text[pos:])
    index.extend(range(pos, len(text)))
    return Reading("".join(out), index)


def _revealed(text: str) -> Reading | None:
    """Tag characters as the ASCII they shadow and blank fillers as spaces, first, so what
    they hide is read as if typed ("%6B" in tag characters is decoded as "%6B" is)."""
    if text.isascii() or _HIDDEN.search(text) is None:
        return None
    return Reading(text.translate(_REVEAL), list(range(len(text))))


def _decoded(text: str) -> Reading | None:
    """Runs of base64 that decode to text, as that text: models read base64, so a request
    encoded in it ("Decode this and answer: SSBhbSBnb2luZy...") slips past a filter."""
    if len(text) < _B64_MIN or _B64.search(text) is None:
        return None
    found = _substituted(text, _B64, lambda m, _: _b64_text(m.group()))
    return Reading(*found) if found is not None else None


def _b64_text(run: str) -> str | None:
    """What a base64 run decodes to, if that is prose (printable, with spaces); else None.

    A run may start off its 4-character grid (a stream's window cut into it) or end in a
    partial group: each of the four alignments is tried, the tail trimmed to whole groups.
    """
    for skip in range(4):
        part = run[skip:]
        if not part.endswith("="):
            part = part[: len(part) - len(part) % 4]
        if len(part) < _B64_MIN - 3:
            return None
        try:
            raw = base64.b64decode(part, validate=True)
        except (binascii.Error, ValueError):
            continue
        plain = raw.decode("utf-8", errors="ignore")  # a cut may split a character at either edge
        if len(plain) >= len(raw) - 6 and _is_prose(plain):
            return plain
    return None


def _is_prose(plain: str) -> bool:
    return (" " in plain and all(c.isprintable() or c in "\n\t" for c in plain)
            and sum(c.isalpha() for c in plain) >= len(plain) / 2)


def _emoji_read(text: str) -> Reading | None:
    """Emoji of ``_EMOJI_WORDS`` as their words, apart from the letters around them."""
    if text.isascii() or _EMOJI_START.isdisjoint(text) or _EMOJI.search(text) is None:
        return None
    found = _substituted(text, _EMOJI, _emoji_word)
    return Reading(*found) if found is not None else None


def _emoji_word(m: re.Match[str], pos: int) -> str:
    """The emoji's word (past any variation selector or skin tone), spaced from letters
    and from an emoji just before it (which ends at ``pos``)."""
    text = m.string
    before = m.start() > 0 and (text[m.start() - 1].isalnum() or m.start() == pos)
    after = m.end() < len(text) and text[m.end()].isalnum()
    return (" " if before else "") + _EMOJI_WORDS[m.group(1)] + (" " if after else "")


def _compat_reading(text: str) -> Reading | None:
    compat = compat_letters(text)
    return Reading(*compat) if compat is not None else None


def compat_letters(text: str) -> tuple[str, list[int], list[int]] | None:
    """``text`` with compatibility letters as the ASCII ones they show, numeric character
    references ("&#107;") as the letters they encode, tag characters as the ASCII they
    shadow and blank fillers as spaces, with each character's original start and end;
    None when it has none of these."""
    return _substituted(text, _FOLDABLE, lambda m, _: _shown(m))


def _substituted(
    text: str, pattern: re.Pattern[str], replace: Callable[[re.Match[str], int], str | None]
) -> tuple[str, list[int], list[int]] | None:
    """``text`` with each match of ``pattern`` as ``replace(match, end of the last
    replacement)`` (None keeps the match as typed), with each character's original start
    and end: every character of a replacement spans its whole match. None if nothing is
    replaced."""
    out: list[str] = []
    index: list[int] = []
    ends: list[int] = []
    pos = 0
    for m in pattern.finditer(text):
        shown = replace(m, pos)
        if shown is None:
            continue
        out.append(text[pos : m.start()])
        index.extend(range(pos, m.start()))
        ends.extend(range(pos + 1, m.start() + 1))
        out.append(shown)
        index.extend([m.start()] * len(shown))
        ends.extend([m.end()] * len(shown))
        pos = m.end()
    if not out:
        return None
    out.append(text[pos:])
    index.extend(range(pos, len(text)))
    ends.extend(range(pos + 1, len(text) + 1))
    return "".join(out), index, ends


def _shown(m: re.Match[str]) -> str | None:
    """The ASCII letter or digit a character or reference shows, or None."""
    if len(m.group()) == 1 and ord(m.group()) in _REVEAL:  # a tag character or a blank filler
        return chr(_REVEAL[ord(m.group())])
    if m.group(1) is not None:
        code = int(m.group(1)[1:], 16) if m.group(1)[0] in "xX" else int(m.group(1))
        shown = chr(code) if code <= 0x10FFFF else ""
    elif m.lastindex is not None and m.lastindex > 1:  # \\u006b, \\x6b or %6B
        shown = chr(int(m.group(m.lastindex), 16))
        return shown if shown.isascii() and shown.isalnum() else None
    else:
        shown = m.group()
    plain = _SMALL_CAPS.get(shown) or unicodedata.normalize("NFKC", shown)
    return plain if plain.isascii() and plain.isalnum() else None


def _joined_letters(text: str, words: AbstractSet[str] | None) -> Reading | None:
    """Single letters apart by short separators of any kind joined into words.

    Word breaks: where every gap is whitespace, the gaps wider than the narrowest ("y o u
    s h o u l d" reads "you  should"); else gaps of whitespace alone, and gaps with
    whitespace that are not the run's commonest ("I k - i - l - l" reads "I kill",
    "k.i.l.l y.o.u" "kill you", "k.i-l_l" "kill"; but "k.i-l l" reads "kil l"). Breaks are kept as typed. Digits are neither letters nor
    separators here: "1.2" and "a 2.5" stay as typed. Runs one space or one separator apart are left to ``_read``,
    which also reads leetspeak in them.
    """
    if _LETTERED.search(text) is None:
        return None
    out: list[str] = []
    index: list[int] = []
    pos = 0
    for m in _LETTERED.finditer(text):
        units = [k for k in range(m.start(), m.end()) if text[k].isalpha()]
        gaps = [text[a + 1 : b] for a, b in zip(units, units[1:])]
        if len(set(gaps)) == 1 and (gaps[0] == " " or gaps[0] in _SEP):
            continue
        # Known words are cut apart only where letters are apart by whitespace alone, as
        # "k i l l y o u" is; "k.i.l.l" is one word.
        blank_run = all(g.isspace() for g in gaps)
        if blank_run:
            narrow = min(len(g) for g in gaps)
            breaks = [len(g) > narrow for g in gaps]
        else:  # whitespace alone is a break, so is whitespace in a gap not the commonest
            common = Counter(gaps).most_common(1)[0][0]
            breaks = [g.isspace() or (g != common and any(c.isspace() for c in g)) for g in gaps]
        out.append(text[pos : m.start()])
        index.extend(range(pos, m.start()))
        piece = [units[0]]
        for k, is_break in zip(units[1:], breaks):
            if is_break:
                _append_word(out, index, text, piece, words if blank_run else None)
                out.append(text[piece[-1] + 1 : k])
                index.extend(range(piece[-1] + 1, k))
                piece = []
            piece.append(k)
        _append_word(out, index, text, piece, words if blank_run else None)
        pos = m.end()
    if not out:
        return None
    out.append(text[pos:])
    index.extend(range(pos, len(text)))
    joined = "".join(out)
    return Reading(joined, index) if joined != text else None


def _append_word(out: list[str], index: list[int], text: str, letters: list[int], words: AbstractSet[str] | None) -> None:
    """The letters at ``letters`` as one word, or as known words if they spell several;
    fewer than three (as ``_read`` does) as typed."""
    if len(letters) < 3:
        out.append(text[letters[0] : letters[-1] + 1])
        index.extend(range(letters[0], letters[-1] + 1))
        return
    word = "".join(text[k] for k in letters)
    cuts = set(_segment(word.lower(), words)) if words is not None and len(word) >= 6 else set()
    for n, k in enumerate(letters):
        if n in cuts:
            out.append(" ")
            index.append(k)
        out.append(text[k])
        index.append(k)


def _rejoined(text: str, words: AbstractSet[str] | None) -> Reading | None:
    """Two pieces of a word of ``_CUT_WORDS`` cut apart by a space, hyphen, dot or line
    break joined again, unless both pieces are words (known words of three letters or
    more, or common short ones; without a vocabulary, any three letters or more)."""
    joins: list[tuple[int, int]] = []
    for a in _CUT_FIRST.finditer(text):
        if a.group().lower() not in _CUT_STARTS:
            continue
        gap = _CUT_GAP.match(text, a.end())
        b = _PIECE.match(text, gap.end()) if gap is not None else None
        if b is not None and (a.group() + b.group()).lower() in _CUT_WORDS \
                and not (_is_word(a.group(), words) and _is_word(b.group(), words)):
            if not joins or joins[-1][1] <= a.start():  # a piece joins one neighbour at most
                joins.append((a.end(), b.start()))
    if not joins:
        return None
    keep: list[int] = []
    pos = 0
    for gap_start, gap_end in joins:  # in order, apart: one pass (a text of many cuts stays linear)
        keep.extend(range(pos, gap_start))
        pos = gap_end
    keep.extend(range(pos, len(text)))
    return Reading("".join(text[k] for k in keep), keep)


_PREFIXES = frozenset("re un de ex co".split())  # "who re-runs" is not "whore-runs"


def _is_word(piece: str, words: AbstractSet[str] | None) -> bool:
    low = piece.lower()
    if len(low) < 3:
        return low in _SHORT_WORDS or low in _PREFIXES
    return words is None or low in words


def _read(text: str, words: AbstractSet[str] | None) -> Reading | None:
    if not any(t.search(text) for t in _TRIGGERS):
        return None
    tokens = [(m.start(), m.group()) for m in re.finditer(r"\S+", text)]
    merged = _merge_spaced(text, tokens, words)
    out: list[str] = []
    index: list[int] = []
    pos = 0
    for start, chars in merged:
        for i in range(pos, start):  # the whitespace between tokens, as it was
            out.append(text[i])
            index.append(i)
        word, where = _read_word(chars, words)
        out.extend(word)
        index.extend(where)
        pos = chars[-1][0] + 1 if chars else start
    for i in range(pos, len(text)):
        out.append(text[i])
        index.append(i)
    result = "".join(out)
    result, index = _phrases(result, index)
    if result == text:
        return None
    return Reading(result, index)


def _merge_spaced(
    text: str, tokens: list[tuple[int, str]], words: AbstractSet[str] | None
) -> list[tuple[int, list[tuple[int, str]]]]:
    """Tokens as (start, [(original index, char)]); runs of three or more one-character
    tokens one space apart ("k i l l") become one token (split into known words if it
    reads as several)."""
    out: list[tuple[int, list[tuple[int, str]]]] = []
    run: list[tuple[int, str]] = []

    def flush() -> None:
        if len(run) >= 3:
            chars = [(s, t) for s, t in run]
            cuts = _segment("".join(t for _, t in run).lower(), words) if words is not None and len(run) >= 6 else []
            for cut in reversed(cuts):  # a space before the word that starts at ``cut``
                chars.insert(cut, (chars[cut][0], " "))
            out.append((run[0][0], chars))
        else:
            out.extend((s, [(s + k, c) for k, c in enumerate(t)]) for s, t in run)
        run.clear()

    for start, tok in tokens:
        if len(tok) == 1 and not tok.isspace():
            if run and start != run[-1][0] + 2:  # not exactly one space after the last one
                flush()
            run.append((start, tok))
            continue
        flush()
        out.append((start, [(start + k, c) for k, c in enumerate(tok)]))
    flush()
    return out


_UNKNOWN_LETTER = 0.3  # what a letter outside the vocabulary costs, beside 1 per piece
# Words of one or two letters: a vocabulary's others ("g", "ni", "er") are word pieces.
_SHORT_WORDS = frozenset("a i am an as at be by do go he hi if in is it me my no of oh ok on or so to up "
                         "us we ya ye yo".split())


def _segment(letters: str, words: AbstractSet[str]) -> list[int]:
    """Where to cut ``letters`` into the fewest pieces, preferring known words: a piece
    costs 1, plus 0.3 a letter if the vocabulary lacks it, so a word it lacks stays whole
    between known ones ("goodniggeruser" is "good nigger user"). Of words of one or two
    letters only common ones count: a vocabulary's "g", "ni" and "er" would cut
    "n i g g e r" into "ni g g er". Empty if the best is one piece."""
    n = len(letters)
    best: list[tuple[float, int]] = [(0.0, 0)] + [(float("inf"), 0)] * n  # (cost so far, previous cut)
    for end in range(1, n + 1):
        for start in range(max(0, end - 20), end):
            word = letters[start:end]
            known = word in words and (len(word) > 2 or word in _SHORT_WORDS)
            cost = best[start][0] + 1 + (0 if known else _UNKNOWN_LETTER * len(word))
            if cost < best[end][0]:
                best[end] = (cost, start)
    cuts = []
    at = n
    while at > 0:
        at = best[at][1]
        if at:
            cuts.append(at)
    return sorted(cuts)


def _unstretch(word: str, where: list[int], words: AbstractSet[str] | None) -> tuple[str, list[int]]:
    runs: list[tuple[int, int]] = []  # (start, end) of each stretched run
    k = 0
    while k < len(word):
        j = k
        while j < len(word) and word[j] == word[k]:
            j += 1
        if j - k >= 3 and word[k].isalpha() and word[k].lower() != "w":
            runs.append((k, j))
        k = j
    choices = [tuple((m >> r) & 1 for r in range(len(runs))) for m in range(1 << min(len(runs), 4))]
    choices.sort(key=sum)
    best = None
    for choice in choices if words is not None else choices[:1]:
        keep: list[int] = []
        pos = 0
        for (a, b), two in zip(runs, tuple(choice) + (0,) * len(runs)):
            keep.extend(range(pos, a + 1 + two))
            pos = b
        keep.extend(range(pos, len(word)))
        candidate = "".join(word[i] for i in keep)
        if best is None:
            best = (candidate, [where[i] for i in keep])
        if words is not None and candidate.strip(_EDGE).lower() in words:
            return candidate, [where[i] for i in keep]
    assert best is not None
    return best


def _read_word(chars: list[tuple[int, str]], words: AbstractSet[str] | None) -> tuple[list[str], list[int]]:
    where = [i for i, _ in chars]
    word = "".join(c for _, c in chars)
    # Dotted, hyphenated or starred letters: drop the separators.
    m = _SPLIT_WORD.fullmatch(word)
    if m is not None and any(c in _SEP for c in word):
        keep = [k for k, c in enumerate(word) if c not in _SEP]
        word, where = "".join(word[k] for k in keep), [where[k] for k in keep]
    # Look-alike letters, only in a word that mixes them with Latin letters.
    if any(c in _LOOKALIKE_CHARS for c in word) and any("a" <= c.lower() <= "z" for c in word):
        word = word.translate(_LOOKALIKE)
    # Leetspeak: symbols between letters, or leading a word of letters (not trailing "!").
    core_end = len(word.rstrip("!?.,;:"))
    if _LEET_INSIDE.search(word[:core_end]):
        word = "".join(_LEET.get(c, c) if k < core_end else c for k, c in enumerate(word))
    # Stretched letters: three or more of a letter become one, or two where that makes a
    # known word ("kiiiill" -> "kill", "killlll" -> "kill").
    if _REPEAT.search(word):
        word, where = _unstretch(word, where, words)
    # Slang a filter would not read.
    bare = word.strip(_EDGE).lower()
    if bare in _SLANG:
        lead = len(word) - len(word.lstrip(_EDGE))
        tail = len(word.rstrip(_EDGE))
        repl = _SLANG[bare]
        # the first character maps to the word's start, the rest to its end: spans cover it
        new_where = where[:lead] + [where[lead]] + [where[tail - 1]] * (len(repl) - 1) + where[tail:]
        word = word[:lead] + repl + word[tail:]
        where = new_where
    return list(word), where


_SEWER_SLIDE = re.compile(r"\bsewer slide\b", re.IGNORECASE)


def _phrases(text: str, index: list[int]) -> tuple[str, list[int]]:
    if _SEWER_SLIDE.search(text) is None:
        return text, index
    out: list[str] = []
    where: list[int] = []
    pos = 0
    for m in _SEWER_SLIDE.finditer(text):  # one pass: a text of many stays linear
        out.append(text[pos : m.start()])
        where.extend(index[pos : m.start()])
        out.append("suicide")  # the first letter maps to the phrase's start, the rest to its end
        where.extend([index[m.start()]] + [index[m.end() - 1]] * 6)
        pos = m.end()
    out.append(text[pos:])
    where.extend(index[pos:])
    return "".join(out), where
