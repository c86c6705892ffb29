"""Language awareness: a verdict says which language it read and whether harm scores are
trusted in it; policies set per-language thresholds and what to do with other languages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardrail import FindingKind, Guard, PolicyError
from guardrail._language import CANDIDATES, MIN_CONFIDENCE, detect

# Ordinary requests, written for these tests, one per language.
AUTHORED = {
    "en": "Could you help me plan a birthday dinner for eight people this weekend?",
    "es": "¿Me ayudas a planear una cena de cumpleaños para ocho personas este fin de semana?",
    "fr": "Peux-tu m'aider à organiser un dîner d'anniversaire pour huit personnes ce week-end ?",
    "de": "Kannst du mir helfen, ein Geburtstagsessen für acht Personen am Wochenende zu planen?",
    "it": "Puoi aiutarmi a organizzare una cena di compleanno per otto persone questo fine settimana?",
    "pt": "Você pode me ajudar a planejar um jantar de aniversário para oito pessoas neste fim de semana?",
    "nl": "Kun je me helpen een verjaardagsdiner voor acht mensen te plannen dit weekend?",
    "pl": "Czy możesz pomóc mi zaplanować kolację urodzinową dla ośmiu osób w ten weekend?",
    "zh": "你能帮我计划这个周末八个人的生日晚餐吗？我想做几道家常菜。",
    "ar": "هل يمكنك مساعدتي في التخطيط لعشاء عيد ميلاد لثمانية أشخاص في عطلة نهاية هذا الأسبوع؟",
    "hi": "क्या आप इस सप्ताहांत आठ लोगों के लिए जन्मदिन के खाने की योजना बनाने में मेरी मदद कर सकते हैं?",
    "ru": "Можешь помочь мне спланировать праздничный ужин на восемь человек в эти выходные?",
}


@pytest.mark.parametrize("code", sorted(AUTHORED))
def test_the_language_of_ordinary_requests_is_told(code):
    found = detect(AUTHORED[code])
    assert found is not None and found.code == code


@pytest.mark.parametrize("text", ["ok", "lol", "u r dumb", "👍👍👍", "12345 67890", ""])
def test_too_little_text_is_undetermined(text):
    assert detect(text) is None


@given(st.text(max_size=300))
def test_detection_never_fails_and_answers_a_candidate_or_nothing(text):
    found = detect(text)
    assert found is None or (found.code in CANDIDATES and found.confidence >= MIN_CONFIDENCE)


def test_the_local_default_flags_text_its_harm_model_cannot_read():
    guard = Guard()
    english = guard.check_prompt_sync(AUTHORED["en"])
    assert english.language == "en" and english.allowed and not english.flagged
    for code in ("es", "zh", "ar"):
        verdict = guard.check_prompt_sync(AUTHORED[code])
        assert verdict.language == code
        assert verdict.allowed and verdict.flagged  # not blocked, but not a silent pass either
        assert [(f.kind, f.name) for f in verdict.findings if f.kind is FindingKind.LANGUAGE] == [
            (FindingKind.LANGUAGE, code)]


def test_a_policy_can_trust_more_languages_block_or_allow_the_rest():
    trusted = Guard({"prompt": {"languages": ["en", "es"], "unsupported_language": "block"}})
    assert not trusted.check_prompt_sync(AUTHORED["es"]).flagged
    blocked = trusted.check_prompt_sync(AUTHORED["de"])
    assert blocked.blocked and "language:de" in (blocked.reason or "")
    quiet = Guard({"prompt": {"unsupported_language": "allow"}})
    verdict = quiet.check_prompt_sync(AUTHORED["fr"])
    assert verdict.allowed and not verdict.flagged and verdict.language == "fr"


def test_no_language_rule_without_a_harm_check():
    guard = Guard({"harm": {}})
    verdict = guard.check_prompt_sync(AUTHORED["es"])
    assert verdict.language is None and not verdict.flagged and not verdict.findings


def test_per_language_thresholds_apply_to_texts_in_that_language():
    fine = {"output_type": "EightSeverityLevels", "harm": {"Violence": 1}}
    probe = Guard({"prompt": fine})
    texts = ["He punched the wall in anger and broke his hand.",
             "The soldiers fought all night and many were wounded.",
             "I am going to find you tonight and stab you until you stop breathing."]
    text, severity = next((t, v) for t in texts
                          for v in [next((f.severity for f in probe.check_prompt_sync(t).findings
                                          if f.name == "Violence"), 0)] if 1 <= v <= 6)
    assert probe.check_prompt_sync(text).language == "en"

    def guard(rule):
        return Guard({"prompt": {"output_type": "EightSeverityLevels", "harm": {"Violence": rule}}})

    assert guard(severity + 1).check_prompt_sync(text).allowed
    assert guard({"threshold": severity + 1, "languages": {"en": severity}}).check_prompt_sync(text).blocked
    assert guard({"threshold": severity + 1, "languages": {"es": severity}}).check_prompt_sync(text).allowed
    assert guard({"threshold": severity, "languages": {"en": severity + 1}}).check_prompt_sync(text).allowed


@pytest.mark.parametrize("prompt", [
    {"languages": ["english"]},
    {"languages": ["EN"]},
    {"unsupported_language": "ignore"},
    {"harm": {"Hate": {"threshold": 4, "languages": {"es": 9}}}},
    {"harm": {"Hate": {"threshold": 4, "languages": {"spanish!": 3}}}},
])
def test_bad_language_rules_are_refused_with_the_field_named(prompt):
    with pytest.raises(PolicyError, match="prompt"):
        Guard({"prompt": prompt})


async def test_a_stream_in_another_language_is_flagged():
    guard = Guard()
    f = guard.stream_filter("completion")
    out = [await f.push(AUTHORED["es"][i:i + 9]) for i in range(0, len(AUTHORED["es"]), 9)]
    out.append(await f.close())
    assert "".join(out) == AUTHORED["es"]
    assert f.verdict.flagged


@pytest.mark.parametrize("text, code", [("我想学做饭，有什么建议", "zh"), ("요리를 배우고 싶어요", "ko"),
                                        ("料理を習いたいです", "ja")])
def test_a_short_text_in_a_dense_script_is_told(text, code):
    # Twelve letters of English say little; ten Chinese characters say a sentence.
    found = detect(text)
    assert found is not None and found.code == code
