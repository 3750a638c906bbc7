"""Start-up costs, each in fresh subprocesses: the CLI, the imports, and every solver's first call.

Issue 8's start-up targets (DESIGN.md "Performance"): ``aca-games --help`` < 0.5 s, ``import
aca_games`` < 1.5 s, ``aca-games run`` on the default scenario < 3 s with a warm compile cache; and
the first-call (trace + compile + lazy imports) time of each solver beside its warm time.

* ``--help``, ``import aca_games``, ``import solvers``: wall time of a new interpreter running the
  command (``subprocess.run``), median of ``--repeats``.
* ``aca-games run``: the default scenario with ``ACA_GAMES_JAX_CACHE`` pointing at a fresh
  temporary folder; the first run fills the cache (reported as "cold"), the next ``--repeats`` runs
  read it (median reported: the target's "warm compile cache").
* solvers: one fresh interpreter per solver imports everything and builds the inputs (not timed),
  then times the first call and the median of ``--warm`` further calls on the same inputs. No
  persistent compile cache is enabled there (library default). Inputs: ``mixed_nash`` a random
  3x3x3 game, ``two_player_equilibria`` a random 10x10 game, ``pure_nash`` 4 players x 3 actions,
  and on the default scenario (smart_city): ``best_response`` of its first player against the
  configured profile, ``min_joint_sizes`` at the scenario's target, ``success`` (exact oracle, its
  ε) of the collectives together.

Run: ``python -m benchmarks.bench_startup [--quick] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: Issue 8 targets, seconds.
TARGETS_S = {"aca-games --help": 0.5, "import aca_games": 1.5, "aca-games run (warm cache)": 3.0}
SOLVERS = ("mixed_nash", "two_player_equilibria", "pure_nash", "best_response", "min_joint_sizes", "success")

_SOLVER_SCRIPT = r"""
import json, sys, time
import numpy as np
import aca_games, solvers
from aca_games.app.commands._common import game_of
from aca_games.app.scenario import default_scenario_path, load_scenario

name, warm = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
s = load_scenario(default_scenario_path())
if name == "mixed_nash":
    P = rng.random((3, 3, 3, 3))
    call = lambda: solvers.mixed_nash(P)
elif name == "two_player_equilibria":
    A, B = rng.random((10, 10)), rng.random((10, 10))
    call = lambda: solvers.two_player_equilibria(A, B)
elif name == "pure_nash":
    P = rng.random((4, 3, 3, 3, 3))
    call = lambda: solvers.pure_nash(P)
elif name == "best_response":
    game, profile = game_of(s)
    call = lambda: solvers.best_response(game, 0, profile)
elif name == "min_joint_sizes":
    call = lambda: solvers.min_joint_sizes(s.world, s.collectives, s.analysis.target_success)
elif name == "success":
    a = s.analysis
    call = lambda: aca_games.success(s.world, s.collectives, a.eps, a.reading).block_until_ready()
else:
    raise SystemExit(f"unknown solver {name}")
t0 = time.perf_counter(); call(); first = time.perf_counter() - t0
times = []
for _ in range(warm):
    t0 = time.perf_counter(); call(); times.append(time.perf_counter() - t0)
print(json.dumps({"first_s": first, "warm_s": sorted(times)[len(times) // 2]}))
"""


def _bin(name: str) -> str:
    """An executable of this interpreter's environment (``.venv/bin/aca-games``)."""
    return str(Path(sys.executable).with_name(name))


def _wall(cmd: list[str], env: dict | None = None) -> float:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr[-800:]}")
    return wall


def _row(workload: str, times: list[float], **extra) -> dict:
    median = float(np.median(times))
    target = TARGETS_S.get(workload)
    return {
        "workload": workload,
        "median_s": median,
        "times_s": times,
        "target_s": target,
        "met": None if target is None else median < target,
        **extra,
    }


def bench_commands(repeats: int) -> list[dict]:
    """``--help`` and the imports, interleaved, each in a new interpreter."""
    commands = {
        "aca-games --help": [_bin("aca-games"), "--help"],
        "import aca_games": [sys.executable, "-c", "import aca_games"],
        "import solvers": [sys.executable, "-c", "import solvers"],
        "import aca_games; aca_games.success (loads JAX)": [
            sys.executable, "-c", "import aca_games; aca_games.success"
        ],
    }
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(repeats):
        for name, cmd in commands.items():
            times[name].append(_wall(cmd))
    return [_row(name, t) for name, t in times.items()]


def bench_run(repeats: int) -> list[dict]:
    """``aca-games run`` (default scenario): once to fill a fresh compile cache, then warm."""
    with tempfile.TemporaryDirectory(prefix="aca-bench-cache-") as cache:
        env = {**os.environ, "ACA_GAMES_JAX_CACHE": cache}
        cmd = [_bin("aca-games"), "run", "--json"]
        cold = _wall(cmd, env)
        warm = [_wall(cmd, env) for _ in range(repeats)]
    return [_row("aca-games run (warm cache)", warm, cold_s=cold)]


def bench_solvers(warm: int) -> list[dict]:
    rows = []
    for name in SOLVERS:
        out = subprocess.run(
            [sys.executable, "-c", _SOLVER_SCRIPT, name, str(warm)], capture_output=True, text=True
        )
        if out.returncode != 0:
            raise RuntimeError(f"solver {name} failed: {out.stderr[-800:]}")
        res = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(
            {
                "workload": f"first call: {name}",
                "first_s": res["first_s"],
                "warm_s": res["warm_s"],
                "median_s": res["first_s"],
                "target_s": None,
                "met": None,
            }
        )
    return rows


def _s(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x * 1e3:.3g} ms" if x < 1 else f"{x:.3g} s"


def format_table(rows: list[dict]) -> str:
    lines = ["| workload | median | warm call / cold run | target | met |", "|---|---|---|---|---|"]
    for r in rows:
        other = _s(r["warm_s"]) + " warm" if "warm_s" in r else (
            _s(r["cold_s"]) + " cold cache" if "cold_s" in r else "-"
        )
        target = "-" if r["target_s"] is None else f"< {r['target_s']:g} s"
        met = "-" if r["met"] is None else ("yes" if r["met"] else "**no**")
        lines.append(f"| {r['workload']} | {_s(r['median_s'])} | {other} | {target} | {met} |")
    return "\n".join(lines)


def run(repeats: int, run_repeats: int, warm: int) -> dict:
    from benchmarks.bench_oracle import machine_info

    started = datetime.datetime.now(datetime.UTC)
    load_before = list(os.getloadavg())
    t0 = time.perf_counter()
    rows = bench_commands(repeats) + bench_run(run_repeats) + bench_solvers(warm)
    machine = machine_info()
    machine["loadavg_before"] = load_before
    return {
        "date_utc": started.isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks.bench_startup", *sys.argv[1:]]),
        "config": {"repeats": repeats, "run_repeats": run_repeats, "warm": warm},
        "machine": machine,
        "wall_s": time.perf_counter() - t0,
        "rows": rows,
    }


def main(argv: Sequence[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_startup", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--quick", action="store_true", help="3 repeats instead of 5")
    ap.add_argument("--repeats", type=int, help="runs per command (median); default 5, --quick 3")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON")
    args = ap.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 5)
    results = run(repeats, repeats, warm=repeats)
    m = results["machine"]
    print(f"aca_games start-up benchmark  {results['date_utc']}  git {m['git_commit']}")
    print(f"load average before: {m['loadavg_before']}  after: {m['loadavg']}\n")
    print(format_table(results["rows"]))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=float))
        print(f"\nwrote {args.json}")
    return results


if __name__ == "__main__":
    main()
