"""Streaming overhead of the output filter, with the local engine.

The same 1,200-character reply in 5-character chunks (like an LLM's tokens) is consumed
unguarded and through ``GuardedRunnable.astream`` and the bare :class:`StreamFilter`, in
the same run. Reports the added time to the first delivered chunk and the overhead per
input chunk. The local engine checks blocklists (a 1,000-term list); a second filter also
runs the harm analyzer (default thresholds) per segment. The yardstick for harm is one
whole-reply harm check (``check_completion`` of the whole text) in the same run: goal
harm-on total overhead <= 1.5x that check, blocklist-only <= 1 ms per chunk.

    python benchmarks/bench_streaming.py [--streams 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import AsyncIterator

from _common import corpus, machine, pin_one_core, terms, record
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from guardrail import Guard, LocalEngine
from guardrail.integrations.langchain import GuardedRunnable


def tokens(text: str, size: int = 5) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


async def consume(stream: AsyncIterator[object]) -> tuple[float, int, float]:
    t0 = time.perf_counter()
    first = None
    n = 0
    async for _ in stream:
        if first is None:
            first = time.perf_counter() - t0
        n += 1
    return (first or 0.0) * 1000.0, n, (time.perf_counter() - t0) * 1000.0


async def main_async(streams: int) -> None:
    engine = LocalEngine(":memory:")
    engine.blocklists.create_or_update("bench")
    engine.blocklists.add_or_update_items("bench", terms(1_000))
    guard = Guard({"harm": {}, "completion": {"blocklists": [{"name": "bench", "action": "redact"}]}},
                  backend=engine)
    harm_guard = Guard({"completion": {"blocklists": [{"name": "bench", "action": "redact"}]}},
                       backend=engine)
    text = corpus(1, 1200, seed=5)[0]
    chunks = tokens(text)

    async def raw() -> AsyncIterator[str]:
        for c in chunks:
            yield c

    async def filtered(g: Guard = guard) -> AsyncIterator[str]:
        f = g.stream_filter()
        for c in chunks:
            out = await f.push(c)
            if out:
                yield out
        rest = await f.close()
        if rest:
            yield rest

    model = FakeListChatModel(responses=[text])
    unguarded_lc = model
    guarded_lc = GuardedRunnable(model, guard, check_input=False)

    rows: dict[str, list[tuple[float, int, float]]] = {k: [] for k in (
        "plain async generator", "same + StreamFilter", "same + StreamFilter, harm on", "LangChain astream (unguarded)", "GuardedRunnable.astream")}
    for _ in range(3):  # warm up
        await consume(filtered())
        await consume(filtered(harm_guard))
        await consume(guarded_lc.astream("hi"))
    whole: list[float] = []
    for _ in range(streams):
        t0 = time.perf_counter()
        await harm_guard.check_completion(text)
        whole.append((time.perf_counter() - t0) * 1000.0)
        rows["plain async generator"].append(await consume(raw()))
        rows["same + StreamFilter"].append(await consume(filtered()))
        rows["same + StreamFilter, harm on"].append(await consume(filtered(harm_guard)))
        rows["LangChain astream (unguarded)"].append(await consume(unguarded_lc.astream("hi")))
        rows["GuardedRunnable.astream"].append(await consume(guarded_lc.astream("hi")))

    print(f"# streaming overhead: {len(text)}-char completion ({len(chunks)} 5-char chunks; the fake "
          f"chat model streams 1 char a chunk), "
          f"{streams} streams, local engine (blocklist 1,000 terms), {machine()}")
    print(f"{'stream':<32}{'first chunk ms':>16}{'total ms':>10}{'chunks out':>12}")
    med = {}
    for name, values in rows.items():
        first = statistics.median(v[0] for v in values)
        total = statistics.median(v[2] for v in values)
        med[name] = (first, total)
        print(f"{name:<32}{first:>16.3f}{total:>10.3f}{statistics.median(v[1] for v in values):>12.0f}")
    for guarded, plain in (("same + StreamFilter", "plain async generator"),
                           ("same + StreamFilter, harm on", "plain async generator"),
                           ("GuardedRunnable.astream", "LangChain astream (unguarded)")):
        n_in = statistics.median(v[1] for v in rows[plain])  # chunks the upstream produced
        per_chunk = (med[guarded][1] - med[plain][1]) / n_in
        record(f"streaming: time to first chunk ({guarded})", med[guarded][0], "ms", peer=plain,
               peer_value=med[plain][0])
        record(f"streaming: total per stream ({guarded})", med[guarded][1], "ms", peer=plain,
               peer_value=med[plain][1])
        record(f"streaming: overhead per input chunk ({guarded})", per_chunk, "ms")
        print(f"{guarded}: added to first chunk {med[guarded][0] - med[plain][0]:.3f} ms, "
              f"overhead per input chunk {per_chunk:.4f} ms")
    whole_ms = statistics.median(whole)
    harm_overhead = med["same + StreamFilter, harm on"][1] - med["plain async generator"][1]
    record("streaming: one whole-reply harm check (yardstick)", whole_ms, "ms")
    record("streaming: harm-on stream overhead / one whole-reply harm check", harm_overhead / whole_ms, "x")
    print(f"harm on: stream overhead {harm_overhead:.1f} ms vs one whole-reply check {whole_ms:.1f} ms "
          f"= {harm_overhead / whole_ms:.2f}x (goal <= 1.5x)")
    guard.close()
    harm_guard.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", type=int, default=200)
    args = ap.parse_args()
    pin_one_core()
    asyncio.run(main_async(args.streams))


if __name__ == "__main__":
    main()
