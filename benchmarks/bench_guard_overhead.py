"""The Guard's own overhead per check, with only blocklists in the policy.

Times ``await guard.check_prompt(text)`` and, in the same run on the same text, the bare
matcher call it wraps (the peer); the difference is what the Guard adds (policy, verdict,
timings, logging checks, span). Also times the sync twin.

    python benchmarks/bench_guard_overhead.py [--repeat 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from _common import corpus, machine, p, per_call_ms, pin_one_core, terms, record

from guardrail import Guard, LocalEngine


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=20_000)
    ap.add_argument("--terms", type=int, default=1_000)
    args = ap.parse_args()
    pin_one_core()
    engine = LocalEngine(":memory:")
    engine.blocklists.create_or_update("bench")
    engine.blocklists.add_or_update_items("bench", terms(args.terms))
    guard = Guard({"harm": {}, "blocklists": ["bench"]}, backend=engine)
    text = corpus(1, 200)[0]
    matcher = engine.blocklists.matcher("bench")

    loop = asyncio.new_event_loop()

    async def many_async(n: int) -> list[float]:
        out = []
        for _ in range(n):
            t = loop.time()
            await guard.check_prompt(text)
            out.append((loop.time() - t) * 1000.0)
        return out

    for _ in range(2):  # warm up, then measure
        bare = per_call_ms(lambda: engine.match_blocklists_sync(text, ["bench"]), args.repeat)
        raw = per_call_ms(lambda: matcher.find(text), args.repeat)
        guarded = loop.run_until_complete(many_async(args.repeat))
        sync = per_call_ms(lambda: guard.check_prompt_sync(text), args.repeat)
    loop.close()

    print(f"# Guard overhead, blocklist only ({args.terms:,} terms, 200-char text), {machine()}")
    print(f"{'call':<40}{'p50 ms':>10}{'p99 ms':>10}")
    rows = [
        ("matcher.find (peer: bare matching)", raw),
        ("engine.match_blocklists (findings)", bare),
        ("await guard.check_prompt", guarded),
        ("guard.check_prompt_sync", sync),
    ]
    for name, values in rows:
        print(f"{name:<40}{statistics.median(values):>10.4f}{p(values, 0.99):>10.4f}")
    overhead = statistics.median(guarded) - statistics.median(raw)
    print(f"Guard overhead p50 (check_prompt - bare matching): {overhead:.4f} ms")
    record("Guard overhead per check (await check_prompt, blocklist only)", statistics.median(guarded), "ms",
           peer="bare matcher.find", peer_value=statistics.median(raw))
    record("Guard overhead per check (check_prompt_sync)", statistics.median(sync), "ms",
           peer="await check_prompt", peer_value=statistics.median(guarded))
    print(f"ratio check_prompt / bare matching: {statistics.median(guarded) / statistics.median(raw):.1f}x")


if __name__ == "__main__":
    main()
