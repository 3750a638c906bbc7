"""Price of anarchy / stability and equilibrium maps (THEORY §5): each check can fail.

* known games: prisoner's dilemma (PoA = PoS = 6/2 = 3), coordination (mixed equilibria count:
  PoA 2 with them, 1 among pure ones), the difference convention when welfare is not positive, a
  3-player game without pure equilibria (status ``infeasible``, then with given mixed equilibria);
* ``ACAGame`` input: the optimum is the largest ``game.welfare`` over all profiles;
* the equilibrium map equals looping the single-game solver cell by cell (payoff functions and
  ``ACAGame`` size grids, the latter against games rebuilt with the sizes put into the options);
* the heat map is a real PNG;
* bad input raises ``ACAInputError`` with a clear message.
"""

from __future__ import annotations

import itertools

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aca_games import ACAGame, ACAInputError, Collective, Player, World
from solvers import Solution
from solvers.equilibrium.analysis import (
    EquilibriumMap,
    equilibrium_map,
    plot_equilibrium_map,
    price_of_anarchy,
)
from solvers.equilibrium.mixed import mixed_nash
from solvers.equilibrium.pure import pure_nash
from solvers.equilibrium.two_player import two_player_equilibria

DILEMMA = np.array([[[3.0, 0.0], [5.0, 1.0]], [[3.0, 5.0], [0.0, 1.0]]])


def _bimatrix(A, B):
    return np.stack([np.asarray(A, float), np.asarray(B, float)])


# ---------------------------------------------------------------------------- price of anarchy
def test_prisoners_dilemma_has_price_of_anarchy_three():
    sol = price_of_anarchy(DILEMMA)
    v = sol.value
    assert sol.status == "optimal"
    assert (v["optimum"], v["worst_equilibrium"], v["best_equilibrium"]) == (6.0, 2.0, 2.0)
    assert v["price_of_anarchy"] == 3.0 and v["price_of_stability"] == 3.0
    assert v["convention"] == {"anarchy": "ratio", "stability": "ratio"}
    assert v["anarchy_gap"] == 4.0
    assert sol.certificate["optimal_profile"] == (0, 0)
    assert sol.certificate["equilibria"] == [(1, 1)] and sol.certificate["nash_conv"] == 0.0
    assert sol.stats["source"] == "two_player_equilibria"


def test_coordination_counts_mixed_equilibria_and_price_of_stability():
    coordination = _bimatrix(np.eye(2), np.eye(2))
    sol = price_of_anarchy(coordination)  # (0,0), (1,1) with welfare 2 and the mixed one with 1
    assert sol.value["optimum"] == 2.0
    assert sol.value["worst_equilibrium"] == pytest.approx(1.0, abs=1e-12)
    assert sol.value["price_of_anarchy"] == pytest.approx(2.0, abs=1e-12)
    assert sol.value["price_of_stability"] == 1.0 and sol.value["stability_gap"] == 0.0
    worst = sol.certificate["equilibria"][sol.certificate["worst"]]
    np.testing.assert_allclose(worst[0], [0.5, 0.5], atol=1e-12)
    assert sol.certificate["nash_conv"] <= 1e-12
    pure = price_of_anarchy(coordination, pure_nash(coordination))
    assert pure.value["price_of_anarchy"] == 1.0 and pure.certificate["equilibria"] == [(0, 0), (1, 1)]
    # a plain list of profiles, pure and mixed mixed together
    listed = price_of_anarchy(coordination, [(0, 0), ([0.5, 0.5], [0.5, 0.5])])
    assert listed.value["price_of_anarchy"] == pytest.approx(2.0, abs=1e-12)


def test_nonpositive_welfare_uses_the_difference():
    # dilemma shifted down by 2 per player: optimum 6 - 4 = 2, equilibrium 2 - 4 = -2
    sol = price_of_anarchy(DILEMMA - 2.0)
    assert sol.value["convention"] == {"anarchy": "difference", "stability": "difference"}
    assert sol.value["price_of_anarchy"] == 4.0 == sol.value["anarchy_gap"]
    both_negative = price_of_anarchy(DILEMMA - 10.0)
    assert both_negative.value["convention"]["anarchy"] == "difference"
    assert both_negative.value["price_of_anarchy"] == pytest.approx(4.0)


