"""Trained platforms and sweeps: vmapped seeds vs a Python loop, sweep overhead per cell.

1. **Trained runs per second** on the bundled smart-city scenario (3 collectives, N = 100 000
   users): :func:`aca_games.simulate.run_platforms` (seeds vmapped, 16 per compiled call) against
   a Python loop over the same seeds calling the same jitted single-run kernel
   (``jax.jit(runs._run)``), for every learner. Both warm (compiled) before timing; median of
   ``--repeats``; the loop's per-seed results are checked equal to the vmapped ones.
2. **Sweep overhead per cell**: one grid of ``--cells`` cells without a learner (oracle and bounds),
   one cell per task, run in this process, in a local process pool of 2 (spawned) and on a Dask
   ``LocalCluster`` of 2 worker processes bound to loopback. Each executor runs the grid twice:
   *cold* (worker start-up, imports, tracing and compiling) and *warm* (into a fresh results file,
   on the same, now compiled, workers). Overhead per cell = (warm wall time - the cells' own compute
   time / workers) / cells: what scheduling, pickling and the SQLite writes add per cell.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_simulate            # ~5 min on 2 cores
    .venv/bin/python -m benchmarks.bench_simulate --quick    # fewer seeds, cells and repeats
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import jax
import numpy as np

from aca_games.app.scenario import default_scenario_path, load_scenario
from aca_games.simulate import make_learner, platform_spec, run_platforms, seed_keys
from aca_games.simulate.runs import _run
from benchmarks.bench_oracle import machine_info

LEARNERS = {
    "bayes": {},
    "logistic": {},
    "mlp": {},
    "dp-sgd": {"epsilon": 1.0},
}


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_seeds(seeds: int, repeats: int, users: int) -> list[dict]:
    s = load_scenario(default_scenario_path())
    spec = platform_spec(s.world, s.collectives, N=users, n_test=2_000)
    keys = seed_keys(0, seeds)
    rows = []
    for name, options in LEARNERS.items():
        learner = make_learner(name, **options)
        one = jax.jit(_run, static_argnums=1)
        vmapped = run_platforms(spec, learner, keys)  # compile
        looped = [one(spec, learner, k) for k in keys]  # compile
        # the same kernel compiled alone or vmapped: equal up to rounding (rarely a draw differs)
        diff = float(np.abs(np.asarray(vmapped.success) - np.stack([r.success for r in looped])).max())
        t_vmap = _median_time(lambda learner=learner: run_platforms(spec, learner, keys).success, repeats)
        t_loop = _median_time(
            lambda learner=learner, one=one: [one(spec, learner, k).success for k in keys], repeats
        )
        rows.append(
            {
                "learner": name,
                "seeds": seeds,
                "vmapped_runs_per_s": seeds / t_vmap,
                "loop_runs_per_s": seeds / t_loop,
                "speedup": t_loop / t_vmap,
                "max_abs_diff_success": diff,
            }
        )
        print(f"{name:9s} vmapped {seeds / t_vmap:10.1f} runs/s  loop {seeds / t_loop:9.1f} runs/s  "
              f"x{t_loop / t_vmap:.1f}  max |diff| {diff:.2g}", flush=True)  # fmt: skip
    return rows


def bench_sweep(cells: int) -> list[dict]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import distributed

    from aca_games.app.sweep import plan_sweep, run_sweep
    from aca_games.results import load

    plan = plan_sweep(default_scenario_path(), [f"collectives[2].size=0.005:0.05:{cells}"], None)
    rows = []

    def measure(label, executor, parallel, tmp):
        start = time.perf_counter()
        run_sweep(plan, Path(tmp) / f"cold-{len(rows)}.db", executor=executor, workers=0, chunk=1)
        cold = time.perf_counter() - start  # worker start-up, imports, tracing and compiling
        db = Path(tmp) / f"warm-{len(rows)}.db"
        start = time.perf_counter()
        run_sweep(plan, db, executor=executor, workers=0, chunk=1)
        wall = time.perf_counter() - start
        compute = float(load(db)["seconds"].sum())
        overhead = (wall - compute / parallel) / cells
        rows.append({"executor": label, "cells": cells, "cold_wall_s": cold, "warm_wall_s": wall,
                     "warm_compute_s": compute, "overhead_per_cell_s": overhead})  # fmt: skip
        print(f"{label:22s} {cells} cells: cold {cold:7.2f} s; warm {wall:7.2f} s wall, {compute:7.2f} s "
              f"compute, overhead/cell {overhead:6.3f} s", flush=True)  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        measure("this process", None, 1, tmp)
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(2, mp_context=spawn) as pool:
            measure("process pool (2)", pool, 2, tmp)
        with (
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, protocol="tcp",
                                     host="127.0.0.1", dashboard_address=None) as cluster,
            distributed.Client(cluster) as client,
        ):  # fmt: skip
            measure("dask LocalCluster (2)", client.get_executor(), 2, tmp)
    return rows


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--cells", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--no-sweep", action="store_true", help="skip the sweep part")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    seeds = args.seeds or (32 if args.quick else 128)
    repeats = args.repeats or (1 if args.quick else 5)
    cells = args.cells or (4 if args.quick else 16)
    info = machine_info()
    print(json.dumps(info))
    result = {"machine": info, "seeds": bench_seeds(seeds, repeats, args.users)}
    if not args.no_sweep:
        result["sweep"] = bench_sweep(cells)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
