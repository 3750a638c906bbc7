"""Smoke tests for the benchmarks: they run, and ours agrees with the baselines / certificates.

Tiny batches and one repeat, so it takes a few seconds; the timings are not checked.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

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


def test_bench_equilibria_tiny_agrees_with_peers(monkeypatch):
    """The equilibrium benchmark's workloads at tiny size: equal sets (checked inside), rows well formed."""
    pytest.importorskip("quantecon")
    from benchmarks import _mixed_peers
    from benchmarks import bench_equilibria as be

    monkeypatch.setattr(_mixed_peers, "MIXED_SHAPES", {"3x3x3": (3, 3, 3, 3)})
    cfg = be.Config(seeds=1, repeats=1, batch=20, qe_loop=5, agree_games=5, mixed_games=1, mixed_repeats=1,
                    nashpy=False)  # fmt: skip
    rows = [*be.bench_10x10(cfg), *be.bench_10x10(cfg, degenerate=True), be.bench_batched(cfg),
            *be.bench_mixed(cfg)]  # fmt: skip
    peers = {r["peer"] for r in rows}
    assert "QuantEcon vertex_enumeration" in peers
    if be.gbt is not None:
        assert {"pygambit gnm_solve", "pygambit ipa_solve", "pygambit enummixed_solve(rational=False)"} \
            <= peers
    for r in rows:
        assert r["max_nash_conv_ours"] <= be.NASHCONV_TOL, r["workload"]
    mixed = [r for r in rows if r["workload"].startswith("mixed")]
    assert all(r["certified_ours"] == 1 for r in mixed)
    table = be.format_table(rows)
    assert table.count("\n") == len(rows) + 1


def test_match_sets_rejects_a_missing_equilibrium():
    pytest.importorskip("quantecon")
    from benchmarks.bench_equilibria import match_sets

    e0 = (np.array([1.0, 0.0]), np.array([1.0, 0.0]))
    e1 = (np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    assert match_sets([e0, e1], [e1, e0, e0]) == 0.0  # the peer's duplicate is dropped
    assert match_sets([e0, e1], [e1], peer_subset=True) == 0.0
    with pytest.raises(AssertionError, match="equilibria"):
        match_sets([e0, e1], [e1])
    with pytest.raises(AssertionError, match="no partner"):
        match_sets([e0], [e1])


def test_render_results_from_json(tmp_path):
    """RESULTS.md is generated from the JSON files: the targets table shows the measured numbers."""
    from benchmarks import render_results

    doc = {
        "date_utc": "2026-12-03T00:00:00", "machine": {"git_commit": "abc", "loadavg": [1, 1, 1]},
        "rows": [{"workload": "import aca_games", "median_s": 2.0, "target_s": 1.5, "met": False},
                 {"workload": "first call: success", "first_s": 0.9, "warm_s": 0.001, "median_s": 0.9,
                  "target_s": None, "met": None}],
    }  # fmt: skip
    (tmp_path / "startup.json").write_text(json.dumps(doc))
    status = {"startup": {"command": "python -m benchmarks.bench_startup --quick", "returncode": 0},
              "oracle": {"command": "python -m benchmarks.bench_oracle", "returncode": 1, "error": "boom"}}
    text = render_results.render(tmp_path, status)
    assert "| import aca_games < 1.5 s | 2 s | **no** | startup |" in text
    assert "success 0.9 s / 1 ms" in text
    assert "**Failed** (exit 1)" in text and "boom" in text
