"""N-player mixed equilibria (THEORY §5): a registry of games with known answers x every method.

Every returned profile is checked against an independent NashConv (``tests/references/certificates.py``,
a plain loop over pure profiles); zero-sum values are checked against a linear program (scipy).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.optimize
from hypothesis import given
from hypothesis import strategies as st
from references import certificates as ref

from aca_games import ACAInputError
from solvers.equilibrium.mixed import METHODS, mixed_nash, nash_conv_of

TOL = 1e-8  # the certificate every method must reach after polishing
VALUE_TOL = 1e-7  # distance to a known unique equilibrium (NashConv 1e-8 pins it to ~1e-8 here)
CERT_TOL = 1e-12  # solver certificate vs the reference loop (both are sums of ~1e-16 terms)


def pennies():
    A = np.array([[1.0, -1.0], [-1.0, 1.0]])
    return np.stack([A, -A]), (np.array([0.5, 0.5]),) * 2


def rock_paper_scissors():
    A = np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])
    return np.stack([A, -A]), (np.full(3, 1 / 3),) * 2


def weighted_jordan():
    """Jordan's (1993) cyclic 3-player game with unequal weights: 1 matches 2 (wins 1 on HH, 2 on
    TT), 2 matches 3 (3 on HH, 1 on TT), 3 mismatches 1 (1 for (T, ., H), 4 for (H, ., T)). The odd
    cycle rules out pure and partially mixed equilibria; indifference gives the unique one:
    x2(H) = 2/3, x3(H) = 1/4, x1(H) = 1/5."""
    P = np.zeros((3, 2, 2, 2))
    for a1, a2, a3 in itertools.product(range(2), repeat=3):
        P[0, a1, a2, a3] = (a1 == a2) * (1.0 if a1 == 0 else 2.0)
        P[1, a1, a2, a3] = (a2 == a3) * (3.0 if a2 == 0 else 1.0)
        P[2, a1, a2, a3] = (a3 != a1) * (1.0 if a3 == 0 else 4.0)
    known = (np.array([0.2, 0.8]), np.array([2 / 3, 1 / 3]), np.array([0.25, 0.75]))
    return P, known


def dominance_3p():
    """Action 1 is strictly dominant for every player (bonus 1 > twice the noise 0.3): the only
    equilibrium is pure."""
    rng = np.random.default_rng(7)
    P = 0.3 * rng.random((3, 2, 2, 2))
    for i in range(3):
        idx = [slice(None)] * 3
        idx[i] = 1
        P[i][tuple(idx)] += 1.0
    return P, tuple(np.array([0.0, 1.0]) for _ in range(3))


def random_game(shape, seed):
    def make():
        return np.random.default_rng(seed).standard_normal((len(shape), *shape)), None

    return make


GAMES = {
    "pennies": pennies,
    "rps": rock_paper_scissors,
    "jordan3": weighted_jordan,
    "dominance3": dominance_3p,
    "random2222": random_game((2, 2, 2, 2), 3),
    "random333": random_game((3, 3, 3), 5),
}
SOLVER_METHODS = [m for m in METHODS if m != "auto"] + ["auto"]


def skewed_start(P):
    """A fixed interior start that is no equilibrium of the registry games (uniform would be one
    for pennies and rock-paper-scissors)."""
    return tuple(np.arange(1, m + 1) / (m * (m + 1) / 2) for m in P.shape[1:])


@pytest.mark.parametrize("method", SOLVER_METHODS)
@pytest.mark.parametrize("game", list(GAMES))
def test_registry_certified(game, method):
    P, known = GAMES[game]()
    sol = mixed_nash(P, method=method, tol=TOL, init=skewed_start(P), key=1)
    assert sol.status == "converged", (sol.certificate, sol.stats)
    assert sol.ok and sol.certificate <= TOL
    assert len(sol.value) == P.shape[0]
    for x, m in zip(sol.value, P.shape[1:], strict=True):
        assert x.shape == (m,) and np.all(x >= 0) and abs(x.sum() - 1) <= 1e-12
    assert sol.certificate == pytest.approx(ref.nash_conv(P, sol.value), abs=CERT_TOL)
    assert sol.certificate == pytest.approx(nash_conv_of(P, sol.value), abs=CERT_TOL)
    if known is not None:  # unique equilibrium
        for x, y in zip(sol.value, known, strict=True):
            np.testing.assert_allclose(x, y, atol=VALUE_TOL)
    assert sol.stats["method"] == method
    assert sol.stats["iterations"] >= 1 and sol.stats["seconds"] > 0


def test_uniform_start_already_equilibrium_runs_no_iterations():
    P, known = pennies()
    sol = mixed_nash(P)
    assert sol.status == "converged" and sol.stats["iterations"] == 0
    np.testing.assert_allclose(sol.value[0], known[0])


def test_payoff_tensor_object_accepted():
    class Game:
        def payoff_tensor(self):
            return weighted_jordan()[0]

    sol = mixed_nash(Game())
    assert sol.status == "converged"
    np.testing.assert_allclose(sol.value[0], [0.2, 0.8], atol=VALUE_TOL)


def test_too_few_iterations_without_polishing_is_honest():
    P, _ = rock_paper_scissors()
    sol = mixed_nash(P, method="replicator", max_iter=5, polish=False, init=skewed_start(P))
    assert sol.status == "max_iter" and not sol.ok
    assert sol.certificate > TOL
    assert sol.stats["iterations"] == 5 and sol.stats["polished"] is False
    assert sol.certificate == pytest.approx(ref.nash_conv(P, sol.value), abs=CERT_TOL)


def test_strict_pure_equilibrium_certified_without_polishing():
    """Exponential weights converge to a strict equilibrium geometrically: no polish needed."""
    P, known = dominance_3p()
    sol = mixed_nash(P, method="replicator", polish=False, init=skewed_start(P))
    assert sol.status == "converged" and sol.stats["polished"] is False
    for x, y in zip(sol.value, known, strict=True):
        np.testing.assert_allclose(x, y, atol=VALUE_TOL)


@given(
    seed=st.integers(0, 2**31 - 1),
    game=st.sampled_from([(3, 2, 2, 2), (2, 3, 3)]),
    scale=st.lists(st.floats(0.05, 20.0), min_size=3, max_size=3),
    shift=st.lists(st.floats(-50.0, 50.0), min_size=3, max_size=3),
)
def test_certificate_invariant_under_positive_affine_transforms(seed, game, scale, shift):
    n, shape = game[0], game[1:]
    P = np.random.default_rng(seed).random((n, *shape))
    a = np.array(scale[:n]).reshape((n,) + (1,) * n)
    b = np.array(shift[:n]).reshape((n,) + (1,) * n)
    sol, sol_t = mixed_nash(P, tol=TOL), mixed_nash(a * P + b, tol=TOL)
    assert sol.status == sol_t.status == "converged"
    assert sol.certificate <= TOL and sol_t.certificate <= TOL
    # an equilibrium of the transformed game is one of the original: regret_i scales by a_i
    assert ref.nash_conv(P, sol_t.value) <= TOL / min(scale[:n]) + 1e-12


def lp_value(A):
    """max_x min_j (x^T A)_j as a linear program over (x, v)."""
    m, k = A.shape
    c = np.r_[np.zeros(m), -1.0]
    A_ub = np.c_[-A.T, np.ones(k)]
    res = scipy.optimize.linprog(
        c,
        A_ub=A_ub,
        b_ub=np.zeros(k),
        A_eq=np.r_[np.ones(m), 0.0][None, :],
        b_eq=[1.0],
        bounds=[(0, None)] * m + [(None, None)],
        method="highs",
    )
    assert res.status == 0
    return -res.fun


@given(seed=st.integers(0, 2**31 - 1), shape=st.sampled_from([(3, 3), (2, 4)]))
def test_zero_sum_value_matches_linear_program(seed, shape):
    A = np.random.default_rng(seed).standard_normal(shape)
    sol = mixed_nash(np.stack([A, -A]), tol=TOL)
    assert sol.status == "converged"
    x, y = sol.value
    assert abs(x @ A @ y - lp_value(A)) <= VALUE_TOL


@pytest.mark.parametrize(
    ("payoffs", "kwargs", "message"),
    [
        (np.zeros((3, 2, 2)), {}, "shape[0] must equal the number of players"),
        (np.zeros(4), {}, "expected an array of shape (n_players, m_1, ..., m_n)"),
        (np.zeros((2, 0, 2)), {}, "at least one action"),
        (np.array([[[np.nan, 0.0], [0.0, 0.0]]] * 2), {}, "non-finite value nan at index (0, 0, 0)"),
        ([["a"]], {}, "cannot convert to a float array"),
        (pennies()[0], {"method": "lemke"}, "method: unknown 'lemke'"),
        (pennies()[0], {"tol": 0.0}, "tol: expected a positive"),
        (pennies()[0], {"tol": float("nan")}, "tol: expected a positive"),
        (pennies()[0], {"max_iter": 0}, "max_iter: expected an integer >= 1"),
        (pennies()[0], {"max_iter": 2.5}, "max_iter: expected an integer >= 1"),
        (pennies()[0], {"n_starts": 0}, "n_starts: expected an integer >= 1"),
        (pennies()[0], {"init": [np.array([0.5, 0.5])]}, "init: expected a sequence of 2"),
        (pennies()[0], {"init": [[0.5, 0.5], [0.2, 0.2, 0.6]]}, "init[1]: expected shape (2,)"),
        (pennies()[0], {"init": [[0.5, 0.5], [0.7, 0.7]]}, "init[1]: not a probability vector"),
        (pennies()[0], {"init": [[1.5, -0.5], [0.5, 0.5]]}, "init[0]: not a probability vector"),
        (pennies()[0], {"key": "seed"}, "key: expected None, an int seed"),
    ],
)
def test_bad_input(payoffs, kwargs, message):
    with pytest.raises(ACAInputError) as e:
        mixed_nash(payoffs, **kwargs)
    assert message in str(e.value)


@pytest.mark.slow
@pytest.mark.parametrize("shape", [(3, 3, 3), (3, 3, 3, 3), (5, 5, 5), (2, 2, 2, 2, 2)])
@pytest.mark.parametrize("family", ["uniform", "normal", "integer"])
def test_auto_certifies_random_games(shape, family):
    """The benchmark shapes (3x3x3, 4 players x 3, 3 players x 5) and 5 players x 2: every one of
    20 random games certified, including degenerate ones (integer payoffs in {0, 1, 2})."""
    rng = np.random.default_rng(11)
    size = (len(shape), *shape)
    draw = {
        "uniform": lambda: rng.random(size),
        "normal": lambda: rng.standard_normal(size),
        "integer": lambda: rng.integers(0, 3, size).astype(float),
    }[family]
    for _ in range(20):
        P = draw()
        sol = mixed_nash(P, tol=TOL)
        assert sol.status == "converged", (sol.certificate, sol.stats)
        assert sol.certificate == pytest.approx(nash_conv_of(P, sol.value), abs=CERT_TOL)
