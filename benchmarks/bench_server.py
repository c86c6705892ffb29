"""`guardrail serve` throughput and latency, against the same engine called in-process.

The server runs as its own process (`python -m guardrail serve`, 1 and 2 workers, a fresh
SQLite store with a 1,000-term blocklist); a client in this process keeps ``--concurrency``
requests in flight through one httpx pool and counts answers per second:

* blocklist only: text:analyze with ``categories: []`` and the blocklist (the HTTP path's cost);
* harm: text:analyze of a ~200-character text, all four categories.

Yardsticks in the same run: the same calls in-process on a LocalEngine (``match_blocklists_sync``
and ``analyze_harm`` under ``asyncio.gather`` with the same concurrency), and the floor of
the stack: a one-route Starlette app under the same uvicorn that answers a fixed JSON body.
Latency p50 is one request at a time.

    python benchmarks/bench_server.py [--requests 2000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _common import machine, record, terms

from guardrail import HarmCategory, LocalEngine, OutputType

TEXT = ("Could you summarise the main points of the meeting notes and suggest two follow-up "
        "questions for the product team? Keep it short, friendly and in plain English please.")
V = {"api-version": "2024-09-01"}


FLOOR = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
import sys, uvicorn

async def answer(request):
    await request.body()
    return JSONResponse({"blocklistsMatch": [], "categoriesAnalysis": []})

app = Starlette(routes=[Route("/contentsafety/text:analyze", answer, methods=["POST"]),
                        Route("/health", lambda r: JSONResponse({"status": "ok"}))])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def start(store: Path | None, workers: int) -> tuple[subprocess.Popen[str], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    if store is None:  # the floor
        cmd = [sys.executable, "-c", FLOOR, str(port)]
    else:
        cmd = [sys.executable, "-m", "guardrail", "serve", "--port", str(port), "--store", str(store),
               "--workers", str(workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            if httpx.get(url + "/health", timeout=0.5).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("guardrail serve did not start")


async def load(url: str, body: dict, n: int, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url + "/contentsafety", params=V, limits=limits, timeout=60) as client:
        for _ in range(concurrency):  # warm: connections and models in every worker
            (await client.post("/text:analyze", json=body)).raise_for_status()
        left = n

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                r = await client.post("/text:analyze", json=body)
                r.raise_for_status()

        t = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return n / (time.perf_counter() - t)


async def latency(url: str, body: dict, n: int) -> float:
    async with httpx.AsyncClient(base_url=url + "/contentsafety", params=V) as client:
        times = []
        for _ in range(n):
            t = time.perf_counter()
            (await client.post("/text:analyze", json=body)).raise_for_status()
            times.append((time.perf_counter() - t) * 1000.0)
        return statistics.median(times[n // 10:])


async def in_process(engine: LocalEngine, kind: str, n: int, concurrency: int) -> tuple[float, float]:
    cats = list(HarmCategory)

    async def one() -> None:
        if kind == "blocklist":
            engine.match_blocklists_sync(TEXT, ["bench"])
        else:
            await engine.analyze_harm(TEXT, cats, OutputType.FOUR_SEVERITY_LEVELS)

    for _ in range(20):
        await one()
    times = []
    for _ in range(max(20, n // 20)):
        t = time.perf_counter()
        await one()
        times.append((time.perf_counter() - t) * 1000.0)
    t = time.perf_counter()
    for start_ in range(0, n, concurrency):
        await asyncio.gather(*(one() for _ in range(min(concurrency, n - start_))))
    return n / (time.perf_counter() - t), statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()
    print(f"# guardrail serve vs the same engine in-process, {machine()}")
    bodies = {"blocklist": {"text": TEXT, "categories": [], "blocklistNames": ["bench"]},
              "harm": {"text": TEXT}}
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "bench.sqlite3"
        engine = LocalEngine(store)
        engine.blocklists.create_or_update("bench")
        items = [{"text": t} for t in terms(1000)]
        for i in range(0, len(items), 100):
            engine.blocklists.add_or_update_items("bench", items[i:i + 100])
        yardstick = {k: asyncio.run(in_process(engine, k, args.requests, args.concurrency)) for k in bodies}
        engine.close()
        proc, url = start(None, 1)
        try:
            floor = (asyncio.run(load(url, bodies["blocklist"], args.requests, args.concurrency)),
                     asyncio.run(latency(url, bodies["blocklist"], 200)))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        rows = []
        for workers in (1, 2):
            proc, url = start(store, workers)
            try:
                for kind, body in bodies.items():
                    n = args.requests if kind == "blocklist" else max(200, args.requests // 4)
                    rate = asyncio.run(load(url, body, n, args.concurrency))
                    p50 = asyncio.run(latency(url, body, 200 if kind == "blocklist" else 100))
                    rows.append((workers, kind, rate, p50))
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
    print(f"{'workers':<9}{'request':<11}{'req/s':>9}{'in-process/s':>14}{'ratio':>8}{'p50 ms':>9}{'in-process p50':>16}")
    print(f"{'floor':<9}{'fixed JSON':<11}{floor[0]:>9.0f}{'':>14}{'':>8}{floor[1]:>9.2f}")
    for workers, kind, rate, p50 in rows:
        base_rate, base_p50 = yardstick[kind]
        print(f"{workers:<9}{kind:<11}{rate:>9.0f}{base_rate:>14.0f}{rate / base_rate:>8.2f}{p50:>9.2f}{base_p50:>16.2f}")
        peer, peer_rate = (("bare Starlette+uvicorn, fixed JSON", floor[0]) if kind == "blocklist"
                           else ("same engine in-process", base_rate))
        record(f"serve ({workers} worker{'s' if workers > 1 else ''}): text:analyze {kind}, req/s at "
               f"{args.concurrency} in flight", rate, "req/s", peer=peer, peer_value=peer_rate, better="higher")
        record(f"serve ({workers} worker{'s' if workers > 1 else ''}): text:analyze {kind}, p50", p50, "ms",
               peer="same engine in-process", peer_value=base_p50)


if __name__ == "__main__":
    main()
