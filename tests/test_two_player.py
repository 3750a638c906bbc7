"""All extreme equilibria of bimatrix games (THEORY §5): registry of games with known answers x
registry of solvers, brute-force basis enumeration as the completeness reference (nashpy only on
small nondegenerate games, QuantEcon if installed), invariances, certificates, batched == looped,
hard families and bad input.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aca_games import ACAInputError
from solvers.equilibrium._regret import nash_conv
from solvers.equilibrium.pure import pure_nash
from solvers.equilibrium.two_player import (
    EquilibriumBatch,
    two_player_equilibria,
    two_player_equilibria_batched,
)


# ---------------------------------------------------------------------------------- references
def brute_force(A, B) -> list[tuple[np.ndarray, np.ndarray]]:
    """Extreme equilibria by solving every basis of P and Q with LAPACK (independent of the solver):
    vertices = feasible solutions of nonsingular m-subsets of the m+n constraints, keyed by their
    full label sets; pairs whose labels cover everything."""

    def vertices(C):  # {x >= 0 : C^T x <= 1}, C > 0 of shape (a, b); labels: zeros i, tight a+j
        a, b = C.shape
        M, h = np.vstack([np.eye(a), C.T]), np.r_[np.zeros(a), np.ones(b)]
        out = {}
        for S in itertools.combinations(range(a + b), a):
            MS = M[list(S)]
            if np.linalg.matrix_rank(MS, tol=1e-10) < a:
                continue
            x = np.linalg.solve(MS, h[list(S)])
            s = C.T @ x
            if (x < -1e-12).any() or (s > 1 + 1e-12).any() or x.sum() < 1e-12:
                continue
            labels = frozenset(
                [i for i in range(a) if x[i] <= 1e-11] + [a + j for j in range(b) if s[j] >= 1 - 1e-11]
            )
            out[labels] = x / x.sum()
        return out

    A, B = np.asarray(A, float), np.asarray(B, float)
    m, n = A.shape
    P = vertices(B - B.min() + 1)
    Q = vertices((A - A.min() + 1).T)
    eqs = []
    for lp, x in P.items():
        for lq, y in Q.items():
            lq_global = {m + j for j in lq if j < n} | {j - n for j in lq if j >= n}
            if set(lp) | lq_global == set(range(m + n)):
                eqs.append((x, y))
    return eqs


def canon(eqs, decimals=7):
    return sorted(tuple(np.round(np.r_[x, y], decimals) + 0.0) for x, y in eqs)


# ------------------------------------------------------------------------------------ registries
def _batched(A, B, **kw):
    sol = two_player_equilibria_batched(np.asarray(A, float)[None], np.asarray(B, float)[None], **kw)
    return sol.value.game(0), sol.certificate


SOLVERS = {
    "auto": lambda A, B: (lambda s: (s.value, s.certificate))(two_player_equilibria(A, B)),
    "subsets": lambda A, B: (lambda s: (s.value, s.certificate))(
        two_player_equilibria(A, B, method="subsets")
    ),
    "qhull": lambda A, B: (lambda s: (s.value, s.certificate))(two_player_equilibria(A, B, method="qhull")),
    "batched": _batched,
}

RPS = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], float)
h, t3 = [0.5, 0.5], [1 / 3] * 3
# (name, A, B, expected extreme equilibria)
KNOWN = [
    ("matching pennies", [[1, -1], [-1, 1]], [[-1, 1], [1, -1]], [(h, h)]),
    ("coordination", np.eye(2), np.eye(2), [([1, 0], [1, 0]), ([0, 1], [0, 1]), (h, h)]),
    ("prisoners' dilemma", [[3, 0], [5, 1]], [[3, 5], [0, 1]], [([0, 1], [0, 1])]),
    (
        "battle of the sexes",
        [[3, 0], [0, 2]],
        [[2, 0], [0, 3]],
        [([1, 0], [1, 0]), ([0, 1], [0, 1]), ([0.6, 0.4], [0.4, 0.6])],
    ),
    ("rock-paper-scissors", RPS, -RPS, [(t3, t3)]),
    # Row 0 strictly dominant, column player indifferent: x = e0 with any y, a segment whose
    # extreme points are the two pure profiles.
    (
        "dominant row, indifferent column",
        [[1, 1], [0, 0]],
        [[1, 1], [0, 0]],
        [([1, 0], [1, 0]), ([1, 0], [0, 1])],
    ),
    # Column player indifferent; row player's best reply switches at y = (1/2, 1/2): two segments
    # {e0} x {y0 >= 1/2}, {e1} x {y0 <= 1/2} and {any x} x {(1/2, 1/2)}.
    (
        "indifferent column, switching row",
        [[2, 1], [1, 2]],
        [[2, 2], [1, 1]],
        [([1, 0], [1, 0]), ([0, 1], [0, 1]), ([1, 0], h), ([0, 1], h)],
    ),
    # QuantEcon's vertex_enumeration docstring game (3x2).
    (
        "quantecon 3x2",
        [[3, 3], [2, 5], [0, 6]],
        [[3, 2], [2, 6], [3, 1]],
        [([1, 0, 0], [1, 0]), ([0, 1 / 3, 2 / 3], [1 / 3, 2 / 3]), ([0.8, 0.2, 0], [2 / 3, 1 / 3])],
    ),
    # Constant game: everything is an equilibrium; the extreme ones are the pure profiles.
    (
        "constant 2x3",
        np.zeros((2, 3)),
        np.ones((2, 3)),
        [(np.eye(2)[i], np.eye(3)[j]) for i in range(2) for j in range(3)],
    ),
    ("one row", [[1, 2, 2]], [[0, 1, 1]], [([1], [0, 1, 0]), ([1], [0, 0, 1])]),
]


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(("name", "A", "B", "expected"), KNOWN, ids=[k[0] for k in KNOWN])
def test_known_games(solver, name, A, B, expected):
    eqs, cert = SOLVERS[solver](np.asarray(A, float), np.asarray(B, float))
    assert canon(eqs) == canon([(np.array(x, float), np.array(y, float)) for x, y in expected])
    assert cert <= 1e-12
    assert canon(eqs) == canon(brute_force(A, B))


def test_solution_fields_and_sorting():
    sol = two_player_equilibria(np.eye(3), np.eye(3))
    assert sol.status == "optimal" and sol.ok
    assert sol.stats["n_equilibria"] == 7 and sol.stats["method"] in ("subsets", "qhull")
    supports = [int((x > 0).sum() + (y > 0).sum()) for x, y in sol.value]
    assert supports == sorted(supports)  # pure first
    assert [tuple(x) for x, _ in sol.value[:3]] == [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
    for x, y in sol.value:
        assert isinstance(x, np.ndarray) and x.shape == (3,) and y.shape == (3,)
        assert x.sum() == pytest.approx(1) and (x >= 0).all() and (y >= 0).all()


# ------------------------------------------------------------------------- random + degenerate
def random_bimatrix(seed: int, shape: tuple[int, int], kind: str):
    rng = np.random.default_rng(seed)
    if kind == "uniform":  # nondegenerate with probability 1
        return rng.random((2, *shape))
    if kind == "levels":  # integer payoffs in {0, 1, 2}: many ties, degenerate
        return rng.integers(0, 3, (2, *shape)).astype(float)
    if kind == "binary":
        return rng.integers(0, 2, (2, *shape)).astype(float)
    # "clipped": bounds clip at 0 and 1 in ACA games -> plateaus of equal payoffs
    return np.clip(rng.normal(0.5, 0.6, (2, *shape)), 0.0, 1.0)


SHAPES = [(2, 2), (2, 3), (3, 3), (3, 4), (4, 4), (1, 3), (4, 2)]
KINDS = ["uniform", "levels", "binary", "clipped"]
games = st.builds(random_bimatrix, st.integers(0, 2**32 - 1), st.sampled_from(SHAPES), st.sampled_from(KINDS))


@given(games)
def test_complete_against_brute_force(AB):
    A, B = AB
    reference = canon(brute_force(A, B))
    for method in ("subsets", "qhull"):
        assert canon(two_player_equilibria(A, B, method=method).value) == reference, method


@given(games)
def test_every_returned_profile_is_an_equilibrium(AB):
    A, B = AB
    sol = two_player_equilibria(A, B)
    assert sol.value, "every finite game has an equilibrium"
    for x, y in sol.value:
        assert nash_conv(np.stack([A, B]), (x, y)) <= 1e-9
        assert abs(x.sum() - 1) <= 1e-12 and abs(y.sum() - 1) <= 1e-12
        assert (x >= 0).all() and (y >= 0).all()
    assert sol.certificate <= 1e-9


@given(games)
def test_pure_equilibria_are_among_them(AB):
    A, B = AB
    m, n = A.shape
    found = {(tuple(x), tuple(y)) for x, y in two_player_equilibria(A, B).value}
    for i, j in pure_nash(np.stack([A, B])).value:
        assert (tuple(np.eye(m)[i]), tuple(np.eye(n)[j])) in found


@given(games, st.sampled_from([0.25, 3.0, 1e4]), st.sampled_from([0.5, 2.0, 1e-3]), st.floats(-50, 50))
def test_invariant_under_positive_affine_transforms(AB, a, b, c):
    A, B = AB
    ref = canon(two_player_equilibria(A, B).value)
    assert canon(two_player_equilibria(a * A + c, b * B - c).value) == ref


@given(games, st.data())
def test_invariant_under_relabelling_actions(AB, data):
    A, B = AB
    m, n = A.shape
    pr = np.array(data.draw(st.permutations(range(m))))
    pc = np.array(data.draw(st.permutations(range(n))))
    sol = two_player_equilibria(A[pr][:, pc], B[pr][:, pc])
    # Equilibrium (x', y') of the relabelled game <-> (x, y) with x[pr] = x', y[pc] = y'.
    back = []
    for x, y in sol.value:
        xo, yo = np.empty(m), np.empty(n)
        xo[pr], yo[pc] = x, y
        back.append((xo, yo))
    assert canon(back) == canon(two_player_equilibria(A, B).value)


def test_swapping_players_transposes():
    A, B = random_bimatrix(5, (3, 4), "levels")
    sol = two_player_equilibria(B.T, A.T)
    assert canon([(y, x) for x, y in sol.value]) == canon(two_player_equilibria(A, B).value)


def test_against_nashpy_on_small_nondegenerate_games():
    nash = pytest.importorskip("nashpy")
    for seed in range(5):
        A, B = random_bimatrix(seed, (4, 4), "uniform")
        reference = canon(nash.Game(A, B).support_enumeration())
        assert canon(two_player_equilibria(A, B).value) == reference
        assert canon(brute_force(A, B)) == reference


@pytest.mark.slow  # numba compilation takes ~10 s
def test_against_quantecon_if_installed():
    gt = pytest.importorskip("quantecon.game_theory")
    for seed in range(5):
        A, B = random_bimatrix(seed, (5, 6), "uniform")
        qe = gt.vertex_enumeration(gt.NormalFormGame((gt.Player(A), gt.Player(B.T))))
        assert canon(two_player_equilibria(A, B, method="qhull").value) == canon(qe)
        assert canon(two_player_equilibria(A, B, method="subsets").value) == canon(qe)


# ----------------------------------------------------------------------------------- hard families
@pytest.mark.parametrize("n", [4, 6])
@pytest.mark.parametrize("method", ["subsets", "qhull"])
def test_identity_coordination_has_all_uniform_mixtures(n, method):
    """A = B = I: for every nonempty support S, uniform on S for both -> 2^n - 1 equilibria."""
    sol = two_player_equilibria(np.eye(n), np.eye(n), method=method)
    assert len(sol.value) == 2**n - 1
    expected = []
    for k in range(1, n + 1):
        for S in itertools.combinations(range(n), k):
            v = np.zeros(n)
            v[list(S)] = 1 / k
            expected.append((v, v))
    assert canon(sol.value) == canon(expected)


def test_duplicate_columns_need_all_labels():
    """Pure x against y mixing two duplicate columns: missed by equal-size support enumeration."""
    A, B = np.array([[2.0, 1.0], [1.0, 2.0]]), np.array([[2.0, 2.0], [1.0, 1.0]])
    found = canon(two_player_equilibria(A, B).value)
    assert canon([(np.array([1.0, 0.0]), np.array([0.5, 0.5]))])[0] in found


@pytest.mark.parametrize("seed", [1, 3, 8])  # seeds with such vertices and 3-5 equilibria
def test_qhull_partners_fall_back_when_the_column_replies_form_a_face(seed):
    """A generic B (every vertex of P simple) but A with two equal columns: against an x whose best
    replies include both, the partners y form a segment, not a point. The one-hull shortcut must
    detect the singular system and enumerate Q (both segment ends are extreme equilibria)."""
    rng = np.random.default_rng(seed)
    A, B = rng.random((5, 5)), rng.random((5, 5))
    A[:, 1] = A[:, 0]
    B[:, 1] = B[:, 0] + 0.3 * (rng.random(5) - 0.5)  # vertices of P where columns 0 and 1 tie
    got = two_player_equilibria(A, B, method="qhull")
    assert canon(got.value) == canon(brute_force(A, B))


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_methods_agree_on_larger_games(kind):
    for seed in range(4):
        A, B = random_bimatrix(seed, (7, 8), kind)
        a = two_player_equilibria(A, B, method="subsets")
        b = two_player_equilibria(A, B, method="qhull")
        assert canon(a.value) == canon(b.value)
        assert max(a.certificate, b.certificate) <= 1e-9


@pytest.mark.slow
def test_random_10x10_against_quantecon():
    gt = pytest.importorskip("quantecon.game_theory")
    A, B = random_bimatrix(0, (10, 10), "uniform")
    sol = two_player_equilibria(A, B)
    qe = gt.vertex_enumeration(gt.NormalFormGame((gt.Player(A), gt.Player(B.T))))
    assert canon(sol.value) == canon(qe) and sol.certificate <= 1e-9


# --------------------------------------------------------------------------------------- batched
@pytest.mark.parametrize("shape", [(2, 2), (3, 5), (4, 4), (6, 6)])
@pytest.mark.parametrize("kind", ["uniform", "levels", "clipped"])
def test_batched_equals_looped(shape, kind):
    AB = np.stack([random_bimatrix(s, shape, kind) for s in range(40)])
    A, B = AB[:, 0], AB[:, 1]
    sol = two_player_equilibria_batched(A, B)
    assert isinstance(sol.value, EquilibriumBatch) and sol.status == "optimal"
    assert sol.value.x.shape[:2] == sol.value.y.shape[:2] == (40, int(sol.value.count.max()))
    for g in range(40):
        looped = two_player_equilibria(A[g], B[g]).value
        batched = sol.value.game(g)
        assert len(batched) == len(looped) == sol.value.count[g]
        for (x1, y1), (x2, y2) in zip(batched, looped, strict=True):  # same order too
            np.testing.assert_allclose(x1, x2, atol=1e-12)
            np.testing.assert_allclose(y1, y2, atol=1e-12)
        assert np.isnan(sol.value.x[g, sol.value.count[g] :]).all()
    assert sol.certificate <= 1e-9
    assert sol.value.to_lists()[0][0][0].shape == (shape[0],)


def test_batched_qhull_fallback_equals_looped():
    AB = np.stack([random_bimatrix(s, (3, 3), "levels") for s in range(5)])
    sol = two_player_equilibria_batched(AB[:, 0], AB[:, 1], method="qhull")
    assert sol.stats["method"] == "qhull"
    for g in range(5):
        assert canon(sol.value.game(g)) == canon(two_player_equilibria(AB[g, 0], AB[g, 1]).value)


def test_accepts_a_two_player_tensor_or_game():
    P = np.stack([np.eye(3), np.eye(3)])

    class Game:
        def payoff_tensor(self):
            return P

    assert len(two_player_equilibria(P).value) == 7
    assert len(two_player_equilibria(Game()).value) == 7
    with pytest.raises(ACAInputError, match="two-player game, got 3 players"):
        two_player_equilibria(np.zeros((3, 2, 2, 2)))


# ------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("A", "B", "message"),
    [
        (np.eye(2), np.eye(3), r"shapes differ \(\(2, 2\) vs \(3, 3\)\)"),
        (np.ones(3), np.ones(3), r"A: expected a non-empty array of shape \(m, n\)"),
        (np.eye(2), [[0, np.nan], [0, 0]], r"B: non-finite payoff nan at index \(0, 1\)"),
        ([[np.inf, 0]], [[0, 0]], "A: non-finite payoff inf"),
        (np.zeros((0, 2)), np.zeros((0, 2)), "non-empty"),
        ([["a"]], [[1]], "A: cannot convert"),
    ],
)
def test_bad_input(A, B, message):
    with pytest.raises(ACAInputError, match=message):
        two_player_equilibria(A, B)


def test_bad_options_and_batched_input():
    with pytest.raises(ACAInputError, match="method: expected one of"):
        two_player_equilibria(np.eye(2), np.eye(2), method="lemke")
    with pytest.raises(ACAInputError, match="tol"):
        two_player_equilibria(np.eye(2), np.eye(2), tol=0.5)
    with pytest.raises(ACAInputError, match="use method='qhull'"):
        two_player_equilibria(np.eye(11), np.eye(11), method="subsets")
    with pytest.raises(ACAInputError, match=r"shape \(G, m, n\)"):
        two_player_equilibria_batched(np.eye(2), np.eye(2))
    with pytest.raises(ACAInputError, match="after the batch axis"):
        two_player_equilibria_batched(np.zeros((3, 2, 2)), np.zeros((3, 2, 3)))


@pytest.mark.parametrize("kind", ["uniform", "levels"])
def test_batched_across_packed_words_equals_brute_force_in_the_documented_order(kind):
    """150 games: game indices cross the 64-game words of the packed bit sets (and 150 is not a
    multiple of 8). Each game's set is the brute-force one, listed by support size, then ``x``
    and ``y`` in decreasing lexicographic order (module docstring), without repeats."""
    AB = np.stack([random_bimatrix(1000 + s, (3, 3), kind) for s in range(150)])
    sol = two_player_equilibria_batched(AB[:, 0], AB[:, 1])
    for g in range(150):
        found = sol.value.game(g)
        assert canon(found) == canon(brute_force(AB[g, 0], AB[g, 1])), g
        keys = [(int((x > 1e-9).sum() + (y > 1e-9).sum()), *np.round(-np.r_[x, y], 7)) for x, y in found]
        assert keys == sorted(keys) and len(set(keys)) == len(keys), g
