"""guardrail eval: quality of harm analysis on labelled JSONL (precision, recall, AUPRC)."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from .._evaluation import CATEGORIES, EvalReport, dev_split, evaluate, labelled_rows
from .._exceptions import ConfigurationError, InvalidInputError
from ._io import print_table, read_jsonl


def register(sub: Any) -> None:
    p = sub.add_parser(
        "eval",
        help="precision, recall and AUPRC of the local harm model on labelled JSONL",
        description="Reads rows {text, labels: {Hate, SelfHarm, Sexual, Violence: 1|0|null}} "
        "(or {text, severity: {category: 0-7}}) and prints per-category precision and recall "
        "at the block threshold, AUPRC, the binary (any harm) AUPRC and the share of benign "
        "rows at or above the threshold.",
    )
    p.add_argument("--data", "-d", action="append", required=True, metavar="F.jsonl", help="labelled JSONL (repeatable)")
    p.add_argument("--split", choices=("all", "dev", "holdout"), default="all",
                   help="dev: the training script's hash split of the sources it trained on; holdout: "
                   "only the whole sources the model never saw (listed in its TRAINING.json)")
    p.add_argument("--holdout-source", action="append", metavar="NAME", default=None,
                   help="only rows of this source (first part of 'source', e.g. ghc); repeatable")
    p.add_argument("--model", metavar="DIR", help="a harm model folder to evaluate (default: the shipped one)")
    p.add_argument("--lang", metavar="CODE", help="only rows whose 'lang' is CODE (rows without lang are kept)")
    p.add_argument("--threshold", type=int, default=4, help="block threshold, 0-7 (default 4, as the default policy)")
    p.add_argument("--label", choices=("harm", "injection"), default="harm",
                   help="harm (the four categories) or injection: rows with 'injection' 1|0 scored by the local "
                   "prompt shield (recall, benign share flagged, AUPRC)")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--plot", metavar="DIR", help="write PR curves as PNG into DIR (needs matplotlib)")
    p.set_defaults(run=run)


def _source(row: dict[str, Any]) -> str:
    return str(row.get("source") or "").split("/")[0]


def load(args: argparse.Namespace, held_out: tuple[str, ...] = ()) -> list[Any]:
    rows = []
    wanted = set(args.holdout_source or ())
    if args.split == "holdout":
        if not held_out:
            raise InvalidInputError("this model lists no held-out sources; use --holdout-source NAME")
        wanted |= set(held_out)
    for path in args.data:
        raw = read_jsonl(path)
        if args.lang:
            raw = [r for r in raw if r.get("lang", args.lang) == args.lang]
        if wanted:
            raw = [r for r in raw if _source(r) in wanted]
        if args.split == "dev":  # the hash split of trained sources, as the training script makes it
            raw = [r for r in raw if isinstance(r.get("text"), str) and dev_split(r["text"])
                   and _source(r) not in held_out]
        rows.extend(labelled_rows(raw, path))
    if not rows:
        raise InvalidInputError("no rows left to evaluate after --split/--lang/--holdout-source; check the filters")
    return rows


def run_injection(args: argparse.Namespace) -> int:
    from .._evaluation import average_precision
    from ..backends.local.shield import ShieldAnalyzer

    import numpy as np

    wanted = set(args.holdout_source or ())
    rows = []
    for path in args.data:
        for r in read_jsonl(path):
            if r.get("injection") not in (0, 1) or not isinstance(r.get("text"), str) or not r["text"]:
                continue
            if (args.lang and r.get("lang", args.lang) != args.lang) or (wanted and _source(r) not in wanted):
                continue
            rows.append(r)
    if not rows:
        raise InvalidInputError("no rows with an 'injection' label of 1 or 0 left to evaluate")
    shield = ShieldAnalyzer()
    y = np.array([r["injection"] for r in rows])
    s = np.array([shield.raw(r["text"])[0] for r in rows])
    hit = s >= shield.threshold
    report = {"rows": len(rows), "attacks": int(y.sum()), "threshold": shield.threshold,
              "recall": float(hit[y == 1].mean()) if y.any() else float("nan"),
              "benign_flagged": float(hit[y == 0].mean()) if (y == 0).any() else float("nan"),
              "auprc": average_precision(y, s)}
    if args.json:
        print(json.dumps(report, allow_nan=True))
    else:
        print_table(["rows", "attacks", f"recall@{shield.threshold:g}", "benign flagged", "AUPRC"],
                    [[str(report["rows"]), str(report["attacks"]), fmt(report["recall"]),
                      fmt(report["benign_flagged"]), fmt(report["auprc"])]])
    return 0


def run(args: argparse.Namespace) -> int:
    if args.label == "injection":
        return run_injection(args)
    if not 1 <= args.threshold <= 7:
        raise InvalidInputError("--threshold must be 1-7")
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise ConfigurationError("--plot needs matplotlib: pip install 'guardrail[plot]'") from None
    from ..backends.local.harm import HarmAnalyzer, default_harm_analyzer

    analyzer = HarmAnalyzer(args.model) if args.model else default_harm_analyzer()
    rows = load(args, analyzer.holdout_sources)
    severities, scores = analyzer.severity_matrix([r.text for r in rows])
    report = evaluate(rows, severities, scores, threshold=args.threshold)
    if args.plot:
        for path in plot_curves({"guardrail": report}, Path(args.plot)):
            print(f"wrote {path}")
    if args.json:
        print(json.dumps(report.to_dict(), allow_nan=True))
    else:
        print_report(report)
    return 0


def fmt(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.3f}"


def print_report(report: EvalReport) -> None:
    rows = [
        [cat, str(f.rows), str(f.positives), fmt(f.precision), fmt(f.recall), fmt(f.auprc)]
        for cat, f in report.categories.items()
    ]
    print_table(["category", "rows", "positives", f"precision@{report.threshold}", f"recall@{report.threshold}", "AUPRC"], rows)
    print(f"binary (any harm) AUPRC: {fmt(report.binary_auprc)} over {report.binary_rows} rows")
    print(
        f"benign rows at severity >= {report.threshold}: {fmt(report.benign_at_threshold)} "
        f"of {report.benign_rows}"
    )


def plot_curves(reports: dict[str, EvalReport], out: Path) -> list[Path]:
    """One PNG per category plus binary: each report's PR curve on the same axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in (*CATEGORIES, "binary"):
        fig, ax = plt.subplots(figsize=(5, 4))
        drew = False
        for label, report in reports.items():
            if name not in report.curves:
                continue
            recall, precision = report.curves[name]
            auprc = report.binary_auprc if name == "binary" else report.categories[name].auprc
            ax.step(recall, precision, where="post", label=f"{label} (AUPRC {auprc:.3f})")
            drew = True
        if not drew:
            plt.close(fig)
            continue
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{name}: precision-recall")
        ax.legend(loc="lower left", fontsize=8)
        path = out / f"pr_{name.lower()}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written
