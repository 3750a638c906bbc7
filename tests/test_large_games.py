"""Games of any size (issue 9): deviation payoffs, find_equilibrium, nash_conv without the tensor,
and the size guards. Every reference here is written from ``game.payoffs`` (one full profile at a
time) or from a brute-force tensor, never from the deviation kernels it checks.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from worlds import random_collective, random_world

import solvers
from aca_games import ACAGame, ACAInputError, Collective, Player, World
from aca_games.game import MAX_TABLE_ENTRIES
from solvers.equilibrium.large import find_equilibrium

#: (bound, eps) pairs: ε matters to the code path only for the exact oracle (knapsack or not).
LEARNERS = [("exact", 0.0), ("exact", 0.02), ("per_point", 0.02), ("closed_form", 0.02), ("smooth", 0.02)]


def _random_game(rng, world, n_players, n_options, bound, eps=0.0):
    players = []
    for i in range(n_players):
        options = [
            random_collective(rng, world, f"p{i}", float(rng.uniform(0.0, 0.9 / n_players)),
                              ("feature_label", "feature_only", "unplant"), noise=True)
            for _ in range(n_options)
        ]
        players.append(Player(f"p{i}", options, value=float(rng.uniform(0.5, 2)),
                              costs=rng.uniform(0, 0.2, n_options).tolist(), size_cost=0.3))
    return ACAGame(world, players, bound=bound, eps=eps)


def _deviated(profile, p, b):
    out = list(profile)
    out[p] = b
    return tuple(out)


def _reference_gains(game, profile) -> np.ndarray:
    """``max_b u_p(b, a_{-p}) - u_p(a)`` per player from full-profile evaluations."""
    own = np.asarray(game.payoffs(profile))
    return np.array([
        max(float(game.payoffs(_deviated(profile, p, b))[p]) for b in range(m)) - own[p]
        for p, m in enumerate(game.shape)
    ])


def _reference_cce_gap(game, distribution) -> float:
    """``max_{p,b} Σ_k w_k [u_p(b, a^k_{-p}) - u_p(a^k)]`` from full-profile evaluations."""
    gains = []
    for p, m in enumerate(game.shape):
        for b in range(m):
            gains.append(sum(w * float(game.payoffs(_deviated(a, p, b))[p] - game.payoffs(a)[p])
                             for w, a in distribution))
    return max(gains)


# ------------------------------------------------------------------------------ deviation payoffs
def _world(seed):
    """A random world of one fixed shape (4 points, 3 labels, 2 signals): one compilation per
    bound and learner serves every example."""
    rng = np.random.default_rng(seed)
    return rng, random_world(rng, 4, 3, 2)


@given(st.integers(0, 2**32 - 1), st.sampled_from(LEARNERS))
def test_deviation_payoffs_equal_full_evaluations(seed, learner):
    bound, eps = learner
    rng, world = _world(seed)
    n_options = 3
    game = _random_game(rng, world, 3, n_options, bound, eps)
    profiles = rng.integers(0, n_options, size=(3, 3))
    table = np.asarray(game.all_deviation_payoffs(profiles))  # batched (vmap over profiles)
    for k, profile in enumerate(profiles):
        one = np.asarray(game.all_deviation_payoffs(profile))
        np.testing.assert_allclose(table[k], one, rtol=0, atol=1e-15)  # batch == loop (to rounding)
        for p in range(3):
            row = np.asarray(game.deviation_payoffs(profile, p))
            np.testing.assert_allclose(row, one[p, :n_options], rtol=0, atol=1e-15)
            expected = [float(game.payoffs(_deviated(profile, p, b))[p]) for b in range(n_options)]
            np.testing.assert_allclose(row, expected, rtol=0, atol=1e-12)


def test_padded_menus_are_minus_infinity():
    world = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.2]], landing={"g": [[0.5, 0.5]]})
    menu = [Collective("c", s, "g", target="y") for s in (0.0, 0.05, 0.1)]
    game = ACAGame(world, [Player("p", menu), Player("q", menu[:1])])
    table = np.asarray(game.all_deviation_payoffs((2, 0)))
    assert table.shape == (2, 3)
    assert np.isneginf(table[1, 1:]).all() and np.isfinite(table[0]).all()
    assert game.deviation_payoffs((2, 0), "q").shape == (1,)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda g: g.deviation_payoffs((0, 5), 0), r"profile\[1\]: option 5 out of range"),
        (lambda g: g.deviation_payoffs((0,), 0), "expected option indices of shape"),
        (lambda g: g.deviation_payoffs((0, 0), "nobody"), "no player named 'nobody'"),
        (lambda g: g.deviation_payoffs((0, 0), 2), "index 2 out of range"),
        (lambda g: g.all_deviation_payoffs([[0, 0], [1, -1]]), r"profile\[1, 1\]: option -1"),
        (lambda g: g.all_deviation_payoffs([0.5, 0]), "expected option indices"),
    ],
)
def test_deviation_payoffs_reject_bad_profiles(call, match):
    world = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.2]], landing={"g": [[0.5, 0.5]]})
    menu = [Collective("c", 0.0, "g", target="y"), Collective("c", 0.1, "g", target="y")]
    game = ACAGame(world, [Player("p", menu), Player("q", menu)])
    with pytest.raises(ACAInputError, match=match):
        call(game)


# ------------------------------------------------------------------------------ find_equilibrium
@given(st.integers(0, 2**32 - 1), st.sampled_from(LEARNERS))
def test_find_equilibrium_against_brute_force(seed, learner):
    bound, eps = learner
    rng, world = _world(seed)
    game = _random_game(rng, world, 3, 3, bound, eps)
    sol = find_equilibrium(game, regret_rounds=500)
    tensor = game.payoff_tensor()
    if sol.stats["kind"] == "pure":
        reference = _reference_gains(game, sol.value)
        assert sol.certificate == pytest.approx(max(reference.max(), 0.0), abs=1e-12)
        np.testing.assert_allclose(sol.stats["gains"], np.maximum(reference, 0.0), atol=1e-12)
        if sol.status == "converged":
            assert sol.value in solvers.pure_nash(tensor, tol=sol.stats["tol"]).value
    else:
        assert sol.certificate == pytest.approx(max(_reference_cce_gap(game, sol.value), 0.0), abs=1e-12)
        assert sum(w for w, _ in sol.value) == pytest.approx(1.0, abs=1e-12)
    assert sol.ok == (sol.certificate <= sol.stats["tol"])


def test_pure_equilibrium_of_a_game_with_one():
    """Every pure equilibrium found is one of pure_nash's (here: a dilemma with a unique one)."""
    dilemma = np.array([[[3.0, 0.0], [5.0, 1.0]], [[3.0, 5.0], [0.0, 1.0]]])
    sol = find_equilibrium(dilemma, start=(0, 0))
    assert sol.value == (1, 1) and sol.status == "converged" and sol.certificate == 0.0
    assert sol.stats["kind"] == "pure" and sol.stats["n_profiles"] == 4


