import io
import json
import subprocess
import sys

import pytest

from guardrail.cli import main


@pytest.fixture
def store(request, tmp_path):
    """A SQLite file, or with ``indirect`` parametrization "postgres", a PostgreSQL URL."""
    if getattr(request, "param", "sqlite") == "postgres":
        return request.getfixturevalue("postgres_url")
    return str(tmp_path / "cli.sqlite3")


on_each_store = pytest.mark.parametrize("store", ["sqlite", "postgres"], indirect=True)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def make_policy(tmp_path):
    p = tmp_path / "policy.toml"
    p.write_text(
        'harm = {}\n[prompt]\nblocklists = ["bad"]\n'
        '[completion]\nblocklists = [{name = "bad", action = "redact"}]\n'
    )
    return str(p)


@on_each_store
def test_blocklist_commands_roundtrip(capsys, store, tmp_path):
    assert run(capsys, "--store", store, "blocklist", "create", "bad", "-d", "bad words")[0] == 0
    code, out, _ = run(capsys, "--store", store, "blocklist", "add", "bad", "darn", "heck")
    assert code == 0 and "2 item(s) added" in out
    terms = tmp_path / "terms.txt"
    terms.write_text("drat\n\nblast\n")
    assert run(capsys, "--store", store, "blocklist", "add", "bad", "--file", str(terms))[0] == 0
    jl = tmp_path / "terms.jsonl"
    jl.write_text('{"text": "x\\\\d+y", "isRegex": true, "description": "pattern"}\n')
    assert run(capsys, "--store", store, "blocklist", "add", "bad", "--file", str(jl))[0] == 0

    code, out, _ = run(capsys, "--store", store, "blocklist", "list")
    assert "bad" in out and " 5 " in out
    code, out, _ = run(capsys, "--store", store, "blocklist", "show", "bad", "--json")
    data = json.loads(out)
    assert data["blocklistName"] == "bad"
    assert [i["text"] for i in data["blocklistItems"]] == ["darn", "heck", "drat", "blast", "x\\d+y"]
    first_id = data["blocklistItems"][0]["blocklistItemId"]

    assert run(capsys, "--store", store, "blocklist", "remove", "bad", first_id)[0] == 0
    code, out, _ = run(capsys, "--store", store, "blocklist", "show", "bad")
    assert "darn" not in out and "heck" in out
    assert run(capsys, "--store", store, "blocklist", "delete", "bad")[0] == 0
    code, _, err = run(capsys, "--store", store, "blocklist", "show", "bad")
    assert code == 2 and "no blocklist named 'bad'" in err


def test_blocklist_bad_input_exits_2_with_message(capsys, store, tmp_path):
    code, _, err = run(capsys, "--store", store, "blocklist", "add", "nope", "x")
    assert code == 2 and "create it with" in err
    run(capsys, "--store", store, "blocklist", "create", "l")
    code, _, err = run(capsys, "--store", store, "blocklist", "remove", "l", "no-such-id")
    assert code == 2 and "no-such-id" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"text": \n')
    code, _, err = run(capsys, "--store", store, "blocklist", "add", "l", "--file", str(bad))
    assert code == 2 and "line 2" in err
    code, out, _ = run(capsys, "--store", store, "blocklist", "show", "l")
    assert "0 items" in out  # nothing half-written


