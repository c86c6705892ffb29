import pytest
from pydantic import ValidationError

from guardrail import Decision, Direction, Finding, FindingKind, Span, Verdict, to_four_levels


@pytest.mark.parametrize(
    "eight,four", [(0, 0), (1, 0), (2, 2), (3, 2), (4, 4), (5, 4), (6, 6), (7, 6)]
)
def test_eight_levels_map_onto_four(eight, four):
    assert to_four_levels(eight) == four


@pytest.mark.parametrize("bad", [-1, 8])
def test_severity_outside_scale_is_rejected(bad):
    with pytest.raises(ValueError):
        to_four_levels(bad)


def test_span_must_be_ordered():
    assert Span(start=2, end=5).length == 3
    with pytest.raises(ValidationError):
        Span(start=5, end=2)


def test_verdict_is_frozen_and_serializes_to_json():
    f = Finding(kind=FindingKind.BLOCKLIST, name="slurs", span=Span(start=0, end=3), item_id="1")
    v = Verdict(
        direction=Direction.PROMPT, decision=Decision.REDACTED, text="*** ok", findings=(f,),
        triggered=(f,),
    )
    assert v.redacted and not v.blocked and not v.allowed
    assert "redacted" in repr(v) and "blocklist:slurs[0:3]" in repr(v)
    data = v.to_json_dict()
    assert data["decision"] == "redacted"
    assert data["findings"][0]["span"] == {"start": 0, "end": 3}
    with pytest.raises(ValidationError):
        v.text = "changed"  # type: ignore[misc]
