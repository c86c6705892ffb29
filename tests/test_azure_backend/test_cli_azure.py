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


def test_incident_and_category_commands_through_azure(azure_env, capsys, tmp_path):
    with respx.mock(base_url=BASE) as router:
        router.patch("/text/incidents/scam").mock(return_value=ok({"incidentName": "scam", "description": "d"}))
        assert main(["--backend", "azure", "incident", "create", "scam", "-d", "d"]) == 0
        router.post("/text/incidents/scam:deploy").mock(return_value=ok({"id": "op", "status": "Succeeded"}, 202))
        assert main(["--backend", "azure", "incident", "deploy", "scam"]) == 0
        router.post("/text:detectIncidents").mock(return_value=ok({"incidentMatches": [{"incidentName": "scam"}]}))
        assert main(["--backend", "azure", "incident", "detect", "scam", "send btc"]) == 1
        assert "HIT scam" in capsys.readouterr().out
        code = main(["--backend", "azure", "category", "create", "spam", "-d", "d", "--samples", str(tmp_path / "x.jsonl")])
        assert code == 2 and "samples from a blob" in capsys.readouterr().err
        router.put("/text/categories/spam").mock(return_value=ok(
            {"categoryName": "spam", "definition": "d", "version": 3, "status": "BuildNotStarted"}))
        assert main(["--backend", "azure", "category", "create", "spam", "-d", "d", "--samples", "https://b/s.jsonl"]) == 0
        assert "version 3 created" in capsys.readouterr().out
