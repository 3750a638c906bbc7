"""Continuous sizing games: continuous_nash and its best-response-gap certificate.

References independent of the solver:

* the smooth payoff re-implemented in numpy below (feature-label collectives, one target label):
  ``P = (1 - Σα) P0 + Σ α_j E_j``, margin ``P(ℓ_i) - τ·lse_{y≠ℓ_i}(P/τ)``,
  ``u_i = v_i Σ_x m_i(x) sigmoid((margin - TIE_TOL)/τ) - k_i α_i``;
* ``scipy.optimize.root`` on its first-order conditions (central differences);
* closed-form equilibria (Cournot);
* a brute-force gap: every player's payoff on a fine grid (100,001 points), numpy, loop-free.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize
import scipy.special

from aca_games import ACAGame, ACAInputError, Collective, Player, World
from aca_games._knapsack import TIE_TOL
from aca_games.world import split_landing
from solvers.equilibrium.continuous import (
    best_response_gap,
    best_responses,
    continuous_nash,
    sizing_payoff,
)

TOL = 1e-8
#: Fine grid of the brute-force gap; its error is estimated from second differences (see brute_gap).
BRUTE_GRID = 100_001

BASE = np.array([[0.12, 0.06, 0.04], [0.08, 0.08, 0.06], [0.04, 0.06, 0.12]])
#: Where each signal lands; rows split with one label marginal so the world is consistent (THEORY §1).
MASSES = {"gA": [0.75, 0.25, 0.0], "gB": [0.0, 0.25, 0.75]}
LANDING = {g: np.asarray(split_landing(m, [1 / 3] * 3)) for g, m in MASSES.items()}
LABELS = ["x", "y", "z"]
WORLD = World(
    points=["a", "b", "c"],
    labels=LABELS,
    base=BASE.tolist(),
    landing={k: t.tolist() for k, t in LANDING.items()},
)
CAP, TAU, COST = 0.45, 0.02, 2.0
PLAYERS = (("A", "gA", "y"), ("B", "gB", "x"))


def two_player_game(bound="smooth", size_cost=COST) -> ACAGame:
    players = [
        Player(name, [Collective(name, CAP, sig, target=t)], value=1.0, size_cost=size_cost)
        for name, sig, t in PLAYERS
    ]
    return ACAGame(WORLD, players, bound=bound, tau=TAU)


SMOOTH = two_player_game()
CAPS = np.array([CAP, CAP])


def numpy_smooth_payoffs(S):
    """The smooth game's payoffs, numpy, for sizes ``S`` of shape ``(..., 2)``."""
    S = np.asarray(S, dtype=np.float64)
    labels = [LABELS.index(t) for _, _, t in PLAYERS]
    mass = np.stack([LANDING[sig].sum(axis=1) for _, sig, _ in PLAYERS])  # (K, P)
    E = np.zeros((2, *BASE.shape))
    for k, lab in enumerate(labels):
        E[k, :, lab] = mass[k]
    P = (1.0 - S.sum(-1))[..., None, None] * BASE + np.einsum("...k,kpl->...pl", S, E)
    out = []
    for k, lab in enumerate(labels):
        rivals = np.delete(P, lab, axis=-1)
        margin = P[..., lab] - TAU * scipy.special.logsumexp(rivals / TAU, axis=-1)
        success = np.sum(mass[k] * scipy.special.expit((margin - TIE_TOL) / TAU), axis=-1)
        out.append(success - COST * S[..., k])
    return np.stack(out, axis=-1)


def brute_gap(payoffs, sizes, caps, n=BRUTE_GRID):
    """Per-player gap on a fine grid, loop-free, and an estimate of the grid's error
    (``max |Δ²u| / 2`` bounds ``max u - max_grid u`` where ``u`` is smooth at the grid's scale)."""
    sizes, caps = np.asarray(sizes), np.asarray(caps)
    k = sizes.size
    grid = caps[:, None] * np.linspace(0.0, 1.0, n)[None, :]  # (k, n)
    S = np.broadcast_to(sizes, (k, n, k)).copy()
    S[np.arange(k), :, np.arange(k)] = grid
    U = np.asarray(payoffs(S))[np.arange(k), :, np.arange(k)]  # (k, n): u_i(grid_i, α_-i)
    current = np.asarray(payoffs(sizes))
    gaps = np.maximum(U.max(axis=1), current) - current
    err = 0.5 * np.abs(np.diff(U, 2, axis=1)).max(axis=1)
    return gaps, err


def assert_certified(sol, payoffs, tol=TOL):
    """The solver's certificate against the brute-force gap: both small, and agreeing."""
    assert sol.status == "converged", sol
    assert sol.certificate <= tol
    brute, err = brute_gap(payoffs, sol.value, sol.stats["caps"])
    assert np.all(brute <= tol + err + 1e-12), (brute, err)
    # the certificate finds at least what the brute force finds, and at most the grid error more
    assert np.all(sol.stats["gaps"] >= brute - 1e-12)
    assert np.all(sol.stats["gaps"] <= brute + err + 1e-12)


