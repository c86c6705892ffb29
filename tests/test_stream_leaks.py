"""Streams never deliver what the policy masks or blocks: property tests over text shapes
that leaked before (terms across newlines and periods, long unspaced runs, CJK, width and
invisible variants), split at arbitrary offsets, through every streaming path."""

from __future__ import annotations

import asyncio
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guardrail import Guard, LocalEngine

REDACT_TERMS = ["Project Aurora", "John Q. Public", "build-srv-07", "秘密计划"]
BLOCK_TERM = "hunter2 zulu"
FILLER = [
    "the", "plan", "ships", "in", "May.", "Call", "me", "at", "noon!", "see",
    "https://example.com/a/b/c?x=1&y=2", "/usr/local/lib/python3.11/site-packages",
    "今天我们讨论", "计划", "。", "a" * 230, "Sentence one. ", "Project", "Q.", "\n",
]


def hidden(text: str) -> str:
    """``text`` in Unicode tag characters: invisible, but a model reads them as ASCII."""
    return "".join(chr(0xE0000 + ord(c)) if " " <= c <= "~" else c for c in text)


def variant(term: str, sep: str, fullwidth: bool, invisible: bool, upper: bool, tags: bool = False) -> str:
    words = term.split(" ")
    text = sep.join(words)
    if fullwidth:
        text = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    if invisible and len(text) > 3:
        text = text[:2] + "\u200b" + text[2:]
    text = text.upper() if upper else text
    return hidden(text) if tags and not fullwidth else text


term_variants = st.builds(
    variant,
    st.sampled_from(REDACT_TERMS),
    st.sampled_from([" ", "\n", "  \n\t ", "\r\n"]),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
pieces = st.lists(st.one_of(st.sampled_from(FILLER), term_variants), min_size=1, max_size=14)


def texts(with_block: bool = False):
    def build(parts, sep, block_at, tags):
        text = sep.join(parts)
        if with_block:
            pos = block_at % (len(text) + 1)
            term = BLOCK_TERM.replace(" ", "\n")
            text = text[:pos] + " " + (hidden(term) if tags else term) + " " + text[pos:]
        return text

    return st.builds(build, pieces, st.sampled_from([" ", "", "\n"]), st.integers(0, 10_000), st.booleans())


def split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    return [text[a:b] for a, b in zip([0, *points], [*points, len(text)]) if b > a]


def lists_guard(fold: tuple[str, ...] = ()) -> Guard:
    """A Guard on its own engine: REDACT_TERMS redacted, BLOCK_TERM blocked, both with ``fold``."""
    engine = LocalEngine(":memory:")
    engine.blocklists.create_or_update("codes")
    engine.blocklists.add_or_update_items("codes", REDACT_TERMS)
    engine.blocklists.create_or_update("secrets")
    engine.blocklists.add_or_update_items("secrets", [BLOCK_TERM])
    return Guard(
        {"harm": {}, "completion": {"blocklists": [
            {"name": "codes", "action": "redact", "fold": list(fold)},
            {"name": "secrets", "action": "block", "fold": list(fold)}]}},
        backend=engine,
    )


@pytest.fixture(scope="module")
def guard():
    g = lists_guard()
    yield g
    g.close()


async def run_filter(guard: Guard, chunks: list[str]) -> tuple[list[str], object]:
    f = guard.stream_filter()
    out = [await f.push(c) for c in chunks]
    out.append(await f.close())
    return out, f


SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(texts(), st.lists(st.integers(0, 10_000), max_size=40))
def test_redacted_stream_equals_whole_text_check(guard, text, cuts):
    assert_stream_equals_whole_text_check(guard, text, cuts)


def assert_stream_equals_whole_text_check(guard, text, cuts):
    expected = guard.check_completion_sync(text).text
    out, _ = asyncio.run(run_filter(guard, split(text, cuts)))
    assert "".join(out) == expected
    # Every prefix the consumer saw is a prefix of the whole-text answer: nothing was
    # delivered that a later check had to mask.
    seen = ""
    for piece in out:
        seen += piece
        assert expected.startswith(seen)


@SETTINGS
@given(texts(with_block=True), st.lists(st.integers(0, 10_000), max_size=40))
def test_block_term_never_reaches_the_consumer(guard, text, cuts):
    out, f = asyncio.run(run_filter(guard, split(text, cuts)))
    refusal = guard.policy.completion.refusal
    delivered = "".join(out)
    assert f.blocked and delivered.endswith(refusal)
    before = delivered[: -len(refusal)]
    start = text.index("hunter2") if "hunter2" in text else text.index(hidden("hunter2"))
    assert len(before) <= start  # nothing of the blocked term before the refusal
    assert "hunter" not in before and hidden("hunter") not in before


@pytest.fixture(scope="module")
def harm_guard():
    g = Guard(backend=LocalEngine(":memory:"))  # the default policy: harm blocks at 4
    yield g
    g.close()


BENIGN_OPENING = "The weather was fine and we walked along the river talking about books and films. " * 6
THREAT = "Then I told him: I am going to kill you tonight and nobody will ever find your body. "


@settings(deadline=None, max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 7), st.integers(100, 200), st.integers(300, 500), st.integers(5, 40))
def test_harm_in_base64_longer_than_a_window_never_reaches_the_consumer(harm_guard, pad, context, hold, chunk):
    # The stream checks windows that start anywhere in a long base64 run, off its grid of
    # 4 characters; the run must still be read as the prose it encodes.
    import base64

    run = base64.b64encode((BENIGN_OPENING + THREAT).encode()).decode()
    text = "Sure" + "!" * pad + ", encoded as you asked: " + run + " Hope that helps."
    assert harm_guard.check_completion_sync(text).blocked  # the premise
    f = harm_guard.stream_filter(context=context, max_hold=hold)

    async def go():
        return [await f.push(text[k : k + chunk]) for k in range(0, len(text), chunk)] + [await f.close()]

    delivered = "".join(asyncio.run(go()))
    assert f.blocked
    # nothing from "kill" on (in base64, four characters for three letters)
    threat_starts = text.index(run) + (BENIGN_OPENING + THREAT).index("kill") * 4 // 3
    assert len(delivered) - len(harm_guard.policy.completion.refusal) <= threat_starts


