"""Prompt shields, local model: quality on data it never trained on, and latency.

Quality (recall of attacks, share of benign rows flagged, AUPRC) at the shipped threshold:
* the leave-one-source-out folds of ``scripts/train_shield.py`` (read from the model's
  TRAINING.json: a model trained without deepset / notinject / the jailbreak templates,
  scored on that source);
* ailuminate (request-style prompts with alarming words; never trained on): the 600
  "unskilled" ones are the benign check; the 600 "skilled" ones often wrap the request in a
  jailbreak, so their flagged share is reported apart;
* ``data/shield_dev.jsonl`` and ``data/shield_hijack_dev.jsonl`` (ours, written apart from
  the training generator; the second: hijacking and extraction attacks in the shapes
  prompt-injection games collect, and imperative technical look-alikes);
* the docstrings of ``guardrail/`` (technical text about attacks; the READMEs train, these do not).
Yardstick in the same run: a keyword rule (the phrases a naive filter would look for).
No peer model installs offline here: LLM Guard's PromptInjection scanner, Prompt Guard
and Rebuff all download weights or call an API at run time.

Latency: p50 for a 200-character prompt; ms per 1,000 characters of documents.

    python benchmarks/bench_shield.py [--model DIR]
"""

from __future__ import annotations

import json
import re
import statistics
import time
from importlib import resources
from pathlib import Path

import numpy as np
from _common import machine, record

from guardrail._evaluation import average_precision
from guardrail.backends.local.shield import ShieldAnalyzer

ROOT = Path(__file__).resolve().parent
DATA = ROOT.parent.parent / "shared" / "data"
KEYWORDS = re.compile(r"ignore (all |the |your )?(previous|prior|above) (instructions|prompts?)|\bDAN\b|jailbreak|"
                      r"developer mode|system prompt|no (rules|restrictions|filters)", re.IGNORECASE)


def sets() -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {}
    dev = ROOT / "data" / "shield_dev.jsonl"
    out["shield_dev (ours, 52)"] = [(r["text"], int(r["injection"])) for r in map(json.loads, dev.open(encoding="utf-8"))]
    hijack = ROOT / "data" / "shield_hijack_dev.jsonl"
    out["shield_hijack_dev (ours, 64)"] = [(r["text"], int(r["injection"]))
                                           for r in map(json.loads, hijack.open(encoding="utf-8"))]
    held = DATA / "ailuminate.jsonl"
    if held.exists():
        rows = [json.loads(x) for x in held.open(encoding="utf-8")]
        # "unskilled" prompts are plain requests (the benign check); "skilled" ones often wrap
        # the request in a jailbreak (DAN, "ignore your restrictions"): unlabelled for a
        # shield, so their flagged share is shown apart and is no false-positive rate.
        out["ailuminate unskilled (benign, 600)"] = [(r["text"], 0) for r in rows if "persona:skilled" not in r["tags"]]
        out["ailuminate skilled (mixed, 600)"] = [(r["text"], 0) for r in rows if "persona:skilled" in r["tags"]]
    import sys

    sys.path.insert(0, str(ROOT.parent / "scripts"))
    from train_shield import docstrings  # technical text about attacks, never trained on

    docs = docstrings()
    out[f"guardrail/ docstrings ({len(docs)})"] = [(d, 0) for d in docs]
    return out


def figures(y: np.ndarray, s: np.ndarray, hit: np.ndarray) -> dict[str, float]:
    out = {"fpr": float(hit[y == 0].mean()) if (y == 0).any() else float("nan")}
    if y.any():
        out["recall"] = float(hit[y == 1].mean())
        out["auprc"] = average_precision(y, s) if 0 < y.sum() < len(y) else float("nan")
    return out


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help="a model folder to measure instead of the shipped one")
    args = ap.parse_args()
    shield = ShieldAnalyzer(args.model)
    folder = Path(args.model) if args.model else Path(str(resources.files("guardrail") / "_weights" / "shield_ngram"))
    training = json.loads((folder / "TRAINING.json").read_text())
    print(f"# prompt shields, local model (threshold {shield.threshold}), {machine()}")
    print("\nleave-one-source-out (from TRAINING.json):")
    for fold, f in training.get("leave_one_source_out", {}).items():
        print(f"  without {fold:<20} rows {f['rows']:>5}  recall {f.get('recall', float('nan')):.3f}  "
              f"benign flagged {f.get('fpr', float('nan')):.3f}  AUPRC {f.get('auprc', float('nan')):.3f}")
    print(f"\n{'set':<40}{'model':<12}{'recall':>8}{'benign flagged':>16}{'AUPRC':>8}")
    for name, rows in sets().items():
        y = np.array([r[1] for r in rows])
        s = np.array([shield.raw(t)[0] for t, _ in rows])
        ours = figures(y, s, s >= shield.threshold)
        kw = np.array([1.0 if KEYWORDS.search(t) else 0.0 for t, _ in rows])
        base = figures(y, kw, kw > 0)
        for label, f in (("guardrail", ours), ("keywords", base)):
            print(f"{name:<40}{label:<12}{f.get('recall', float('nan')):>8.3f}{f['fpr']:>16.3f}"
                  f"{f.get('auprc', float('nan')):>8.3f}")
        record(f"shield: benign flagged, {name}", ours["fpr"], "share", peer="keyword rule", peer_value=base["fpr"])
        if "recall" in ours:
            record(f"shield: recall, {name}", ours["recall"], "share", peer="keyword rule",
                   peer_value=base["recall"], better="higher")

    prompt = ("Could you summarise the main points of the meeting notes and suggest two follow-up questions "
              "for the product team? Keep it short, friendly and in plain English please, thanks a lot!")[:200]
    times = []
    for i in range(2000):
        t = time.perf_counter()
        shield.score(prompt[:-4] + f"{i:04d}")
        times.append((time.perf_counter() - t) * 1000.0)
    doc = (prompt + " ") * 50
    per_k = []
    for i in range(50):
        t = time.perf_counter()
        shield.score(doc + str(i))
        per_k.append((time.perf_counter() - t) * 1000.0 / len(doc) * 1000)
    kw_times = []
    for i in range(2000):
        t = time.perf_counter()
        KEYWORDS.search(prompt[:-4] + f"{i:04d}")
        kw_times.append((time.perf_counter() - t) * 1000.0)
    p50, kw50 = statistics.median(times), statistics.median(kw_times)
    print(f"\nlatency p50, 200-character prompt: {p50:.3f} ms (keyword rule {kw50:.4f} ms); "
          f"documents: {statistics.median(per_k):.2f} ms per 1,000 characters")
    record("shield: p50, 200-character prompt", p50, "ms", peer="keyword rule", peer_value=kw50)
    record("shield: ms per 1,000 characters of documents", statistics.median(per_k), "ms")


if __name__ == "__main__":
    main()
