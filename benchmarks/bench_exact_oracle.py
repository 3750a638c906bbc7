"""Exact ε > 0 oracle at scale: ours against the greedy relaxation and a plain HiGHS MILP.

DESIGN.md / issue 9 target: the exact ε > 0 oracle on 500 relevant points in < 1 s per evaluation
(one evaluation = one collective's worst-case success for one size vector).

Workload, for each number of relevant points ``P`` (default 14, 50, 200, 500): a consistent random
world (``World.from_table`` of a Dirichlet full joint table over ``|X| = 2P`` features and 3 labels,
three integer signal maps onto the ``P`` relevant points), ``K = 3`` collectives: feature-label with
one target label, feature-label with two target labels (several tv constraints), unplanting; ``B``
random size vectors (Dirichlet, ``Σ α < 0.9``); ``ε = 0.02``, both readings.

Implementations (same inputs):

* ``exact``: ``oracle.success(world, cols, eps, reading, sizes=batch)``, the public call
  (``method="exact"``, the default): training table, margins, flip costs, reduction and fixing in
  the jitted kernel, the numpy core search through ``pure_callback`` where needed.
* ``greedy``: the same call with ``method="greedy"``. A **lower bound** on success, shown for
  speed only; checked to be at most the exact value.
* ``HiGHS``: the same knapsack (the winning points' landing masses and flip costs, built with
  :mod:`aca_games._knapsack` from the same training table) solved directly as a 0/1 MILP with
  ``highspy``, one model per evaluation, gaps 0, feasibility tolerance 1e-9, rows scaled to a
  budget of 1. Its time counts model set-up and solve only, not the costs (ours counts everything).

Before timing, ``exact == Bayes success - HiGHS's flipped mass`` (``atol`` 1e-9) on every
evaluation, and ``greedy <= exact``. Timings are warm medians of ``--repeats`` batch runs; the
slowest single size vector (``K`` evaluations, warm, one call) is reported for the 1 s target.

Run: ``python -m benchmarks.bench_exact_oracle [--quick] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import sys
import time
from collections.abc import Sequence

import highspy
import jax.numpy as jnp
import numpy as np

import aca_games  # noqa: F401  (enables float64)
from aca_games import Collective, World, oracle, plant_all
from aca_games import _knapsack as ks
from aca_games import _knapsack_search as search
from aca_games.learner import slack
from aca_games.planting import training_mass
from benchmarks.bench_oracle import first_call, machine_info, time_all

AGREE_ATOL = 1e-9
TARGET_SECONDS = 1.0
ROWS = {14: 100, 50: 50, 200: 20, 500: 10}


def make_world(n_points: int, seed: int) -> tuple[World, list[Collective]]:
    """Consistent world with ``n_points`` relevant points, and three collectives (module doc)."""
    rng = np.random.default_rng(seed)
    n_features, labels = 2 * n_points, ["y0", "y1", "y2"]
    p0 = rng.dirichlet(np.full(n_features * 3, 0.7)).reshape(n_features, 3)
    relevant = rng.choice(n_features, n_points, replace=False)
    signals = {}
    for s in range(3):
        share = int(n_points * rng.uniform(0.5, 1))
        part = relevant if s == 0 else rng.choice(relevant, share, replace=False)
        g = part[rng.integers(len(part), size=n_features)]
        if s == 0:
            g[relevant] = relevant  # every relevant point is reached
        signals[f"g{s}"] = g
    world = World.from_table(p0, signals, labels=labels)
    cols = [
        Collective("one_target", 0.1, "g0", target="y1"),
        Collective("two_targets", 0.1, "g1", target=["y0", "y2"], label="y2"),
        Collective("unplant", 0.1, "g2", target=["y0", "y1"], strategy="unplant"),
    ]
    return world, cols


def make_sizes(n_rows: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.ones(4), size=n_rows)[:, :3] * 0.9


# -- the HiGHS baseline --------------------------------------------------------------------------
def knapsacks(world, cols, sizes, eps, reading):
    """Per (row, collective): Bayes success, and the knapsack (values, costs, budget) of its
    winning points, from the library's training table and flip costs."""
    planting = plant_all(world, cols)
    cost_fn = ks.tv_costs if reading == "tv" else ks.huber_costs
    budget = float(slack(eps, reading))
    out = []
    for row in sizes:
        P = training_mass(world.base, jnp.asarray(row), planting.planted)
        for j in range(len(cols)):
            margin = np.asarray(ks.margins(P, planting.target[j]))
            value = np.where(margin > ks.TIE_TOL, np.asarray(planting.landing[j]), 0.0)
            out.append((value.sum(), value, np.asarray(cost_fn(P, planting.target[j])), budget))
    return out


