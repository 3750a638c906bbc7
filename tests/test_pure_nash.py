"""Pure Nash equilibria of N-player games and the shared regret / NashConv helpers (THEORY §5).

Registry of games with known pure equilibria, an independent brute-force Python loop, invariances
(positive affine payoff transforms, relabelled actions, permuted players), the ``tol`` semantics,
the certificate, bad input, and scale (6 players x 6 actions).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from references import certificates as ref

from aca_games import ACAInputError
from solvers.equilibrium._regret import deviation_payoffs, expected_payoffs, nash_conv, regrets
from solvers.equilibrium.pure import pure_nash


def bimatrix(A, B):
    return np.stack([np.asarray(A, float), np.asarray(B, float)])


# (name, payoffs, expected pure equilibria)
KNOWN = [
    ("matching pennies", bimatrix([[1, -1], [-1, 1]], [[-1, 1], [1, -1]]), []),
    ("coordination", bimatrix(np.eye(2), np.eye(2)), [(0, 0), (1, 1)]),
    ("prisoners' dilemma", bimatrix([[3, 0], [5, 1]], [[3, 5], [0, 1]]), [(1, 1)]),
    ("battle of the sexes", bimatrix([[3, 0], [0, 2]], [[2, 0], [0, 3]]), [(0, 0), (1, 1)]),
    (
        "rock-paper-scissors",
        bimatrix(*(lambda R: (R, -R))(np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]]))),
        [],
    ),
    ("all ties", np.zeros((2, 2, 3)), [(i, j) for i in range(2) for j in range(3)]),
    ("single player", np.array([[1.0, 3.0, 3.0]]), [(1,), (2,)]),
    (
        "3-player unanimity",
        np.stack([np.fromfunction(lambda a, b, c: (a == b) & (b == c), (2, 2, 2)).astype(float)] * 3),
        [(0, 0, 0), (1, 1, 1)],
    ),
]


def brute_force(P: np.ndarray, tol: float = 0.0) -> list[tuple[int, ...]]:
    """Reference: a plain Python loop over profiles and unilateral deviations."""
    n, shape = P.shape[0], P.shape[1:]
    out = []
    for a in itertools.product(*(range(m) for m in shape)):
        stable = True
        for p in range(n):
            for b in range(shape[p]):
                dev = a[:p] + (b,) + a[p + 1 :]
                if P[(p, *dev)] > P[(p, *a)] + tol:
                    stable = False
        if stable:
            out.append(a)
    return out


def random_game(seed: int, shape: tuple[int, ...], levels: int | None) -> np.ndarray:
    """Random payoffs; ``levels`` small gives many exact ties (as in ACA games)."""
    rng = np.random.default_rng(seed)
    size = (len(shape), *shape)
    return rng.integers(0, levels, size).astype(float) if levels else rng.normal(size=size)


SHAPES = [(2, 2), (3, 4), (2, 3, 2), (3, 3, 3), (2, 2, 2, 3)]
games = st.builds(
    random_game, st.integers(0, 2**32 - 1), st.sampled_from(SHAPES), st.sampled_from([None, 2, 3])
)


@pytest.mark.parametrize(("name", "P", "expected"), KNOWN, ids=[k[0] for k in KNOWN])
def test_known_games(name, P, expected):
    sol = pure_nash(P)
    assert sol.status == "optimal" and sol.ok
    assert sol.value == expected
    assert sol.certificate == ref.max_pure_regret(P, sol.value) == 0.0  # recomputed by loops
    assert sol.stats["n_equilibria"] == len(expected)
    assert sol.stats["n_profiles"] == int(np.prod(P.shape[1:]))


@given(games)
def test_matches_brute_force(P):
    assert pure_nash(P).value == brute_force(P)


@given(games)
def test_every_equilibrium_has_zero_regret(P):
    for a in pure_nash(P).value:
        profile = [np.eye(m)[i] for m, i in zip(P.shape[1:], a, strict=True)]
        assert nash_conv(P, profile) == 0.0


@given(games, st.data())
def test_invariant_under_positive_affine_transforms(P, data):
    n = P.shape[0]
    scale = np.array(data.draw(st.lists(st.sampled_from([0.5, 2.0, 4.0]), min_size=n, max_size=n)))
    shift = np.array(data.draw(st.lists(st.sampled_from([-3.0, 0.0, 7.0]), min_size=n, max_size=n)))
    Q = P * scale.reshape((n,) + (1,) * n) + shift.reshape((n,) + (1,) * n)
    assert pure_nash(Q).value == pure_nash(P).value


@given(games, st.data())
def test_invariant_under_relabelling_actions(P, data):
    n = P.shape[0]
    p = data.draw(st.integers(0, n - 1))
    perm = np.array(data.draw(st.permutations(range(P.shape[1 + p]))))
    Q = np.take(P, perm, axis=1 + p)  # new action k of player p is old action perm[k]
    inverse = np.argsort(perm)
    relabelled = sorted(a[:p] + (int(inverse[a[p]]),) + a[p + 1 :] for a in pure_nash(P).value)
    assert pure_nash(Q).value == relabelled


def test_invariant_under_permuting_players():
    P = random_game(7, (2, 3, 4), 3)
    order = [2, 0, 1]  # new player k is old player order[k]
    Q = np.transpose(P[order], (0, *(1 + np.array(order))))
    expected = sorted(tuple(a[o] for o in order) for a in pure_nash(P).value)
    assert pure_nash(Q).value == expected


def test_tolerance_accepts_near_ties_and_reports_the_regret():
    P = bimatrix([[1.0, 0.0], [1.0 - 1e-7, 0.0]], [[1.0, 0.0], [1.0, 0.0]])
    assert pure_nash(P).value == [(0, 0)]
    sol = pure_nash(P, tol=1e-6)
    assert sol.value == [(0, 0), (1, 0)]
    assert sol.certificate == pytest.approx(1e-7, rel=1e-6)
    assert brute_force(P, tol=1e-6) == sol.value


def test_accepts_objects_with_a_payoff_tensor():
    class Game:
        def payoff_tensor(self):
            return bimatrix(np.eye(3), np.eye(3))

    assert pure_nash(Game()).value == [(0, 0), (1, 1), (2, 2)]


def test_on_an_aca_game():
    game_mod = pytest.importorskip("aca_games.game")
    from aca_games import Collective, World

    w = World(
        points=["a", "b"],
        labels=["n", "y"],
        base=[[0.3, 0.1], [0.2, 0.2]],
        landing={"g": [[0.5, 0.0], [0.2, 0.3]], "h": [[0.0, 0.0], [0.7, 0.3]]},
    )
    i = game_mod.Player(
        "i", [Collective("i", 0.2, "g", target="y"), Collective("i", 0.4, "g", target="y")], costs=[0.0, 0.3]
    )
    j = game_mod.Player(
        "j", [Collective("j", 0.05, "h", target="n"), Collective("j", 0.2, "h", target="n")], costs=[0.0, 0.1]
    )
    game = game_mod.ACAGame(w, [i, j])
    assert pure_nash(game).value == brute_force(game.payoff_tensor())


@pytest.mark.parametrize(
    ("payoffs", "message"),
    [
        (np.zeros(3), "ndim=1"),
        (np.zeros((3, 2, 2)), "shape\\[0\\] must equal the number of players"),
        (np.zeros((2, 2, 0)), "at least one action"),
        (bimatrix([[1, np.nan], [0, 0]], np.eye(2)), "non-finite value nan at index \\(0, 0, 1\\)"),
        (bimatrix(np.eye(2), [[1, 0], [np.inf, 0]]), "non-finite value inf"),
        ([["a", "b"]], "cannot convert"),
    ],
)
def test_bad_input(payoffs, message):
    with pytest.raises(ACAInputError, match=message):
        pure_nash(payoffs)


@pytest.mark.parametrize("tol", [-1e-9, float("nan"), "x"])
def test_bad_tolerance(tol):
    with pytest.raises(ACAInputError, match="tol"):
        pure_nash(np.zeros((2, 2, 2)), tol=tol)


def test_six_players_six_actions_exact():
    """Scale (the timing against pygambit is in benchmarks/bench_equilibria.py)."""
    P = random_game(3, (6,) * 6, 4)  # 46,656 profiles, many ties
    sol = pure_nash(P)
    assert sol.stats["n_profiles"] == 6**6 and sol.value
    assert sol.certificate == ref.max_pure_regret(P, sol.value) == 0.0
    # Every returned profile is an equilibrium, and a sample of the others is not.
    for a in sol.value:
        assert all(P[(p, *a)] == P[p][a[:p] + (slice(None),) + a[p + 1 :]].max() for p in range(6))
    found = set(sol.value)
    rng = np.random.default_rng(0)
    for a in map(tuple, rng.integers(0, 6, (300, 6))):
        stable = all(P[(p, *a)] == P[p][a[:p] + (slice(None),) + a[p + 1 :]].max() for p in range(6))
        assert stable == (a in found)


# ------------------------------------------------------------------ regret helpers (shared API)
@given(games, st.integers(0, 2**32 - 1))
def test_regret_helpers_match_brute_force(P, seed):
    rng = np.random.default_rng(seed)
    profile = [rng.dirichlet(np.ones(m)) for m in P.shape[1:]]
    u = ref.expected_payoffs(P, profile)
    np.testing.assert_allclose(expected_payoffs(P, profile), u, atol=1e-12)
    gains = []
    for p, m in enumerate(P.shape[1:]):
        devs = [ref.expected_payoffs(P, profile[:p] + [np.eye(m)[b]] + profile[p + 1 :])[p] for b in range(m)]
        np.testing.assert_allclose(deviation_payoffs(P, profile)[p], devs, atol=1e-12)
        gains.append(max(devs) - u[p])
    np.testing.assert_allclose(regrets(P, profile), np.maximum(gains, 0.0), atol=1e-12)
    assert nash_conv(P, profile) == pytest.approx(sum(np.maximum(gains, 0.0)), abs=1e-12)
    assert isinstance(nash_conv(P, profile), float)


def test_regret_helpers_reject_mismatched_profiles():
    P = bimatrix(np.eye(2), np.eye(2))
    with pytest.raises(ACAInputError, match="expected 2 mixed strategies"):
        regrets(P, [np.ones(2) / 2])
    with pytest.raises(ACAInputError, match=r"profile\[1\]: expected 2 probabilities"):
        nash_conv(P, [np.ones(2) / 2, np.ones(3) / 3])
    with pytest.raises(ACAInputError, match="must equal the number of players"):
        nash_conv(np.zeros((3, 2, 2)), [np.ones(2) / 2] * 3)
