import subprocess
import sys
from pathlib import Path


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(name: str) -> str:
    out = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_lcel_chain_example():
    out = run("lcel_chain.py")
    assert "redacted: ******* ****** launches in May." in out
    assert "refused:  Sorry, I can't help with that.\n" in out  # a str, like the chain's output
    assert "raised:   blocked" in out


def test_chat_web_app_example():
    out = run("chat_web_app.py")
    assert "'hello there' -> \"You said: 'hello there'. Call us at ********.\"" in out
    assert "sk-live" not in out and "withheld" not in out
    assert "Sorry, I can't share that response." in out


def test_streaming_redaction_example():
    out = run("streaming_redaction.py")
    assert "Aurora" not in out and "hunter2" not in out and "srv-07" not in out
    assert ("Here is the plan. ******* ****** ships in May, and the staging box is ************. "
            "Then we celebrate. Then the Sorry, I can't share that response.") in out
    assert "Sorry, I can't share that response." in out
