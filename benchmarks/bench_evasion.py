"""Obfuscated harm: how much a user's spelling tricks cost the harm check (issue #13 item 4).

    python benchmarks/bench_evasion.py [--rows 300]    # needs ../shared/data beside the repo

Rows from sources the shipped model never trained on (its TRAINING.json holdout sources):
harmful rows the model catches as typed (a labelled category at severity 4 or more) and
benign rows it passes (every category below 4). Each is obfuscated in several ways, as users do
to slip past filters (a deterministic choice of words per row):
spaced ("k i l l"), dotted ("k.i.l.l"), leetspeak ("k1ll"), stretched ("kiiiill"), letters
from other blocks, letters apart by other separators ("k - i - l - l", "k\r\ni\r\nl\r\nl", "k💀i💀l💀l")
or a mix of them ("k.i-l_l"), hidden in Unicode tag characters, letters percent-encoded or
escaped ("%6Bill", "\\u006bill"), the whole text in base64, and words typed as emoji
("kill all ✡️"), and words of the reading's list cut in two ("ki ll", "sui-cide"; for these
two, only rows with such a word); "none" is the text as typed (what the reading
costs ordinary text).

Reported per way: the share of harmful rows still caught and of benign rows now at 4 or
more, by the shipped analyzer (which also scores a de-obfuscated reading, guardrail._evasion)
beside the same model reading only the text as typed, in the same run.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
from pathlib import Path

from _common import machine, record

import guardrail.backends.local.harm as harm_module
from guardrail._evasion import _CUT_WORDS
from guardrail.backends.local.harm import HarmAnalyzer

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
WAYS = ("none", "spaced", "dotted", "leet", "stretched", "fullwidth", "math bold", "other separators",
        "mixed separators", "tag characters", "escaped", "base64", "emoji", "cut words")
# words users type as emoji (the "emoji" way swaps every one; only rows with one are scored)
EMOJI = {"knife": "🔪", "knives": "🔪", "gun": "🔫", "guns": "🔫", "bomb": "💣", "bombs": "💣",
         "gay": "🏳️‍🌈", "gays": "🏳️‍🌈", "trans": "🏳️‍⚧️", "jew": "✡️", "jews": "✡️", "jewish": "✡️",
         "muslim": "☪️", "muslims": "☪️", "monkey": "🐒", "monkeys": "🐒", "rat": "🐀", "rats": "🐀",
         "pig": "🐷", "pigs": "🐷", "snake": "🐍", "snakes": "🐍", "pills": "💊", "blood": "🩸"}
OTHER = (" - ", "  ", "\r\n", "\u2022", "\U0001f480", "_", "~")  # one per word
MIXED = (".", "-", "_", "\u2022")  # a new one between each two letters
CUTS = (" ", "-", "\n")
# Letters in other Unicode blocks: (lower-case a, upper-case A) of each.
STYLES = {"fullwidth": (0xFF41, 0xFF21), "math bold": (0x1D41A, 0x1D400)}
LEET = str.maketrans("oieast", "013457")


def obfuscate(text: str, way: str, rng: random.Random) -> str:
    words = text.split()
    if way == "base64":  # the whole request encoded, as jailbreaks do (without their "decode
        # this and answer:", which the model alone puts at 4+ for some benign questions)
        return base64.b64encode(text.encode()).decode()
    if way == "emoji":
        return " ".join(EMOJI.get(w.lower(), w) for w in words)
    if way == "cut words":  # every harm word of the reading's list cut in two, mid-word
        return " ".join(w[: len(w) // 2] + rng.choice(CUTS) + w[len(w) // 2:] if w.lower() in _CUT_WORDS else w
                        for w in words)
    long_words = [k for k, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    for k in rng.sample(long_words, min(len(long_words), 3)):
        w = words[k]
        if way == "spaced":
            words[k] = " ".join(w)
        elif way == "dotted":
            words[k] = ".".join(w)
        elif way == "other separators":
            words[k] = rng.choice(OTHER).join(w)
        elif way == "mixed separators":
            words[k] = w[0] + "".join(rng.choice(MIXED) + c for c in w[1:])
        elif way == "escaped":  # letters as percent-encoding or code escapes
            words[k] = "".join((f"%{ord(c):02X}" if rng.random() < 0.5 else f"\\u{ord(c):04x}")
                               if rng.random() < 0.6 else c for c in w)
        elif way == "tag characters":  # invisible; models read them as ASCII
            words[k] = "".join(chr(0xE0000 + ord(c)) for c in w)
        elif way == "none":  # the reading's cost on text as typed
            pass
        elif way == "leet":
            words[k] = w[0] + w[1:-1].translate(LEET) + w[-1]
        elif way in STYLES:
            low, up = STYLES[way]
            words[k] = "".join(chr(low + ord(c) - 97) if "a" <= c <= "z" else chr(up + ord(c) - 65)
                               if "A" <= c <= "Z" else c for c in w)
        else:
            i = rng.randrange(len(w))
            words[k] = w[:i] + w[i] * 4 + w[i + 1:]
    return " ".join(words)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=300)
    ap.add_argument("--ways", nargs="*", default=list(WAYS), choices=WAYS)
    args = ap.parse_args()
    harm = HarmAnalyzer()
    cats = [c.value for c in harm.categories]
    rng = random.Random(0)
    rows = []
    for source in harm.holdout_sources:
        path = DATA / f"{source}.jsonl"
        if path.exists():
            rows += [r for r in map(json.loads, path.open(encoding="utf-8"))
                     if r.get("lang") == "en" and 20 <= len(r["text"]) <= 400]
    rng.shuffle(rows)
    harmful, benign = [], []
    for r in rows:
        if len(harmful) >= args.rows and len(benign) >= args.rows:
            break
        labels = r["labels"]
        positive = [c for c in cats if labels.get(c) == 1]
        if positive and len(harmful) < args.rows:
            sev, _ = harm.severity_matrix([r["text"]])
            hit = [c for c in positive if sev[0, cats.index(c)] >= 4]
            if hit:
                harmful.append((r["text"], hit[0]))
        elif r.get("harmful") == 0 and len(benign) < args.rows:
            sev, _ = harm.severity_matrix([r["text"]])
            if sev.max() < 4:
                benign.append(r["text"])
    print(f"# obfuscated harm, {machine()}; {len(harmful)} harmful rows caught as typed, "
          f"{len(benign)} benign rows passed, from {', '.join(harm.holdout_sources)}")
    print("| way | harmful still caught: shipped | as typed only | benign now at 4+: shipped | as typed only |")
    print("|---|---:|---:|---:|---:|")
    reading = harm_module.reading
    for way in args.ways:
        wr = random.Random(way)
        h_rows = [(obfuscate(t, way, wr), c) for t, c in harmful]
        b_texts = [obfuscate(t, way, wr) for t in benign]
        if way in ("emoji", "cut words"):  # the rows with a word to swap or cut
            h_rows = [(o, c) for (o, c), (t, _) in zip(h_rows, harmful) if o != t]
            b_texts = [o for o, t in zip(b_texts, benign) if o != t]
        h_texts = [o for o, _ in h_rows]
        figures = []
        for mode in ("shipped", "typed"):
            harm_module.reading = reading if mode == "shipped" else (lambda text, words=None: None)
            try:
                hs, _ = harm.severity_matrix(h_texts)
                bs, _ = harm.severity_matrix(b_texts)
            finally:
                harm_module.reading = reading
            caught = sum(hs[i, cats.index(c)] >= 4 for i, (_, c) in enumerate(h_rows)) / len(h_rows)
            figures.append((caught, float((bs.max(axis=1) >= 4).mean()) if b_texts else float("nan")))
        (c_s, b_s), (c_t, b_t) = figures
        rows_note = f" ({len(h_rows)} / {len(b_texts)} rows)" if way in ("emoji", "cut words") else ""
        print(f"| {way}{rows_note} | {c_s:.3f} | {c_t:.3f} | {b_s:.3f} | {b_t:.3f} |")
        record(f"harm: obfuscated ({way}) harmful still caught", c_s, "share", peer="the model on the text as typed",
               peer_value=c_t, better="higher")
        record(f"harm: obfuscated ({way}) benign at 4+", b_s, "share", peer="the model on the text as typed",
               peer_value=b_t)


if __name__ == "__main__":
    main()
