"""What a full local check costs against one plain MiniLM-L6 forward pass (issue #18).

In one process, on the same ~200-character prompts (a new one each time, so no cache
hides work):

* yardstick: one fp32 all-MiniLM-L6-v2 forward pass (the shipped embedder's ONNX session);
* harm only: the default engine's harm analysis;
* full check: the default Guard with harm, a 1,000-term blocklist, 10 deployed incidents x
  100 samples and 2 built custom categories.

Reports medians and the ratios to the yardstick; also the peak RSS of a fresh process
after one full check. ``--harm DIR`` measures another harm model folder.

    python benchmarks/bench_one_pass.py [--harm DIR] [--runs 300]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, record

WORDS = ["the", "weather", "report", "for", "the", "coastal", "towns", "says", "rain", "will", "arrive", "after", "lunch", "and", "the", "ferry", "schedule", "may", "change", "so", "please", "check", "the", "harbour", "office", "before", "you", "leave", "home", "with", "the", "kids"]


def prompts(n: int, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = rng.choices(WORDS, k=36)
        out.append(f"{i}: " + " ".join(words)[:200])
    return out


def engine_with_resources(path: str, harm: str | None):  # type: ignore[no-untyped-def]
    from guardrail import LocalEngine

    engine = LocalEngine(path, harm=harm)
    rng = random.Random(1)
    engine.blocklists.create_or_update("terms")
    engine.blocklists.add_or_update_items("terms", [{"text": f"zq{rng.randrange(10**9)}"} for _ in range(1000)])
    for k in range(10):
        name = f"incident-{k}"
        engine.text_incidents.create_or_update(name)
        engine.text_incidents.add_samples(name, [f"sample {j} of incident {k}: " + " ".join(rng.choices(WORDS, k=12))
                                                 for j in range(100)])
        engine.text_incidents.deploy(name)
    for k in range(2):
        rows = [{"text": " ".join(rng.choices(WORDS, k=10)) + f" topic{k}", "isPositive": bool(j % 2)} for j in range(120)]
        engine.categories.create_version(f"cat{k}", definition="d", samples=rows)
        engine.categories.build(f"cat{k}", wait=True)
    return engine


FULL_POLICY = {
    "prompt": {
        "blocklists": ["terms"],
        "incidents": [{"name": f"incident-{k}"} for k in range(10)],
        "custom_categories": ["cat0", "cat1"],
    }
}

RSS = """
import json, resource, sys
sys.path.insert(0, {bench!r})
from bench_one_pass import FULL_POLICY, engine_with_resources
from guardrail import Guard, Policy
engine = engine_with_resources({store!r}, {harm!r})
guard = Guard(backend=engine, policy=Policy.model_validate(FULL_POLICY))
guard.check_prompt_sync("What is the weather like in Lisbon today?")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--harm", default=None)
    ap.add_argument("--runs", type=int, default=300)
    args = ap.parse_args()
    from guardrail import Guard, Policy
    from guardrail.backends.local.embedder import Embedder

    tmp = tempfile.mkdtemp()
    engine = engine_with_resources(os.path.join(tmp, "s.sqlite3"), args.harm)
    guard = Guard(backend=engine, policy=Policy.model_validate(FULL_POLICY))
    plain = Embedder(cache_size=0)
    plain.load()
    texts = prompts(args.runs * 3 + 20)
    it = iter(texts)
    warm = [next(it) for _ in range(10)]
    for t in warm:
        plain._run([t]), engine.harm.raw_scores([t]), guard.check_prompt_sync(t)

    one, harm_only, full = [], [], []
    for _ in range(args.runs):  # interleaved: the three see the same machine state
        t = next(it)
        s = time.perf_counter()
        plain._run([t])
        one.append((time.perf_counter() - s) * 1000)
        t = next(it)
        s = time.perf_counter()
        engine.harm.raw_scores([t])
        harm_only.append((time.perf_counter() - s) * 1000)
        t = next(it)
        s = time.perf_counter()
        verdict = guard.check_prompt_sync(t)
        full.append((time.perf_counter() - s) * 1000)
    assert not verdict.errors and not verdict.skipped, (verdict.errors, verdict.skipped)
    m1, mh, mf = (statistics.median(x) for x in (one, harm_only, full))
    print(f"{machine()}; harm model: {args.harm or 'shipped'}; embedder: {engine.embedder!r}")
    print(f"one fp32 MiniLM-L6 pass p50 {m1:.2f} ms; harm only {mh:.2f} ms ({mh / m1:.2f}x); "
          f"full check {mf:.2f} ms ({mf / m1:.2f}x)")
    record("full local check (harm + 1,000 terms + 10x100 incidents + 2 categories) / one MiniLM pass",
           mf, "ms", peer="one fp32 MiniLM-L6 forward pass", peer_value=m1)
    record("harm-only analysis / one MiniLM pass", mh, "ms", peer="one fp32 MiniLM-L6 forward pass", peer_value=m1)
    code = RSS.format(bench=str(Path(__file__).resolve().parent), store=os.path.join(tmp, "rss.sqlite3"),
                      harm=args.harm)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    rss = float(out.stdout.strip().splitlines()[-1])
    print(f"peak RSS of a process after one full check: {rss:.0f} MiB")
    record("peak RSS after one full local check", rss, "MiB")
    engine.close()


if __name__ == "__main__":
    main()