@pytest.fixture(scope="module")
def equilibrium():
    return continuous_nash(SMOOTH)


def cournot(a, c):
    return a * (1.0 - jnp.sum(a)) - c * a


def numpy_cournot(c):
    return lambda S: np.asarray(S) * (1.0 - np.sum(S, axis=-1, keepdims=True)) - c * np.asarray(S)


# ---------------------------------------------------------------------------------------------
# (a) agreement with independent equilibria


def test_numpy_reference_is_the_game():
    S = np.random.default_rng(0).uniform(0.0, CAP, size=(20, 2))
    ours = np.stack([np.asarray(SMOOTH.payoffs_at((0, 0), s)) for s in S])
    np.testing.assert_allclose(numpy_smooth_payoffs(S), ours, rtol=0, atol=1e-13)


def test_smooth_two_player_matches_scipy_root_on_the_focs(equilibrium):
    h = 1e-6

    def focs(a):
        steps = np.eye(2) * h
        up, down = numpy_smooth_payoffs(a + steps), numpy_smooth_payoffs(a - steps)
        return np.diag(up - down) / (2 * h)

    root = scipy.optimize.root(focs, x0=[0.15, 0.15], tol=1e-13)
    assert root.success
    assert np.all((root.x > 0.01) & (root.x < CAP - 0.01))  # interior for both players
    np.testing.assert_allclose(equilibrium.value, root.x, atol=1e-7)
    assert_certified(equilibrium, numpy_smooth_payoffs)
    assert equilibrium.stats["newton_steps"] >= 1


@pytest.mark.parametrize("init", [[0.0, 0.0], [CAP, 0.0], [0.05, 0.4]])
def test_same_equilibrium_from_other_starts(equilibrium, init):
    sol = continuous_nash(SMOOTH, init=init)
    assert_certified(sol, numpy_smooth_payoffs)
    np.testing.assert_allclose(sol.value, equilibrium.value, atol=1e-10)


@pytest.mark.parametrize("c", [0.0, 0.1, 0.4])
def test_cournot_closed_form(c):
    sol = continuous_nash(cournot, caps=[0.3, 0.3, 0.3], args=(c,))
    np.testing.assert_allclose(sol.value, (1.0 - c) / 4.0, atol=1e-12)
    assert_certified(sol, numpy_cournot(c))


def test_best_response_method_and_payoffs_in_stats(equilibrium):
    sol = continuous_nash(SMOOTH, method="best_response", init=[0.0, 0.0])
    assert sol.stats["gradient_steps"] == 0
    assert_certified(sol, numpy_smooth_payoffs)
    np.testing.assert_allclose(sol.value, equilibrium.value, atol=1e-10)
    np.testing.assert_allclose(sol.stats["payoffs"], numpy_smooth_payoffs(sol.value), atol=1e-13)


# ---------------------------------------------------------------------------------------------
# (b) the certificate itself


def test_best_response_gap_matches_brute_force_off_equilibrium():
    rng = np.random.default_rng(1)
    for sizes in rng.uniform(0.0, CAP, size=(3, 2)):
        ours = best_response_gap(SMOOTH, sizes=sizes)
        brute, err = brute_gap(numpy_smooth_payoffs, sizes, CAPS)
        assert np.all(ours >= brute - 1e-12) and np.all(ours <= brute + err + 1e-12)
        br, values = best_responses(SMOOTH, sizes=sizes)
        for i in range(2):
            np.testing.assert_allclose(
                numpy_smooth_payoffs(np.where(np.arange(2) == i, br[i], sizes))[i], values[i], atol=1e-13
            )


# ---------------------------------------------------------------------------------------------
# (c) non-concave payoffs: gradient play stalls, the certificate says so, the polish escapes


def test_gradient_play_stalls_and_the_certificate_says_so(equilibrium):
    naive = continuous_nash(SMOOTH, init=[0.0, 0.0], polish=False)
    assert naive.status == "max_iter" and naive.certificate > 0.1
    stalled = int(np.argmax(naive.stats["gaps"]))
    assert naive.value[stalled] == 0.0
    # a genuine local maximum at 0: the own payoff falls when the stalled player recruits a little
    step = np.where(np.arange(2) == stalled, 1e-3, 0.0)
    assert numpy_smooth_payoffs(naive.value + step)[stalled] < numpy_smooth_payoffs(naive.value)[stalled]
    brute, err = brute_gap(numpy_smooth_payoffs, naive.value, CAPS)
    np.testing.assert_allclose(naive.stats["gaps"], brute, atol=err.max() + 1e-12)
    fixed = continuous_nash(SMOOTH, init=[0.0, 0.0])
    assert_certified(fixed, numpy_smooth_payoffs)
    np.testing.assert_allclose(fixed.value, equilibrium.value, atol=1e-10)


