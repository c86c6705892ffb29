"""Azure client overhead and 200-way concurrency, against a loopback server.

* Overhead: ``AzureBackend.analyze_text`` beside a bare ``httpx.AsyncClient.post`` of the
  same body to the same server, in the same run; the difference is what guardrail adds
  (auth header, body building, retry bookkeeping, parsing into findings).
* Concurrency: 200 ``guard.check_prompt`` calls at once through a backend whose pool
  allows 20 connections; the server counts the connections it saw.

    python benchmarks/bench_azure_client.py [--calls 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx
from _common import machine, p, record
from loopback_server import LoopbackServer

from guardrail import Guard
from guardrail.backends.azure import AzureBackend


async def measure(url: str, calls: int) -> dict[str, list[float]]:
    text = "What is the weather like in Lisbon in May? " * 4
    body = {"text": text, "categories": ["Hate", "SelfHarm", "Sexual", "Violence"],
            "outputType": "FourSeverityLevels"}
    times: dict[str, list[float]] = {"bare httpx": [], "AzureBackend.analyze_text": [],
                                      "Guard.check_prompt (azure)": []}
    backend = AzureBackend(url, key="bench-key")
    guard = Guard({"harm": {"Violence": 4}}, backend=backend)
    async with httpx.AsyncClient() as bare:
        headers = {"Ocp-Apim-Subscription-Key": "bench-key"}

        async def raw() -> None:
            r = await bare.post(url + "/contentsafety/text:analyze",
                                params={"api-version": "2024-09-01"}, json=body, headers=headers)
            r.json()

        steps = [
            ("bare httpx", raw),
            ("AzureBackend.analyze_text", lambda: backend.analyze_text(text)),
            ("Guard.check_prompt (azure)", lambda: guard.check_prompt(text)),
        ]
        for _ in range(50):  # warm up connections
            for _, step in steps:
                await step()
        for _ in range(calls):  # interleave so drift hits all three alike
            for name, step in steps:
                t = time.perf_counter()
                await step()
                times[name].append((time.perf_counter() - t) * 1000.0)
    await backend.aclose()
    return times


async def bare_concurrency(url: str, n: int, pool: int) -> float:
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
    async with httpx.AsyncClient(limits=limits) as client:
        t = time.perf_counter()
        await asyncio.gather(*(
            client.post(url + "/contentsafety/text:analyze", json={"text": f"message {i}"})
            for i in range(n)
        ))
        return time.perf_counter() - t


async def concurrency(url: str, n: int, pool: int) -> tuple[int, int, float]:
    backend = AzureBackend(url, key="bench-key", max_connections=pool)
    guard = Guard({"harm": {"Violence": 4}}, backend=backend)
    t = time.perf_counter()
    verdicts = await asyncio.gather(*(guard.check_prompt(f"message {i}") for i in range(n)))
    elapsed = time.perf_counter() - t
    await backend.aclose()
    errors = sum(1 for v in verdicts if v.errors)
    return errors, len(verdicts), elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=3000)
    ap.add_argument("--concurrent", type=int, default=200)
    ap.add_argument("--pool", type=int, default=20)
    args = ap.parse_args()
    print(f"# Azure client against a loopback server, {machine()}")
    with LoopbackServer() as url:
        times = asyncio.run(measure(url, args.calls))
    print(f"{'call':<30}{'p50 ms':>10}{'p99 ms':>10}")
    for name, values in times.items():
        print(f"{name:<30}{statistics.median(values):>10.3f}{p(values, 0.99):>10.3f}")
    overhead = statistics.median(times["AzureBackend.analyze_text"]) - statistics.median(times["bare httpx"])
    print(f"client overhead p50 (analyze_text - bare httpx): {overhead:.3f} ms")
    record("Azure client: text:analyze p50 (loopback)", statistics.median(times["AzureBackend.analyze_text"]),
           "ms", peer="bare httpx", peer_value=statistics.median(times["bare httpx"]))

    with LoopbackServer(delay=0.02) as url:
        errors, total, elapsed = asyncio.run(concurrency(url, args.concurrent, args.pool))
        stats = httpx.get(url + "/stats").json()  # this request opens one more connection
    with LoopbackServer(delay=0.02) as url:
        bare = asyncio.run(bare_concurrency(url, args.concurrent, args.pool))
    print(f"\n# {args.concurrent} concurrent Guard checks, pool of {args.pool}, server answers in 20 ms")
    print(f"checks: {total}, with errors: {errors}, wall time: {elapsed * 1000:.0f} ms "
          f"(peer, bare httpx with the same pool: {bare * 1000:.0f} ms)")
    record(f"Azure client: {args.concurrent} concurrent Guard checks, wall", elapsed * 1000, "ms",
           peer="bare httpx, same pool", peer_value=bare * 1000)
    record(f"Azure client: errors in {args.concurrent} concurrent checks", errors, "count")
    print(f"connections the server accepted: {stats['accepted'] - 1} (pool limit {args.pool}); "
          f"most open at once: {stats['peak_open']}")


if __name__ == "__main__":
    main()
