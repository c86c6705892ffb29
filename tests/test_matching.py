import pytest

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
