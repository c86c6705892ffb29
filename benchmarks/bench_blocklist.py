"""Blocklist matching throughput: 10,000 terms on 1 KB texts, one core.

guardrail's matcher (NFKC + casefold, word boundaries, offsets into the original text)
beside flashtext and a compiled regex alternation, on the same texts in the same run.

    python benchmarks/bench_blocklist.py [--terms 10000] [--texts 2000]
"""

from __future__ import annotations

import argparse
import re
import sys

from _common import corpus, machine, pin_one_core, terms, throughput, record

from guardrail._matching import Term, TermMatcher


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--terms", type=int, default=10_000)
    ap.add_argument("--texts", type=int, default=2_000)
    ap.add_argument("--size", type=int, default=1024)
    args = ap.parse_args()
    pin_one_core()
    texts = corpus(args.texts, args.size)
    for sparse in (True, False):
        run(terms(args.terms, sparse=sparse), texts, args, "sparse" if sparse else "dense")


def run(words: list[str], texts: list[str], args: argparse.Namespace, label: str) -> None:

    ours = TermMatcher([Term(str(i), w) for i, w in enumerate(words)])
    results = {"guardrail TermMatcher": throughput(ours.find, texts)}
    hits = sum(len(ours.find(t)) for t in texts) / len(texts)

    try:
        from flashtext import KeywordProcessor
    except ImportError:
        print("flashtext not installed (pip install flashtext); skipping that peer", file=sys.stderr)
    else:
        kp = KeywordProcessor(case_sensitive=False)
        for w in words:
            kp.add_keyword(w)
        results["flashtext"] = throughput(lambda t: kp.extract_keywords(t, span_info=True), texts)

    alternation = re.compile(
        r"\b(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b",
        re.IGNORECASE,
    )
    # The alternation is ~1000x slower: time it on a slice so the run stays short.
    results["regex alternation"] = throughput(
        lambda t: list(alternation.finditer(t)), texts[:50], rounds=1
    )

    base = results["guardrail TermMatcher"]
    print(f"\n# blocklist matching ({label}): {args.terms:,} terms, {args.texts:,} texts of {args.size} chars")
    print(f"# {machine()}, pinned to one core; {hits:.1f} matches per text")
    print(f"{'matcher':<24}{'texts/s (median)':>18}{'guardrail / peer':>18}")
    for name, rate in results.items():
        ratio = "-" if name.startswith("guardrail") else f"{base / rate:.1f}x"
        print(f"{name:<24}{rate:>18,.0f}{ratio:>18}")
        if not name.startswith("guardrail"):
            record(f"blocklist matching, {args.terms:,} terms, {args.size}-char texts ({label})", base,
                   "texts/s", peer=name, peer_value=rate, better="higher")


if __name__ == "__main__":
    main()
