"""Incidents and custom categories on the local engine: quality, latency, build time.

    python benchmarks/bench_incidents.py          # needs ../shared/data beside the repo

1. Text incident quality on the paraphrase set (incident_paraphrase_set.py): the
   threshold that keeps benign false positives at or under 1%, the recall of paraphrases
   there, and how often merely topical text hits; then the same at the shipped default.
2. Detect latency, one text against 100 incidents of 100 samples each, beside a
   brute-force numpy cosine baseline over the same embeddings.
3. Custom category build time from 100 samples.
4. Image incidents: match rate of edited copies, false matches on other images.
"""

from __future__ import annotations

import io
import random
import statistics
import time
from dataclasses import dataclass

import numpy as np
from _common import machine, record
from incident_paraphrase_set import build, rows

from guardrail import LocalEngine
from guardrail.backends.local.incidents import DEFAULT_TEXT_THRESHOLD


@dataclass
class ParaphraseScores:
    """Each text's best incident score: paraphrases (``right``: the best incident is the one
    paraphrased), benign and topical texts; ``incidents`` deployed."""

    positive: np.ndarray
    right: np.ndarray
    benign: np.ndarray
    topical: np.ndarray
    incidents: int


def paraphrase_scores(engine: LocalEngine) -> ParaphraseScores:
    """Deploy the paraphrase set's incidents on ``engine`` and score its texts."""
    incidents, positives, topical, benign = build()
    ti = engine.text_incidents
    for name, samples in incidents.items():
        ti.create_or_update(name)
        ti.add_samples(name, samples)
        ti.deploy(name)
    names = list(incidents)

    def best(texts: list[str]) -> tuple[np.ndarray, list[str]]:
        scores, which = [], []
        for t in texts:
            f = ti.detect(t, names, include_misses=True)[0]  # best first
            scores.append(f.score)
            which.append(f.name)
        return np.array(scores), which

    pos_scores, pos_names = best([t for _, t in positives])
    right = np.array([n == want for n, (want, _) in zip(pos_names, positives)])
    return ParaphraseScores(pos_scores, right, best(benign)[0], best([t for _, t in topical])[0], len(names))


def quality(engine: LocalEngine) -> None:
    s = paraphrase_scores(engine)
    pos_scores, right, ben_scores, top_scores = s.positive, s.right, s.benign, s.topical
    chosen = float(np.quantile(ben_scores, 0.99)) + 1e-4
    print(f"# text incident quality: {s.incidents} incidents x 10 samples; {len(pos_scores)} paraphrases, "
          f"{len(top_scores)} topical, {len(ben_scores)} benign texts")
    print(f"{'threshold':<28}{'paraphrase recall':>18}{'benign FP':>11}{'topical hit':>13}")
    for label, t in ((f"1% benign FP: {chosen:.3f}", chosen), (f"shipped default: {DEFAULT_TEXT_THRESHOLD:.3f}", DEFAULT_TEXT_THRESHOLD)):
        recall = float(((pos_scores >= t) & right).mean())
        print(f"{label:<28}{recall:>18.3f}{float((ben_scores >= t).mean()):>11.4f}{float((top_scores >= t).mean()):>13.3f}")
    print("  sweep:  threshold  recall  benign FP  topical hit")
    for t in np.arange(0.50, 0.90, 0.02):
        print(f"          {t:.2f}      {float(((pos_scores >= t) & right).mean()):.3f}   "
              f"{float((ben_scores >= t).mean()):.4f}     {float((top_scores >= t).mean()):.3f}")


def latency(engine: LocalEngine) -> None:
    pool = [r["text"] for r in rows("edos")[:20000] if 10 < len(r["text"]) < 400]
    rng = random.Random(1)
    rng.shuffle(pool)
    ti = engine.text_incidents
    names = []
    for i in range(100):
        name = f"lat-{i}"
        ti.create_or_update(name)
        ti.add_samples(name, pool[i * 100 : (i + 1) * 100])
        ti.deploy(name)
        names.append(name)
    short = [t for t in pool[10_000:] if len(t) <= 100][:200]
    longer = [t for t in pool[10_000:] if 200 <= len(t) <= 400][:200]
    matrix = ti._group(tuple(names)).matrix
    ti.detect(short[0], names)  # warm: load the model, build the group
    print("\n# detect latency, one text vs 100 incidents x 100 samples (10,000 samples), uncached")
    print(f"{'texts':<34}{'detect p50 ms':>14}{'embed p50 ms':>14}{'peer: numpy cosine':>20}")
    for label, queries in (("short prompts (<=100 chars)", short), ("posts (200-400 chars)", longer)):
        ours, embed, brute = [], [], []
        for q in queries:
            engine.embedder._cache.clear()
            t = time.perf_counter()
            ti.detect(q, names)
            ours.append((time.perf_counter() - t) * 1000)
            engine.embedder._cache.clear()
            t = time.perf_counter()
            v = engine.embedder.embed_one(q)
            embed.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            int(np.argmax(matrix @ v))
            brute.append((time.perf_counter() - t) * 1000)
        record(f"incident detect p50, 100 x 100 samples, {label}", statistics.median(ours), "ms",
               peer="numpy brute-force cosine (match only)", peer_value=statistics.median(brute))
        record(f"incident match step p50, 100 x 100 samples, {label}",
               statistics.median(ours) - statistics.median(embed), "ms",
               peer="numpy brute-force cosine (match only)", peer_value=statistics.median(brute))
        print(f"{label:<34}{statistics.median(ours):>14.2f}{statistics.median(embed):>14.2f}"
              f"{statistics.median(brute):>20.3f}")
    print("(the peer column is the match step alone, brute force over the same embeddings; "
          "guardrail's match step is detect - embed)")


