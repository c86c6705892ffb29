"""Incidents that read stance (issue #18, item 2): the stance set, three matchers in one run.

    python benchmarks/bench_incident_stance.py [--cap 400]   # needs ../shared/data beside the repo

For each target of incident_stance_set.py an incident is deployed from 10 hateful samples
on a fresh engine; every other text of the set is scored against it. The threshold is the
one that keeps benign text at or under 1% (chosen per incident on the benign rows, which
flatters every matcher alike), and for the shipped matcher also its default threshold. Reported: recall of other hateful texts about the target,
the share of non-hateful texts about the target that hit (hard negatives), and of hateful
texts about the *other* targets (off-target).

1. shipped: the engine's detect (cosine to the nearest sample).
2. background classifier: a logistic regression per incident, its samples against
   benign and topical-but-benign background text (sources the set never uses, plus
   scripts/incident_data/authored_background.py), on the same embeddings.
3. harm-gated cosine: the cosine score times min(1, query harm / (half the samples'
   mean harm)) in the samples' main category, with the shipped harm model.

The figures decide whether 2 or 3 ships; neither does while hard negatives hit as often
as positives (see benchmarks/README.md).
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from _common import machine, record
from incident_stance_set import build, rows

from guardrail import LocalEngine
from guardrail.backends.local.harm import default_harm_analyzer
from guardrail.backends.local.incidents import DEFAULT_TEXT_THRESHOLD

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts" / "incident_data"))
import authored_background

BACKGROUND = {  # sources incident_stance_set.py never reads; the non-hateful rows only
    "hatexplain": lambda r: r["labels"]["Hate"] == 0 and "offensive" not in r["tags"],
    "edos": lambda r: r["labels"]["Hate"] == 0,
    "ghc": lambda r: r["labels"]["Hate"] == 0 and "offensive" not in r["tags"],
    "davidson": lambda r: r["labels"]["Hate"] == 0 and "offensive" not in r["tags"],
    "conversationai-bias": lambda r: r["lang"] == "en" and r["labels"]["Hate"] == 0,
    "notinject": lambda r: r.get("injection") == 0,
}


def background_texts(per_source: int = 1500, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    for name, keep in BACKGROUND.items():
        texts = sorted({r["text"] for r in rows(name) if keep(r) and 12 <= len(r["text"]) <= 1500})
        rng.shuffle(texts)
        out += texts[:per_source]
    return out + authored_background.texts()


def fit_logistic(pos: np.ndarray, neg: np.ndarray, l2: float = 1.0, iters: int = 30) -> np.ndarray:
    """Class-balanced L2 logistic regression by Newton steps; weights with the bias last."""
    x = np.hstack([np.vstack([pos, neg]), np.ones((len(pos) + len(neg), 1))]).astype(np.float64)
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    sw = np.r_[np.full(len(pos), len(neg) / len(pos)), np.ones(len(neg))]
    reg = np.eye(x.shape[1]) * l2
    reg[-1, -1] = 1e-6
    w = np.zeros(x.shape[1])
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(x @ w)))
        step = np.linalg.solve((x * (sw * p * (1 - p))[:, None]).T @ x + reg, x.T @ (sw * (p - y)) + reg @ w)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--cap", type=int, default=400, help="texts per kind and target")
    ap.add_argument("--benign", type=int, default=3000)
    ap.add_argument("--background", type=int, default=1500, help="rows per background source")
    args = ap.parse_args()
    data = build(cap=args.cap, benign=args.benign)
    with tempfile.TemporaryDirectory() as tmp:
        engine = LocalEngine(f"{tmp}/store.db")
        embedder = engine.embedder
        harm = default_harm_analyzer()

        def vectors(texts: list[str]) -> list[np.ndarray]:
            return [embedder.window_vectors(t) for t in texts]

        def harm_scores(texts: list[str]) -> np.ndarray:
            return np.array([best for best, _ in harm.raw_scores(texts)])

        bg = embedder.embed(background_texts(args.background))
        benign_v, benign_h = vectors(data.benign), harm_scores(data.benign)
        results: dict[str, list[tuple[float, float, float]]] = {
            "shipped": [], "shipped, default threshold": [], "background": [], "harm-gated": []}
        for target in data.targets:
            ti = engine.text_incidents
            ti.create_or_update(target.name)
            ti.add_samples(target.name, target.samples)
            ti.deploy(target.name)
            sets = {"positives": target.positives, "hard": target.hard_negatives, "off": target.off_target}
            samples = embedder.embed(target.samples)
            w = fit_logistic(samples, bg)
            s_harm = harm_scores(target.samples).mean(axis=0)
            cat = int(s_harm.argmax())

            # defaults bind this target's values (the functions run inside this iteration only)
            def shipped(texts: list[str], _v: list[np.ndarray], _h: np.ndarray, name: str = target.name,
                        ti: Any = ti) -> np.ndarray:
                return np.array([ti.detect(t, [name], include_misses=True)[0].score for t in texts])

            def background(_t: list[str], v: list[np.ndarray], _h: np.ndarray, w: np.ndarray = w) -> np.ndarray:
                return np.array([float((x @ w[:-1]).max() + w[-1]) for x in v])

            def gated(_t: list[str], v: list[np.ndarray], h: np.ndarray, samples: np.ndarray = samples,
                      cat: int = cat, level: float = float(s_harm[cat])) -> np.ndarray:
                cos = np.array([float((x @ samples.T).max()) for x in v])
                return cos * np.minimum(1.0, h[:, cat] / max(0.5 * level, 1e-6))

            cache = {k: (vectors(v), harm_scores(v)) for k, v in sets.items()}
            for name, fn in (("shipped", shipped), ("shipped, default threshold", shipped),
                             ("background", background), ("harm-gated", gated)):
                if name == "shipped, default threshold":
                    threshold = DEFAULT_TEXT_THRESHOLD - 1e-9
                    benign_hit = float((fn(data.benign, benign_v, benign_h) > threshold).mean())
                    print(f"{target.name:14} benign hit at the default threshold {benign_hit:.4f}")
                else:
                    threshold = float(np.quantile(fn(data.benign, benign_v, benign_h), 0.99))
                hit = {k: float((fn(sets[k], *cache[k]) > threshold).mean()) for k in sets}
                results[name].append((hit["positives"], hit["hard"], hit["off"]))
                print(f"{target.name:14} {name:11} recall {hit['positives']:.3f}  hard negatives "
                      f"{hit['hard']:.3f}  off-target {hit['off']:.3f}", flush=True)
        engine.close()
    print(f"\n{machine()}; {len(data.targets)} targets, benign {len(data.benign)}, background {len(bg)}")
    print("| matcher | recall at 1% benign FP | hard negatives hit | off-target hit |")
    print("|---|---:|---:|---:|")
    for name, r in results.items():
        m = np.array(r).mean(axis=0)
        print(f"| {name} | {m[0]:.3f} | {m[1]:.3f} | {m[2]:.3f} |")
        record(f"incident stance recall at 1% benign FP, {name}", float(m[0]), "share", better="higher")
        record(f"incident stance hard negatives hit, {name}", float(m[1]), "share")


if __name__ == "__main__":
    main()