@on_each_store
def test_check_exit_codes_table_and_json(capsys, store, tmp_path):
    policy = make_policy(tmp_path)
    run(capsys, "--store", store, "blocklist", "create", "bad")
    run(capsys, "--store", store, "blocklist", "add", "bad", "darn")

    code, out, _ = run(capsys, "--store", store, "check", "--policy", policy, "all fine")
    assert code == 0 and "allowed" in out
    code, out, _ = run(capsys, "--store", store, "check", "--policy", policy, "oh darn it")
    assert code == 1 and "blocked" in out and "blocklist:bad[3:7]" in out
    code, out, _ = run(
        capsys, "--store", store, "check", "--completion", "--policy", policy, "--json", "oh darn it"
    )
    assert code == 0
    verdict = json.loads(out)
    assert verdict["decision"] == "redacted" and verdict["text"] == "oh **** it"

    jl = tmp_path / "in.jsonl"
    jl.write_text('{"text": "fine"}\n{"text": "darn"}\n{"text": "also fine", "id": 3}\n')
    code, out, _ = run(capsys, "--store", store, "check", "--policy", policy, "--file", str(jl), "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and [v["decision"] for v in lines] == ["allowed", "blocked", "allowed"]


def test_check_reads_stdin(capsys, store, tmp_path, monkeypatch):
    policy = make_policy(tmp_path)
    run(capsys, "--store", store, "blocklist", "create", "bad")
    run(capsys, "--store", store, "blocklist", "add", "bad", "darn")
    monkeypatch.setattr(sys, "stdin", io.StringIO("well darn\n"))
    code, out, _ = run(capsys, "--store", store, "check", "--policy", policy, "--json")
    assert code == 1 and json.loads(out)["decision"] == "blocked"


@pytest.mark.parametrize(
    "argv,message",
    [
        (["check", "--file", "{missing}"], "cannot read"),
        (["check", "--policy", "{bad_policy}", "text"], "prompt.harm.Hat"),
        (["check", "--file", "{no_text}"], "line 1: needs a string field 'text'"),
        (["check", "--file", "{malformed}"], "line 2: not valid JSON"),
        (["check", ""], "empty"),
    ],
)
def test_check_usage_errors_exit_2(capsys, store, tmp_path, argv, message):
    (tmp_path / "bad.toml").write_text("[prompt.harm]\nHat = 4\n")
    (tmp_path / "no_text.jsonl").write_text('{"prompt": "x"}\n')
    (tmp_path / "malformed.jsonl").write_text('{"text": "x"}\nnot json\n')
    paths = {
        "missing": str(tmp_path / "missing.jsonl"),
        "bad_policy": str(tmp_path / "bad.toml"),
        "no_text": str(tmp_path / "no_text.jsonl"),
        "malformed": str(tmp_path / "malformed.jsonl"),
    }
    argv = [a.format(**paths) for a in argv]
    code, out, err = run(capsys, "--store", store, *argv)
    assert code == 2 and message in err and out == ""


def test_argparse_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["check", "--no-such-flag"])
    assert info.value.code == 2


def test_demo_runs_offline_and_shows_every_outcome(capsys):
    code, out, _ = run(capsys, "demo")
    assert code == 0
    for word in ("ALLOWED", "BLOCKED", "REDACTED", "(flagged)"):
        assert word in out
    assert "Project Aurora" not in out.split("assistant:", 3)[-1].split("\n")[0]
    assert "******* ****** ships in May" in out
    assert "incident:crypto-giveaway" in out  # a paraphrase of the incident's samples is blocked
    # the harm model: a process question passes, a request to hurt someone is blocked
    turns = out.split("\n\n")
    kill = next(t for t in turns if "kill a Python process" in t)
    hurt = next(t for t in turns if "hurt my neighbour" in t)
    assert "prompt:    ALLOWED" in kill
    assert "prompt:    BLOCKED" in hurt and "harm:Violence=" in hurt


def test_console_script_and_module_entry_point(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "guardrail", "--help"], capture_output=True, text=True, check=True
    )
    assert "check" in out.stdout and "blocklist" in out.stdout and "demo" in out.stdout


def test_options_after_positionals_and_global_options_after_the_command(tmp_path, capsys):
    from guardrail.cli import main

    store = str(tmp_path / "s.sqlite3")
    assert main(["blocklist", "create", "codes", "--store", store]) == 0
    assert main(["blocklist", "add", "codes", "--regex", "sk-[a-z]+", "--store", store]) == 0
    assert main(["blocklist", "add", "codes", "Aurora", "--description", "name", "--store", store]) == 0
    capsys.readouterr()
    assert main(["blocklist", "show", "codes", "--json", "--store", store]) == 0
    items = json.loads(capsys.readouterr().out)["blocklistItems"]
    assert {(i["text"], i["isRegex"]) for i in items} == {("sk-[a-z]+", True), ("Aurora", False)}


def test_bad_utf8_is_checked_as_replacement_characters_or_refused_for_terms(tmp_path):
    import subprocess
    import sys

    store = str(tmp_path / "s.sqlite3")
    cli = [sys.executable, "-m", "guardrail", "--store", store]
    subprocess.run([*cli, "blocklist", "create", "codes"], check=True, capture_output=True)
    subprocess.run([*cli, "blocklist", "add", "codes", "grapefruit"], check=True, capture_output=True)
    done = subprocess.run([*cli, "check", "--policy", str(_policy(tmp_path))], input=b"a grapefruit \xff\xfe",
                          capture_output=True)
    assert done.returncode == 1 and b"Traceback" not in done.stderr  # checked, and blocked
    done = subprocess.run([*cli, "analyze"], input=b"hello \xff", capture_output=True)
    assert done.returncode == 0 and b"Traceback" not in done.stderr
    bad = tmp_path / "terms.txt"
    bad.write_bytes(b"ok term\nbad \xff term\n")
    done = subprocess.run([*cli, "blocklist", "add", "codes", "--file", str(bad)], capture_output=True, text=True)
    assert done.returncode == 2 and "not UTF-8" in done.stderr and "Traceback" not in done.stderr


def _policy(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text('blocklists = ["codes"]\n[prompt.harm]\n')
    return path