def _pennies_aca_game() -> ACAGame:
    """Two collectives choosing a signal (g0 or g2): p1 wins only where p0 is not (p0's label
    outvotes it there), p0 wins only where p1 is: no pure equilibrium."""
    world = World(  # consistent (one label marginal), found by a seeded search for a game without a pure NE
        points=["a", "b", "c"], labels=["y0", "y1", "y2"],
        base=[[0.05, 0.05, 0.1], [0.025, 0.025, 0.1], [0.1, 0.025, 0.0]],
        landing={
            "g0": [[0.2856192856192856, 0.0, 0.0],
                   [0.005126530772451288, 0.2837670001259014, 0.389862147857326],
                   [0.0, 0.0, 0.03562503562503562]],
            "g2": [[0.2907458163917369, 0.03585318360826312, 0.0],
                   [0.0, 0.24791381651763827, 0.0025791834823617465],
                   [0.0, 0.0, 0.42290799999999995]],
        },
    )
    p0 = [Collective("p0", 0.16758224510142666, g, target="y1") for g in ("g0", "g2")]
    p1 = [Collective("p1", s, g, target=["y2", "y0"], label="y0")
          for s, g in ((0.2979047501320403, "g0"), (0.4225685880011981, "g2"))]
    return ACAGame(world, [Player("p0", p0, size_cost=0.2), Player("p1", p1, size_cost=0.2)])


@pytest.mark.parametrize("make", [_pennies_aca_game, lambda: np.array(
    [[[1.0, -1.0], [-1.0, 1.0]], [[-1.0, 1.0], [1.0, -1.0]]])], ids=["aca", "pennies"])
def test_cyclic_game_returns_a_certified_cce(make):
    game = make()
    assert solvers.pure_nash(game).value == []  # precondition: no pure equilibrium
    sol = find_equilibrium(game)
    assert sol.stats["kind"] == "coarse_correlated" and sol.status == "converged"
    assert sol.stats["cycles"] >= 1
    weights = np.array([w for w, _ in sol.value])
    assert np.all(weights > 0) and weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert len({a for _, a in sol.value}) == len(sol.value)  # duplicates merged
    # the gap, recomputed from a brute-force tensor (the payoff array itself, or the game's)
    P = game.payoff_tensor() if isinstance(game, ACAGame) else game
    gap = max(
        sum(w * (P[(p, *_deviated(a, p, b))] - P[(p, *a)]) for w, a in sol.value)
        for p in range(2) for b in range(2)
    )
    assert sol.certificate == pytest.approx(max(gap, 0.0), abs=1e-12)
    assert gap <= sol.stats["tol"]


def test_no_regret_rounds_zero_reports_the_last_profile_uncertified():
    sol = find_equilibrium(_pennies_aca_game(), regret_rounds=0, max_sweeps=3)
    assert sol.stats["kind"] == "pure" and sol.status == "max_iter" and sol.certificate > 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"tol": -1.0}, "tol: expected a finite number >= 0"),
        ({"max_sweeps": 2.5}, "max_sweeps: expected an integer >= 0"),
        ({"start": (0, 9)}, r"start\[1\]: expected an option index"),
        ({"start": (0,)}, "start: expected 2 option indices"),
        ({"progress": 3}, "progress: expected a function"),
    ],
)
def test_find_equilibrium_rejects_bad_input(kwargs, match):
    with pytest.raises(ACAInputError, match=match):
        find_equilibrium(np.zeros((2, 2, 2)), **kwargs)