def _no_pure_three_player():
    # player 0 matches player 1, player 1 mismatches player 0 (no pure equilibrium), player 2 has
    # the dominant option 1 and gains 2 when both others play 0
    P = np.zeros((3, 2, 2, 2))
    for a, b, c in itertools.product(range(2), repeat=3):
        P[0, a, b, c] = 1.0 if a == b else -1.0
        P[1, a, b, c] = -1.0 if a == b else 1.0
        P[2, a, b, c] = 0.5 * c + 2.0 * (a == b == 0)
    return P


def test_three_players_use_pure_equilibria_and_report_infeasible_without_one():
    P = _no_pure_three_player()
    sol = price_of_anarchy(P)
    assert sol.status == "infeasible" and sol.value["price_of_anarchy"] is None
    assert "mixed_nash" in sol.stats["message"] and sol.stats["source"] == "pure_nash"
    # an equilibrium (as mixed_nash returns it): 0 and 1 mix evenly, 2 plays its dominant option
    eq = Solution(
        value=(np.array([0.5, 0.5]), np.array([0.5, 0.5]), np.array([0.0, 1.0])),
        status="converged",
        certificate=0.0,
    )
    with_mixed = price_of_anarchy(P, eq)
    assert with_mixed.status == "optimal"
    # optimum (0, 0, 1): 0 + 0.5 + 2; the equilibrium: 0 + 0.5 + 2 / 4
    assert with_mixed.value["optimum"] == 2.5 and with_mixed.value["worst_equilibrium"] == pytest.approx(1.0)
    assert with_mixed.value["price_of_anarchy"] == pytest.approx(2.5)
    assert with_mixed.certificate["nash_conv"] == pytest.approx(0.0, abs=1e-12)
    # three players with pure equilibria: all of them are used
    Q = np.stack([np.ones((2, 2, 2)) * k for k in range(3)])
    Q[:, 1, 1, 1] += 1.0
    sol = price_of_anarchy(Q)
    assert sol.value["optimum"] == 6.0 and sol.value["worst_equilibrium"] == 3.0
    # (1, 1, 1), and every profile from which no single switch reaches it
    assert sol.certificate["equilibria"] == [(0, 0, 0), (0, 0, 1), (0, 1, 0), (1, 0, 0), (1, 1, 1)]
    assert sol.value["price_of_stability"] == 1.0 and sol.value["price_of_anarchy"] == 2.0


@pytest.mark.slow
def test_price_of_anarchy_with_mixed_nash_solver():
    P = _no_pure_three_player()
    sol = price_of_anarchy(P, mixed_nash(P))
    assert sol.status == "optimal" and sol.certificate["nash_conv"] <= 1e-8


def _world():
    landing = {
        "g": [[0.25, 0.25], [0.25, 0.25], [0.0, 0.0]],
        "h": [[0.0, 0.0], [0.3, 0.3], [0.2, 0.2]],
        "k": [[0.2, 0.2], [0.0, 0.0], [0.3, 0.3]],
    }
    return World(
        points=["a", "b", "c"],
        labels=["n", "y"],
        base=[[0.2, 0.1], [0.15, 0.15], [0.1, 0.2]],
        landing=landing,
    )


def _players(i_size=0.1, j_size=0.1):
    i = Player(
        "i",
        [Collective("i", i_size, s, target="y") for s in ("g", "h", "k")],
        costs=[0.0, 0.1, 0.05],
        size_cost=0.5,
    )
    j = Player(
        "j", [Collective("j", j_size, s, target="n") for s in ("g", "h")], costs=[0.0, 0.05], size_cost=0.5
    )
    return [i, j]


GAME = ACAGame(_world(), _players())


