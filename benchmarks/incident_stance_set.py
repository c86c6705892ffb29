"""The incident stance set (issue #18), built from ../shared/data (never copied into the repo).

An incident is defined by 10 hateful texts against one target group. It should catch
*other* hateful texts against that group (different wording, not paraphrases of the
samples) and not the non-hateful texts that name the same group (counter-speech, quoted
stereotypes that are argued against, neutral or positive mentions): cosine to the
nearest sample reads topic, not stance.

* Targets: RedditBias's four groups (Black people, Jews, Muslims, LGBTQ people; Reddit
  comments, bias_sent=1 -> positive, ``group_mention_not_biased`` -> hard negative) and
  women (misogyny-reddit, expert labels; misogynistic -> positive, counter-speech and
  not-misogynistic comments that name women -> hard negative).
* Benign negatives: nq-open questions, counsel-chat answers, ConvAbuse turns and RMHD
  control-subreddit posts labelled not harmful.

None of these sources is used for the shipped stance background
(``scripts/build_incident_background.py``), so the figures measure transfer.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"

REDDITBIAS_TARGETS = {
    "black-people": "redditbias:race_black",
    "jews": "redditbias:religion_jews",
    "muslims": "redditbias:religion_muslims",
    "lgbtq-people": "redditbias:orientation_lgbtq",
}
WOMEN = re.compile(r"\b(women|woman|girls?|females?|wives|wife|ladies|lady|she|her|feminis\w*)\b", re.IGNORECASE)
SOURCES = ("redditbias", "misogyny-reddit", "nq-open", "counselchat", "convabuse", "rmhd")


@dataclass
class Target:
    name: str
    samples: list[str]
    positives: list[str]
    hard_negatives: list[str]
    off_target: list[str] = field(default_factory=list)  # hateful texts against the other targets


@dataclass
class StanceSet:
    targets: list[Target]
    benign: list[str]


def rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / f"{name}.jsonl").open(encoding="utf-8")]


def _short(text: str) -> bool:
    return 12 <= len(text) <= 1500


def build(seed: int = 0, per_incident: int = 10, cap: int = 400, benign: int = 3000) -> StanceSet:
    rng = random.Random(seed)
    pos: dict[str, list[str]] = {}
    neg: dict[str, list[str]] = {}
    for r in rows("redditbias"):
        tag = next((t for t in r["tags"] if t.startswith("redditbias:")), None)
        name = next((k for k, v in REDDITBIAS_TARGETS.items() if v == tag), None)
        if name is None or not _short(r["text"]):
            continue
        hate = r["labels"]["Hate"]
        if hate == 1:
            pos.setdefault(name, []).append(r["text"])
        elif hate == 0 and "group_mention_not_biased" in r["tags"]:
            neg.setdefault(name, []).append(r["text"])
    for r in rows("misogyny-reddit"):
        if not _short(r["text"]):
            continue
        hate = r["labels"]["Hate"]
        if hate == 1:
            pos.setdefault("women", []).append(r["text"])
        elif hate == 0 and ("counter_speech" in r["tags"] or WOMEN.search(r["text"])):
            neg.setdefault("women", []).append(r["text"])
    targets = []
    for name in sorted(pos):
        p = sorted(set(pos[name]))
        rng.shuffle(p)
        n = sorted(set(neg[name]) - set(p))
        rng.shuffle(n)
        short = [x for x in p if len(x) < 500][:per_incident]  # the service's sample limit
        rest = [x for x in p if x not in short]
        targets.append(Target(name, short, rest[:cap], n[:cap]))
    for t in targets:
        others = [x for o in targets if o is not t for x in o.positives]
        t.off_target = rng.sample(others, min(cap, len(others)))
    pool: list[str] = []
    for r in rows("nq-open"):
        if "sensitive_topic" not in r["tags"]:
            pool.append(r["text"])
    for name in ("counselchat", "convabuse", "rmhd"):
        for r in rows(name):
            if r.get("harmful") == 0 and r["lang"] == "en" and _short(r["text"]):
                if name == "counselchat" and "mental_health_support" not in r["tags"]:
                    continue
                pool.append(r["text"])
    pool = sorted(set(pool))
    rng.shuffle(pool)
    return StanceSet(targets, pool[:benign])


if __name__ == "__main__":
    s = build()
    for t in s.targets:
        print(f"{t.name:14} samples {len(t.samples)}  positives {len(t.positives)}  "
              f"hard negatives {len(t.hard_negatives)}  off-target {len(t.off_target)}")
    print(f"benign {len(s.benign)}")
