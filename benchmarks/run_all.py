"""Run every benchmark, several times, and write one report with plots.

    python benchmarks/run_all.py [--repeats 3] [--quick]

Each script hands its figures to this runner as JSON lines (``_common.record``); a figure
measured in several runs is reported as the median of the runs, beside the peer measured
in the same runs on the same inputs, as a ratio. Output: ``benchmarks/report/REPORT.md``,
PNG plots next to it, and the same report between the markers in ``benchmarks/README.md``.
Nothing in the report is typed by hand. Needs ``pip install -e ".[bench]"`` and
``../shared/data`` (the quality figures and the incident set read it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPORT_DIR = HERE / "report"
START, END = "<!-- report:start -->", "<!-- report:end -->"


def plan(repeats: int, quick: bool) -> list[tuple[str, list[str], int]]:
    plots = str(REPORT_DIR / "pr")
    harm_quality = ["--plot", plots] + (["--max-rows", "3000"] if quick else [])
    return [
        ("bench_startup.py", [], 1),
        ("bench_guard_overhead.py", ["--repeat", "2000"] if quick else [], repeats),
        ("bench_blocklist.py", ["--texts", "500"] if quick else [], repeats),
        ("bench_harm.py", harm_quality, 1),  # quality is deterministic: one run
        ("bench_harm.py", ["--skip-quality"], repeats - 1),
        ("bench_evasion.py", ["--rows", "100"] if quick else [], 1),  # deterministic
        ("bench_streaming.py", ["--streams", "50"] if quick else [], repeats),
        ("bench_azure_client.py", ["--calls", "500"] if quick else [], repeats),
        ("bench_incidents.py", [], 1),  # its quality part is deterministic and slow
        ("bench_incident_stance.py", [], 1),  # deterministic, ~10 minutes
        ("bench_scaling.py", [], 1),
        ("bench_server.py", ["--requests", "400"] if quick else [], repeats),
        ("bench_shield.py", [], 1),
        ("bench_store.py", ["--changes", "20", "--incidents", "20"] if quick else [], 1),
        ("bench_one_pass.py", ["--runs", "100"] if quick else [], repeats),
        ("bench_concurrency.py", ["--n", "50", "--rounds", "1"] if quick else [], repeats),
    ]


def run_scripts(repeats: int, quick: bool, out: Path, only: list[str]) -> tuple[list[dict], list[str]]:
    rows: list[dict] = []
    failures: list[str] = []
    for script, args, times in plan(repeats, quick):
        if only and script not in only:
            continue
        for run in range(times):
            sink = out / f"{script}.{run}.{len(rows)}.jsonl"
            env = {**os.environ, "GUARDRAIL_BENCH_JSON": str(sink)}
            print(f"== {script} {' '.join(args)} (run {run + 1}/{times})", flush=True)
            started = time.time()
            proc = subprocess.run([sys.executable, str(HERE / script), *args], env=env)
            print(f"   {time.time() - started:.0f} s", flush=True)
            if proc.returncode != 0:
                failures.append(f"{script} {' '.join(args)} exited {proc.returncode}")
                continue
            if sink.exists():
                for line in sink.read_text(encoding="utf-8").splitlines():
                    rows.append({**json.loads(line), "script": script})
    return rows, failures


def fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    ax = abs(x)
    return f"{x:,.0f}" if ax >= 100 else f"{x:.2f}" if ax >= 1 else f"{x:.3f}" if ax >= 0.01 else f"{x:.4f}"


def summarize(rows: list[dict]) -> list[dict]:
    grouped: dict[tuple[str, str | None], list[dict]] = defaultdict(list)
    for r in rows:
        if "series" not in r:
            grouped[(r["name"], r.get("peer"))].append(r)
    out = []
    for (name, peer), items in grouped.items():
        value = statistics.median(i["value"] for i in items)
        peer_values = [i["peer_value"] for i in items if i.get("peer_value") is not None]
        peer_value = statistics.median(peer_values) if peer_values else None
        out.append({
            "name": name, "unit": items[0]["unit"], "value": value, "peer": peer, "peer_value": peer_value,
            "better": items[0].get("better", "lower"), "runs": len(items), "script": items[0]["script"],
            "ratio": value / peer_value if peer_value else None,
        })
    return out


def plot_series(rows: list[dict], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if "series" in r:
            series[r["series"]].append(r)
    written = []
    for name, items in series.items():
        fig, ax = plt.subplots(figsize=(6, 4))
        for item in items:
            ax.plot(item["x"], item["y"], marker="o", label=item["label"])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(items[0]["x_label"])
        ax.set_ylabel(items[0]["y_label"])
        ax.set_title(name)
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
        path = out / ("scaling_" + "".join(c if c.isalnum() else "_" for c in name) + ".png")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def plot_ratios(figures: list[dict], out: Path) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    speed = [f for f in figures if f["ratio"] and f["unit"] in ("ms", "texts/s", "s")]
    if not speed:
        return None
    # Advantage: >1 means guardrail is better than the peer, whatever the unit's direction.
    adv = [(f["ratio"] if f["better"] == "higher" else 1 / f["ratio"]) for f in speed]
    labels = [f"{f['name']}\nvs {f['peer']}" for f in speed]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(speed) + 1.5))
    ax.barh(range(len(speed)), adv, color=["tab:green" if a >= 1 else "tab:red" for a in adv])
    ax.axvline(1, color="black", lw=0.8)
    ax.set_xscale("log")
    ax.set_yticks(range(len(speed)))
    ax.set_yticklabels(labels, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("guardrail's advantage over the peer (x; >1 is better)")
    fig.tight_layout()
    path = out / "speed_vs_peers.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def render(figures: list[dict], plots: list[Path], failures: list[str], command: str, elapsed: float) -> str:
    cores = os.cpu_count()
    lines = [
        f"Generated by `{command}` on {dt.date.today().isoformat()}; machine: {platform.machine()}, "
        f"{cores} cores, Python {platform.python_version()}; took {elapsed / 60:.0f} min. "
        "Each value is the median over the runs column; the peer ran in the same runs on the same inputs. "
        "`guardrail / peer` divides the two (for ms lower is better, for texts/s and AUPRC higher is better).",
        "",
        "| figure | guardrail | peer | peer value | guardrail / peer | unit | runs |",
        "|---|---:|---|---:|---:|---|---:|",
    ]
    for f in sorted(figures, key=lambda f: (f["script"], f["name"])):
        lines.append(
            f"| {f['name']} | {fmt(f['value'])} | {f['peer'] or '-'} | {fmt(f['peer_value'])} | "
            f"{fmt(f['ratio']) + 'x' if f['ratio'] else '-'} | {f['unit']} | {f['runs']} |"
        )
    if failures:
        lines += ["", "Failed runs (their figures are missing above):", *[f"- {x}" for x in failures]]
    lines += ["", "Plots:", ""]
    for p in plots:
        rel = p.relative_to(HERE)
        lines.append(f"- [{rel}]({rel})")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="smaller inputs, for checking the runner")
    ap.add_argument("--no-readme", action="store_true", help="do not update benchmarks/README.md")
    ap.add_argument("--only", action="append", default=[], metavar="SCRIPT",
                    help="rerun only SCRIPT (repeatable); the other figures are kept from report/raw.json")
    args = ap.parse_args()
    started = time.time()
    REPORT_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        rows, failures = run_scripts(max(1, args.repeats), args.quick, Path(tmp), args.only)
    raw = REPORT_DIR / "raw.json"
    if args.only and raw.exists():  # keep the figures of the scripts not rerun
        rows = [r for r in json.loads(raw.read_text()) if r["script"] not in args.only] + rows
    raw.write_text(json.dumps(rows, indent=1) + "\n")
    figures = summarize(rows)
    plots = plot_series(rows, REPORT_DIR)
    ratio = plot_ratios(figures, REPORT_DIR)
    plots = ([ratio] if ratio else []) + plots + sorted((REPORT_DIR / "pr").glob("*/*.png"))
    command = "python benchmarks/run_all.py" + (" --quick" if args.quick else "") + (
        f" --repeats {args.repeats}" if args.repeats != 3 else "")
    if args.only:
        command += " (then " + ", ".join(f"--only {o}" for o in args.only) + " after a fix)"
    body = render(figures, plots, failures, command, time.time() - started)
    (REPORT_DIR / "REPORT.md").write_text("# Benchmark report\n\n" + body.replace("](report/", "]("))
    if not args.no_readme:
        readme = HERE / "README.md"
        text = readme.read_text(encoding="utf-8")
        if START in text and END in text:
            head, rest = text.split(START, 1)
            _, tail = rest.split(END, 1)
            text = f"{head}{START}\n{body}{END}{tail}"
        else:
            text = f"{text.rstrip()}\n\n## Report (all figures)\n\n{START}\n{body}{END}\n"
        readme.write_text(text, encoding="utf-8")
    print(body)
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
