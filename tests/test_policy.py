import json

import pytest

from guardrail import Action, FailMode, HarmCategory, OutputType, Policy, PolicyError


def test_default_policy_blocks_medium_harm_and_fails_closed():
    p = Policy()
    for direction in (p.prompt, p.completion):
        assert {c: r.threshold for c, r in direction.harm.items()} == {c: 4 for c in HarmCategory}
        assert direction.fail_mode is FailMode.CLOSED
        assert direction.output_type is OutputType.FOUR_SEVERITY_LEVELS
    assert p.prompt.refusal != p.completion.refusal
    # The completion keeps its own refusal when only other keys are given.
    q = Policy.from_dict({"harm": {}, "completion": {"timeout": 1}})
    assert q.completion.refusal == p.completion.refusal != q.prompt.refusal
    assert Policy.from_dict({"refusal": "No."}).completion.refusal == "No."


def test_shared_keys_apply_to_both_directions_and_directions_override():
    p = Policy.from_dict(
        {
            "blocklists": ["slurs", {"name": "codes", "action": "redact"}],
            "timeout": 1.5,
            "completion": {"fail_mode": "open", "harm": {"Violence": 6}},
        }
    )
    assert [r.name for r in p.prompt.blocklists] == ["slurs", "codes"]
    assert p.prompt.blocklists[1].action is Action.REDACT
    assert p.completion.timeout == 1.5 and p.completion.fail_mode is FailMode.OPEN
    assert p.prompt.fail_mode is FailMode.CLOSED
    assert list(p.completion.harm) == [HarmCategory.VIOLENCE]
    assert p.completion.harm[HarmCategory.VIOLENCE].threshold == 6


TOML = """
refusal = "No."
[prompt]
blocklists = ["slurs"]
incidents = [{name = "scam-wave", threshold = 0.8}]
custom_categories = [{name = "crypto-spam", version = 2, action = "flag"}]
[prompt.harm]
Hate = 2
SelfHarm = {threshold = 4, action = "flag"}
[completion]
timeout = 0.5
"""


def test_loads_toml_yaml_and_json_files(tmp_path):
    toml_file = tmp_path / "p.toml"
    toml_file.write_text(TOML)
    p = Policy.from_file(toml_file)
    assert p.prompt.refusal == "No." == p.completion.refusal
    assert p.prompt.harm[HarmCategory.SELF_HARM].action is Action.FLAG
    assert p.prompt.incidents[0].threshold == 0.8
    assert p.prompt.custom_categories[0].version == 2
    assert p.completion.timeout == 0.5

    yaml_file = tmp_path / "p.yaml"
    yaml_file.write_text("prompt:\n  blocklists: [slurs]\n  harm: {Violence: 5}\n")
    assert Policy.from_file(yaml_file).prompt.blocklists[0].name == "slurs"

    json_file = tmp_path / "p.json"
    json_file.write_text(json.dumps({"completion": {"fail_mode": "open"}}))
    assert Policy.from_file(json_file).completion.fail_mode is FailMode.OPEN


@pytest.mark.parametrize(
    "data,field",
    [
        ({"prompt": {"harm": {"Hat": 4}}}, "prompt.harm.Hat"),
        ({"prompt": {"harm": {"Hate": 9}}}, "prompt.harm.Hate.threshold"),
        ({"completion": {"fail_mode": "ajar"}}, "completion.fail_mode"),
        ({"prompt": {"timeout": -1}}, "prompt.timeout"),
        ({"prompt": {"blocklists": [{"name": "x", "action": "explode"}]}}, "prompt.blocklists.0.action"),
        ({"prompt": {"colour": "red"}}, "prompt.colour"),
        ({"promt": {}}, "promt"),
        ({"blocklists": ["a", "a"]}, "blocklists lists a more than once"),
    ],
)
def test_invalid_policy_names_the_field(data, field):
    with pytest.raises(PolicyError) as info:
        Policy.from_dict(data)
    assert field in str(info.value)


def test_unreadable_or_unknown_policy_files_are_policy_errors(tmp_path):
    with pytest.raises(PolicyError, match="cannot read"):
        Policy.from_file(tmp_path / "missing.toml")
    bad = tmp_path / "p.toml"
    bad.write_text("prompt = [")
    with pytest.raises(PolicyError, match="not valid TOML"):
        Policy.from_file(bad)
    other = tmp_path / "p.ini"
    other.write_text("")
    with pytest.raises(PolicyError, match=r"\.toml, \.yaml"):
        Policy.from_file(other)
    with pytest.raises(PolicyError, match="mapping"):
        Policy.coerce(42)  # type: ignore[arg-type]
