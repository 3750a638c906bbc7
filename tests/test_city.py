"""The bundled city (issue 9): a reproducible generator, a consistent world, and `aca-games run`
on games far too large to tabulate (the CLI switches to find_equilibrium and never builds a table).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from typer.testing import CliRunner

from aca_games import ACAGame
from aca_games.app.cli import app
from aca_games.app.game_report import default_game
from aca_games.app.scenario import bundled_scenarios, load_scenario
from aca_games.scenarios import generate_city


@pytest.fixture
def runner():
    return CliRunner(env={"ACA_GAMES_JAX_CACHE": "off"})


@pytest.fixture
def no_tables(monkeypatch):
    """Any attempt to enumerate profiles or build a payoff table fails the run."""

    def refuse(self, *args, **kwargs):
        raise AssertionError(f"a table over all {self.n_profiles} profiles was requested")

    for method in ("payoff_tensor", "success_tensor", "profiles"):
        monkeypatch.setattr(ACAGame, method, refuse)


def test_shipped_city_is_the_generators_output():
    shipped = bundled_scenarios()["city"].read_text(encoding="utf-8")
    assert generate_city.render() == shipped


def test_city_world_is_consistent_and_large():
    s = load_scenario(bundled_scenarios()["city"])
    world = s.world
    assert len(s.collectives) >= 100 and len(world.points) >= 100
    marginals = np.array([np.asarray(world.landing_table(g)).sum(axis=0) for g in world.signals])
    np.testing.assert_allclose(marginals, np.broadcast_to(marginals[0], marginals.shape), atol=1e-12)
    assert np.all(marginals[0] >= np.asarray(world.base).sum(axis=0) - 1e-12)
    # interesting: conflicting goals and shared signals
    assert {c.label for c in s.collectives} == {"cooling", "check_in"}
    assert len({c.signal for c in s.collectives}) < len(s.collectives)
    assert any(c.noise > 0 for c in s.collectives)


def _reference_gains(game: ACAGame, profile) -> np.ndarray:
    """Largest unilateral gain per player, from full-profile evaluations (not deviation kernels)."""
    payoffs = jax.jit(game.payoffs)
    own = np.asarray(payoffs(profile))
    gains = []
    for p, m in enumerate(game.shape):
        best = own[p]
        for b in range(m):
            deviated = list(profile)
            deviated[p] = b
            best = max(best, float(payoffs(jnp.asarray(deviated))[p]))
        gains.append(best - own[p])
    return np.array(gains)


def test_run_on_a_30_collective_city_switches_to_find_equilibrium(runner, tmp_path, no_tables):
    path = tmp_path / "city30.toml"
    path.write_text(generate_city.render(n_collectives=30, n_districts=5), encoding="utf-8")
    result = runner.invoke(app, ["run", str(path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    game_doc = doc["game"]
    assert game_doc["method"] == "find_equilibrium"
    assert game_doc["n_profiles"] == "1.74e31"  # 11 options (10 signals + abstain), 30 players
    eq = game_doc["equilibrium"]
    assert eq["kind"] == "pure" and eq["status"] == "converged"
    assert game_doc["price_of_anarchy"]["reason"].startswith("not computed")
    # re-check the certificate with full-profile evaluations of the same game
    game = default_game(load_scenario(path))
    menus = game_doc["menus"]
    profile = tuple(menu.index(name) for menu, name in zip(menus, eq["profile"], strict=True))
    gains = _reference_gains(game, profile)
    assert eq["certificate"] == pytest.approx(max(gains.max(), 0.0), abs=1e-6)  # JSON keeps 6 decimals
    assert gains.max() <= eq["tol"]
    assert len(doc["together"]["externalities"]) == 30


def test_run_tables_say_which_method_ran(runner, tmp_path, no_tables):
    path = tmp_path / "city30.toml"
    path.write_text(generate_city.render(n_collectives=30, n_districts=5), encoding="utf-8")
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "too many to enumerate" in out and "solvers.find_equilibrium" in out
    assert "one pure Nash equilibrium, certified" in out
    assert "(one row per signal)" in out and "largest of" in out  # world and externalities summarised


def _run_json_in_a_process(scenario: str) -> dict:
    """`aca-games run SCENARIO --json` in a fresh process: native libraries write to the real file
    descriptor 1 (HiGHS prints a banner), which CliRunner would not see."""
    env = dict(os.environ, ACA_GAMES_JAX_CACHE="off")
    done = subprocess.run([sys.executable, "-m", "aca_games.app.cli", "run", scenario, "--json"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # nothing but JSON on stdout


def test_json_stdout_is_pure_json_in_a_real_process():
    doc = _run_json_in_a_process("smart_city")
    assert doc["game"]["min_coalition"]["staircase"]["status"] == "optimal"  # HiGHS ran


@pytest.mark.slow
def test_run_city_json():
    doc = _run_json_in_a_process("city")
    assert len(doc["collectives"]) == 100
    assert doc["game"]["method"] == "find_equilibrium"
    assert doc["game"]["equilibrium"]["status"] == "converged"
    assert len(doc["together"]["externalities"]) == 100
