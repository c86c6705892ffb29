"""No input, regex, name or store state may switch a check off, hang, or raise untyped."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guardrail import (
    ConflictError,
    Guard,
    GuardrailError,
    InvalidInputError,
    LocalEngine,
    NotFoundError,
    PolicyError,
    Store,
    StoreError,
    TextTooLongError,
)


@pytest.fixture(scope="module")
def full_engine(tmp_path_factory):
    engine = LocalEngine(tmp_path_factory.mktemp("hard") / "s.sqlite3")
    engine.blocklists.create_or_update("secrets")
    engine.blocklists.add_or_update_items("secrets", ["grapefruit", {"text": "sk-live-[a-z0-9]{8}", "isRegex": True}])
    engine.text_incidents.create_or_update("scam")
    engine.text_incidents.add_samples("scam", ["Send 1 BTC and get 2 BTC back"])
    engine.text_incidents.deploy("scam")
    engine.categories.create_version("spam", definition="ads", samples=[
        {"text": f"Win a free prize {i}!", "isPositive": True} for i in range(3)] + [
        {"text": "see you at lunch", "isPositive": False}])
    engine.categories.build("spam", wait=True)
    yield engine
    engine.close()


def everything(engine, **extra):
    return Guard({"blocklists": ["secrets"], "incidents": ["scam"], "custom_categories": ["spam"], **extra},
                 backend=engine)


# -- 1. lone surrogates ------------------------------------------------------------------

def test_lone_surrogates_are_analysed_not_crashed(full_engine):
    guard = everything(full_engine, fail_mode="open")
    text = "I will kill you \ud800 and the grapefruit\udfff"
    verdict = guard.check_prompt_sync(text)
    assert not verdict.errors
    assert verdict.blocked and any(f.name == "secrets" for f in verdict.triggered)
    assert verdict.triggered[0].span is not None
    assert full_engine.harm.analyze("\ud800 hello")  # every analysis takes it
    full_engine.text_incidents.detect("\udc00 send btc", ["scam"])
    full_engine.categories.analyze("\ud800 prize", ["spam"])
    [item] = full_engine.blocklists.add_or_update_items("secrets", ["odd\ud800term"])
    assert item.text == "odd\ufffdterm"


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(codec=None, categories=None), min_size=0, max_size=60),
       st.sampled_from(["prompt", "completion"]))
def test_any_unicode_gets_a_verdict_or_a_typed_error(full_engine, text, direction):
    guard = everything(full_engine, fail_mode="open")
    for candidate in (text, text + " grapefruit " + text):
        try:
            verdict = guard.check_sync(candidate, direction)
        except GuardrailError:
            continue  # empty text and the like: typed, with a message
        assert not verdict.errors, verdict.errors
        if "grapefruit" in candidate:  # fail open never lets a blocklisted term pass
            assert verdict.blocked


# -- 2. regex -----------------------------------------------------------------------------

def test_catastrophic_regexes_run_in_linear_time(engine):
    engine.blocklists.create_or_update("rx")
    engine.blocklists.add_or_update_items("rx", [{"text": "(a+)+$", "isRegex": True}])
    guard = Guard({"harm": {}, "blocklists": ["rx"], "timeout": 1.0}, backend=engine)
    started = time.perf_counter()
    verdict = guard.check_prompt_sync("a" * 30 + "!")  # hung the process on Python's re
    assert time.perf_counter() - started < 1.0 and verdict.allowed and not verdict.errors


@pytest.mark.parametrize("pattern", [r"(a)\1", r"foo(?=bar)", r"(?<!x)y"])
def test_regexes_the_linear_engine_cannot_run_are_refused_when_added(engine, pattern):
    engine.blocklists.create_or_update("rx")
    with pytest.raises(InvalidInputError, match="RE2"):
        engine.blocklists.add_or_update_items("rx", [{"text": pattern, "isRegex": True}])


def test_is_regex_must_be_a_boolean(engine):
    engine.blocklists.create_or_update("rx")
    with pytest.raises(InvalidInputError, match="item 0"):
        engine.blocklists.add_or_update_items("rx", [{"text": "x+", "isRegex": "yes"}])


# -- 7/8. names -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["abc\n", "a/b", "..", "x\x00y", "new\nline", "", "-lead"])
def test_names_are_checked_in_full(engine, name):
    with pytest.raises(InvalidInputError):
        engine.text_incidents.create_or_update(name)
    if name != "-lead":  # blocklist names may start with -
        with pytest.raises(InvalidInputError):
            engine.blocklists.create_or_update(name)


# -- 10/11. store -----------------------------------------------------------------------

def _open_store(path: str, queue) -> None:
    try:
        Store(path).close()
        queue.put("ok")
    except Exception as exc:  # pragma: no cover - what the test looks for
        queue.put(f"{type(exc).__name__}: {exc}")


def test_many_processes_can_create_one_new_store_at_once(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    for round_ in range(2):
        path = str(tmp_path / f"new{round_}.sqlite3")
        queue = ctx.Queue()
        procs = [ctx.Process(target=_open_store, args=(path, queue)) for _ in range(8)]
        for p in procs:
            p.start()
        results = [queue.get(timeout=60) for _ in procs]
        for p in procs:
            p.join()
        assert results == ["ok"] * 8, results


def test_read_only_store_opens_for_checks(tmp_path, monkeypatch):
    path = tmp_path / "ro.sqlite3"
    engine = LocalEngine(path)
    engine.blocklists.create_or_update("codes")
    engine.blocklists.add_or_update_items("codes", ["grapefruit"])
    engine.close()
    # Root ignores file modes, so read-only is simulated the way the store detects it.
    monkeypatch.setattr(os, "access", lambda p, mode: mode != os.W_OK)
    ro = LocalEngine(path)
    assert ro.store.read_only
    guard = Guard({"harm": {}, "blocklists": ["codes"]}, backend=ro)
    assert guard.check_prompt_sync("a grapefruit").blocked
    with pytest.raises(StoreError, match="read-only"):
        ro.blocklists.add_or_update_items("codes", ["kiwi"])
    ro.close()


def test_removing_many_ids_is_one_linear_transaction(engine):
    engine.blocklists.create_or_update("big")
    items = engine.blocklists.add_or_update_items("big", [f"term{i}" for i in range(2000)])
    ids = [i.blocklist_item_id for i in items]
    missing = [f"missing-{i}" for i in range(33_000)]  # over SQLite's bound-variable limit
    with pytest.raises(NotFoundError):
        engine.blocklists.remove_items("big", ids[:10] + missing)
    assert len(engine.blocklists.list_items("big")) == 2000  # nothing removed
    engine.blocklists.remove_items("big", ids)
    assert engine.blocklists.list_items("big") == []
    with pytest.raises(ConflictError):
        engine.blocklists.remove_items("big", ["a", "a"])


# -- smaller ------------------------------------------------------------------------------

def test_wrong_types_get_typed_errors(engine, tmp_path):
    engine.blocklists.create_or_update("codes")
    with pytest.raises(InvalidInputError, match="top"):
        engine.blocklists.list_items("codes", top="a")
    with pytest.raises(InvalidInputError, match="max_text_length"):
        Guard({"harm": {}}, backend=engine, max_text_length="x")
    with pytest.raises(InvalidInputError, match="version"):
        engine.categories.analyze("hi", ["a:x"])
    bad = tmp_path / "policy.toml"
    bad.write_bytes(b'refusal = "\xff\xfe"\n')
    with pytest.raises(PolicyError, match="UTF-8"):
        Guard(str(bad), backend=engine)


def test_stream_chunks_with_surrogates(engine):
    engine.blocklists.create_or_update("codes")
    engine.blocklists.add_or_update_items("codes", ["grapefruit"])
    guard = Guard({"harm": {}, "completion": {"blocklists": [{"name": "codes", "action": "redact"}]}},
                  backend=engine)

    async def run():
        f = guard.stream_filter()
        out = [await f.push(c) for c in ["a \ud800 grape", "fruit \udfff end"]]
        return "".join(out) + await f.close()

    assert asyncio.run(run()) == "a \ufffd ********** \ufffd end"


# -- 4. timeouts and the model queue ----------------------------------------------------

async def test_long_texts_do_not_starve_a_short_prompt(engine):
    # 10 s: the short prompt needs only the batch in flight; behind six long texts in
    # arrival order (the old default pool) it waited for all of them, far longer.
    guard = Guard({"fail_mode": "open", "timeout": 10.0}, backend=engine, max_text_length=100_000)
    await guard.check_prompt("warm up the model")
    long = ("The committee met on Tuesday to discuss the budget and the opening hours. " * 700)[:50_000]
    jobs = [asyncio.create_task(guard.check_prompt(long)) for _ in range(6)]
    await asyncio.sleep(0.2)
    assert not any(job.done() for job in jobs)  # the long checks are really queued or running
    late = [asyncio.create_task(guard.check_prompt(long)) for _ in range(2)]  # queued behind the first
    jobs += late
    await asyncio.sleep(0.05)
    verdict = await guard.check_prompt("I am going to stab you tonight, I know where you live.")
    # Before: queued behind the long texts, it timed out and fail-open let it through.
    assert verdict.blocked and not verdict.errors
    assert "queue" in verdict.timings_ms  # the wait is visible
    for job in jobs:
        job.cancel()
    await asyncio.gather(*jobs, return_exceptions=True)


async def test_work_of_a_caller_that_gave_up_stops(engine):
    guard = Guard({"fail_mode": "open", "timeout": 0.3}, backend=engine)
    await guard.check_prompt("warm up the model")
    long = ("Plain words about gardening and the weather in spring. " * 2000)[:40_000]  # ~3 s of work
    verdict = await guard.check_prompt(long)
    assert verdict.errors and "timed out" in verdict.errors[0]
    started = time.perf_counter()
    quick = Guard({"timeout": 5.0}, backend=engine)
    assert (await quick.check_prompt("hello there")).allowed
    assert time.perf_counter() - started < 2.0  # the abandoned long job did not run on


# -- 9. evasion ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "a g\U000e0072rapefruit", "a grape\ufe0ffruit", "a grape\ufff9fruit", "a g\u0332rapefruit", "a grapefrúit",
    "a g\u200dr\u2060apefruit", "a g\U000e0100rapefruit",
])
def test_invisible_and_combining_characters_do_not_hide_a_term(engine, text):
    engine.blocklists.create_or_update("fruit")
    engine.blocklists.add_or_update_items("fruit", ["grapefruit"])
    guard = Guard({"harm": {}, "blocklists": [{"name": "fruit", "action": "redact"}]}, backend=engine)
    verdict = guard.check_prompt_sync(text)
    assert verdict.redacted and verdict.text.startswith("a ") and "fruit" not in verdict.text


def test_leetspeak_and_confusable_folds_are_opt_in(engine):
    engine.blocklists.create_or_update("fruit")
    engine.blocklists.add_or_update_items("fruit", ["grapefruit"])
    plain = Guard({"harm": {}, "blocklists": ["fruit"]}, backend=engine)
    folded = Guard({"harm": {}, "blocklists": [{"name": "fruit", "fold": ["leetspeak", "confusables"]}]},
                   backend=engine)
    for text in ("gr4p3fru1t please", "grаpefruit please"):  # the second has a Cyrillic а
        assert plain.check_prompt_sync(text).allowed
        verdict = folded.check_prompt_sync(text)
        assert verdict.blocked and verdict.findings[0].span.start == 0 and verdict.findings[0].span.end == 10
    with pytest.raises(PolicyError, match="fold"):
        Guard({"harm": {}, "blocklists": [{"name": "fruit", "fold": ["rot13"]}]}, backend=engine)


@pytest.mark.parametrize("sep", [" ", ".", "-", "_", "*"])
def test_the_spacing_fold_joins_letters_typed_apart(engine, sep):
    engine.blocklists.create_or_update("fruit")
    engine.blocklists.add_or_update_items("fruit", ["grapefruit"])
    plain = Guard({"harm": {}, "blocklists": ["fruit"]}, backend=engine)
    spaced = Guard({"harm": {}, "blocklists": [{"name": "fruit", "fold": ["spacing"]}]}, backend=engine)
    text = "I love " + sep.join("grapefruit") + " juice"
    assert plain.check_prompt_sync(text).allowed
    verdict = spaced.check_prompt_sync(text)
    assert verdict.blocked
    span = verdict.findings[0].span
    assert text[span.start:span.end] == sep.join("grapefruit")
    assert spaced.check_prompt_sync("grape fruit and a b c").allowed  # two words are not one


@given(st.text(alphabet="abc .-_*xyz", max_size=60), st.sampled_from([" ", ".", "-"]))
def test_the_spacing_fold_maps_every_hit_into_the_text_as_typed(text, sep):
    from guardrail._folds import spaced_reading

    typed = text + " " + sep.join("xyz") + " " + text
    joined = spaced_reading(typed)
    assert joined is not None
    variant, index = joined.text, joined.index
    assert len(index) == len(variant) and index == sorted(index) and all(0 <= i < len(typed) for i in index)
    hits = [typed[index[k]:index[k + 2] + 1] for k in range(len(variant) - 2) if variant[k:k + 3] == "xyz"]
    # the spaced "x y z" is found, mapped back to its five characters as typed
    assert any(len(h) == 5 and "".join(c for c in h if c.isalnum()) == "xyz" for h in hits)


async def test_concurrent_checks_are_batched_into_one_model_run(engine, monkeypatch):
    guard = Guard({}, backend=engine)
    await guard.check_prompt("warm up the model")
    calls = []
    real = engine.harm.analyze_many

    def counting(texts, *args, **kwargs):
        calls.append(len(texts))
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(engine.harm, "analyze_many", counting)
    prompts = [f"Tell me a fact about the number {i}." for i in range(40)]
    verdicts = await asyncio.gather(*(guard.check_prompt(p) for p in prompts))
    assert all(v.allowed and not v.errors for v in verdicts)
    assert sum(calls) == 40 and len(calls) < 20  # far fewer model runs than checks
    # Each verdict is its own text's: a batch does not mix results up.
    single = await guard.check_prompt("I will stab you tonight, I know where you live.")
    mixed = await asyncio.gather(guard.check_prompt("What a lovely morning."),
                                 guard.check_prompt("I will stab you tonight, I know where you live."))
    assert mixed[0].allowed and mixed[1].blocked and mixed[1].reason == single.reason


async def test_the_longest_text_the_local_engine_accepts_gets_a_real_verdict(engine):
    # The time it takes (about 3 s on two cores, inside the default 5 s timeout) is a
    # benchmark figure (benchmarks/README.md, "Load"); a timed assertion here would fail
    # on a busy machine. What must hold everywhere: the limit is 40,000 characters, a text
    # of that length is analysed whole and allowed, and one character more is refused.
    guard = Guard({"timeout": 120}, backend=engine)
    text = ("The committee met on Tuesday to discuss the library budget and the reading room. " * 600)[
        : guard.max_text_length]
    assert len(text) == 40_000
    verdict = await guard.check_prompt(text)
    assert verdict.allowed and not verdict.errors, verdict.errors
    with pytest.raises(TextTooLongError):
        await guard.check_prompt(text + "x")
