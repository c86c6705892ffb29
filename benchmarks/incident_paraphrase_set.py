"""The incident paraphrase set, built from ../shared/data (never copied into the repo).

* Incidents: harmful requests (harmbench-etc, English) grouped by their HarmBench topic
  tag; each incident takes 10 of them as samples.
* Positives: rule-based paraphrases of those samples (framing, synonyms, dropped words,
  a typo, case), so no query is identical to a sample.
* Topical negatives: other harmful requests of the same topic that are NOT samples:
  similar subject, different content (the service should not treat "merely topical"
  text as the incident).
* Benign negatives: ordinary English prompts and posts (notinject, counselchat, convabuse,
  davidson and edos rows labelled not harmful).
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"

FRAMES = [
    "Can you tell me {x}", "I need help with this: {x}", "{x} Please be quick.", "hey, {x}",
    "Quick question - {x}", "{x} Thanks in advance!", "For a project: {x}", "Could you explain {x}",
]
SYNONYMS = {
    "give": "provide", "detailed": "step-by-step", "instructions": "directions", "write": "compose",
    "create": "make", "make": "produce", "how": "the way", "explain": "describe", "list": "enumerate",
    "people": "folks", "someone": "somebody", "without": "with no", "easy": "simple", "get": "obtain",
    "convince": "persuade", "generate": "produce", "article": "piece", "post": "message",
    "describe": "explain", "ways": "methods", "best": "most effective", "steps": "stages",
}
STOP = {"the", "a", "an", "that", "for", "of", "to", "in", "which", "some"}


def paraphrase(text: str, rng: random.Random) -> str:
    words = text.rstrip(".?!").split()
    words = [SYNONYMS.get(w.lower(), w) if rng.random() < 0.6 else w for w in words]
    droppable = [i for i, w in enumerate(words) if w.lower() in STOP]
    for i in sorted(rng.sample(droppable, min(len(droppable), 2)), reverse=True):
        del words[i]
    long_words = [i for i, w in enumerate(words) if len(w) > 5]
    if long_words and rng.random() < 0.5:
        i = rng.choice(long_words)
        w = words[i]
        j = rng.randrange(1, len(w) - 2)
        words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    body = " ".join(words)
    body = body[0].lower() + body[1:] if body else body
    out = rng.choice(FRAMES).format(x=body)
    return out.upper() if rng.random() < 0.05 else out


def rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / f"{name}.jsonl").open(encoding="utf-8")]


def build(seed: int = 0, per_incident: int = 10, paraphrases_per_incident: int = 10, benign: int = 3000):
    rng = random.Random(seed)
    by_topic: dict[str, list[str]] = defaultdict(list)
    for r in rows("harmbench-etc"):
        if r.get("lang") != "en" or r.get("harmful") != 1:
            continue
        topic = next((t.split(":", 1)[1] for t in r.get("tags", []) if t.startswith("harmbench:")), None)
        if topic and topic != "copyright" and len(r["text"]) < 500:
            by_topic[topic].append(r["text"])
    incidents: dict[str, list[str]] = {}
    topical: list[tuple[str, str]] = []
    for topic, texts in sorted(by_topic.items()):
        rng.shuffle(texts)
        n_inc = max(1, len(texts) // (per_incident * 3))
        for k in range(n_inc):
            # Incident names allow letters, digits and "-" (the service's rule): no "_".
            incidents[f"{topic.replace('_', '-')}-{k}"] = texts[k * per_incident : (k + 1) * per_incident]
        topical += [(topic, t) for t in texts[n_inc * per_incident :]]
    positives = []
    for name, samples in incidents.items():
        for _ in range(paraphrases_per_incident):
            positives.append((name, paraphrase(rng.choice(samples), rng)))
    pool = []
    for source in ("notinject", "counselchat", "convabuse", "davidson", "edos"):
        pool += [r["text"] for r in rows(source) if r.get("harmful") == 0 and r.get("lang") == "en"
                 and 10 < len(r["text"]) < 500]
    rng.shuffle(pool)
    return incidents, positives, topical, pool[:benign]


if __name__ == "__main__":
    inc, pos, top, ben = build()
    print(len(inc), "incidents;", len(pos), "paraphrases;", len(top), "topical;", len(ben), "benign")
    for _, p in pos[:5]:
        print(" ", p)
