"""Sweeps: grids over scenario fields, the SQLite store, resuming, executors (pool, Dask), CLI.

* bad grids fail before any work (exit code 2, message naming the path and the fix);
* a sweep writes every cell exactly once, a re-run skips them all, and ``results.load`` gives one
  row per cell whose numbers are the oracle's and the bounds' for that cell's scenario;
* a sweep killed mid-way (SIGKILL to its process group) resumes and ends with every cell once;
* the Dask path on a loopback ``LocalCluster`` gives the same table as the local run;
* ``simulate --json`` and ``sweep --json`` print JSON only.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from aca_games import ACAInputError, Collective, World, success
from aca_games.app.cli import app
from aca_games.app.grid import parse_axis, parse_path, parse_values
from aca_games.app.simulate_cmd import RunSettings
from aca_games.app.sweep import plan_sweep, run_sweep
from aca_games.results import load

SCENARIO = """
name = "tiny"
[world]
labels = ["no", "yes"]
points = ["a", "b", "c"]
base = [[0.10, 0.02], [0.05, 0.05], [0.08, 0.01]]
[world.signals.g]
landing = [[0.3, 0.2], [0.2, 0.1], [0.1, 0.1]]
[world.signals.h]
landing = [[0.0, 0.0], [0.2, 0.1], [0.4, 0.3]]
[[collectives]]
name = "fl"
size = 0.05
signal = "g"
target = ["yes"]
[[collectives]]
name = "other"
size = 0.04
signal = "h"
target = ["no"]
noise = 0.3
noise_mode = "scatter"
"""
GRID = ["collectives[0].size=0.02:0.1:3", "analysis.eps=0,0.01"]
LEARNED = ("--learner", "logistic", "--seeds", "4", "--users", "20000", "--steps", "30")


@pytest.fixture
def scenario(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


@pytest.fixture
def runner():
    return CliRunner(env={"ACA_GAMES_JAX_CACHE": "off"})


def _table(db) -> pd.DataFrame:
    """The results without run-specific columns, in grid order."""
    df = load(db).drop(columns=["seconds", "finished"]).sort_values("position")
    return df.reset_index(drop=True)


# -- grids --------------------------------------------------------------------------------------
def test_grid_values_and_paths():
    assert parse_values("0.01:0.1:3") == (0.01, 0.055, 0.1)
    assert parse_values("1,2.5,drop,true") == (1, 2.5, "drop", True)
    assert parse_values("5:5:1") == (5,)
    assert parse_path("collectives[1].noise") == ("collectives", 1, "noise")
    assert parse_axis("analysis.N=1000:3000:3").values == (1000, 2000, 3000)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("analysis.eps", "expected PATH=VALUES"),
        ("analysis.eps=", "no values"),
        ("analysis.eps=0:1:0", "num must be an integer >= 1"),
        ("analysis.eps=0:1", "a range is start:stop:num"),
        ("analysis.eps=0,,1", "empty entry"),
        ("collectives[x].size=0.1", r"unexpected '\[x\].size'; list indices are written \[0\]"),
        ("collectives..size=0.1", "cannot read the field path"),
    ],
)
def test_bad_axis_messages(spec, message):
    with pytest.raises(ACAInputError, match=message):
        parse_axis(spec)


@pytest.mark.parametrize(
    "grid, message",
    [
        ([], r"--grid: no axis given; add at least one --grid PATH=VALUES"),
        (["collectives[5].size=0.1"], r"collectives\[5\].size: collectives has 2 entries \(indices 0..1\)"),
        (["analysis.epz=0.1"], r"analysis.epz: unknown key 'epz' -> fix: did you mean 'eps'\?"),
        (["collectives[0].size=0.5,1.5"], r"collectives\[0\].size=1.5: collectives\[0\].size: .*less than 1"),
        (["collectives[0].size=0.5", "collectives[1].size=0.6"], r"sizes sum to 1.1 >= 1"),
        (["collectives[0].size=0.1", "collectives[0].size=0.2"], "given more than once"),
        (["collectives[0].size.x=1"], r"collectives\[0\].size is a value, not a table; shorten the path"),
        (["analysis.eps.x=1"], r"analysis.eps: Input should be a valid number"),
    ],
)
def test_bad_grids_fail_before_any_work(runner, scenario, tmp_path, grid, message):
    db = tmp_path / "out.db"
    args = ["sweep", str(scenario), "--db", str(db), *(x for g in grid for x in ("--grid", g))]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert pytest.importorskip("re").search(message, " ".join(result.stderr.split())), result.stderr
    assert not db.exists()  # nothing started


def test_bad_learner_option_fails_before_any_work(runner, scenario, tmp_path):
    db = tmp_path / "out.db"
    result = runner.invoke(app, ["sweep", str(scenario), "--db", str(db), "--grid", GRID[0], "--hidden", "3"])
    assert result.exit_code == 2 and "--hidden: a learner option without --learner" in result.stderr
    result = runner.invoke(app, ["sweep", str(scenario), "--db", str(db), "--grid", GRID[0],
                                 "--learner", "logistic", "--hidden", "3"])  # fmt: skip
    assert result.exit_code == 2 and "hidden: only the mlp" in result.stderr
    assert not db.exists()


# -- running, resuming, loading -----------------------------------------------------------------
def test_sweep_writes_every_cell_once_and_resumes(scenario, tmp_path):
    db = tmp_path / "s.db"
    plan = plan_sweep(scenario, GRID, None)
    first = run_sweep(plan, db, workers=0)
    assert (first.cells, first.skipped, first.ran, first.errors) == (6, 0, 6, 0)
    again = run_sweep(plan, db, workers=0)
    assert (again.skipped, again.ran) == (6, 0)
    df = load(db)
    assert len(df) == 6 and df["key"].is_unique and sorted(df["position"]) == list(range(6))
    # every cell holds the oracle of its own scenario (reference: the public oracle on the cell)
    world = World(points=["a", "b", "c"], labels=["no", "yes"],
                  base=[[0.10, 0.02], [0.05, 0.05], [0.08, 0.01]],
                  landing={"g": [[0.3, 0.2], [0.2, 0.1], [0.1, 0.1]],
                           "h": [[0.0, 0.0], [0.2, 0.1], [0.4, 0.3]]})  # fmt: skip
    other = Collective("other", 0.04, "h", target="no", noise=0.3, noise_mode="scatter")
    for _, row in df.iterrows():
        fl = Collective("fl", row["collectives[0].size"], "g", target="yes")
        expected = success(world, [fl, other], eps=row["analysis.eps"])
        np.testing.assert_allclose([row["fl/success"], row["other/success"]], expected, atol=1e-12)
        assert row["fl/bounds.staircase"] <= row["fl/success_alone"] + 1e-12
    assert set(df["collectives[0].size"]) == {0.02, 0.06, 0.1}


@contextlib.contextmanager
def _dask_client(distributed, n_workers, processes):
    """A client of a Dask ``LocalCluster`` bound to loopback."""
    with (
        distributed.LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=processes, protocol="tcp",
            host="127.0.0.1", dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        yield client


def test_dask_local_cluster_gives_the_local_table(scenario, tmp_path):
    distributed = pytest.importorskip("distributed")
    settings = RunSettings(learner="logistic", seeds=4, users=20_000, steps=30)
    plan = plan_sweep(scenario, GRID[:1], settings)
    run_sweep(plan, tmp_path / "local.db", workers=0)
    with _dask_client(distributed, n_workers=1, processes=False) as client:
        summary = run_sweep(plan, tmp_path / "dask.db", executor=client.get_executor(), chunk=2)
    assert summary.ran == 3
    local, dask = _table(tmp_path / "local.db"), _table(tmp_path / "dask.db")
    pd.testing.assert_frame_equal(local, dask)
    assert "fl/trained.measured.mean" in local and local["fl/trained.measured.mean"].notna().all()


@pytest.mark.slow
def test_local_pool_gives_the_same_table_as_dask_processes(scenario, tmp_path):
    distributed = pytest.importorskip("distributed")
    plan = plan_sweep(scenario, GRID[:1], RunSettings(learner="logistic", seeds=4, users=20_000, steps=30))
    run_sweep(plan, tmp_path / "pool.db", workers=2, chunk=2)
    with _dask_client(distributed, n_workers=2, processes=True) as client:
        run_sweep(plan, tmp_path / "dask.db", executor=client.get_executor(), chunk=2)
    pd.testing.assert_frame_equal(_table(tmp_path / "pool.db"), _table(tmp_path / "dask.db"))


@pytest.mark.slow
def test_killed_sweep_resumes_with_every_cell_once(scenario, tmp_path):
    db = tmp_path / "killed.db"
    grid = ["collectives[0].size=0.02:0.1:6", "analysis.eps=0,0.01"]
    cmd = [str(Path(sys.executable).parent / "aca-games"), "sweep", str(scenario), "--db", str(db),
           "--workers", "1", "--chunk", "1", *(x for g in grid for x in ("--grid", g))]  # fmt: skip
    env = {**os.environ, "ACA_GAMES_JAX_CACHE": str(tmp_path / "jax-cache")}
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 600
    rows = 0
    while rows == 0 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if db.exists():
            try:
                with sqlite3.connect(db) as conn:
                    rows = conn.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
            except sqlite3.OperationalError:
                rows = 0
    assert proc.poll() is None, f"the sweep ended before it could be killed: {proc.stderr.read()}"
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its pool worker
    proc.wait()
    proc.stderr.close()
    partial = len(load(db))
    assert 1 <= partial < 12
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert f"{partial} already in" in done.stdout
    df = load(db)
    assert len(df) == 12 and df["key"].is_unique and sorted(df["position"]) == list(range(12))
    # the resumed table equals an uninterrupted run's
    fresh = tmp_path / "fresh.db"
    run_sweep(plan_sweep(scenario, grid, None), fresh, workers=0)
    pd.testing.assert_frame_equal(_table(db), _table(fresh))


# -- CLI output ---------------------------------------------------------------------------------
def test_simulate_json_parses(runner, scenario, tmp_path):
    result = runner.invoke(app, ["simulate", str(scenario), "--seeds", "4", "--users", "20000", "--json",
                                 "--out", str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [r["name"] for r in doc["collectives"]] == ["fl", "other"]
    assert doc["simulation"]["learner"] == "bayes" and doc["simulation"]["users"] == 20_000
    for r in doc["collectives"]:
        assert set(r["bounds"]) == {"per_point", "multi_closed_form", "bloc", "finite_sample"}
        assert r["measured"]["interval"].startswith("95% Student-t")
    assert json.loads((tmp_path / "out" / "simulation.json").read_text()) == doc


def test_simulate_bad_input_exit_code(runner, scenario):
    result = runner.invoke(app, ["simulate", str(scenario), "--learner", "svm"])
    assert result.exit_code == 2 and "unknown learner 'svm'" in result.stderr
    result = runner.invoke(app, ["simulate", str(scenario), "--learner", "bayes", "--steps", "5"])
    assert result.exit_code == 2 and "bayes learner has no options" in result.stderr


def test_sweep_json_parses(runner, scenario, tmp_path):
    db = tmp_path / "j.db"
    args = [
        "sweep",
        str(scenario),
        "--db",
        str(db),
        "--grid",
        "analysis.eps=0,0.01",
        "--workers",
        "0",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["cells"], doc["ran"], doc["skipped"]) == (2, 2, 0)
    again = json.loads(runner.invoke(app, args).stdout)
    assert (again["ran"], again["skipped"]) == (0, 2)
