import json

from PIL import Image

from guardrail.cli import main

SCAM = ["Send 1 BTC to this address and get 2 BTC back, limited time offer!",
        "Elon Musk is giving away free bitcoin, just send yours first and it will be doubled"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_incident_commands(capsys, tmp_path):
    store = ["--store", str(tmp_path / "s.sqlite3")]
    assert run(capsys, *store, "incident", "create", "scam", "-d", "crypto", "--threshold", "0.7")[0] == 0
    f = tmp_path / "samples.jsonl"
    f.write_text("".join(json.dumps({"text": t}) + "\n" for t in SCAM))
    code, out, _ = run(capsys, *store, "incident", "add-samples", "scam", "--file", str(f))
    assert code == 0 and "2 sample(s) added" in out
    first_id = out.splitlines()[0]
    code, _, err = run(capsys, *store, "incident", "detect", "scam", "send btc")
    assert code == 2 and "not deployed" in err
    assert run(capsys, *store, "incident", "deploy", "scam")[0] == 0
    code, out, _ = run(capsys, *store, "incident", "detect", "scam", "Send me 1 BTC and get 2 BTC back!")
    assert code == 1 and "HIT scam" in out
    code, out, _ = run(capsys, *store, "incident", "detect", "--json", "scam", "I like pancakes")
    assert code == 0 and json.loads(out)["incidentMatches"][0]["detected"] is False
    q = tmp_path / "q.jsonl"
    q.write_text('{"text": "free bitcoin, send yours first to get it doubled"}\n{"text": "nice weather"}\n')
    code, out, _ = run(capsys, *store, "incident", "detect", "scam", "--file", str(q))
    assert code == 1 and out.splitlines()[0].startswith("1: HIT") and "2: no incident" in out
    code, out, _ = run(capsys, *store, "incident", "show", "scam", "--json")
    shown = json.loads(out)
    assert len(shown["incidentSamples"]) == 2 and shown["threshold"] == 0.7
    assert run(capsys, *store, "incident", "remove-samples", "scam", first_id)[0] == 0
    code, out, _ = run(capsys, *store, "incident", "list")
    assert "scam" in out
    assert run(capsys, *store, "incident", "delete", "scam")[0] == 0
    code, _, err = run(capsys, *store, "incident", "show", "scam")
    assert code == 2 and "no text incident" in err


def test_image_incident_commands(capsys, tmp_path):
    store = ["--store", str(tmp_path / "s.sqlite3")]
    img = Image.new("RGB", (200, 150), (20, 40, 200))
    for i in range(5):
        img.paste((200 - 30 * i, 30 * i, 100), (20 * i, 10 * i, 20 * i + 60, 10 * i + 40))
    path = tmp_path / "meme.png"
    img.save(path)
    run(capsys, *store, "incident", "create", "memes", "--image")
    f = tmp_path / "imgs.jsonl"
    f.write_text(json.dumps({"image": str(path)}) + "\n")
    assert run(capsys, *store, "incident", "add-samples", "memes", "--file", str(f))[0] == 0
    run(capsys, *store, "incident", "deploy", "memes", "--image")
    copy = tmp_path / "copy.jpg"
    img.save(copy, "JPEG", quality=50)
    code, out, _ = run(capsys, *store, "incident", "detect", "memes", "--image", str(copy))
    assert code == 1 and "HIT memes" in out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a"}\n{"image": "x"}\n')
    code, _, err = run(capsys, *store, "incident", "add-samples", "memes", "--file", str(bad))
    assert code == 2 and "mixes text and image" in err


def test_category_commands(capsys, tmp_path):
    store = ["--store", str(tmp_path / "s.sqlite3")]
    f = tmp_path / "c.jsonl"
    rows = [{"text": "Click here to claim your free prize now!", "isPositive": True},
            {"text": "Earn $5000 a week from home, no skills needed", "isPositive": True},
            {"text": "The meeting moved to Tuesday.", "isPositive": False},
            {"text": "Please review the attached report.", "isPositive": False}] * 5
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out, _ = run(capsys, *store, "category", "create", "spam", "-d", "spam", "--samples", str(f))
    assert code == 0 and "version 1 created" in out and "warning: only 10 positive" in out
    code, _, err = run(capsys, *store, "category", "analyze", "spam:1", "free prize!")
    assert code == 2 and "not built" in err
    code, out, _ = run(capsys, *store, "category", "build", "spam", "--wait")
    assert code == 0 and "Succeeded" in out
    code, out, _ = run(capsys, *store, "category", "analyze", "--json", "spam", "Claim your free prize, click now!")
    assert code == 1 and json.loads(out)["customizedCategoriesAnalysis"][0]["detected"] is True
    code, out, _ = run(capsys, *store, "category", "analyze", "spam:1", "See you at lunch tomorrow.")
    assert code == 0 and "spam v1=no" in out
    code, out, _ = run(capsys, *store, "category", "show", "spam")
    assert "spam v1: Succeeded" in out
    assert "spam" in run(capsys, *store, "category", "list")[1]
    assert run(capsys, *store, "category", "delete", "spam", "--version", "1")[0] == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "isPositive": true}\n{oops\n')
    code, _, err = run(capsys, *store, "category", "create", "b", "-d", "d", "--samples", str(bad))
    assert code == 2 and "line 2" in err


def test_remaining_flags(capsys, tmp_path):
    store = ["--backend", "local", "--store", str(tmp_path / "s.sqlite3")]
    run(capsys, *store, "blocklist", "create", "keys")
    assert run(capsys, *store, "blocklist", "add", "--regex", "keys", r"sk-[a-z0-9]{6,}")[0] == 0
    policy = tmp_path / "p.toml"
    policy.write_text('harm = {}\nblocklists = ["keys"]\n')
    code, out, _ = run(capsys, *store, "check", "--policy", str(policy), "my key is sk-abc123xyz")
    assert code == 1 and "blocklist:keys" in out
    run(capsys, *store, "incident", "create", "x")
    code, out, _ = run(capsys, *store, "incident", "list", "--json")
    assert json.loads(out)["incidentName"] == "x"
    f = tmp_path / "c.jsonl"
    f.write_text("".join(json.dumps({"text": f"buy now {i}", "isPositive": i % 2 == 0}) + "\n" for i in range(10)))
    run(capsys, *store, "category", "create", "c", "-d", "d", "--samples", str(f))
    code, out, _ = run(capsys, *store, "category", "show", "c", "--version", "1", "--json")
    assert json.loads(out)["version"] == 1
    code, out, _ = run(capsys, *store, "category", "list", "--json")
    assert json.loads(out)["categoryName"] == "c"


def test_updates_without_description_keep_it(capsys, tmp_path):
    store = ["--store", str(tmp_path / "s.sqlite3")]
    assert run(capsys, *store, "blocklist", "create", "codes", "-d", "internal names")[0] == 0
    assert run(capsys, *store, "blocklist", "create", "codes")[0] == 0
    assert "internal names" in run(capsys, *store, "blocklist", "show", "codes")[1]
    assert run(capsys, *store, "incident", "create", "scam", "-d", "crypto wave")[0] == 0
    assert run(capsys, *store, "incident", "create", "scam", "--threshold", "0.8")[0] == 0
    shown = json.loads(run(capsys, *store, "incident", "show", "scam", "--json")[1])
    assert shown["description"] == "crypto wave" and shown["threshold"] == 0.8


def test_category_build_without_wait_finishes_after_the_process_exits(tmp_path):
    import subprocess
    import sys

    store = str(tmp_path / "s.sqlite3")
    samples = tmp_path / "spam.jsonl"
    samples.write_text("".join(json.dumps({"text": f"Win a free prize number {i} now!", "isPositive": True}) + "\n"
                               for i in range(5)) + json.dumps({"text": "see you at lunch", "isPositive": False}) + "\n")
    cli = [sys.executable, "-m", "guardrail", "--store", store, "category"]
    subprocess.run([*cli, "create", "spam", "--definition", "ads", "--samples", str(samples)], check=True,
                   capture_output=True)
    done = subprocess.run([*cli, "build", "spam"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr  # once aborted with rc 134 and left "Running"
    shown = subprocess.run([*cli, "show", "spam"], capture_output=True, text=True, check=True)
    assert "Succeeded" in shown.stdout
