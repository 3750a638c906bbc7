"""Smoke tests for the benchmarks: they run, and ours agrees with the baselines / certificates.

Tiny batches and one repeat, so it takes a few seconds; the timings are not checked.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `benchmarks` is not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import bench_oracle  # noqa: E402


def test_bench_oracle_quick_runs_and_agrees(capsys):
    results = bench_oracle.main(
        ["--quick", "--batch", "300", "--batch-worst", "20", "--repeats", "1", "--readings",
         "huber"]
    )  # tv has no numpy baseline; leaving it out saves two compilations
    rows = {r["workload"]: r for r in results["rows"]}
    assert "oracle eps=0 (Bayes)" in rows
    assert any(name.startswith("bounds.staircase") for name in rows)
    compared = [r for r in rows.values() if "numpy" in r["rate"]]
    assert len(compared) >= 5  # Bayes oracle, huber exact and greedy, staircase, closed form
    for r in compared:
        assert r["agree_max_abs_diff"] is not None
        assert r["agree_max_abs_diff"] <= bench_oracle.AGREE_ATOL, r["workload"]
    # the answers are not degenerate: some collectives win part of their signal set
    assert rows["oracle eps=0 (Bayes)"]["answers"]["fraction_strictly_between_0_and_1"] > 0
    assert "ours/numpy" in capsys.readouterr().out


def test_bench_large_games_runs_and_certifies(capsys):
    """benchmarks/bench_large_games.py on 6 and 12 collectives: every equilibrium certified, its
    gain re-checked from full-profile evaluations, and the 6-collective one found by the tensor path."""
    from benchmarks import bench_large_games

    results = bench_large_games.main(["--sizes", "6", "12", "--repeats", "1"])
    rows = {r["n"]: r for r in results["rows"]}
    for r in rows.values():
        assert r["status"] == "converged" and r["kind"] == "pure"
        assert r["reference_gain"] <= r["certificate"] + 1e-12
    assert rows[6]["found_among_tensor"] and rows[6]["tensor_equilibria"] >= 1
    assert "tensor path s" in capsys.readouterr().out


def test_bench_exact_oracle_quick_runs_and_agrees_with_highs(capsys):
    """The exact oracle equals HiGHS on every evaluation (checked inside), greedy stays below."""
    from benchmarks import bench_exact_oracle

    results = bench_exact_oracle.main(["--points", "50", "--rows", "3", "--repeats", "1"])
    assert {r["reading"] for r in results["rows"]} == {"huber", "tv"}
    for r in results["rows"]:
        assert r["agree_max_abs_diff"] <= bench_exact_oracle.AGREE_ATOL
        assert r["mean_greedy_gap"] >= 0.0
    assert any(r["searched_fraction"] > 0 for r in results["rows"])  # the numpy search ran
    assert "HiGHS / exact" in capsys.readouterr().out