def category_build(engine: LocalEngine) -> None:
    pos = [r["text"] for r in rows("davidson") if r.get("labels", {}).get("Hate") == 1][:50]
    neg = [r["text"] for r in rows("notinject") if r.get("lang") == "en"][:50]
    samples = [{"text": t, "isPositive": True} for t in pos] + [{"text": t, "isPositive": False} for t in neg]
    times = []
    for i in range(5):
        engine.embedder._cache.clear()
        engine.categories.create_version(f"bench{i}", definition="bench", samples=samples)
        t = time.perf_counter()
        v = engine.categories.build(f"bench{i}", wait=True)
        times.append(time.perf_counter() - t)
        assert v.status == "Succeeded", v.error
    record("custom category build, 100 samples", statistics.median(times), "s")
    print(f"\n# custom category build from 100 samples: median {statistics.median(times):.2f} s "
          f"(goal < 5 s; the service takes 5-10 hours)")


def photos() -> list:
    """Sample photos bundled with scikit-image (pip install scikit-image), as PIL images."""
    from PIL import Image
    import skimage.data as data

    out = []
    for name in ("astronaut", "camera", "coffee", "chelsea", "rocket", "coins", "moon", "page", "horse",
                 "hubble_deep_field", "immunohistochemistry", "retina", "text", "logo", "brick", "grass",
                 "gravel", "colorwheel", "cat", "clock"):
        try:
            arr = getattr(data, name)()
        except Exception:  # some images are fetched on demand; never download here
            continue
        if arr.dtype != np.uint8:
            arr = (arr * 255).astype(np.uint8) if arr.max() <= 1 else arr.astype(np.uint8)
        out.append(Image.fromarray(arr).convert("RGB"))
    return out


def drawings(n: int, seed: int = 9) -> list:
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        img = Image.new("RGB", (320, 240), tuple(rng.randrange(256) for _ in range(3)))
        d = ImageDraw.Draw(img)
        for _ in range(12):
            box = sorted(rng.sample(range(320), 2)) + sorted(rng.sample(range(240), 2))
            d.ellipse((box[0], box[2], box[1], box[3]), fill=tuple(rng.randrange(256) for _ in range(3)))
        out.append(img)
    return out


def images(engine: LocalEngine) -> None:
    from PIL import Image, ImageDraw, ImageEnhance

    def jpeg(img, q: int = 90) -> bytes:
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=q)
        return buf.getvalue()

    def caption(im):
        im = im.copy()
        ImageDraw.Draw(im).text((10, 10), "guardrail", fill=(255, 255, 255))
        return im

    pics = photos()
    samples, others = pics[: len(pics) // 2], pics[len(pics) // 2 :]
    ii = engine.image_incidents
    ii.create_or_update("memes")
    ii.add_samples("memes", [jpeg(o, 95) for o in samples])
    ii.deploy("memes")
    edits = {
        "resized 50%": lambda im: im.resize((im.width // 2, im.height // 2)),
        "recompressed q30": lambda im: Image.open(io.BytesIO(jpeg(im, 30))),
        "brightness +20%": lambda im: ImageEnhance.Brightness(im).enhance(1.2),
        "caption added": caption,
        "cropped 5%": lambda im: im.crop((im.width // 40, im.height // 40, im.width - im.width // 40, im.height - im.height // 40)),
        "mirrored": lambda im: im.transpose(Image.FLIP_LEFT_RIGHT),
        "rotated 90": lambda im: im.rotate(90, expand=True),
    }
    print(f"\n# image incidents (PDQ, {len(samples)} scikit-image photos as samples): edited copies that match")
    for label, edit in edits.items():
        hits = sum(bool(ii.detect(jpeg(edit(o)), ["memes"])) for o in samples)
        print(f"  {label:<20}{hits}/{len(samples)}")
    negatives = others + [o.transpose(Image.FLIP_TOP_BOTTOM) for o in others] + drawings(200)
    false = sum(bool(ii.detect(jpeg(o), ["memes"])) for o in negatives)
    print(f"  false matches on {len(negatives)} other images: {false}")


def main() -> None:
    print(f"# {machine()}")
    engine = LocalEngine(":memory:")
    quality(engine)
    latency(LocalEngine(":memory:"))
    category_build(LocalEngine(":memory:"))
    images(LocalEngine(":memory:"))


if __name__ == "__main__":
    main()
