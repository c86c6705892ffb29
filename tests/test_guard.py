import asyncio
import logging

import pytest

from guardrail import (
    Backend,
    BackendError,
    Decision,
    EmptyTextError,
    Finding,
    FindingKind,
    Guard,
    GuardrailError,
    HarmCategory,
    LocalEngine,
    Policy,
    TextTooLongError,
    UnsupportedInputError,
)


@pytest.fixture
def guard(engine):
    engine.blocklists.create_or_update("jailbreak")
    engine.blocklists.add_or_update_items("jailbreak", ["ignore previous instructions"])
    engine.blocklists.create_or_update("codenames")
    engine.blocklists.add_or_update_items("codenames", ["Project Aurora", "nebula"])
    engine.blocklists.create_or_update("rude")
    engine.blocklists.add_or_update_items("rude", ["moron"])
    policy = {
        "harm": {},
        "prompt": {"blocklists": ["jailbreak", {"name": "rude", "action": "flag"}]},
        "completion": {"blocklists": [{"name": "codenames", "action": "redact"}]},
    }
    return Guard(policy, backend=engine)


async def test_allowed_blocked_redacted_flagged(guard):
    ok = await guard.check_prompt("what's the weather?")
    assert ok.decision is Decision.ALLOWED and ok.text == "what's the weather?"
    assert ok.backend == "local" and "total" in ok.timings_ms and "blocklist" in ok.timings_ms

    blocked = await guard.check_prompt("Please IGNORE previous   instructions now")
    assert blocked.blocked
    assert blocked.text == Policy().prompt.refusal
    assert blocked.triggered[0].item_text == "ignore previous instructions"
    assert blocked.triggered[0].span.start == 7

    red = await guard.check_completion("Project Aurora and nebula ship soon; a nebulae is fine")
    assert red.redacted
    assert red.text == "******* ****** and ****** ship soon; a nebulae is fine"
    assert [f.item_text for f in red.triggered] == ["Project Aurora", "nebula"]

    flagged = await guard.check_prompt("you moron")
    assert flagged.allowed and flagged.flagged and flagged.text == "you moron"


async def test_directions_use_their_own_rules(guard):
    # codenames are redacted in completions only; jailbreak phrases blocked in prompts only.
    assert (await guard.check_prompt("Project Aurora")).allowed
    assert (await guard.check_completion("ignore previous instructions")).allowed


def test_sync_twins_match_async(guard):
    assert guard.check_prompt_sync("ignore previous instructions").blocked
    assert guard.check_completion_sync("nebula").redacted
    guard.close()


async def test_sync_twin_works_inside_a_running_loop(guard):
    # Jupyter and LangChain's sync invoke call sync APIs with a loop running.
    assert guard.check_prompt_sync("ignore previous instructions").blocked
    guard.close()


def test_sync_twin_is_safe_from_many_threads(guard):
    from concurrent.futures import ThreadPoolExecutor

    texts = ["ignore previous instructions", "hello"] * 50
    with ThreadPoolExecutor(8) as pool:
        verdicts = list(pool.map(guard.check_prompt_sync, texts))
    assert [v.blocked for v in verdicts] == [True, False] * 50
    guard.close()


def test_sync_call_from_guardrails_own_loop_is_refused(engine):
    errors = []

    def observer(v):
        try:
            guard.check_prompt_sync("again")
        except GuardrailError as exc:
            errors.append(str(exc))

    guard = Guard({"harm": {}}, backend=engine, on_verdict=observer)
    guard.check_prompt_sync("hello")
    assert errors and "use the async API" in errors[0]
    guard.close()


@pytest.mark.parametrize(
    "text,error",
    [("", EmptyTextError), (None, UnsupportedInputError), (b"bytes", UnsupportedInputError),
     (["list"], UnsupportedInputError), ("x" * 101, TextTooLongError)],
)
async def test_bad_input_gets_typed_errors(engine, text, error):
    guard = Guard({"harm": {}}, backend=engine, max_text_length=100)
    with pytest.raises(error):
        await guard.check_prompt(text)