# ------------------------------------------------------------------------------ size guards
def _huge_game(n_players=100) -> ACAGame:
    world = World(points=["a", "b"], labels=["n", "y"], base=[[0.3, 0.2], [0.1, 0.1]],
                  landing={"g": [[0.5, 0.5], [0.0, 0.0]], "h": [[0.0, 0.0], [0.5, 0.5]]})
    players = [
        Player(f"p{i}", [Collective(f"p{i}", 0.004, g, target="y") for g in ("g", "h")]
               + [Collective(f"p{i}", 0.0, "g", target="y")], size_cost=1.0)
        for i in range(n_players)
    ]
    return ACAGame(world, players)


def test_large_game_refuses_tables_and_names_the_size():
    game = _huge_game()
    assert game.n_profiles == 3**100
    for call in (game.payoff_tensor, game.success_tensor, game.profiles, lambda: solvers.pure_nash(game),
                 lambda: solvers.mixed_nash(game), lambda: solvers.price_of_anarchy(game)):
        with pytest.raises(ACAInputError, match=r"5\.15e47 pure profiles.*find_equilibrium"):
            call()
    small = _huge_game(3)
    assert len(small.players) * small.n_profiles <= MAX_TABLE_ENTRIES
    assert small.payoff_tensor().shape == (3, 3, 3, 3)


def test_large_game_is_solved_and_certified_without_the_table():
    game = _huge_game()
    sol = find_equilibrium(game)
    assert sol.stats["kind"] == "pure" and sol.status == "converged"
    reference = _reference_gains(game, sol.value)
    assert sol.certificate == pytest.approx(max(reference.max(), 0.0), abs=1e-12)
    assert solvers.nash_conv(game, sol.value) == pytest.approx(np.maximum(reference, 0).sum(), abs=1e-12)


def test_nash_conv_of_a_game_matches_the_tensor_and_guards_large_supports():
    game = _huge_game(3)
    tensor = game.payoff_tensor()
    rng = np.random.default_rng(0)
    for _ in range(3):
        mixed = [rng.dirichlet(np.ones(3)) for _ in range(3)]
        mixed[1] = 2  # an option index mixes with probability vectors
        as_vectors = [mixed[0], np.eye(3)[2], mixed[2]]
        expected = solvers.nash_conv(tensor, as_vectors)
        assert solvers.nash_conv(game, mixed) == pytest.approx(expected, abs=1e-12)
    big = _huge_game()
    with pytest.raises(ACAInputError, match="supports span 5.15e47 pure profiles"):
        solvers.nash_conv(big, [np.ones(3) / 3] * 100)
    with pytest.raises(ACAInputError, match="against: the others' mixed strategies span"):
        solvers.best_response(big, 0, [np.ones(3) / 3] * 100)


def test_all_pure_profiles_enumerated_agree_with_exhaustive_deviations():
    """The small-game tensor path and the deviation path agree at every profile."""
    rng = np.random.default_rng(3)
    world = World(points=["a", "b"], labels=["n", "y"], base=[[0.3, 0.2], [0.1, 0.1]],
                  landing={"g": [[0.5, 0.5], [0.0, 0.0]], "h": [[0.0, 0.0], [0.5, 0.5]]})
    game = _random_game(rng, world, 3, 2, "exact")
    tensor = game.payoff_tensor()
    for profile in itertools.product(range(2), repeat=3):
        table = np.asarray(game.all_deviation_payoffs(profile))
        for p in range(3):
            np.testing.assert_allclose(table[p], tensor[(p, *_deviated(profile, p, slice(None)))], atol=1e-12)


def test_equilibria_command_falls_back_to_find_equilibrium(monkeypatch):
    """Past the enumeration limit `aca-games equilibria` reports find_equilibrium's answer; here the
    limit is lowered so the answer can be checked against every pure equilibrium of the table."""
    import json

    from typer.testing import CliRunner

    from aca_games.app.cli import app
    from aca_games.app.commands import equilibria
    from aca_games.app.game_report import default_game
    from aca_games.app.scenario import default_scenario_path, load_scenario

    monkeypatch.setattr(equilibria, "EXHAUSTIVE_MAX_PROFILES", 1)
    result = CliRunner(env={"ACA_GAMES_JAX_CACHE": "off"}).invoke(app, ["equilibria", "smart_city", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)["equilibrium"]
    assert found["status"] == "converged" and "find_equilibrium" in found["method"]
    game = default_game(load_scenario(default_scenario_path()))
    pure = {tuple(eq) for eq in solvers.pure_nash(game.payoff_tensor()).value}
    chosen = tuple(p.option_names.index(found["value"]["profile"][p.name]) for p in game.players)
    assert chosen in pure
