"""``make bench``: run every benchmark (one process at a time), keep their JSON, regenerate RESULTS.md.

Each benchmark runs in its own interpreter (``python -m benchmarks.<name> [--quick] --json ...``),
one after the other, so that none competes with another for the 2 cores; quick sizes by default,
full sizes with ``--full`` (``make bench FULL=1``). The JSON files go to ``benchmarks/results/``;
:mod:`benchmarks.render_results` then rewrites ``benchmarks/RESULTS.md`` from them (no hand-typed
number). A benchmark that fails is reported in RESULTS.md with its error, and the others still run.

Run: ``python -m benchmarks.run_all [--full] [--only NAME ...] [--render-only]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks import render_results

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
#: name -> (module, arguments at quick sizes, arguments at full sizes)
BENCHMARKS = {
    "startup": ("benchmarks.bench_startup", ["--quick"], []),
    "equilibria": ("benchmarks.bench_equilibria", ["--quick"], []),
    "oracle": ("benchmarks.bench_oracle", ["--quick", "--batch", "200000"], []),  # the target batch
    "exact_oracle": ("benchmarks.bench_exact_oracle", ["--quick"], []),
    "continuous": ("benchmarks.bench_continuous", ["--repeats", "3"], []),
    "coalition": ("benchmarks.bench_coalition", ["--quick"], []),
    "large_games": ("benchmarks.bench_large_games", ["--quick"], []),
    "simulate": ("benchmarks.bench_simulate", ["--quick"], []),
}


def run_one(name: str, full: bool) -> dict:
    module, quick_args, full_args = BENCHMARKS[name]
    out = RESULTS_DIR / f"{name}.json"
    cmd = [sys.executable, "-m", module, *(full_args if full else quick_args), "--json", str(out)]
    shown = " ".join(["python -m", module, *(full_args if full else quick_args)])
    print(f"\n=== {shown}", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=HERE.parent, stderr=subprocess.PIPE, text=True)
    status = {"command": shown, "returncode": proc.returncode, "wall_s": time.perf_counter() - t0}
    if proc.returncode != 0:
        status["error"] = proc.stderr[-2000:]
        print(proc.stderr[-2000:], file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run_all", description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="full sizes (default: quick)")
    ap.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these")
    ap.add_argument("--render-only", action="store_true", help="only regenerate RESULTS.md")
    args = ap.parse_args(argv)
    RESULTS_DIR.mkdir(exist_ok=True)
    status_file = RESULTS_DIR / "status.json"
    status = json.loads(status_file.read_text()) if status_file.exists() else {}
    if not args.render_only:
        for name in args.only or BENCHMARKS:
            status[name] = run_one(name, args.full)
            status_file.write_text(json.dumps(status, indent=2))
    (HERE / "RESULTS.md").write_text(render_results.render(RESULTS_DIR, status))
    print(f"\nwrote {HERE / 'RESULTS.md'}")
    failed = [name for name, s in status.items() if s["returncode"] != 0]
    if failed:
        sys.exit(f"benchmarks failed: {', '.join(failed)} (see RESULTS.md)")


if __name__ == "__main__":
    main()