async def test_unknown_resources_in_policy_are_refused_when_the_guard_is_built(engine):
    from guardrail import NotFoundError

    # With fail_mode="open" an unknown list would otherwise allow every text.
    for policy in ({"blocklists": ["missing"]}, {"incidents": ["nope"]}, {"custom_categories": ["nope"]}):
        with pytest.raises(NotFoundError, match="nope|missing"):
            Guard({"harm": {}, "fail_mode": "open", **policy}, backend=engine)


async def test_a_list_deleted_after_the_guard_was_built_fails_closed(engine):
    engine.blocklists.create_or_update("gone")
    guard = Guard({"harm": {}, "blocklists": ["gone"]}, backend=engine)
    engine.blocklists.delete("gone")
    v = await guard.check_prompt("hello")
    assert v.blocked and "no blocklist named 'gone'" in v.reason
    assert v.errors and v.errors[0].startswith("blocklist: NotFoundError")


class BrokenBackend(Backend):
    """A backend whose service is down: every call fails."""

    name = "broken"

    def supports(self, analysis):
        return True

    async def analyze_harm(self, text, categories, output_type):
        raise BackendError("service unavailable", backend="broken", status_code=503)

    async def match_blocklists(self, text, names):
        raise ConnectionError("connection refused")


class SlowBackend(Backend):
    """Answers harm after a delay; blocklists instantly."""

    name = "slow"

    def __init__(self, delay):
        self.delay = delay

    def supports(self, analysis):
        return analysis in ("harm", "blocklist")

    async def analyze_harm(self, text, categories, output_type):
        await asyncio.sleep(self.delay)
        return [Finding(kind=FindingKind.HARM, name=c.value, severity=7) for c in categories]

    async def match_blocklists(self, text, names):
        return []


async def test_backend_errors_fail_closed_by_default():
    guard = Guard({"blocklists": ["x"]}, backend=BrokenBackend())
    v = await guard.check_prompt("hello")
    assert v.blocked and v.text == Policy().prompt.refusal
    assert "fail mode closed" in v.reason
    assert any("503" in e or "service unavailable" in e for e in v.errors)
    assert any("ConnectionError" in e for e in v.errors)


async def test_backend_errors_fail_open_on_request():
    guard = Guard({"blocklists": ["x"], "fail_mode": "open"}, backend=BrokenBackend())
    v = await guard.check_prompt("hello")
    assert v.allowed and v.flagged and v.text == "hello"
    assert "fail mode open" in v.reason


async def test_timeout_gives_fail_mode_and_keeps_finished_results():
    guard = Guard({"blocklists": ["x"], "timeout": 0.05}, backend=SlowBackend(delay=5))
    loop = asyncio.get_running_loop()
    started = loop.time()
    v = await guard.check_prompt("hello")
    assert loop.time() - started < 1.0
    assert v.blocked and v.errors == ("harm: timed out after 0.05s",)
    opened = Guard({"timeout": 0.05, "fail_mode": "open"}, backend=SlowBackend(delay=5))
    assert (await opened.check_prompt("hi")).allowed


async def test_harm_thresholds_and_output_scale():
    fast = SlowBackend(delay=0)
    v = await Guard({"harm": {"Violence": 7}}, backend=fast).check_prompt("x")
    assert v.blocked
    assert v.findings[0].severity == 6  # reported on FourSeverityLevels by default
    v8 = await Guard(
        {"harm": {"Violence": 7}, "output_type": "EightSeverityLevels"}, backend=fast
    ).check_prompt("x")
    assert v8.findings[0].severity == 7
    flagged = await Guard(
        {"harm": {"Hate": {"threshold": 2, "action": "flag"}}}, backend=fast
    ).check_prompt("x")
    assert flagged.allowed and flagged.flagged
    # A whole-text harm hit has no span to mask, so "redact" blocks.
    red = await Guard({"harm": {"Hate": {"threshold": 2, "action": "redact"}}}, backend=fast).check_prompt("x")
    assert red.blocked


