"""Concurrent checks against sequential ones, harm on (issue #18 item 4: goal >= 3x).

The default Guard (local engine, harm on), in one process: N short prompts (~60-200
characters, a new text each time so no cache hides work) awaited one after another, then
N new ones started at once with ``asyncio.gather``. Reports checks per second of each, the
ratio, and the p50/p99 latency of a concurrent check. The peer is the same Guard awaited
sequentially in the same run. Also the ceiling batching can reach: the harm model's ONNX
session alone, one window per run against per window in runs of 32, on the same windows.

    python benchmarks/bench_concurrency.py [--n 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, p, record

SUBJECTS = ["my landlord", "the new intern", "our football coach", "the city council", "my sister", "the bakery"]
VERBS = ["keeps ignoring", "finally answered", "wrote a long email about", "asked me to review", "forgot"]
OBJECTS = ["the heating bill", "the quarterly plan", "tomorrow's match", "the parking rules", "a birthday cake",
           "the broken window", "the holiday rota", "a recipe for lemon tart"]
TAILS = ["", " What should I say?", " Can you draft a polite reply for me?", " Summarise it in two lines.",
         " Is that normal, and how do people usually handle it in a small office?"]


def prompts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)} ({seed}.{i})."
            f"{rng.choice(TAILS)}" for i in range(n)]


async def sequential(guard, texts: list[str]) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for t in texts:
        await guard.check_prompt(t)
    return len(texts) / (time.perf_counter() - start)


async def concurrent(guard, texts: list[str]) -> tuple[float, list[float]]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []

    async def one(t: str) -> None:
        t0 = time.perf_counter()
        verdict = await guard.check_prompt(t)
        latencies.append((time.perf_counter() - t0) * 1000)
        assert not verdict.errors, verdict.errors  # a timed-out check would flatter the rate

    start = time.perf_counter()
    await asyncio.gather(*(one(t) for t in texts))
    return len(texts) / (time.perf_counter() - start), latencies


def model_ceiling(texts: list[str]) -> tuple[float, float]:
    """(ms per window alone, ms per window in runs of 32) for the harm model's session."""
    from guardrail.backends.local.harm import default_harm_analyzer

    harm = default_harm_analyzer()
    windows = sorted((harm.windows(t)[0][0] for t in texts), key=len)
    harm._run(windows[:32])
    alone, batched = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        for w in windows:
            harm._run([w])
        alone.append((time.perf_counter() - t0) * 1000 / len(windows))
        t0 = time.perf_counter()
        for i in range(0, len(windows), 32):
            harm._run(windows[i : i + 32])
        batched.append((time.perf_counter() - t0) * 1000 / len(windows))
    return statistics.median(alone), statistics.median(batched)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from guardrail import Guard

    guard = Guard()
    await guard.check_prompt("warm up the models")
    seq, conc, lat = [], [], []
    for r in range(args.rounds):
        seq.append(await sequential(guard, prompts(args.n, seed=2 * r)))
        rate, latencies = await concurrent(guard, prompts(args.n, seed=2 * r + 1))
        conc.append(rate)
        lat += latencies
    s, c = statistics.median(seq), statistics.median(conc)
    alone, batched = model_ceiling(prompts(args.n, seed=99))
    print(machine())
    print(f"{args.n} short prompts, default Guard (harm on), median of {args.rounds} rounds")
    print(f"  sequential : {s:7.1f} checks/s")
    print(f"  concurrent : {c:7.1f} checks/s  ({c / s:.2f}x; goal >= 3x)")
    print(f"  concurrent latency p50 {p(lat, 0.5):.0f} ms, p99 {p(lat, 0.99):.0f} ms")
    print(f"  the harm model alone: {alone:.2f} ms per window one at a time, {batched:.2f} ms in runs of 32"
          f" (batching's ceiling {alone / batched:.2f}x)")
    record("concurrent checks, harm on (checks/s)", c, "checks/s", peer="sequential", peer_value=s, better="higher")
    record("harm model per window in runs of 32 (ms)", batched, "ms", peer="one window per run", peer_value=alone)


if __name__ == "__main__":
    asyncio.run(main())
