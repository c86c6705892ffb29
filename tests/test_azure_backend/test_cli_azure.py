import json

import pytest
import respx

from guardrail.cli import main

from .conftest import BASE, ENDPOINT, KEY, ok


@pytest.fixture
def azure_env(monkeypatch):
    monkeypatch.setenv("AZURE_CONTENT_SAFETY_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("AZURE_CONTENT_SAFETY_KEY", KEY)


def test_check_and_blocklists_through_azure(azure_env, capsys, tmp_path):
    policy = tmp_path / "p.toml"
    policy.write_text('blocklists = ["codes"]\n[prompt.harm]\nViolence = 4\n')
    with respx.mock(base_url=BASE) as router:
        router.post("/text:analyze").mock(return_value=ok({
            "categoriesAnalysis": [{"category": "Violence", "severity": 2}],
            "blocklistsMatch": [{"blocklistName": "codes", "blocklistItemId": "1", "blocklistItemText": "aurora"}]}))
        code = main(["--backend", "azure", "check", "--policy", str(policy), "--json", "about aurora"])
        out = capsys.readouterr().out
        assert code == 1
        verdict = json.loads(out)
        assert verdict["backend"] == "azure" and verdict["decision"] == "blocked"

        router.patch("/text/blocklists/codes").mock(return_value=ok({"blocklistName": "codes"}))
        assert main(["--backend", "azure", "blocklist", "create", "codes"]) == 0
        router.post("/text/blocklists/codes:addOrUpdateBlocklistItems").mock(return_value=ok(
            {"blocklistItems": [{"blocklistItemId": "1", "text": "aurora"}]}))
        assert main(["--backend", "azure", "blocklist", "add", "codes", "aurora"]) == 0
        router.get("/text/blocklists").mock(return_value=ok({"value": [{"blocklistName": "codes"}]}))
        router.get("/text/blocklists/codes/blocklistItems").mock(return_value=ok({"value": []}))
        assert main(["--backend", "azure", "blocklist", "list"]) == 0
        assert "codes" in capsys.readouterr().out


def test_azure_backend_without_configuration_is_a_usage_error(capsys):
    code = main(["--backend", "azure", "check", "hello"])
    assert code == 2 and "AZURE_CONTENT_SAFETY_ENDPOINT" in capsys.readouterr().err