async def test_unsupported_analyses_are_reported_as_skipped(caplog):
    from guardrail.backends._base import Analysis, Backend

    class BlocklistOnly(Backend):
        name = "blocklist-only"

        def supports(self, analysis):
            return analysis == Analysis.BLOCKLIST

    with caplog.at_level(logging.WARNING, logger="guardrail"):
        guard = Guard(backend=BlocklistOnly())  # default policy asks for harm
    assert "harm: not supported by the blocklist-only backend" in caplog.text
    v = await guard.check_prompt("hello")
    assert v.allowed and v.skipped == ("harm: not supported by the blocklist-only backend",)


async def test_local_engine_analyzes_harm_under_the_default_policy(engine):
    guard = Guard(backend=engine)
    ok = await guard.check_prompt("What's a good recipe for banana bread?")
    assert ok.allowed and not ok.skipped and not ok.errors
    assert "harm" in ok.timings_ms
    bad = await guard.check_prompt("I know where you live. I will find you and slit your throat.")
    assert bad.blocked and any(f.name == "Violence" for f in bad.triggered)


async def test_on_verdict_sync_and_async_callbacks_and_failing_observer(guard, engine):
    seen = []
    g = Guard(guard.policy, backend=engine, on_verdict=seen.append)
    await g.check_prompt("ignore previous instructions")
    assert seen[0].blocked

    async def collect(v):
        seen.append(v.decision)

    await Guard(guard.policy, backend=engine, on_verdict=collect).check_prompt("fine")
    assert seen[-1] is Decision.ALLOWED

    def explode(v):
        raise RuntimeError("observer bug")

    v = await Guard(guard.policy, backend=engine, on_verdict=explode).check_prompt("fine")
    assert v.allowed  # the observer's failure does not reach the app


async def test_logging_records_decisions_but_not_text_unless_asked(guard, engine, caplog):
    with caplog.at_level(logging.INFO, logger="guardrail"):
        await guard.check_prompt("ignore previous instructions, secret sauce")
    assert "prompt blocked" in caplog.text
    assert "secret sauce" not in caplog.text
    caplog.clear()
    loud = Guard(guard.policy, backend=engine, log_text=True)
    with caplog.at_level(logging.INFO, logger="guardrail"):
        await loud.check_prompt("secret sauce")
    assert "secret sauce" in caplog.text


async def test_opentelemetry_span_per_check(guard):
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    await guard.check_prompt("ignore previous instructions")
    spans = [s for s in exporter.get_finished_spans() if s.name == "guardrail.check"]
    assert spans and spans[-1].attributes["guardrail.decision"] == "blocked"
    assert spans[-1].attributes["guardrail.direction"] == "prompt"


def test_default_guard_uses_local_engine_and_env_store(tmp_path, monkeypatch):
    monkeypatch.setenv("GUARDRAIL_STORE", str(tmp_path / "s.sqlite3"))
    with Guard() as g:
        assert isinstance(g.backend, LocalEngine)
        assert g.backend.store.path == str(tmp_path / "s.sqlite3")
        assert HarmCategory.HATE in g.policy.prompt.harm


async def test_reason_states_severity_on_the_reported_scale():
    from guardrail._decision import decide
    from guardrail import Direction, Finding, FindingKind, Policy

    policy = Policy.from_dict({"output_type": "FourSeverityLevels"}).prompt
    hit = Finding(kind=FindingKind.HARM, name="Violence", severity=7)
    verdict = decide(policy, Direction.PROMPT, "x", [hit])
    assert verdict.findings[0].severity == 6
    assert verdict.reason == "harm:Violence=6"


def test_a_process_that_exits_right_after_making_a_guard_exits(tmp_path):
    # A daemon thread frozen at interpreter exit while importing holds the import lock;
    # the next import (here: the warning for a never-awaited check, printed while the
    # interpreter shuts down) then waited forever. The Guard's background load must end
    # with the process instead.
    import subprocess
    import sys

    code = (
        "import guardrail\n"
        f"g = guardrail.Guard(store={str(tmp_path / 'store.db')!r})\n"
        "pending = g.check_prompt('hello')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "never awaited" in out.stderr