def test_no_pure_equilibrium_is_reported_honestly():
    # player 0 wants to match player 1, player 1 to get away (convex payoff: best responses jump)
    def chase(a):
        d = (a[0] - a[1]) ** 2
        return jnp.stack([-d, d])

    sol = continuous_nash(chase, caps=[0.4, 0.4], max_rounds=20)
    assert sol.status == "max_iter" and sol.certificate > 0.01
    brute, err = brute_gap(
        lambda S: np.stack([-((S[..., 0] - S[..., 1]) ** 2), (S[..., 0] - S[..., 1]) ** 2], axis=-1),
        sol.value,
        [0.4, 0.4],
    )
    np.testing.assert_allclose(sol.stats["gaps"], brute, atol=err.max() + 1e-12)


def test_non_finite_payoffs_give_status_error():
    sol = continuous_nash(lambda a: jnp.log(a) - a, caps=[0.3, 0.3])  # -inf at the grid's endpoint 0
    assert sol.status == "error" and not sol.ok and "NaN or inf" in sol.stats["message"]


def test_closed_form_game_with_a_flat_zero_success_piece():
    game = two_player_game("closed_form", size_cost=1.0)
    fun, _ = sizing_payoff(game)
    batched = jax.jit(jax.vmap(fun))

    def payoffs(S):  # the model's own payoffs on a batch of profiles; the search stays independent
        S = np.asarray(S)
        return np.asarray(batched(jnp.asarray(S.reshape(-1, 2)))).reshape(S.shape)

    naive = continuous_nash(game, init=[0.0, 0.0], polish=False)
    assert naive.status == "max_iter"  # zero success and a size cost: 0 is a local maximum
    brute, err = brute_gap(payoffs, naive.value, CAPS)
    np.testing.assert_allclose(naive.stats["gaps"], brute, atol=err.max() + 1e-12)
    sol = continuous_nash(game, init=[0.0, 0.0])
    assert np.all(sol.value > 0.3)
    assert_certified(sol, payoffs)


# ---------------------------------------------------------------------------------------------
# (e) bad input


@pytest.mark.parametrize(
    "caps, match",
    [
        ([-0.1, 0.2], "outside"),
        ([1.0, 0.0], "outside"),
        ([0.6, 0.5], "sum"),
        ([np.nan, 0.1], "NaN"),
        ([0.2], "shape"),
        ([[0.1, 0.1]], "shape"),
    ],
)
def test_bad_caps(caps, match):
    with pytest.raises(ACAInputError, match=match):
        continuous_nash(SMOOTH, caps=caps)
    with pytest.raises(ACAInputError, match=match):
        best_response_gap(cournot, sizes=[0.0, 0.0], caps=caps, args=(0.1,))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(init=[0.5, 0.1]), "init"),
        (dict(init=[np.inf, 0.1]), "init"),
        (dict(init=[0.1]), "init"),
        (dict(tol=np.nan), "tol"),
        (dict(tol=-1.0), "tol"),
        (dict(grid=4), "grid"),
        (dict(max_iter=-1), "max_iter"),
        (dict(max_rounds=0), "max_rounds"),
        (dict(method="newton"), "method"),
        (dict(profile=(0,)), "profile"),
        (dict(profile=(0, 1)), "profile"),
        (dict(args=(1.0,)), "args"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ACAInputError, match=match):
        continuous_nash(SMOOTH, **kwargs)


def test_bad_payoff_functions():
    with pytest.raises(ACAInputError, match="caps"):
        continuous_nash(cournot, args=(0.1,))
    with pytest.raises(ACAInputError, match="profile"):
        continuous_nash(cournot, profile=(0, 0), caps=CAPS, args=(0.1,))
    with pytest.raises(ACAInputError, match="shape"):
        continuous_nash(lambda a: jnp.sum(a), caps=CAPS)
    with pytest.raises(ACAInputError, match="args"):
        continuous_nash(cournot, caps=CAPS, args=(np.nan,))
    with pytest.raises(ACAInputError, match="game"):
        continuous_nash("not a game")
    with pytest.raises(ACAInputError, match="sizes"):
        best_response_gap(SMOOTH, sizes=[0.1, 0.5])


def test_sizing_payoff_defaults():
    menu = [Collective("A", 0.2, "gA", target="y"), Collective("A", 0.4, "gA", target="y")]
    game = ACAGame(
        WORLD,
        [
            Player("A", menu, costs=[0.0, 0.1], size_cost=1.0),
            Player("B", [Collective("B", 0.3, "gB", target="x")]),
        ],
        bound="smooth",
    )
    fun, caps = sizing_payoff(game, (1, 0))
    assert caps.tolist() == [0.4, 0.3]
    assert sizing_payoff(game, (1, 0))[0] is fun  # cached: repeated solves reuse compilations
    s = jnp.asarray([0.1, 0.2])
    np.testing.assert_array_equal(np.asarray(fun(s)), np.asarray(game.payoffs_at((1, 0), s)))
