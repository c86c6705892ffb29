"""Language detection, as the Guard uses it to say when harm scores are not trusted.

    python benchmarks/bench_language.py [--rows 400]    # needs ../shared/data beside the repo

Per source and language of ../shared/data (a fixed sample of ``--rows`` rows each): the
share told correctly with the Guard's confidence floor, the share told as another language
(for English rows: texts that a default local policy would flag by mistake), and the
share left undetermined (no language rule applies). Also the p50 per short text. Yardstick
in the same run: py3langid over all its 97 languages, the library's default.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections import defaultdict
from pathlib import Path

from _common import machine, record

from guardrail import _language

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
SOURCES = ("ailuminate", "davidson", "ghc", "hatexplain", "edos", "mlma", "multijail", "xsafety", "cold",
           "conversationai-bias", "deepset-prompt-injections")


def sample_rows(n: int) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for source in SOURCES:
        path = DATA / f"{source}.jsonl"
        if not path.exists():
            continue
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            if row.get("lang") and row["lang"] != "und":
                out[(source, row["lang"])].append(row["text"])
    rng = random.Random(0)
    return {k: rng.sample(v, min(n, len(v))) for k, v in sorted(out.items()) if len(v) >= 50}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=400)
    args = ap.parse_args()
    sets = sample_rows(args.rows)
    if not sets:
        raise SystemExit(f"no rows under {DATA}")
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    every = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    print(f"# language detection ({machine()}); confidence floor {_language.MIN_CONFIDENCE}")
    print("| set | lang | rows | told right | told as another | undetermined | all 97 languages: another |")
    print("|---|---|---:|---:|---:|---:|---:|")
    english_wrong = []
    for (source, lang), texts in sets.items():
        found = [_language.detect(t) for t in texts]
        right = sum(1 for f in found if f is not None and f.code == lang) / len(texts)
        wrong = sum(1 for f in found if f is not None and f.code != lang) / len(texts)
        unknown = sum(1 for f in found if f is None) / len(texts)
        peer = [every.classify(t) for t in texts]
        peer_wrong = sum(1 for code, p in peer if p >= _language.MIN_CONFIDENCE and code != lang) / len(texts)
        print(f"| {source} | {lang} | {len(texts)} | {right:.3f} | {wrong:.3f} | {unknown:.3f} | {peer_wrong:.3f} |")
        if lang == "en" and not source.startswith("deepset"):  # deepset's "en" rows are often German
            english_wrong.append(wrong)
    worst = max(english_wrong)
    print(f"English rows told as another language (worst set, deepset aside): {worst:.3f}")
    record("language: English rows told as another language (worst set)", worst, "share")

    text = "Could you help me plan a birthday dinner for eight people this weekend?"
    _language.detect(text)
    times = []
    for i in range(2000):
        t = time.perf_counter()
        _language.detect(text + str(i))
        times.append((time.perf_counter() - t) * 1000)
    print(f"p50 per 70-character text: {statistics.median(times):.3f} ms")
    record("language: detect p50, 70 characters", statistics.median(times), "ms")


if __name__ == "__main__":
    main()