def test_aca_game_optimum_is_the_best_welfare():
    sol = price_of_anarchy(GAME)
    welfare = {tuple(int(a) for a in p): GAME.welfare(tuple(p)) for p in GAME.profiles()}
    assert sol.value["optimum"] == pytest.approx(max(welfare.values()), abs=1e-12)
    assert welfare[sol.certificate["optimal_profile"]] == pytest.approx(sol.value["optimum"], abs=1e-12)
    eqs = two_player_equilibria(*GAME.payoff_tensor()).value
    assert sol.stats["n_equilibria"] == len(eqs)
    assert sol.value["anarchy_gap"] >= -1e-12 and sol.value["stability_gap"] >= -1e-12


# ------------------------------------------------------------------------------ equilibrium map
def _same_equilibria(got, want, atol=1e-9):
    assert len(got) == len(want)
    for (x, y), (xw, yw) in zip(got, want, strict=True):
        np.testing.assert_allclose(x, xw, atol=atol)
        np.testing.assert_allclose(y, yw, atol=atol)


def _check_cells(result: EquilibriumMap, cells_and_games):
    for cell, (A, B) in cells_and_games:
        want = two_player_equilibria(A, B).value
        _same_equilibria(result.equilibria(cell), want)
        assert result.count[cell] == len(want)
        # pure equilibria: the pure ones among the solver's (label tolerance), which include every
        # exact pure equilibrium
        pure = sorted((int(np.argmax(x)), int(np.argmax(y))) for x, y in want if min(x.max(), y.max()) == 1)
        assert result.pure_profiles(cell) == pure
        assert set(pure_nash(np.stack([A, B])).value) <= set(pure)
        for e, (x, y) in enumerate(want):
            np.testing.assert_allclose(result.values[cell][e], [x @ A @ y, x @ B @ y], atol=1e-12)
        welfare = [x @ (A + B) @ y for x, y in want]
        assert result.worst_welfare[cell] == pytest.approx(min(welfare), abs=1e-12)
        assert result.best_welfare[cell] == pytest.approx(max(welfare), abs=1e-12)
        assert result.optimum[cell] == pytest.approx((A + B).max(), abs=1e-12)


@given(st.integers(0, 2**31), st.sampled_from([(2, 2), (2, 3), (3, 3)]))
def test_map_of_a_payoff_function_equals_looping_the_single_solver(seed, shape):
    rng = np.random.default_rng(seed)
    # rounded bases: the combinations produce ties and degenerate games in some cells
    R = jnp.asarray(np.round(rng.normal(size=(3, 2, *shape)), 1))

    def payoffs(theta):
        return R[0] + theta[0] * R[1] + theta[1] * R[2]

    axes = (np.linspace(-1.0, 1.0, 4), np.array([0.0, 0.5, 1.5]))
    sol = equilibrium_map(payoffs, axes)
    res = sol.value
    assert sol.ok and res.count.shape == (4, 3) and res.grid.shape == (4, 3, 2)
    assert sol.certificate <= 1e-9 * (1 + float(np.abs(res.payoffs).max()))
    cells = []
    for c in itertools.product(range(4), range(3)):
        T = np.asarray(payoffs(jnp.asarray([axes[0][c[0]], axes[1][c[1]]])))
        np.testing.assert_allclose(res.payoffs[c], T, atol=1e-12)
        cells.append((c, (T[0], T[1])))
    _check_cells(res, cells)


def test_map_over_sizes_equals_games_rebuilt_with_those_sizes():
    axes = (np.array([0.05, 0.25]), np.array([0.1, 0.3, 0.5]))
    sol = equilibrium_map(GAME, axes)
    res = sol.value
    assert res.param_names == ("size of i", "size of j")
    cells = []
    for c in itertools.product(range(2), range(3)):
        rebuilt = ACAGame(_world(), _players(axes[0][c[0]], axes[1][c[1]]))
        T = rebuilt.payoff_tensor()
        np.testing.assert_allclose(res.payoffs[c], T, atol=1e-12)
        cells.append((c, (T[0], T[1])))
    _check_cells(res, cells)
    # an explicit array of cells, built in chunks of 4 cells (last one padded), gives the same result
    flat = equilibrium_map(GAME, res.grid.reshape(-1, 2), chunk=4)
    np.testing.assert_array_equal(flat.value.count, res.count.reshape(-1))
    np.testing.assert_array_equal(flat.value.payoffs, res.payoffs.reshape(-1, 2, 3, 2))