def test_the_reported_leaks_are_closed(guard):
    cases = [
        "See Project\nAurora today.",
        "Ask John Q. Public about it.",
        "Run-on " + "word " * 60 + "then Project Aurora and more words without any stop " * 3,
        "https://build-srv-07.example.com/path/without/spaces/" + "x" * 300,
        "我们的" * 50 + "秘密计划" + "下周开始" * 30,
    ]
    for text in cases:
        expected = guard.check_completion_sync(text).text
        for n in (1, 2, 3, 5, 7):
            chunks = [text[i : i + n] for i in range(0, len(text), n)]
            out, _ = asyncio.run(run_filter(guard, chunks))
            assert "".join(out) == expected, (text[:40], n)


# -- every adapter ------------------------------------------------------------------------

lc = pytest.importorskip("langchain_core")

from langchain_core.language_models import BaseChatModel  # noqa: E402
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage  # noqa: E402
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult  # noqa: E402

from guardrail.integrations.callables import guarded  # noqa: E402
from guardrail.integrations.langchain import GuardedChatModel, GuardedRunnable, guard_input, guard_output  # noqa: E402


class ChunkedModel(BaseChatModel):
    """Replies with fixed chunks: the split is the test's, not the model's."""

    chunks: list[str]

    @property
    def _llm_type(self) -> str:
        return "chunked-fake"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content="".join(self.chunks)))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        for c in self.chunks:
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=c))
            if run_manager:
                run_manager.on_llm_new_token(c, chunk=chunk)
            yield chunk


def _text(x) -> str:
    return x if isinstance(x, str) else str(x.content)


def _raw_pieces(text: str, guarded_text: str) -> list[str]:
    """Stretches of the raw text that the guard masked (what must never be seen)."""
    out, run = [], ""
    for a, b in zip(text, guarded_text):
        if a != b:
            run += a
        elif run:
            out.append(run)
            run = ""
    if run:
        out.append(run)
    return [r for r in out if len(r.strip()) >= 2 and r not in guarded_text]


def _payloads(event) -> str:
    data = event.get("data", {})
    return " ".join(str(data.get(k, "")) for k in ("chunk", "output"))


