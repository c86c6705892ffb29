"""Helpers shared by the benchmark scripts: deterministic inputs and timing."""

from __future__ import annotations

import os
import platform
import random
import statistics
import time
from typing import Callable, Sequence


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def pin_one_core() -> None:
    """Run on one core so figures are per core, as the goals are stated."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def vocabulary(n: int = 30_000, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    weights = [12, 9, 8, 8, 7, 7, 6, 6, 6, 4, 4, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1]
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choices(letters, weights, k=rng.randint(2, 10))))
    return sorted(words)


def corpus(count: int, size: int = 1024, seed: int = 11) -> list[str]:
    """``count`` texts of ``size`` characters: Zipf-distributed words with punctuation."""
    rng = random.Random(seed)
    vocab = vocabulary()
    weights = [1.0 / (rank + 1) for rank in range(len(vocab))]
    texts = []
    for _ in range(count):
        words = rng.choices(vocab, weights, k=size // 3)
        parts = []
        for i, w in enumerate(words):
            parts.append(w.capitalize() if i % 12 == 0 else w)
            parts.append(". " if i % 12 == 11 else ", " if i % 7 == 6 else " ")
        texts.append("".join(parts)[:size])
    return texts


def terms(count: int, seed: int = 3, *, sparse: bool = False) -> list[str]:
    """Blocklist terms: mostly single words, a fifth two-word phrases.

    Dense: every term is a word of the texts' vocabulary (about 15 hits per KB).
    Sparse: most terms are words the texts never use, as with a real blocklist
    on ordinary traffic (well under one hit per KB).
    """
    rng = random.Random(seed)
    vocab = vocabulary()[:]
    pool = vocab[300:]
    if sparse:
        foreign = [w + "zq" for w in vocabulary(count, seed=seed + 100)]
        pool = foreign + rng.sample(pool, max(1, count // 200))
    out = set()
    while len(out) < count:
        if rng.random() < 0.2:
            out.add(f"{rng.choice(pool)} {rng.choice(pool)}")
        else:
            out.add(rng.choice(pool))
    return sorted(out)


def per_call_ms(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000.0)
    return out


def throughput(fn: Callable[[str], object], texts: Sequence[str], rounds: int = 5) -> float:
    """Median texts/s over ``rounds`` passes."""
    rates = []
    for _ in range(rounds):
        t = time.perf_counter()
        for text in texts:
            fn(text)
        rates.append(len(texts) / (time.perf_counter() - t))
    return statistics.median(rates)


def p(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def record(name: str, value: float, unit: str, *, peer: str | None = None, peer_value: float | None = None,
           better: str = "lower") -> None:
    """Hand one figure to ``run_all.py`` (a JSON line in $GUARDRAIL_BENCH_JSON); no-op otherwise.

    ``better`` says which direction is good ("lower" for times, "higher" for rates and
    quality), so the report's ratio reads "how many times better/worse than the peer".
    """
    path = os.environ.get("GUARDRAIL_BENCH_JSON")
    if not path:
        return
    import json

    row = {"name": name, "value": value, "unit": unit, "peer": peer, "peer_value": peer_value, "better": better}
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")


def record_series(name: str, xs: Sequence[float], ys: Sequence[float], *, x_label: str, y_label: str,
                  series: str = "guardrail") -> None:
    """Hand one curve (a scaling series) to ``run_all.py`` for plotting."""
    path = os.environ.get("GUARDRAIL_BENCH_JSON")
    if not path:
        return
    import json

    row = {"series": name, "label": series, "x": list(xs), "y": list(ys), "x_label": x_label, "y_label": y_label}
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
