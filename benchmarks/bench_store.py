"""The store on PostgreSQL beside SQLite: check latency, write-to-enforcement, replica start.

    python benchmarks/bench_store.py [--changes 100]   # needs PostgreSQL binaries (Debian's postgresql)

A throwaway PostgreSQL server is started on loopback for the run (tests/_postgres.py), or
``GUARDRAIL_TEST_POSTGRES`` names one. Replicas are LocalEngines with stores of their own
(own connections, own listener), as app processes would have.

1. Check latency, 1,000-term blocklist + 10 incidents x 100 samples, a new text each
   check, same engine code on each store: checks read no database, so the two must match
   (ratio ~1.0).
2. Write on one replica -> enforced by another: a new blocklist term is added, and the
   other replica's Guard is polled until it blocks the term (p50/p99 over ``--changes``).
   The same for an incident sample deployed on one replica (``--changes / 5`` deploys).
3. Replica start with 100 incidents x 100 samples and 10 built categories stored: from
   ``LocalEngine(url)`` to the end of a first check that uses all of them.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import machine, p, record, terms

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from _postgres import Server

from guardrail import Guard, LocalEngine

WORDS = ("harbor", "violet", "engine", "meadow", "copper", "lantern", "orbit", "thistle", "canyon", "ember")


def populate(engine: LocalEngine, incidents: int, samples: int, categories: int) -> None:
    engine.blocklists.create_or_update("big")
    blocked = terms(1000, sparse=True)
    for start in range(0, len(blocked), 100):
        engine.blocklists.add_or_update_items("big", blocked[start:start + 100])
    ti = engine.text_incidents
    for i in range(incidents):
        name = f"inc{i}"
        ti.create_or_update(name)
        texts = [f"{WORDS[i % 10]} report {i}-{j}: the {WORDS[j % 10]} crew saw item {j * 7 + i}"
                 for j in range(samples)]
        for start in range(0, samples, 100):
            ti.add_samples(name, texts[start:start + 100])
        ti.deploy(name)
    for c in range(categories):
        rows = [{"text": f"question {k} about {WORDS[c]} number {k * 3}", "isPositive": True} for k in range(50)]
        rows += [{"text": f"an ordinary remark {k} about lunch and weather {c}", "isPositive": False} for k in range(50)]
        engine.categories.create_version(f"cat{c}", definition=f"about {WORDS[c]}", samples=rows)
        engine.categories.build(f"cat{c}", wait=True)


def policy(incidents: int, categories: int) -> dict:
    return {"harm": {}, "prompt": {"blocklists": ["big"], "incidents": [f"inc{i}" for i in range(incidents)],
                                   "custom_categories": [f"cat{c}" for c in range(categories)]}}


def check_latency(targets: dict[str, str], repeat: int, incidents: int) -> tuple[dict[str, float], dict[str, int]]:
    """Median ms per check on each store, the stores taking turns (no drift between them),
    and how many times a check opened the store (must be 0 once warm)."""
    guards, reads = {}, {}
    for kind, target in targets.items():
        engine = LocalEngine(target)
        guards[kind] = Guard(policy(incidents, 0), backend=engine)
        guards[kind].check_prompt_sync("warm up: caches loaded")
        reads[kind] = 0
        opened = engine.store.read

        def counting(opened=opened, kind=kind):  # noqa: ANN001, ANN202
            reads[kind] += 1
            return opened()

        engine.store.read = counting  # type: ignore[method-assign]
    times: dict[str, list[float]] = {kind: [] for kind in targets}
    for i in range(repeat):  # new texts: each check embeds its text, as in real traffic
        for kind, guard in guards.items():
            text = f"A user message {i} about the harbor schedule, and question {kind}-{i} for the assistant."
            t = time.perf_counter()
            guard.check_prompt_sync(text)
            times[kind].append((time.perf_counter() - t) * 1000)
    for guard in guards.values():
        guard.backend.close()
    return {kind: statistics.median(v) for kind, v in times.items()}, reads


def write_to_enforcement(target: str, changes: int) -> list[float]:
    writer, reader = LocalEngine(target), LocalEngine(target)
    writer.blocklists.create_or_update("live")
    writer.blocklists.add_or_update_items("live", ["seed-term"])
    guard = Guard({"harm": {}, "prompt": {"blocklists": ["live"]}}, backend=reader)
    guard.check_prompt_sync("warm up")
    lags = []
    rng = random.Random(5)
    for k in range(changes):
        term = f"zq{k}xv"
        seen = threading.Event()
        committed: list[float] = []

        def watch(term: str = term, seen: threading.Event = seen, committed: list[float] = committed) -> None:
            while not guard.check_prompt_sync(f"say {term} now").blocked:
                time.sleep(0.001)
            committed.append(time.perf_counter())
            seen.set()

        watcher = threading.Thread(target=watch)
        watcher.start()
        time.sleep(rng.uniform(0, 0.2))  # writes at random moments, not in step with polling
        t = time.perf_counter()
        writer.blocklists.add_or_update_items("live", [term])
        if not seen.wait(10):
            raise SystemExit(f"change {k} was not enforced within 10 s")
        watcher.join()
        lags.append((committed[0] - t) * 1000)
    writer.close()
    reader.close()
    return lags


def deploy_to_enforcement(target: str, changes: int) -> list[float]:
    """An incident's new sample deployed on one replica -> the other's Guard detects it."""
    writer, reader = LocalEngine(target), LocalEngine(target)
    ti = writer.text_incidents
    ti.create_or_update("wave")
    ti.add_samples("wave", ["an unrelated note about gardening and tomatoes"])
    ti.deploy("wave")
    guard = Guard({"harm": {}, "prompt": {"incidents": ["wave"]}}, backend=reader)
    lags = []
    for k in range(changes):
        text = f"urgent: wire {k * 37 + 11} dollars to account {k} to unlock your frozen parcel number {k}"
        guard.check_prompt_sync(text)  # its embedding is cached: the lag is the store's, not the model's
        ti.add_samples("wave", [text])
        t = time.perf_counter()
        ti.deploy("wave")
        while not guard.check_prompt_sync(text).blocked:
            time.sleep(0.001)
            if time.perf_counter() - t > 10:
                raise SystemExit(f"deploy {k} was not enforced within 10 s")
        lags.append((time.perf_counter() - t) * 1000)
    writer.close()
    reader.close()
    return lags


def replica_start(target: str, incidents: int) -> float:
    t = time.perf_counter()
    engine = LocalEngine(target)
    Guard(policy(incidents, 10), backend=engine).check_prompt_sync("a first question about the harbor crew")
    elapsed = time.perf_counter() - t
    engine.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--changes", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=300)
    ap.add_argument("--incidents", type=int, default=100, help="stored for the replica start (x samples)")
    ap.add_argument("--samples", type=int, default=100)
    args = ap.parse_args()
    server = Server()
    server.start()
    if server.url is None:
        raise SystemExit(f"PostgreSQL unavailable: {server.skip_reason}")
    folder = Path(tempfile.mkdtemp(prefix="guardrail-bench-store-"))
    targets = {"sqlite": str(folder / "store.sqlite3"), "postgres": server.new_schema()}
    try:
        print(f"# store benchmark ({machine()})")
        for kind, target in targets.items():
            t = time.perf_counter()
            engine = LocalEngine(target)
            populate(engine, args.incidents, args.samples, 10)
            engine.close()
            print(f"populated {kind}: 1,000 terms, {args.incidents} incidents x {args.samples} samples, 10 categories "
                  f"in {time.perf_counter() - t:.1f}s")
        LocalEngine(targets["sqlite"]).embedder.load()  # model load is not the store's cost

        lat, reads = check_latency(targets, args.repeat, min(10, args.incidents))
        print(f"check p50, 1,000 terms + {min(10, args.incidents)} incidents x {args.samples} samples: "
              f"sqlite {lat['sqlite']:.2f} ms, "
              f"postgres {lat['postgres']:.2f} ms (ratio {lat['postgres'] / lat['sqlite']:.2f}); "
              f"store reads during {args.repeat} checks: sqlite {reads['sqlite']}, postgres {reads['postgres']}")
        record("store: check p50, PostgreSQL store", lat["postgres"], "ms", peer="SQLite store",
               peer_value=lat["sqlite"])

        for kind, target in targets.items():
            lags = write_to_enforcement(target, args.changes)
            print(f"write -> enforced on another replica, {kind}: p50 {p(lags, 0.5):.1f} ms, "
                  f"p99 {p(lags, 0.99):.1f} ms, max {max(lags):.1f} ms over {len(lags)} changes")
            record(f"store: write to enforcement p50, {kind}", p(lags, 0.5), "ms")
            record(f"store: write to enforcement p99, {kind}", p(lags, 0.99), "ms")

        # A store of its own: the populated one is at the 100-incident limit.
        for kind, target in {"sqlite": str(folder / "deploy.sqlite3"), "postgres": server.new_schema()}.items():
            lags = deploy_to_enforcement(target, max(10, args.changes // 5))
            print(f"incident deploy -> enforced on another replica, {kind}: p50 {p(lags, 0.5):.1f} ms, "
                  f"p99 {p(lags, 0.99):.1f} ms over {len(lags)} deploys")
            record(f"store: deploy to enforcement p50, {kind}", p(lags, 0.5), "ms")

        for kind, target in targets.items():
            runs = [replica_start(target, args.incidents) for _ in range(3)]
            print(f"replica start to first full check ({args.incidents} incidents x {args.samples} samples, "
                  f"10 categories), {kind}: "
                  f"median {statistics.median(runs):.2f} s of {['%.2f' % r for r in runs]}")
            record(f"store: replica start, {kind}", statistics.median(runs), "s")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
