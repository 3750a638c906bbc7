"""Every solver's certificate against an independent recomputation (THEORY §5, DESIGN convention 3).

A registry of games crossed with the solvers; each ``Solution.certificate`` must equal the one
recomputed by ``tests/references`` (plain loops over pure profiles, a dense grid for continuous
games, a flip-set oracle for coalitions), which shares no code with ``solvers``. A certificate
that drops a term (a player's regret, a resistance in the LP) disagrees with its reference.
"""

from __future__ import annotations

import itertools

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from references import certificates as ref
from references import flip_sets

from aca_games import Collective, World
from solvers.best_response import best_response
from solvers.coalition import critical_mass, form_coalition, min_joint_sizes
from solvers.equilibrium.continuous import best_response_gap, continuous_nash
from solvers.equilibrium.mixed import METHODS, mixed_nash
from solvers.equilibrium.pure import pure_nash
from solvers.equilibrium.two_player import two_player_equilibria, two_player_equilibria_batched

#: Certificates are sums of a few float64 products: they agree with the references to this.
CERT_TOL = 1e-12


def _bimatrix(A, B):
    return np.stack([np.asarray(A, float), np.asarray(B, float)])


def _near_tie():
    """The column player's payoffs tie within 1e-4 of its range: with a tie tolerance of 5e-4 the
    enumeration returns (row 1, column ½-½), where only the column player has a regret (1e-4)."""
    d = 2e-4
    return _bimatrix([[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [1.0 - d, 1.0]])


def _jordan():
    P = np.zeros((3, 2, 2, 2))
    for a in itertools.product(range(2), repeat=3):
        P[0][a] = (a[0] == a[1]) * (1.0 if a[0] == 0 else 2.0)
        P[1][a] = (a[1] == a[2]) * (3.0 if a[1] == 0 else 1.0)
        P[2][a] = (a[2] != a[0]) * (1.0 if a[2] == 0 else 4.0)
    return P


GAMES = {
    "pennies": _bimatrix([[1, -1], [-1, 1]], [[-1, 1], [1, -1]]),
    "dilemma": _bimatrix([[3, 0], [5, 1]], [[3, 5], [0, 1]]),
    "battle": _bimatrix([[3, 0], [0, 2]], [[2, 0], [0, 3]]),
    "near tie": _near_tie(),
    "random 3x4": np.random.default_rng(1).normal(size=(2, 3, 4)),
    "ties 3x3": np.random.default_rng(2).integers(0, 3, size=(2, 3, 3)).astype(float),
    "jordan": _jordan(),
    "random 2x3x2": np.random.default_rng(3).normal(size=(3, 2, 3, 2)),
}
TWO_PLAYER = [k for k, P in GAMES.items() if P.shape[0] == 2]


# -- pure Nash --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(GAMES))
@pytest.mark.parametrize("tol", [0.0, 1e-4, 0.5])
def test_pure_nash_certificate_is_the_largest_regret(name, tol):
    P = GAMES[name]
    sol = pure_nash(P, tol=tol)
    assert sol.value == [a for a in ref.profiles(P) if ref.pure_regrets(P, a).max() <= tol]
    assert sol.certificate == pytest.approx(ref.max_pure_regret(P, sol.value), abs=CERT_TOL)


# -- two players --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", TWO_PLAYER)
@pytest.mark.parametrize(("method", "tol"), [("subsets", 1e-9), ("qhull", 1e-9), ("qhull", 5e-4)])
def test_two_player_certificate_is_the_largest_nash_conv(name, method, tol):
    P = GAMES[name]
    sol = two_player_equilibria(P[0], P[1], tol=tol, method=method)
    assert sol.value, "every finite game has an equilibrium"
    assert sol.certificate == pytest.approx(ref.max_nash_conv(P, sol.value), abs=CERT_TOL)


def test_two_player_certificate_counts_the_column_players_regret():
    P = GAMES["near tie"]
    sol = two_player_equilibria(P[0], P[1], tol=5e-4, method="qhull")
    column_regret = max(ref.regrets(P, x)[1] for x in sol.value)
    assert column_regret == pytest.approx(1e-4, rel=1e-6) and sol.certificate >= column_regret


def test_batched_certificate_is_the_largest_nash_conv_over_the_batch():
    games = [GAMES[k] for k in TWO_PLAYER if GAMES[k].shape == (2, 2, 2)]
    A, B = np.stack([g[0] for g in games]), np.stack([g[1] for g in games])
    for method, tol in (("subsets", 1e-9), ("qhull", 5e-4)):
        sol = two_player_equilibria_batched(A, B, tol=tol, method=method)
        per_game = [ref.max_nash_conv(g, sol.value.game(k)) for k, g in enumerate(games)]
        assert sol.certificate == pytest.approx(max(per_game), abs=CERT_TOL)


# -- N-player mixed -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["pennies", "random 3x4", "jordan", "random 2x3x2"])
@pytest.mark.parametrize("method", METHODS)
def test_mixed_nash_certificate_is_the_nash_conv(name, method):
    P = GAMES[name]
    sol = mixed_nash(P, method=method, max_iter=2000)
    assert sol.certificate == pytest.approx(ref.nash_conv(P, sol.value), abs=CERT_TOL)
    assert (sol.status == "converged") == (ref.nash_conv(P, sol.value) <= 1e-8 + CERT_TOL)


@pytest.mark.parametrize("method", ["regret_matching", "fictitious_play"])
def test_mixed_nash_certificate_of_an_unfinished_run(method):
    """One step, no polish: every player still has a regret, and the certificate sums them all."""
    P = GAMES["random 2x3x2"]
    sol = mixed_nash(P, method=method, max_iter=1, polish=False, n_starts=1)
    assert sol.status == "max_iter" and np.count_nonzero(ref.regrets(P, sol.value) > 1e-6) >= 2
    assert sol.certificate == pytest.approx(ref.nash_conv(P, sol.value), abs=CERT_TOL)


# -- best responses --------------------------------------------------------------------------------------
def _against(P, player, seed):
    """A pure profile, a mixed profile, a distribution and an uncertainty set over the others."""
    rng = np.random.default_rng(seed)
    others = [q for q in range(P.shape[0]) if q != player]
    pure = tuple(int(rng.integers(m)) for m in P.shape[1:])
    mixed = tuple(rng.dirichlet(np.ones(m)) for m in P.shape[1:])
    joint = list(itertools.product(*(range(P.shape[1 + q]) for q in others)))
    picks = rng.choice(len(joint), size=min(3, len(joint)), replace=False)
    weights = rng.dirichlet(np.ones(len(picks)))
    return [
        pure,
        mixed,
        {joint[k]: float(w) for k, w in zip(picks, weights, strict=True)},
        {joint[k] for k in picks},
    ]


@given(st.sampled_from(list(GAMES)), st.integers(0, 2**16), st.data())
def test_best_response_certificate_and_scores(name, seed, data):
    P = np.round(GAMES[name], 1)  # coarse: ties occur
    player = data.draw(st.integers(0, P.shape[0] - 1))
    for against in _against(P, player, seed):
        sol = best_response(P, player, against)
        best = sol.value[0]["option"]
        assert sol.certificate == pytest.approx(ref.best_response_gap(P, player, against, best), abs=CERT_TOL)
        scores = ref.option_scores(P, player, against)
        for row in sol.value:
            assert row["payoff"] == pytest.approx(scores[row["option"]], abs=CERT_TOL)


# -- continuous games -------------------------------------------------------------------------------------
def _cournot(a, c):
    return a * (1.0 - jnp.sum(a)) - c * a


def _cournot_np(c):
    return lambda A: A * (1.0 - A.sum(axis=1, keepdims=True)) - c * A


def _step(a, c):
    """Not concave: a steep sigmoid step in the own size, a linear cost and a crowding term."""
    return 1.0 / (1.0 + jnp.exp(-(a - 0.2) / 0.01)) - c * a - 0.5 * a * (jnp.sum(a) - a)


def _step_np(c):
    return lambda A: (
        1.0 / (1.0 + np.exp(-(A - 0.2) / 0.01)) - c * A - 0.5 * A * (A.sum(axis=1, keepdims=True) - A)
    )


@pytest.mark.parametrize(("fun", "fun_np", "c", "caps"), [
    (_cournot, _cournot_np, 0.1, [0.45, 0.45]),
    (_cournot, _cournot_np, 0.2, [0.3, 0.3, 0.3]),
    (_step, _step_np, 1.0, [0.45, 0.45]),
])
def test_continuous_certificate_is_the_best_response_gap(fun, fun_np, c, caps):
    sol = continuous_nash(fun, caps=caps, args=(c,))
    gaps = ref.continuous_gap(fun_np(c), sol.value, caps)
    assert sol.certificate == pytest.approx(gaps.max(), abs=1e-9)
    np.testing.assert_allclose(sol.stats["gaps"], gaps, atol=1e-9)
    # away from equilibrium the gap is large, and still every player's term counts
    for profile in (np.zeros(len(caps)), np.asarray(caps) * 0.9, np.linspace(0.05, 0.25, len(caps))):
        gaps = best_response_gap(fun, sizes=profile, caps=caps, args=(c,))
        np.testing.assert_allclose(gaps, ref.continuous_gap(fun_np(c), profile, caps), atol=1e-9)


# -- coalitions: re-checked with the independent flip-set oracle ------------------------------------------
W2 = World(
    points=["a", "b"], labels=["n", "y"], base=[[0.3, 0.1], [0.2, 0.2]],
    landing={"g": [[0.5, 0.0], [0.2, 0.3]], "h": [[0.0, 0.0], [0.7, 0.3]]},
)
PAIR = [Collective("i", 0.0, "g", target="y"), Collective("j", 0.0, "h", target="y")]


@pytest.mark.parametrize("bound", ["closed_form", "staircase"])
@pytest.mark.parametrize("eps", [0.0, 0.02])
def test_joint_sizes_are_rechecked_by_an_independent_oracle(bound, eps):
    sol = min_joint_sizes(W2, PAIR, 0.5, bound=bound, eps=eps)
    assert sol.status == "optimal"
    sizes = list(sol.value["sizes"].values())
    oracle = flip_sets.joint_success(W2, PAIR, sizes, eps)
    assert all(s >= 0.5 - 1e-12 for s in oracle)
    assert list(sol.certificate["oracle"].values()) == pytest.approx(oracle, abs=CERT_TOL)


@pytest.mark.parametrize(("eps", "reading"), [(0.0, "huber"), (0.02, "huber"), (0.05, "tv")])
def test_critical_mass_is_rechecked_by_an_independent_oracle(eps, reading):
    sol = critical_mass(W2, PAIR[0], 0.5, "exact", eps, reading)
    assert sol.status == "optimal"
    cert = sol.certificate
    assert cert["oracle_above"] == pytest.approx(
        flip_sets.success(W2, PAIR[0], cert["size_above"], eps, reading), abs=CERT_TOL
    )
    assert flip_sets.success(W2, PAIR[0], cert["size_below"], eps, reading) < 0.5


def test_coalition_is_rechecked_by_an_independent_oracle():
    sol = form_coalition(W2, PAIR, [0.4, 0.4], 0.9)
    assert sol.status == "optimal"
    chosen = [c.replace(label=sol.value["label"]) for c in PAIR if c.name in sol.value["selected"]]
    sizes = [sol.value["sizes"][c.name] for c in chosen]
    oracle = flip_sets.joint_success(W2, chosen, sizes)
    assert all(s >= 0.9 - 1e-12 for s in oracle)
    assert list(sol.certificate["oracle"].values()) == pytest.approx(oracle, abs=CERT_TOL)


def test_closed_form_lp_counts_the_hardt_resistance():
    """A feature-only "hardt" collective: its unmoved members (label 'n', the base mass) resist.
    Point a, base (0.1, 0.3), landing (0.4, 0.6): Δ = 0, ξ = 0.4, ν = 0.6 (the 'y' share),
    h = 1, Γ = P0(n|a) = 1/4, so B1 = 1 - [α hΓξ + κ + |X*|τ]/(α ν) meets S* = 0.8 iff
    α (0.6·0.2 - 0.1) >= κ + τ: α* = (κ + τ)/0.02 (without the resistance: (κ + τ)/0.12)."""
    world = World(points=["a"], labels=["n", "y"], base=[[0.1, 0.3]], landing={"g": [[0.4, 0.6]]})
    hardt = Collective("i", 0.0, "g", target="y", strategy="feature_only", variant="hardt")
    eps = 0.005
    kappa = eps / (1 - eps)
    sol = min_joint_sizes(world, [hardt], 0.8, bound="closed_form", eps=eps)
    assert sol.status == "optimal", sol.stats
    assert sol.value["sizes"]["i"] == pytest.approx((kappa + 1e-12) / 0.02, rel=1e-6)
    assert flip_sets.joint_success(world, [hardt], [sol.value["sizes"]["i"]], eps)[0] >= 0.8