@contextlib.contextmanager
def _quiet_stdout():
    """HiGHS prints a banner from C++ when the first model is created; send it to /dev/null."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def highs_flipped(value, costs, budget) -> float:
    """Most landing mass of a flip set with ``Σ costs[:, k] <= budget + TIE_TOL``: a 0/1 MILP."""
    cap = budget + ks.TIE_TOL
    items = (value > 0) & np.all(costs <= cap, axis=1)
    if not items.any():
        return 0.0
    value, costs = value[items], costs[items]
    n, m = costs.shape
    h = highspy.Highs()
    for key, val in (("output_flag", False), ("mip_rel_gap", 0.0), ("mip_abs_gap", 0.0),
                     ("mip_feasibility_tolerance", 1e-9), ("primal_feasibility_tolerance", 1e-9)):
        h.setOptionValue(key, val)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, m
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = -value, np.zeros(n), np.ones(n)
    lp.row_lower_, lp.row_upper_ = np.full(m, -highspy.kHighsInf), np.ones(m)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.arange(m + 1) * n
    lp.a_matrix_.index_ = np.tile(np.arange(n), m)
    lp.a_matrix_.value_ = (costs / cap).T.ravel()
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    h.passModel(lp)
    h.run()
    return float(value @ np.round(np.asarray(h.getSolution().col_value)))


# -- one workload --------------------------------------------------------------------------------
def bench_points(n_points: int, reading: str, eps: float, n_rows: int, repeats: int, seed: int) -> dict:
    world, cols = make_world(n_points, seed)
    sizes = make_sizes(n_rows, seed + 1)
    instances = knapsacks(world, cols, sizes, eps, reading)

    calls = []  # instances the numpy search solved, with their time
    solve = search.solve

    def spied(*args):
        t0 = time.perf_counter()
        out = solve(*args)
        calls.append(time.perf_counter() - t0)
        return out

    impls = {
        "exact": lambda: oracle.success(world, cols, eps, reading, sizes=sizes),
        "greedy": lambda: oracle.success(world, cols, eps, reading, sizes=sizes, method="greedy"),
        "highs": lambda: np.array([bayes - highs_flipped(v, c, b) for bayes, v, c, b in instances]),
    }
    answers, first = {}, {}
    search.solve = spied
    try:
        for name, fn in impls.items():
            answers[name], first[name] = first_call(fn)
        searched = len(calls)
        exact = answers["exact"].ravel()
        np.testing.assert_allclose(exact, answers["highs"], rtol=0, atol=AGREE_ATOL)
        assert np.all(answers["greedy"].ravel() <= exact + 1e-12), "greedy above exact"
        timings = time_all(impls, repeats, first)
        slowest = 0.0
        oracle.success(world, cols, eps, reading, sizes=sizes[:1])  # compile the one-row shape
        for row in sizes:  # one size vector per call: the per-evaluation worst case
            t0 = time.perf_counter()
            np.asarray(oracle.success(world, cols, eps, reading, sizes=row[None]))
            slowest = max(slowest, time.perf_counter() - t0)
    finally:
        search.solve = solve
    n_evals = sizes.size
    per_eval = {name: rec["median_s"] / n_evals for name, rec in timings.items()}
    return {
        "points": n_points,
        "reading": reading,
        "eps": eps,
        "evaluations": n_evals,
        "seconds_per_evaluation": per_eval,
        "first_call_s": {name: rec["first_call_s"] for name, rec in timings.items()},
        "highs_over_exact": per_eval["highs"] / per_eval["exact"],
        "slowest_size_vector_s": slowest,
        "slowest_per_evaluation_s": slowest / len(cols),
        "meets_target": bool(slowest / len(cols) < TARGET_SECONDS),
        "searched_fraction": searched / n_evals,
        "max_search_s": max(calls, default=0.0),
        "agree_max_abs_diff": float(np.max(np.abs(exact - answers["highs"]))),
        "mean_exact": float(exact.mean()),
        "mean_greedy_gap": float((exact - answers["greedy"].ravel()).mean()),
    }


def format_table(rows: list[dict]) -> str:
    head = ("| P | reading | evals | exact ms/eval | greedy ms/eval (lower bound) | HiGHS ms/eval "
            "| HiGHS / exact | slowest size vector, s | < 1 s/eval | searched in numpy | exact - greedy |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        t = r["seconds_per_evaluation"]
        lines.append(
            f"| {r['points']} | {r['reading']} | {r['evaluations']} | {1e3 * t['exact']:.3g} "
            f"| {1e3 * t['greedy']:.3g} | {1e3 * t['highs']:.3g} | {r['highs_over_exact']:.1f} "
            f"| {r['slowest_size_vector_s']:.3f} | {'yes' if r['meets_target'] else 'no'} "
            f"| {100 * r['searched_fraction']:.0f}% | {r['mean_greedy_gap']:.4f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_exact_oracle",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--points", default="14,50,200,500", help="comma-separated numbers of points")
    ap.add_argument("--readings", default="huber,tv")
    ap.add_argument("--eps", type=float, default=0.02)
    ap.add_argument("--rows", type=int, help=f"size vectors per workload (default by P: {ROWS})")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="P = 14, 50; 4 size vectors; 1 repeat")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    points = [14, 50] if args.quick else [int(p) for p in args.points.split(",")]
    rows_for = (lambda p: 4) if args.quick else (lambda p: args.rows or ROWS.get(p, 10))
    repeats = 1 if args.quick else args.repeats
    started = datetime.datetime.now(datetime.UTC)
    load_before = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    with _quiet_stdout():
        highspy.Highs()  # the banner, once
    rows = [bench_points(p, reading, args.eps, rows_for(p), repeats, args.seed)
            for p in points for reading in args.readings.split(",")]
    machine = machine_info()
    machine["loadavg_before"] = load_before
    results = {
        "date_utc": started.isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks.bench_exact_oracle", *(argv or sys.argv[1:])]),
        "machine": machine,
        "unit": "seconds per evaluation = one collective's worst-case success for one size vector",
        "target": f"exact at 500 points < {TARGET_SECONDS} s per evaluation",
        "rows": rows,
    }
    print(f"aca_games exact eps > 0 oracle benchmark  {results['date_utc']}")
    print(f"machine: {machine['platform']}  cpus={machine['cpu_count']}  jax {machine['jax']}  "
          f"git {machine['git_commit']}  load before {load_before} after {machine['loadavg']}")
    print(f"eps = {args.eps}; K = 3 collectives; warm medians of {repeats}\n")
    print(format_table(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
        print(f"\nwrote {args.json}")
    return results


if __name__ == "__main__":
    main()
