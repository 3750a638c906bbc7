"""Smoke test for benchmarks/bench_oracle.py: it runs, and ours agrees with the numpy baselines.

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
