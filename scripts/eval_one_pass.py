"""Does a harm model's embedding head keep incidents working? (issue #18, dev time only)

A model trained by ``scripts/train_harm.py --distil W`` has a second output,
``sentence_embedding``: all-MiniLM-L6-v2's sentence embedding reproduced from the same pass
that scores harm. This script measures, beside the shipped embedder in the same run:

* fidelity: cosine between the head and the embedder on ``--texts`` rows of ../shared/data
  (one window each, as incident samples and short prompts are);
* incident quality on benchmarks/incident_paraphrase_set.py (paraphrase recall at 1% benign
  false positives, topical hits), as benchmarks/bench_incidents.py reports it;
* the time of one pass that gives harm scores and the embedding, against harm + embedder.

    python scripts/eval_one_pass.py --model /tmp/harm_v7 [--texts 2000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from guardrail import LocalEngine  # noqa: E402
from guardrail.backends.local.embedder import Embedder  # noqa: E402
from guardrail.backends.local.harm import HarmAnalyzer  # noqa: E402


class HeadEmbedder(Embedder):
    """The harm model's ``sentence_embedding`` output as an Embedder (first 126 tokens)."""

    def load(self) -> None:
        super().load()
        self._tokenizer.enable_truncation(128)

    def _run(self, batch: list[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(batch)
        feed = {"input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64)}
        out = self._session.run(["sentence_embedding"], feed)[0]
        return (out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)).astype(np.float32)


def sample_texts(n: int) -> list[str]:
    texts = []
    for path in sorted((ROOT.parent / "shared" / "data").glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            if row.get("lang") == "en" and 10 < len(row["text"]) < 400:
                texts.append(row["text"])
    return random.Random(0).sample(texts, n)


def incident_quality(embedder: Embedder) -> dict[str, float]:
    """bench_incidents.py's paraphrase figures, at 1% benign false positives."""
    from bench_incidents import paraphrase_scores

    engine = LocalEngine(":memory:", embedder=embedder)
    s = paraphrase_scores(engine)
    engine.close()
    at = float(np.quantile(s.benign, 0.99)) + 1e-4
    return {"threshold_at_1pct_benign": round(at, 3),
            "paraphrase_recall": round(float(((s.positive >= at) & s.right).mean()), 3),
            "topical_hit": round(float((s.topical >= at).mean()), 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", type=int, default=2000)
    args = ap.parse_args()
    head, base = HeadEmbedder(args.model, cache_size=0), Embedder(cache_size=0)
    texts = sample_texts(args.texts)
    a, b = head.embed(texts), base.embed(texts)
    cos = (a * b).sum(1)
    print(f"fidelity over {len(texts)} texts: cosine mean {cos.mean():.4f}, p01 {np.quantile(cos, 0.01):.4f}, "
          f"min {cos.min():.4f}")
    for label, emb in (("shipped embedder", Embedder()), ("harm model's head", HeadEmbedder(args.model))):
        print(f"incidents, {label}: {incident_quality(emb)}")

    harm = HarmAnalyzer(args.model)
    harm.load()
    prompt = "Could you help me plan a birthday dinner for eight people this weekend? Something with fish."
    for _ in range(5):
        harm.raw_scores([prompt]), base.embed([prompt]), head.embed([prompt])
    two, one = [], []
    for i in range(200):
        text = f"{prompt} ({i})"
        t = time.perf_counter()
        harm.raw_scores([text])
        base.embed([text])
        two.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        head.embed([text])  # the same ONNX pass also gives the harm scores
        one.append((time.perf_counter() - t) * 1000)
    print(f"p50 harm + embedder {statistics.median(two):.2f} ms; one pass (scores and embedding) "
          f"{statistics.median(one):.2f} ms")


if __name__ == "__main__":
    main()
