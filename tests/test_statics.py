"""Comparative statics: implicit derivatives of equilibria, envelope theorem, bound derivatives,
each against finite differences (re-solving at ``θ ± h``) or closed forms."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from aca_games import ACAGame, ACAInputError, Collective, Player, World, bounds
from aca_games.world import split_landing
from solvers import Solution
from solvers.equilibrium.continuous import best_responses, continuous_nash, sizing_payoff
from solvers.statics import (
    best_response_derivative,
    best_response_value_derivative,
    bound_derivative,
    equilibrium_derivative,
    game_payoff,
    parametric_payoff,
)

#: Central differences of re-solved equilibria: Newton leaves ~1e-15 in the sizes, so with
#: H = 1e-5 rounding contributes ~1e-10 and truncation ~H² · (third derivative) ~1e-9.
H, FD_ATOL = 1e-5, 1e-6

BASE = np.array([[0.12, 0.06, 0.04], [0.08, 0.08, 0.06], [0.04, 0.06, 0.12]])
#: Where each signal lands; rows split with one label marginal so the world is consistent (THEORY §1).
#: Arrays, not lists: a World built from traced values skips its conversion.
MASSES = {"gA": [0.75, 0.25, 0.0], "gB": [0.0, 0.25, 0.75]}
LANDING = {g: jnp.asarray(split_landing(m, [1 / 3] * 3)) for g, m in MASSES.items()}
CAP = 0.45
CAPS = np.array([CAP, CAP])


def build(base_scale=1.0, size_cost=2.0, bound="smooth") -> ACAGame:
    world = World(
        points=["a", "b", "c"], labels=["x", "y", "z"], base=base_scale * jnp.asarray(BASE), landing=LANDING
    )
    players = [
        Player(n, [Collective(n, CAP, g, target=t)], value=1.0, size_cost=size_cost)
        for n, g, t in (("A", "gA", "y"), ("B", "gB", "x"))
    ]
    return ACAGame(world, players, bound=bound, tau=0.02)


GAME = build()
#: One payoff function per parameter, shared by the tests: each new function compiles the solver.
SIZE_COST, SIZE_COST0 = parametric_payoff(GAME, "size_cost")


def cournot(a, c):  # u_i = a_i (1 - Σa) - c_i a_i
    return a * (1.0 - jnp.sum(a)) - c * a


def solve(payoff, theta, caps):
    sol = continuous_nash(payoff, caps=caps, args=(jnp.asarray(theta),))
    assert sol.status == "converged", sol
    return sol


def fd_equilibrium(payoff, theta, caps):
    """``dα*/dθ`` by central differences of re-solved equilibria, shape ``(n, *θ.shape)``."""
    theta = np.asarray(theta, dtype=np.float64)
    cols = []
    for k in range(theta.size):
        e = np.zeros(theta.size)
        e[k] = H
        up = solve(payoff, theta + e.reshape(theta.shape), caps).value
        down = solve(payoff, theta - e.reshape(theta.shape), caps).value
        cols.append((up - down) / (2 * H))
    return np.stack(cols, axis=-1).reshape((-1, *theta.shape))


# ---------------------------------------------------------------------------------------------
# equilibria


def test_cournot_closed_form_and_active_set():
    # interior: α* = (1 - c)/3 for two players, dα*_i/dc_j = -2/3 (i = j), +1/3 (i != j)
    c = np.array([0.1, 0.1])
    sol = solve(cournot, c, [0.45, 0.45])
    D = equilibrium_derivative(cournot, c, sol)
    np.testing.assert_allclose(D, [[-2 / 3, 1 / 3], [1 / 3, -2 / 3]], atol=1e-10)
    np.testing.assert_allclose(D, fd_equilibrium(cournot, c, [0.45, 0.45]), atol=FD_ATOL)
    # player 1 priced out (held at 0): α*_0 = (1 - c_0)/2, every derivative of player 1 is 0
    c = np.array([0.1, 0.8])
    sol = solve(cournot, c, [0.6, 0.3])
    assert sol.value[1] == 0.0
    D = equilibrium_derivative(cournot, c, sol)
    np.testing.assert_allclose(D, [[-0.5, 0.0], [0.0, 0.0]], atol=1e-10)
    np.testing.assert_allclose(D, fd_equilibrium(cournot, c, [0.6, 0.3]), atol=FD_ATOL)


def test_size_cost_derivative_matches_finite_differences():
    payoff, theta0 = SIZE_COST, SIZE_COST0
    sol = solve(payoff, theta0, CAPS)
    assert np.all((sol.value > 0.05) & (sol.value < CAP - 0.05))  # both interior
    D = equilibrium_derivative(payoff, theta0, sol)
    assert D.shape == (2, 2) and np.all(np.diag(D) < 0)  # dearer recruiting, smaller collective
    np.testing.assert_allclose(D, fd_equilibrium(payoff, theta0, CAPS), atol=FD_ATOL)


def test_base_mass_scale_derivative_matches_finite_differences():
    payoff = game_payoff(lambda s: build(base_scale=s))
    theta = 1.0
    np.testing.assert_allclose(
        payoff(jnp.asarray([0.1, 0.2]), theta), GAME.payoffs_at((0, 0), [0.1, 0.2]), atol=1e-15
    )
    sol = solve(payoff, theta, CAPS)
    D = equilibrium_derivative(payoff, theta, sol)
    assert D.shape == (2,)
    np.testing.assert_allclose(D, fd_equilibrium(payoff, theta, CAPS), atol=FD_ATOL)


def test_parametric_payoffs_are_the_game_at_theta0():
    sizes = jnp.asarray([0.1, 0.2])
    for wrt in ("size_cost", "value"):
        payoff, theta0 = parametric_payoff(GAME, wrt)
        np.testing.assert_allclose(payoff(sizes, theta0), GAME.payoffs_at((0, 0), sizes), atol=1e-15)
    payoff, theta0 = parametric_payoff(GAME, "value")
    np.testing.assert_allclose(payoff(sizes, 2.0) - payoff(sizes, 1.0), GAME.success_at((0, 0), sizes))


@pytest.mark.slow
def test_shared_value_derivative_matches_finite_differences():
    payoff, _ = parametric_payoff(GAME, "value")
    theta = 1.0  # one value shared by both players: D has shape (2,)
    sol = solve(payoff, theta, CAPS)
    D = equilibrium_derivative(payoff, theta, sol)
    assert D.shape == (2,) and np.all(D > 0)
    np.testing.assert_allclose(D, fd_equilibrium(payoff, theta, CAPS), atol=FD_ATOL)


def test_not_an_equilibrium_or_a_kink_is_refused():
    with pytest.raises(ACAInputError, match="stationary"):
        equilibrium_derivative(cournot, [0.1, 0.1], [0.2, 0.3], caps=[0.45, 0.45])
    with pytest.raises(ACAInputError, match="bound"):  # at 0 while recruiting pays
        equilibrium_derivative(cournot, [0.1, 0.1], [0.0, 0.45], caps=[0.45, 0.45])
    failed = Solution(
        value=np.array([0.2, 0.3]),
        status="max_iter",
        certificate=0.01,
        stats={"caps": np.array([0.45, 0.45])},
    )
    with pytest.raises(ACAInputError, match="status"):
        equilibrium_derivative(cournot, [0.1, 0.1], failed)
    with pytest.raises(ACAInputError, match="caps"):
        equilibrium_derivative(cournot, [0.1, 0.1], [0.3, 0.3])
    with pytest.raises(ACAInputError, match="theta"):
        equilibrium_derivative(cournot, [np.nan, 0.1], [0.3, 0.3], caps=[0.45, 0.45])
    with pytest.raises(ACAInputError, match="sizes"):
        equilibrium_derivative(cournot, [0.1, 0.1], [0.3, 0.5], caps=[0.45, 0.45])
    with pytest.raises(ACAInputError, match="wrt"):
        parametric_payoff(GAME, "tau")


def test_weakly_active_player_warns():
    # c_1 = 1 - α_0 exactly: player 1's best response is 0 with a zero derivative there
    c = np.array([0.1, 0.55])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        D = equilibrium_derivative(cournot, c, [0.45, 0.0], caps=[0.6, 0.3])
    assert any("weakly active" in str(w.message) for w in caught)
    np.testing.assert_allclose(D[0], [-0.5, 0.0], atol=1e-12)


# ---------------------------------------------------------------------------------------------
# best responses (others fixed)


def test_envelope_theorem_and_best_response_derivative():
    payoff, theta0 = SIZE_COST, SIZE_COST0
    sizes = np.array([0.1, 0.2])
    dV = best_response_value_derivative(payoff, theta0, sizes, CAPS)
    dBR = best_response_derivative(payoff, theta0, sizes, CAPS)
    fd_V, fd_BR = np.zeros((2, 2)), np.zeros((2, 2))
    for k in range(2):
        e = np.eye(2)[k] * H
        br_up, v_up = best_responses(payoff, sizes=sizes, caps=CAPS, args=(theta0 + e,))
        br_dn, v_dn = best_responses(payoff, sizes=sizes, caps=CAPS, args=(theta0 - e,))
        fd_V[:, k], fd_BR[:, k] = (v_up - v_dn) / (2 * H), (br_up - br_dn) / (2 * H)
    # the own size cost lowers the best value by the best-response size; others' costs do nothing
    br, _ = best_responses(payoff, sizes=sizes, caps=CAPS, args=(theta0,))
    np.testing.assert_allclose(dV, -np.diag(br), atol=1e-12)
    np.testing.assert_allclose(dV, fd_V, atol=1e-7)
    np.testing.assert_allclose(dBR, fd_BR, atol=1e-4)  # the search locates maxima to ~1e-10


# ---------------------------------------------------------------------------------------------
# bounds


def test_bound_derivative_matches_finite_differences():
    world = GAME.world
    cs = [p.options[0] for p in GAME.players]

    @jax.jit
    def b1(sizes):
        return bounds.multi_closed_form(world, cs, sizes=sizes)

    sizes = np.array([0.3, 0.2])
    J = bound_derivative(b1, sizes)
    fd = np.stack(
        [(np.asarray(b1(sizes + e)) - np.asarray(b1(sizes - e))) / (2 * H) for e in np.eye(2) * H], axis=1
    )
    np.testing.assert_allclose(J, fd, atol=1e-8)
    # a world parameter: the smooth success in the temperature
    smooth = jax.jit(lambda tau: bounds.smooth.smooth_success(world, cs, tau=tau, sizes=sizes))
    fd_tau = (np.asarray(smooth(0.02 + H)) - np.asarray(smooth(0.02 - H))) / (2 * H)
    np.testing.assert_allclose(bound_derivative(smooth, 0.02), fd_tau, atol=1e-7)


def test_sizing_payoff_caps_for_statics():
    # caps of a game_fn come from one concrete game
    _, caps = sizing_payoff(build(base_scale=1.0))
    np.testing.assert_array_equal(caps, CAPS)
