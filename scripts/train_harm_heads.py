"""Harm heads on the frozen shipped embedder: an experiment (issue #13/#18), not shipped.

Measured (2026-12-01, held-out sources ailuminate, ghc, misogyny-reddit, 12,207 rows):
a linear head on the sentence embedding reached binary AUPRC 0.451, an MLP on the mean,
max and [CLS] vectors 0.539 (Hate 0.378, SelfHarm 0.524, Sexual 0.530, Violence 0.426),
against the fine-tuned v4's 0.701. A frozen trunk does not read harm well enough here.
Its feature cache (the embedder's window embeddings of the training rows) is the teacher
scripts/train_one_pass.py reads.

The trunk is the shipped all-MiniLM-L6-v2 embedder, unchanged (``guardrail/_weights/
minilm_l6_v2``); only small heads are trained on what one pass of it gives per token window:
the mean-pooled last layer (the sentence embedding incidents and categories use), its
max-pool and the [CLS] vector. A frozen trunk transfers to sources it never saw far better
than a fine-tune (issue #13: the fine-tune lost 0.145 AUPRC from dev to outside text, a
frozen MiniLM + logistic regression 0.03), and it would make a full check one pass (#18).

Inputs (named; read, never copied): ``../shared/data/*.jsonl`` (English rows), the authored
rows and generators of ``scripts/train_harm.py`` / ``scripts/harm_data/``, and the shipped
embedder's ONNX model. Features are cached in ``--cache`` (default /tmp/harm_heads_cache).
Dev-time needs: ``pip install torch==2.13.0 scikit-learn onnxruntime tokenizers``.

    python scripts/train_harm_heads.py [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_harm as th
from encoder_training import window_tokenizer, windows_of

ROOT = th.ROOT
EMBEDDER = ROOT / "guardrail" / "_weights" / "minilm_l6_v2"


def session(model: Path, threads: int = 2):  # type: ignore[no-untyped-def]
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(model / "model.onnx"), options, providers=["CPUExecutionProvider"])


def features(sess, wins: list[list[int]], batch: int = 64) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Per window: [mean-pooled (normalized), max-pooled, CLS] of the last layer, float16."""
    out = np.zeros((len(wins), 3 * 384), dtype=np.float16)
    order = sorted(range(len(wins)), key=lambda i: len(wins[i]))
    names = [i.name for i in sess.get_inputs()]
    t0 = time.time()
    for n, start in enumerate(range(0, len(order), batch)):
        idx = order[start : start + batch]
        width = max(len(wins[i]) for i in idx)
        ids = np.zeros((len(idx), width), dtype=np.int64)
        mask = np.zeros((len(idx), width), dtype=np.int64)
        for r, j in enumerate(idx):
            ids[r, : len(wins[j])] = wins[j]
            mask[r, : len(wins[j])] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = sess.run(None, {k: feed[k] for k in names})[0]
        m = mask[..., None].astype(np.float32)
        mean = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
        mean /= np.clip(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12, None)
        peak = (hidden - (1 - m) * 1e4).max(1)
        out[idx] = np.concatenate([mean, peak, hidden[:, 0]], axis=1).astype(np.float16)
        if n % 200 == 0:
            print(f"  features {start}/{len(wins)} {time.time() - t0:.0f}s", flush=True)
    return out