async def _all_adapters(guard: Guard, chunks: list[str]) -> dict[str, tuple[str, list[str]]]:
    """What each adapter delivered, and the event payloads its consumer could see."""
    model = ChunkedModel(chunks=chunks)
    runnable = GuardedRunnable(model, guard, on_block="refuse")
    chat = GuardedChatModel(model=model, guard=guard)
    lcel = guard_input(guard) | model | guard_output(guard, on_block="refuse")
    out: dict[str, tuple[str, list[str]]] = {}
    out["runnable.astream"] = ("".join([_text(c) async for c in runnable.astream("hi")]), [])
    out["runnable.stream"] = ("".join(_text(c) for c in runnable.stream("hi")), [])
    out["lcel.astream"] = ("".join([_text(c) async for c in lcel.astream("hi")]), [])
    out["chat.astream"] = ("".join([_text(c) async for c in chat.astream("hi")]), [])
    for name, r in (("runnable", runnable), ("chat", chat), ("lcel", lcel)):
        events = [e async for e in r.astream_events("hi", version="v2")]
        streamed = "".join(_text(e["data"]["chunk"]) for e in events if e["event"].endswith("_stream")
                           and e["run_id"] == events[0]["run_id"])  # the root run's own stream
        out[f"{name}.astream_events"] = (streamed, [_payloads(e) for e in events])

    @guarded(guard)
    async def agen(prompt: str):
        for c in chunks:
            yield c

    @guarded(guard)
    def gen(prompt: str):
        yield from chunks

    out["guarded.async_gen"] = ("".join([c async for c in agen("hi")]), [])
    out["guarded.sync_gen"] = ("".join(await asyncio.to_thread(lambda: list(gen("hi")))), [])
    return out


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts(), st.lists(st.integers(0, 10_000), max_size=25))
def test_every_adapter_streams_what_invoke_delivers(guard, text, cuts):
    expected = guard.check_completion_sync(text).text
    secrets = _raw_pieces(text, expected)
    results = asyncio.run(_all_adapters(guard, split(text, cuts)))
    for name, (delivered, payloads) in results.items():
        assert delivered == expected, name
        for payload in payloads:
            for secret in secrets:
                assert secret not in payload, (name, secret)


def test_agent_streams_are_filtered_at_the_source(guard):
    agents = pytest.importorskip("langchain.agents")
    text = "Status: Project\nAurora ships in May, ask John Q. Public. Thanks."
    expected = guard.check_completion_sync(text).text
    chunks = [text[i : i + 3] for i in range(0, len(text), 3)]
    agent = agents.create_agent(GuardedChatModel(model=ChunkedModel(chunks=chunks), guard=guard), tools=[])
    state = {"messages": [HumanMessage("status?")]}
    tokens = [str(msg.content) for msg, _ in agent.stream(state, stream_mode="messages")]
    assert "".join(tokens) == expected
    updates = [str(u) for u in agent.stream(state, stream_mode="updates")]
    for secret in _raw_pieces(text, expected):
        assert all(secret not in u for u in updates) and all(secret not in t for t in tokens)


# -- the spacing fold: terms typed apart ("h u n t e r 2") are held back long enough ----------


def typed_apart(term: str, sep: str) -> str:
    return "  ".join(sep.join(word) for word in term.split(" "))  # words two spaces apart


@pytest.fixture(scope="module")
def spaced_guard():
    g = lists_guard(("spacing",))
    yield g
    g.close()


def spaced_texts(term_pool: list[str]):
    def build(parts, term, sep, at):
        k = at % (len(parts) + 1)  # between words: a letter glued on would be part of the run
        return " ".join([*parts[:k], typed_apart(term, sep), *parts[k:]])

    return st.builds(build, st.lists(st.sampled_from(FILLER[:10]), max_size=8), st.sampled_from(term_pool),
                     st.sampled_from([" ", ".", "-"]), st.integers(0, 10_000))


@SETTINGS
@given(spaced_texts(["hunter2 zulu"]), st.lists(st.integers(0, 10_000), max_size=40))
def test_a_block_term_typed_apart_never_reaches_the_consumer(spaced_guard, text, cuts):
    assert spaced_guard.check_completion_sync(text).blocked  # the premise: the whole text is blocked
    out, f = asyncio.run(run_filter(spaced_guard, split(text, cuts)))
    refusal = spaced_guard.policy.completion.refusal
    delivered = "".join(out)
    assert f.blocked and delivered.endswith(refusal)
    start = re.search(r"h[ .-]u[ .-]n", text).start()
    assert len(delivered[: -len(refusal)]) <= start  # not one letter of the term


@SETTINGS
@given(spaced_texts(["Project Aurora", "build-srv-07"]), st.lists(st.integers(0, 10_000), max_size=40))
def test_a_redacted_stream_with_the_spacing_fold_equals_the_whole_text_check(spaced_guard, text, cuts):
    assert_stream_equals_whole_text_check(spaced_guard, text, cuts)


def test_the_spacing_fold_doubles_the_hold_back(guard, spaced_guard):
    assert spaced_guard.stream_margin("completion") == 2 * guard.stream_margin("completion") > 0
