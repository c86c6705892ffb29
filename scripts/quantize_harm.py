"""Quantize the trained harm model to int8 when its figures hold (dev time only).

Reads ``model.onnx`` (fp32, from scripts/train_harm.py) in ``--dir`` (default: the shipped
folder), writes a dynamic per-channel int8 copy, scores the source-held-out rows and the
hash-split dev rows with both (a fixed sample of each, ``--rows``), and keeps int8 only if
no AUPRC (binary or per category) drops by more than ``--max-drop`` on either and a
text's score does not depend on the other texts in its batch (dynamic int8 fails this:
benchmarks/README.md, session 25). The knots
are refitted on the kept model's calib scores, stratified by length as training does.
TRAINING.json records both sets of figures.

    python scripts/quantize_harm.py [--dir DIR] [--max-drop 0.005] [--rows 4000]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
from pathlib import Path

from train_harm import CATS, LENGTH_STRATA, OUT, calibrate, figures_for, load_shared, score_rows


def sample(rows: list[dict], n: int) -> list[dict]:
    return random.Random(0).sample(rows, n) if len(rows) > n else rows


def batch_dependence(folder: Path, texts: list[str]) -> float:
    """Largest score change between scoring ``texts`` together and one at a time.

    Dynamic quantization scales activations over the whole batch, so a text's score can
    depend on the other texts in its batch (concurrent checks are micro-batched): such a
    model gives different verdicts for the same text and must not ship.
    """
    import sys

    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from guardrail.backends.local.harm import HarmAnalyzer

    harm = HarmAnalyzer(folder)
    together = np.array([best for best, _ in harm.raw_scores(texts)])
    alone = np.array([harm.raw_scores([t])[0][0] for t in texts])
    return float(np.abs(together - alone).max())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=str(OUT))
    ap.add_argument("--max-drop", type=float, default=0.005)
    ap.add_argument("--rows", type=int, default=4000)
    args = ap.parse_args()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = Path(args.dir)
    _, dev_rows, calib_rows, holdout_rows = load_shared(random.Random(0))
    sets = {"holdout": sample(holdout_rows, args.rows), "dev": sample(dev_rows, args.rows)}
    fp32 = {k: figures_for(rows, score_rows(out, rows)) for k, rows in sets.items()}
    with tempfile.TemporaryDirectory() as tmp:
        q = Path(tmp)
        for name in ("tokenizer.json", "config.json", "TRAINING.json"):
            shutil.copy(out / name, q / name)
        quantize_dynamic(str(out / "model.onnx"), str(q / "model.onnx"), weight_type=QuantType.QInt8,
                         per_channel=True)
        int8 = {k: figures_for(rows, score_rows(q, rows)) for k, rows in sets.items()}
        drops = {f"{s}:{k}": fp32[s][k] - int8[s][k] for s in sets for k in fp32[s]}
        batch_drift = batch_dependence(q, [r["text"] for r in sample(sets["dev"], 300)])
        keep = max(drops.values()) <= args.max_drop and batch_drift <= 1e-3
        print(json.dumps({"fp32": fp32, "int8": int8, "drops": drops, "batch_drift": batch_drift,
                          "keep_int8": keep}, indent=1))
        if keep:
            shutil.copy(q / "model.onnx", out / "model.onnx")
    calib = score_rows(out, calib_rows)
    lengths = [len(r["text"]) for r in calib_rows]
    benign = [i for i, r in enumerate(calib_rows) if all(r["labels"].get(c) == 0 for c in CATS)]
    strata = [calib[[i for i in benign if lo <= lengths[i] < hi]] for lo, hi in LENGTH_STRATA]
    config = json.loads((out / "config.json").read_text())
    config["calibration"] = calibrate(strata)
    config["weights"] = "int8 (dynamic, per channel)" if keep else "fp32"
    (out / "config.json").write_text(json.dumps(config, indent=1) + "\n")
    training = json.loads((out / "TRAINING.json").read_text())
    training["quantization"] = {"fp32_sample": fp32, "int8_sample": int8, "max_drop": args.max_drop,
                                "rows_per_set": args.rows}
    training["shipped"] = config["weights"]
    (out / "TRAINING.json").write_text(json.dumps(training, indent=1) + "\n")


if __name__ == "__main__":
    main()
