"""Quantize the trained harm model to int8 when the dev figures hold (dev time only).

Reads ``guardrail/_weights/harm_minilm/model.onnx`` (fp32, from scripts/train_harm.py),
writes a dynamic per-channel int8 copy, scores the dev split and the calib split with
both, and keeps int8 only if no dev AUPRC (binary or per category) drops by more than
``--max-drop``. The calibration knots are refitted on the kept model's calib scores.
TRAINING.json records both sets of figures.

    python scripts/quantize_harm.py [--max-drop 0.005]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
from pathlib import Path

from train_harm import OUT, benign_scores, calibrate, figures_for, load_shared, score_rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-drop", type=float, default=0.005)
    args = ap.parse_args()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    _, dev_rows, calib_rows = load_shared(random.Random(0))
    fp32_dev = figures_for(dev_rows, score_rows(OUT, dev_rows))
    with tempfile.TemporaryDirectory() as tmp:
        q = Path(tmp)
        for name in ("tokenizer.json", "config.json"):
            shutil.copy(OUT / name, q / name)
        quantize_dynamic(str(OUT / "model.onnx"), str(q / "model.onnx"), weight_type=QuantType.QInt8,
                         per_channel=True)
        int8_dev = figures_for(dev_rows, score_rows(q, dev_rows))
        drops = {k: fp32_dev[k] - int8_dev[k] for k in fp32_dev}
        keep = max(drops.values()) <= args.max_drop
        print(json.dumps({"fp32": fp32_dev, "int8": int8_dev, "keep_int8": keep}, indent=1))
        if keep:
            shutil.copy(q / "model.onnx", OUT / "model.onnx")
    calib = score_rows(OUT, calib_rows)
    config = json.loads((OUT / "config.json").read_text())
    config["calibration"] = calibrate(benign_scores(calib_rows, calib))
    config["weights"] = "int8 (dynamic, per channel)" if keep else "fp32"
    (OUT / "config.json").write_text(json.dumps(config, indent=1) + "\n")
    training = json.loads((OUT / "TRAINING.json").read_text())
    training["dev_figures"] = int8_dev if keep else fp32_dev
    training["dev_figures_fp32"] = fp32_dev
    training["dev_figures_int8"] = int8_dev
    training["shipped"] = config["weights"]
    (OUT / "TRAINING.json").write_text(json.dumps(training, indent=1) + "\n")


if __name__ == "__main__":
    main()
