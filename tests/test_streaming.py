import random

import pytest

from guardrail import Backend, BackendError, Guard, UnsupportedInputError

TEXT = (
    "Our roadmap is public. Project Aurora ships in May, and the nightly builds run on "
    "build-srv-07 as usual. Nothing else to add here! PROJECT   aurora is the code name."
)


@pytest.fixture
def guard(engine):
    engine.blocklists.create_or_update("codes")
    engine.blocklists.add_or_update_items("codes", ["Project Aurora", "build-srv-07"])
    engine.blocklists.create_or_update("secrets")
    engine.blocklists.add_or_update_items("secrets", ["hunter2"])
    return Guard(
        {"harm": {}, "completion": {"blocklists": [
            {"name": "codes", "action": "redact"}, {"name": "secrets", "action": "block"}]}},
        backend=engine,
    )


async def stream(guard, chunks, **options):
    f = guard.stream_filter(**options)
    out = []
    for c in chunks:
        out.append(await f.push(c))
    out.append(await f.close())
    return out, f


def random_chunks(text, rng):
    cuts = sorted(rng.sample(range(1, len(text)), rng.randint(1, len(text) // 3)))
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]


async def test_terms_split_across_chunks_never_leak(guard):
    rng = random.Random(7)
    for _ in range(40):
        out, f = await stream(guard, random_chunks(TEXT, rng))
        delivered = "".join(out)
        assert delivered == f.delivered
        assert len(delivered) == len(TEXT)
        for secret in ("Project", "Aurora", "PROJECT", "aurora", "build-srv-07", "srv"):
            assert secret not in delivered
        # Everything else arrives unchanged.
        assert delivered.startswith("Our roadmap is public. ******* ****** ships in May")
        # Nothing was ever released that a later check had to mask.
        for i in range(1, len(out)):
            assert "Aurora" not in "".join(out[:i])


async def test_character_by_character_stream(guard):
    out, f = await stream(guard, list(TEXT))
    assert "Aurora" not in "".join(out) and f.verdict.redacted
    spans = [(s.span.start, s.span.end) for s in f.verdict.findings]
    delivered = f.delivered
    assert all(set(delivered[a:b]) <= {"*", " "} for a, b in spans)


async def test_block_mid_stream_stops_and_emits_refusal(guard):
    text = "The first sentence is fine. The password is hunter2 and more. Never seen."
    out, f = await stream(guard, random_chunks(text, random.Random(1)))
    delivered = "".join(out)
    assert f.blocked and f.verdict.blocked
    assert "hunter2" not in delivered and "Never seen" not in delivered
    assert delivered.endswith(guard.policy.completion.refusal)
    assert await f.push("more text after the block") == ""


async def test_release_rule_holds_margin_plus_one_folded_characters(guard):
    f = guard.stream_filter()
    assert f.margin == len("project aurora")  # the longest term, as the matcher folds it
    assert await f.push("Hello there, ") == ""  # 13 characters: all held
    released = await f.push("my friend ")  # 23 held, margin + 1 = 15 stay: whole words go
    assert released == "Hello "
    # Whitespace runs count once: a run of newlines does not push text out early.
    g = guard.stream_filter()
    assert await g.push("Project" + "\n" * 40) == ""
    assert "*" * 7 in await g.push("Aurora is late. ") + await g.close()


class DownBackend(Backend):
    name = "down"

    def supports(self, analysis):
        return True

    async def match_blocklists(self, text, names):
        raise BackendError("service unavailable")


async def test_backend_failure_in_a_stream_follows_the_fail_mode():
    closed = Guard({"harm": {}, "blocklists": ["x"]}, backend=DownBackend())
    out, f = await stream(closed, ["Some text. ", "More text."], margin=0)
    assert f.blocked and "".join(out) == closed.policy.completion.refusal
    opened = Guard({"harm": {}, "blocklists": ["x"], "fail_mode": "open"}, backend=DownBackend())
    out, f = await stream(opened, ["Some text. ", "More text."], margin=0)
    assert "".join(out) == "Some text. More text." and f.verdict.flagged


async def test_stream_verdict_is_observed_once(engine):
    seen = []
    guard = Guard({"harm": {}}, backend=engine, on_verdict=seen.append)
    await stream(guard, ["One. ", "Two. ", "Three."], margin=0)
    assert len(seen) == 1 and seen[0].text == "One. Two. Three."


async def test_bad_chunk_type(guard):
    f = guard.stream_filter()
    with pytest.raises(UnsupportedInputError, match="str"):
        await f.push(b"bytes")
