"""Local harm analysis: quality on the dev split and speed, beside two peers in the same run.

Peers: alt-profanity-check (linear SVM over bag of words; its probability is used as the
score of every category) and better-profanity (word list; 1 when it finds a word, else 0).
Quality data, English rows of ../shared/data: the whole sources the shipped model never
saw (``holdout_sources`` in its TRAINING.json: the figure to choose models by), the hash
split of the sources it trained on (sha1(text) % 10 < 2, rows never trained on, but from
the same sources: optimistic), and benchmarks/data/authored_dev.jsonl (ours, never read by
the training script). ``--baseline DIR`` puts an earlier model beside it in the same run,
e.g. v4 from git: ``mkdir -p /tmp/v4 && for f in model.onnx tokenizer.json config.json; do
git show ea73f07:guardrail/_weights/harm_minilm/$f > /tmp/v4/$f; done``.
Needs ``pip install -e ".[bench]"``.

    python benchmarks/bench_harm.py [--plot DIR] [--max-rows N] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, per_call_ms, record  # noqa: E402

from guardrail._evaluation import CATEGORIES, EvalReport, dev_split, evaluate, labelled_rows  # noqa: E402
from guardrail.backends.local.harm import default_harm_analyzer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
AUTHORED_DEV = ROOT / "benchmarks" / "data" / "authored_dev.jsonl"


def load_rows(max_rows: int) -> tuple[list, list, list]:
    held_out = set(default_harm_analyzer().holdout_sources)
    shared, holdout = [], []
    for path in sorted(DATA.glob("*.jsonl")):
        for n, line in enumerate(path.open(encoding="utf-8"), 1):
            row = json.loads(line)
            if row.get("lang") != "en" or not row["text"].strip():
                continue
            if not any(row["labels"].get(c) is not None for c in CATEGORIES):
                continue
            if row["source"].split("/")[0] in held_out:
                holdout.append({**row, "_line": n})
            elif dev_split(row["text"]):
                shared.append({**row, "_line": n})
    rng = np.random.default_rng(0)
    if max_rows and len(shared) > max_rows:
        shared = [shared[i] for i in rng.choice(len(shared), max_rows, replace=False)]
    if max_rows and len(holdout) > max_rows:
        holdout = [holdout[i] for i in rng.choice(len(holdout), max_rows, replace=False)]
    own = [{**json.loads(line), "_line": n} for n, line in enumerate(AUTHORED_DEV.open(encoding="utf-8"), 1)]
    return (labelled_rows(holdout, "held-out sources") if holdout else [], labelled_rows(shared, "dev split"),
            labelled_rows(own, AUTHORED_DEV.name))


def peers() -> dict[str, object]:
    out: dict[str, object] = {}
    try:
        from profanity_check import predict_prob

        out["alt-profanity-check"] = lambda texts: np.asarray(predict_prob(list(texts)), dtype=float)
    except ImportError:
        print("alt-profanity-check not installed; skipping that peer", file=sys.stderr)
    try:
        from better_profanity import profanity

        profanity.load_censor_words()
        out["better-profanity"] = lambda texts: np.array([float(profanity.contains_profanity(t)) for t in texts])
    except ImportError:
        print("better-profanity not installed; skipping that peer", file=sys.stderr)
    return out


def peer_report(rows: list, score: np.ndarray) -> EvalReport:
    # One harm score for all four categories; "severity" 7*score so >= 4 means score >= 0.57.
    scores = np.repeat(score[:, None], len(CATEGORIES), axis=1)
    return evaluate(rows, np.floor(scores * 7.99).astype(int), scores)


def quality(rows: list, label: str, peer_fns: dict, plot: str | None, baseline: object = None) -> None:
    texts = [r.text for r in rows]
    sev, cont = default_harm_analyzer().severity_matrix(texts)
    reports = {"guardrail": evaluate(rows, sev, cont)}
    if baseline is not None:
        reports["previous model"] = evaluate(rows, *baseline.severity_matrix(texts))
    for name, fn in peer_fns.items():
        reports[name] = peer_report(rows, fn(texts))
    print(f"\n# quality on {label}: {len(rows)} rows, block threshold 4")
    header = f"{'':<22}" + "".join(f"{c:>10}" for c in (*CATEGORIES, "binary", "benign>=4"))
    print(header)
    for name, rep in reports.items():
        cells = [rep.categories[c].auprc for c in CATEGORIES] + [rep.binary_auprc, rep.benign_at_threshold]
        print(f"{name:<22}" + "".join(f"{x:>10.3f}" for x in cells))
    ours = reports["guardrail"]
    print("guardrail precision/recall at 4: " + ", ".join(
        f"{c} {ours.categories[c].precision:.2f}/{ours.categories[c].recall:.2f}" for c in CATEGORIES))
    tag = label.split()[0]
    for name in (*CATEGORIES, "binary"):
        value = ours.binary_auprc if name == "binary" else ours.categories[name].auprc
        for peer, rep in reports.items():
            if peer == "guardrail":
                continue
            pv = rep.binary_auprc if name == "binary" else rep.categories[name].auprc
            record(f"harm AUPRC {name} ({tag})", value, "AUPRC", peer=peer, peer_value=pv, better="higher")
    record(f"harm benign rows at severity>=4 ({tag})", ours.benign_at_threshold, "share")
    if plot:
        from guardrail.cli._eval import plot_curves

        for path in plot_curves(reports, Path(plot) / tag):
            print(f"wrote {path}")


def speed(texts: list[str], peer_fns: dict, baseline: object = None) -> None:
    harm = default_harm_analyzer()
    harm.load()
    short = [t for t in texts if 20 <= len(t) <= 200][:300]
    one = min(short, key=lambda t: abs(len(t) - 200))  # a ~200-character text
    rows = []
    ours = per_call_ms(lambda: harm.analyze(one), 200)
    rows.append(("guardrail (one text)", statistics.median(ours)))
    if baseline is not None:
        baseline.load()
        prev = per_call_ms(lambda: baseline.analyze(one), 200)
        rows.append(("previous model (one text)", statistics.median(prev)))
        record("harm analysis latency p50, ~200-char text", statistics.median(ours), "ms",
               peer="previous model", peer_value=statistics.median(prev))
    peer_one = {}
    for name, fn in peer_fns.items():
        values = per_call_ms(lambda fn=fn: fn([one]), 200)
        peer_one[name] = statistics.median(values)
        rows.append((f"{name} (one text)", peer_one[name]))
    varied = [statistics.median(per_call_ms(lambda t=t: harm.analyze(t), 3)) for t in short[:100]]
    rows.append(("guardrail, 100 different texts", statistics.median(varied)))
    print(f"\n# harm latency p50, {machine()}; texts of 20-200 characters")
    for name, ms in rows:
        print(f"{name:<36}{ms:>10.3f} ms")
    for name, ms in peer_one.items():
        record("harm analysis latency p50, one text", statistics.median(ours), "ms", peer=name, peer_value=ms)

    batch = short * 2
    rates = {}
    for name, fn in [("guardrail", lambda b: harm.analyze_many(b)), *peer_fns.items()]:
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            fn(batch)
            runs.append(len(batch) / (time.perf_counter() - t))
        rates[name] = statistics.median(runs)
    print(f"\n# batched throughput, {len(batch)} texts")
    for name, rate in rates.items():
        print(f"{name:<36}{rate:>10.0f} texts/s")
    for name, rate in rates.items():
        if name != "guardrail":
            record("harm analysis throughput, batched", rates["guardrail"], "texts/s", peer=name,
                   peer_value=rate, better="higher")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--plot", metavar="DIR", help="write PR curves (guardrail and peers) into DIR")
    ap.add_argument("--max-rows", type=int, default=0, help="sample the dev split (0: all of it)")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--baseline", metavar="DIR", help="an earlier harm model folder, measured beside")
    args = ap.parse_args()
    holdout, shared, own = load_rows(args.max_rows)
    fns = peers()
    baseline = None
    if args.baseline:
        from guardrail.backends.local.harm import HarmAnalyzer

        baseline = HarmAnalyzer(args.baseline)
    speed([r.text for r in shared], fns, baseline)
    if not args.skip_quality:
        if holdout:
            quality(holdout, "held-out sources of ../shared/data (never trained on)", fns, args.plot, baseline)
        quality(shared, "dev split of ../shared/data (English, hash split of trained sources)", fns, args.plot,
                baseline)
        quality(own, "authored dev examples", fns, args.plot, baseline)


if __name__ == "__main__":
    main()
