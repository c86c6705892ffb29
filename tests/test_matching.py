import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardrail._matching import Term, TermMatcher, fold


def found(matcher, text):
    return [(m.term.key, text[m.start : m.end]) for m in matcher.find(text)]


@pytest.fixture
def matcher():
    return TermMatcher(
        [
            Term("ass", "ass"),
            Term("aurora", "Project Aurora"),
            Term("naive", "naïve"),
            Term("tokyo", "東京"),
            Term("phone", r"\d{3}-\d{4}", is_regex=True),
            Term("at", "@admin"),
        ]
    )


def test_word_boundaries(matcher):
    assert found(matcher, "a class act, assess the bass") == []
    assert found(matcher, "you ass!") == [("ass", "ass")]
    assert found(matcher, "ass") == [("ass", "ass")]
    assert found(matcher, "_ass") == []


def test_case_width_and_compatibility_forms_fold(matcher):
    assert found(matcher, "PROJECT AURORA") == [("aurora", "PROJECT AURORA")]
    text = "ｐｒｏｊｅｃｔ ａｕｒｏｒａ and ＡＳＳ"
    assert found(matcher, text) == [("aurora", "ｐｒｏｊｅｃｔ ａｕｒｏｒａ"), ("ass", "ＡＳＳ")]


def test_offsets_point_into_the_original_text(matcher):
    # Decomposed ï (i + combining diaeresis) folds to one character: the span covers both.
    text = "so nai\u0308ve, so ass"
    assert found(matcher, text) == [("naive", "nai\u0308ve"), ("ass", "ass")]
    # Invisible characters cannot split a term, and the span covers them.
    text = "a\u200bs\u00ads here"
    assert found(matcher, text) == [("ass", "a\u200bs\u00ads")]
    # Ligatures expand when folded; later offsets still land right.
    text = "ﬁﬁ ass"
    assert found(matcher, text) == [("ass", "ass")]


def test_whitespace_runs_and_newlines_match_single_spaces(matcher):
    text = "see project \n\t  aurora now, then\n\nass"
    assert found(matcher, text) == [("aurora", "project \n\t  aurora"), ("ass", "ass")]


def test_scripts_without_spaces_need_no_boundary(matcher):
    assert found(matcher, "私は東京に住む") == [("tokyo", "東京")]


def test_regex_items_and_non_word_edges(matcher):
    assert found(matcher, "call 555-1234 now") == [("phone", "555-1234")]
    assert found(matcher, "ping x@admin now") == [("at", "@admin")]


def test_overlapping_and_duplicate_terms_all_reported():
    m = TermMatcher([Term("a", "bad word"), Term("b", "word"), Term("c", "BAD WORD")])
    assert sorted(found(m, "a bad word")) == [("a", "bad word"), ("b", "word"), ("c", "bad word")]


def test_empty_matcher_and_fold():
    assert TermMatcher([]).find("anything") == []
    assert fold("  Hello\n\tWORLD ") == "hello world"


def hidden(text):
    """``text`` in Unicode tag characters: invisible, but a model reads them as ASCII.
    Only printable ASCII has a tag character; the rest stays as typed."""
    return "".join(chr(0xE0000 + ord(c)) if " " <= c <= "~" else c for c in text)


def test_terms_hidden_in_tag_characters_are_found(matcher):
    text = "please " + hidden("project aurora") + " now"
    assert found(matcher, text) == [("aurora", hidden("project aurora"))]
    # tags splitting a term still read as nothing: the term is found through them too
    assert found(matcher, "a" + hidden("  ") + "ss") == [("ass", "a" + hidden("  ") + "ss")]
    assert found(matcher, "x" + hidden("ass")) == []  # "xass" is one word


@given(st.lists(st.sampled_from(["ass", "bass", "as", "s", "a", " ", "!", "\n"]), max_size=12).map("".join),
       st.integers(0, 40), st.integers(0, 40))
def test_a_term_found_in_plain_text_is_found_with_any_part_hidden(text, a, b):
    # a model reads the hidden part as the text; a person sees it as nothing (so a hidden
    # space can join a term, which is found too)
    matcher = TermMatcher([Term("ass", "ass")])
    a, b = sorted((min(a, len(text)), min(b, len(text))))
    typed = text[:a] + hidden(text[a:b]) + text[b:]
    assert {(m.start, m.end) for m in matcher.find(text)} <= {(m.start, m.end) for m in matcher.find(typed)}