def test_plot_writes_a_png(tmp_path):
    axes = (np.linspace(0.0, 0.4, 12), np.linspace(0.0, 0.4, 10))
    sol = equilibrium_map(GAME, axes)
    path = plot_equilibrium_map(
        sol, tmp_path / "maps" / "eq.png", quantities=("count", "worst_welfare", "anarchy_gap", "n_pure")
    )
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    from matplotlib.image import imread

    img = imread(path)
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 800
    assert img[..., :3].std() > 0.05  # not blank


# ------------------------------------------------------------------------------------- bad input
def test_bad_input_raises_with_a_clear_message(tmp_path):
    with pytest.raises(ACAInputError, match="payoffs: shape"):
        price_of_anarchy(np.zeros((3, 2, 2)))
    with pytest.raises(ACAInputError, match=r"equilibria\[0\]: expected a profile with 2 entries"):
        price_of_anarchy(DILEMMA, [(0, 0, 0)])
    with pytest.raises(ACAInputError, match=r"equilibria\[0\]\[1\]: option 2 out of range"):
        price_of_anarchy(DILEMMA, [(0, 2)])
    with pytest.raises(ACAInputError, match=r"equilibria\[0\]\[0\]: expected an option index or 2 prob"):
        price_of_anarchy(DILEMMA, [([0.5, 0.6], 0)])
    with pytest.raises(ACAInputError, match=r"grid: sizes \[0.6, 0.5\] in cell 0 \(flat index\) sum to 1.1"):
        equilibrium_map(GAME, np.array([[0.6, 0.5]]))
    with pytest.raises(ACAInputError, match=r"grid: size -0.1 outside \[0, 1\)"):
        equilibrium_map(GAME, (np.array([-0.1, 0.2]), np.array([0.1])))
    with pytest.raises(ACAInputError, match="each cell gives the two players' sizes"):
        equilibrium_map(GAME, np.ones((2, 3)) * 0.1)
    three = ACAGame(_world(), [*_players(), Player("k", [Collective("k", 0.1, "g", target="n")])])
    with pytest.raises(ACAInputError, match="needs a 2-player game, got 3 players"):
        equilibrium_map(three, np.full((1, 3), 0.1))
    with pytest.raises(ACAInputError, match=r"must return shape \(2, m, n\)"):
        equilibrium_map(lambda t: jnp.zeros((3, 2, 2)) * t[0], (np.array([0.0, 1.0]),))
    with pytest.raises(ACAInputError, match="non-finite payoff in cell 1"):
        equilibrium_map(lambda t: jnp.ones((2, 2, 2)) / t[0], (np.array([1.0, 0.0]),))
    with pytest.raises(ACAInputError, match="chunk: expected None or an integer >= 1"):
        equilibrium_map(GAME, np.full((1, 2), 0.1), chunk=0)
    with pytest.raises(ACAInputError, match="grid: expected a non-empty array"):
        equilibrium_map(GAME, np.array([0.1, 0.2]))
    with pytest.raises(ACAInputError, match="expected a 2-player ACAGame or a function"):
        equilibrium_map(DILEMMA, (np.array([0.0]),))
    line = equilibrium_map(lambda t: jnp.stack([jnp.eye(2) * t[0]] * 2), (np.array([1.0, 2.0]),))
    with pytest.raises(ACAInputError, match="a heat map needs a 2-D grid"):
        plot_equilibrium_map(line, tmp_path / "x.png")
    square = equilibrium_map(GAME, (np.array([0.1, 0.2]), np.array([0.1, 0.2])))
    with pytest.raises(ACAInputError, match="quantities: unknown 'nash'"):
        plot_equilibrium_map(square, tmp_path / "x.png", quantities=("nash",))
