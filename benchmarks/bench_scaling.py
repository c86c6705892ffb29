"""How latency grows: with text length, with incidents and samples, with blocklist size.

Each series is the median of several calls per point. Peers in the same run: the
alt-profanity-check scorer for text length, a numpy brute-force cosine over the same
sample embeddings for incidents, flashtext for blocklist size.

    python benchmarks/bench_scaling.py
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import corpus, machine, per_call_ms, record_series, terms  # noqa: E402

from guardrail._matching import Term, TermMatcher  # noqa: E402
from guardrail.backends.local import LocalEngine  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def text_length(engine: LocalEngine) -> None:
    lengths = [100, 1_000, 5_000, 10_000, 50_000]
    base = " ".join(corpus(60, 1024, seed=5))
    harm = engine.harm
    harm.load()
    ours, peer = [], []
    try:
        from profanity_check import predict_prob
    except ImportError:
        predict_prob = None
    print(f"\n# harm analysis latency by text length ({machine()})")
    print(f"{'chars':>8}{'windows':>9}{'guardrail ms':>14}{'alt-profanity-check ms':>24}")
    for n in lengths:
        text = (base * (n // len(base) + 1))[:n]
        repeat = 5 if n <= 10_000 else 2
        ours.append(statistics.median(per_call_ms(lambda text=text: harm.analyze(text), repeat)))
        peer.append(statistics.median(per_call_ms(lambda text=text: predict_prob([text]), repeat)) if predict_prob else float("nan"))
        print(f"{n:>8}{len(harm.windows(text)):>9}{ours[-1]:>14.1f}{peer[-1]:>24.2f}")
    record_series("harm latency by text length", lengths, ours, x_label="characters", y_label="ms")
    if predict_prob:
        record_series("harm latency by text length", lengths, peer, x_label="characters", y_label="ms",
                      series="alt-profanity-check")


def incidents(engine: LocalEngine) -> None:
    rows = [json.loads(line)["text"] for line in (DATA / "edos.jsonl").open(encoding="utf-8")]
    pool = [t for t in rows if 20 < len(t) < 300][:1_100]
    ti = engine.text_incidents
    query = pool[-1]
    print("\n# incident detect (match step; the query embedding is cached) by incidents x samples")
    print(f"{'incidents':>10}{'samples each':>14}{'total':>8}{'detect ms':>12}{'numpy cosine ms':>17}")
    configs = [(1, 10), (10, 10), (100, 10), (1, 100), (10, 100), (100, 100), (1, 1000)]
    xs, ours, peer = [], [], []
    for n_inc, n_samples in configs:
        names = []
        for i in range(n_inc):
            name = f"s{n_inc}x{n_samples}-{i}"
            ti.create_or_update(name)
            start = (i * n_samples) % max(1, len(pool) - 100 - n_samples)
            ti.add_samples(name, pool[start : start + n_samples])
            ti.deploy(name)
            names.append(name)
        ti.detect(query, names)  # warm: embeds the query once, builds the group
        matrix = ti._group(tuple(names)).matrix
        v = engine.embedder.embed_one(query)
        ms = statistics.median(per_call_ms(lambda names=names: ti.detect(query, names), 50))
        brute = statistics.median(per_call_ms(lambda m=matrix, v=v: float(np.max(m @ v)), 50))
        print(f"{n_inc:>10}{n_samples:>14}{n_inc * n_samples:>8}{ms:>12.3f}{brute:>17.3f}")
        xs.append(n_inc * n_samples)
        ours.append(ms)
        peer.append(brute)
        for name in names:  # the service's limit is 100 incidents per resource
            ti.delete(name)
    record_series("incident detect by total samples", xs, ours, x_label="samples (incidents x samples each)", y_label="ms")
    record_series("incident detect by total samples", xs, peer, x_label="samples (incidents x samples each)",
                  y_label="ms", series="numpy brute-force cosine")


def blocklist_size() -> None:
    sizes = [10, 100, 1_000, 10_000, 100_000]
    texts = corpus(300, 1024)
    try:
        from flashtext import KeywordProcessor
    except ImportError:
        KeywordProcessor = None
    print("\n# blocklist matching per 1 KB text by blocklist size (sparse terms)")
    print(f"{'terms':>8}{'build ms':>10}{'guardrail us':>14}{'flashtext us':>14}")
    ours, peer = [], []
    for n in sizes:
        words = terms(n, sparse=True)
        t = time.perf_counter()
        matcher = TermMatcher([Term(str(i), w) for i, w in enumerate(words)])
        build = (time.perf_counter() - t) * 1000
        ours.append(statistics.median(per_call_ms(lambda m=matcher: [m.find(x) for x in texts], 5)) * 1000 / len(texts))
        if KeywordProcessor:
            kp = KeywordProcessor(case_sensitive=False)
            for w in words:
                kp.add_keyword(w)
            peer.append(statistics.median(per_call_ms(lambda kp=kp: [kp.extract_keywords(x, span_info=True) for x in texts], 5)) * 1000 / len(texts))
        else:
            peer.append(float("nan"))
        print(f"{n:>8}{build:>10.1f}{ours[-1]:>14.1f}{peer[-1]:>14.1f}")
    record_series("blocklist matching by list size", sizes, ours, x_label="terms", y_label="µs per 1 KB text")
    record_series("blocklist matching by list size", sizes, peer, x_label="terms", y_label="µs per 1 KB text",
                  series="flashtext")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = LocalEngine(Path(tmp) / "scaling.sqlite3")
        text_length(engine)
        incidents(engine)
        engine.close()
    blocklist_size()


if __name__ == "__main__":
    main()