def cached_features(cache: Path, name: str, tokenizer, texts: list[str], limit: int):  # type: ignore[no-untyped-def]
    """(features per window, owner text per window), cached by the texts' hash."""
    key = hashlib.sha1("\x00".join(texts).encode("utf-8", "surrogatepass")).hexdigest()[:12]
    path = cache / f"{name}-{key}-{limit}.npz"
    if path.exists():
        data = np.load(path)
        return data["x"], data["owner"]
    wins, owner = windows_of(tokenizer, texts, limit)
    started = time.time()
    x = features(session(EMBEDDER), wins)
    print(f"{name}: {len(wins)} windows in {time.time() - started:.0f}s", flush=True)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=x, owner=owner)
    return x, owner


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default="/tmp/harm_heads_cache")
    ap.add_argument("--only-features", action="store_true")
    ap.add_argument("--features", default="all", choices=("mean", "mean+max", "all"))
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--wd", type=float, default=0.01)
    args = ap.parse_args()

    tokenizer = window_tokenizer(EMBEDDER)
    data = th.training_data(random.Random(th.SEED))
    rows, dev_rows, calib_rows, holdout_rows = data.rows, data.dev, data.calib, data.holdout
    print(f"train rows {len(rows)}; dev {len(dev_rows)}, calib {len(calib_rows)}, held out {len(holdout_rows)}", flush=True)
    cache = Path(args.cache)
    sets = {
        "holdout": ([r["text"] for r in holdout_rows], 40),
        "dev": ([r["text"] for r in dev_rows], 40),
        "calib": ([r["text"] for r in calib_rows], 40),
        "train": ([r.text for r in rows], th.MAX_WINDOWS),
    }
    for name, (texts, limit) in sets.items():
        cached_features(cache, name, tokenizer, texts, limit)
    if args.only_features:
        return
    x, owner = cached_features(cache, "train", tokenizer, *sets["train"])
    hx, howner = cached_features(cache, "holdout", tokenizer, *sets["holdout"])
    authored_dev = [json.loads(line) for line in (ROOT / "benchmarks" / "data" / "authored_dev.jsonl").open()]
    for r in authored_dev:
        r["labels"] = {c: int(r["severity"].get(c, 0) >= 4) for c in th.CATS}
    ax, aowner = cached_features(cache, "authored_dev", tokenizer, [r["text"] for r in authored_dev], 40)
    head = train_head(x, owner, rows, args, hx, howner, holdout_rows)
    for name, (fx, fo, frows) in {"holdout": (hx, howner, holdout_rows),
                                  "authored_dev": (ax, aowner, authored_dev)}.items():
        s = row_scores(head, fx, fo, len(frows))
        figs = th.figures_for(frows, s)
        print(name, json.dumps({k: round(v, 4) for k, v in figs.items()}), flush=True)


def row_scores(head, x: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    import torch

    head.eval()
    with torch.no_grad():
        win = torch.sigmoid(head(torch.from_numpy(x[:, : head.dim].astype(np.float32)))).numpy()
    out = np.zeros((n, win.shape[1]), dtype=np.float32)
    np.maximum.at(out, owner, win)
    return out


def make_head(dim: int, hidden: int, outputs: int, dropout: float):  # type: ignore[no-untyped-def]
    import torch

    if hidden == 0:
        return torch.nn.Sequential(torch.nn.Dropout(dropout), torch.nn.Linear(dim, outputs))
    return torch.nn.Sequential(
        torch.nn.Dropout(dropout), torch.nn.Linear(dim, hidden), torch.nn.GELU(),
        torch.nn.Dropout(dropout), torch.nn.Linear(hidden, outputs),
    )


def train_head(x, owner, rows, args, hx, howner, holdout_rows):  # type: ignore[no-untyped-def]
    """Trained with each row's score the max over its windows, as at run time."""
    import torch

    torch.manual_seed(th.SEED)
    torch.set_num_threads(2)
    cols = {"mean": slice(0, 384), "mean+max": slice(0, 768), "all": slice(0, 1152)}[args.features]
    x = x[:, cols]
    targets, known, weights, _, pos_weight = th.label_tensors(rows)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight, reduction="none")
    row_wins: list[list[int]] = [[] for _ in rows]
    for w, t in enumerate(owner.tolist()):
        row_wins[t].append(w)
    xt = torch.from_numpy(x.astype(np.float32))
    head = make_head(x.shape[1], args.hidden, len(th.CATS), args.dropout)
    head.dim = x.shape[1]
    opt = torch.optim.AdamW(head.parameters(), lr=args.lr, weight_decay=args.wd)
    best = (-1.0, None, -1)
    order = np.arange(len(rows))
    for epoch in range(args.epochs):
        head.train()
        np.random.default_rng(epoch).shuffle(order)
        total = 0.0
        for start in range(0, len(order), args.batch):
            idx = order[start : start + args.batch]
            wins = [w for j in idx for w in row_wins[j]]
            seg = torch.tensor([i for i, j in enumerate(idx) for _ in row_wins[j]])
            wl = head(xt[wins])
            logits = torch.full((len(idx), wl.shape[1]), -1e4).scatter_reduce(
                0, seg[:, None].expand_as(wl), wl, reduce="amax")
            per = loss_fn(logits, targets[idx]) * known[idx]
            loss = (per.sum(1) * weights[idx]).sum() / known[idx].sum().clamp(min=1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        figs = th.figures_for(holdout_rows, row_scores(head, hx, howner, len(holdout_rows)))
        print(f"epoch {epoch} loss {total:.1f} held-out {json.dumps({k: round(v, 4) for k, v in figs.items()})}", flush=True)
        if figs["binary"] > best[0]:
            best = (figs["binary"], {k: v.clone() for k, v in head.state_dict().items()}, epoch)
    head.load_state_dict(best[1])
    print(f"kept epoch {best[2]}", flush=True)
    return head


if __name__ == "__main__":
    main()
