"""Import time of ``guardrail`` and the peak memory of a process with the default Guard.

Each figure is measured in a fresh interpreter (``python -X importtime`` is not used: it
adds its own cost). Peer: the same measurement for a bare ``import httpx`` process, the
floor any HTTP-based guardrail pays, and for alt-profanity-check.

    python benchmarks/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import record  # noqa: E402

IMPORT = "import time; t=time.perf_counter(); {statement}; print((time.perf_counter()-t)*1000)"
# Peak RSS (ru_maxrss, KiB on Linux) after one check under the default policy: models loaded.
GUARD = """
import resource, tempfile, os
from guardrail import Guard
from guardrail.backends.local import LocalEngine
engine = LocalEngine(os.path.join(tempfile.mkdtemp(), "s.sqlite3"))
guard = Guard(backend=engine)
guard.check_prompt_sync("What is the weather like in Lisbon today?")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
PEER_RSS = """
import resource
from profanity_check import predict_prob
predict_prob(["What is the weather like in Lisbon today?"])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def run(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    def median_ms(statement: str) -> float:
        return statistics.median(run(IMPORT.format(statement=statement)) for _ in range(args.runs))

    ours, guard = median_ms("import guardrail"), median_ms("from guardrail import Guard")
    httpx = median_ms("import httpx")
    print(f"import guardrail: {ours:.0f} ms; from guardrail import Guard: {guard:.0f} ms "
          f"(import httpx: {httpx:.0f} ms)")
    record("import time of guardrail", ours, "ms", peer="import httpx", peer_value=httpx)
    # Names load lazily, so the first one an app uses pays for pydantic: report that too.
    record("import time of guardrail.Guard", guard, "ms", peer="import httpx", peer_value=httpx)
    rss = statistics.median(run(GUARD) for _ in range(max(1, args.runs // 2)))
    try:
        peer = statistics.median(run(PEER_RSS) for _ in range(max(1, args.runs // 2)))
    except subprocess.CalledProcessError:
        peer = None
    print(f"peak RSS, default Guard after one check: {rss:.0f} MiB"
          + (f" (alt-profanity-check process: {peer:.0f} MiB)" if peer else ""))
    record("peak RSS, process with the default Guard (models loaded)", rss, "MiB",
           peer="alt-profanity-check process" if peer else None, peer_value=peer)


if __name__ == "__main__":
    main()
