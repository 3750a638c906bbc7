"""The exact oracle against independent references (THEORY §2)."""

from __future__ import annotations

import itertools

import jax
import numpy as np
import pytest
import scipy.optimize
from hypothesis import given
from hypothesis import strategies as st

from aca_games import ACAInputError, Collective, World, decisions, plant_all, success, testing
from aca_games._knapsack import TIE_TOL, tv_costs
from aca_games.learner import slack

ALL = ("feature_label", "feature_only", "unplant", "erase")
SMALL = ((2, 2), (4, 3))  # shapes small enough for brute force over flip sets and LPs


def reference_training(world, collectives, sizes):
    p = plant_all(world, collectives)
    P = (1 - sizes.sum()) * np.asarray(world.base)
    for a, planted in zip(sizes, np.asarray(p.planted), strict=True):
        P = P + a * planted
    return P, np.asarray(p.target), np.asarray(p.landing)


def reference_bayes(world, collectives, sizes):
    """Loop over points: argmax with ties failing."""
    P, target, landing = reference_training(world, collectives, sizes)
    out = []
    for j in range(len(collectives)):
        s = 0.0
        for x in range(P.shape[0]):
            best_t = max((P[x, y] for y in range(P.shape[1]) if target[j, x, y]), default=-1)
            best_r = max((P[x, y] for y in range(P.shape[1]) if not target[j, x, y]), default=-1e30)
            if best_t - best_r > TIE_TOL:
                s += landing[j, x]
        out.append(s)
    return np.array(out)


def reference_margins(P, target):
    t = np.where(target, P, -1e30).max(1)
    r = np.where(target, -1e30, P).max(1)
    return t - r


def reference_worst_huber(P, target, landing, kappa):
    """Brute force over flip sets: Σ_F c <= κ."""
    c = reference_margins(P, target)
    win = np.flatnonzero(c > TIE_TOL)
    best = 0.0
    for r in range(len(win) + 1):
        for F in itertools.combinations(win, r):
            if sum(c[list(F)]) <= kappa + TIE_TOL:
                best = max(best, landing[list(F)].sum())
    return landing[win].sum() - best


def tv_flip_cost_lp(P, target, F):
    """Independent LP: min TV budget t to flip every point of F, for a fixed choice of rival label
    per point, minimised over those choices. Removal r >= 0, addition a >= 0 per cell; TV = max of
    total removed and total added (the rest is balanced against cells that do not matter)."""
    L = P.shape[1]
    best = np.inf
    rivals = [np.flatnonzero(~target[x]) for x in F]
    for choice in itertools.product(*rivals):
        n = len(F) * L
        # variables: r (n), a (n), t
        c = np.zeros(2 * n + 1)
        c[-1] = 1
        A, b = [], []
        row = np.zeros(2 * n + 1)
        row[:n], row[-1] = 1, -1
        A.append(row.copy()), b.append(0)
        row = np.zeros(2 * n + 1)
        row[n : 2 * n], row[-1] = 1, -1
        A.append(row), b.append(0)
        for i, (x, yr) in enumerate(zip(F, choice, strict=True)):
            for y in np.flatnonzero(target[x]):
                # P[x,y] - r_xy + a_xy <= P[x,yr] - r_x,yr + a_x,yr
                row = np.zeros(2 * n + 1)
                row[i * L + y] -= 1
                row[n + i * L + y] += 1
                row[i * L + yr] += 1
                row[n + i * L + yr] -= 1
                A.append(row), b.append(P[x, yr] - P[x, y])
        bounds = [(0, P[F[i // L], i % L]) for i in range(n)] + [(0, None)] * (n + 1)
        res = scipy.optimize.linprog(c, A_ub=np.array(A), b_ub=np.array(b), bounds=bounds)
        if res.status == 0:
            best = min(best, res.fun)
    return best


def _sizes(cs):
    return np.array([float(c.size) for c in cs])


@given(testing.instances(n_collectives=(1, 2, 3), eps=(0.0,)))
def test_bayes_oracle_matches_loop_reference(inst):
    world, cs, _, _ = inst
    np.testing.assert_allclose(success(world, cs), reference_bayes(world, cs, _sizes(cs)), atol=1e-12)


@given(testing.instances(n_collectives=(1, 2, 3), noise=False, shapes=SMALL, eps=(0.005, 0.02, 0.05),
                         readings=("huber",)))
def test_huber_worst_case_matches_brute_force(inst):
    world, cs, eps, _ = inst
    k, sizes = len(cs), _sizes(cs)
    P, target, landing = reference_training(world, cs, sizes)
    kappa = eps / (1 - eps)
    expected = [reference_worst_huber(P, target[j], landing[j], kappa) for j in range(k)]
    np.testing.assert_allclose(success(world, cs, eps, "huber"), expected, atol=1e-10)


@given(testing.instances(strategies=("feature_label",), noise=False, shapes=SMALL))
def test_tv_flip_costs_match_independent_lp(inst):
    """The breakpoint formula for tv flip costs equals a direct LP on every subset of points."""
    world, c, _, _ = inst.alone
    P, target, _ = reference_training(world, [c], _sizes([c]))
    target = target[0]
    win = np.flatnonzero(reference_margins(P, target) > 1e-9)
    w = np.asarray(tv_costs(jax.numpy.asarray(P), jax.numpy.asarray(target)))  # (P, L) scaled x2
    for r in range(1, len(win) + 1):
        for F in itertools.combinations(win, r):
            ours = w[list(F)].sum(axis=0).max() / 2  # TV budget needed
            np.testing.assert_allclose(ours, tv_flip_cost_lp(P, target, list(F)), atol=1e-9)


@given(testing.instances(n_collectives=(1, 2, 3), noise=False))
def test_greedy_is_sound_and_exact_at_zero(inst):
    world, cs, _, reading = inst
    exact = success(world, cs, 0.03, reading, method="exact")
    greedy = success(world, cs, 0.03, reading, method="greedy")
    assert np.all(greedy <= exact + 1e-12)
    np.testing.assert_allclose(
        success(world, cs, 0.0, method="greedy"), success(world, cs, 0.0), atol=1e-15
    )


@given(testing.instances(n_collectives=(1, 2, 3, 4), eps=(0.0, 0.02)),
       st.lists(st.floats(0.0, 0.2), min_size=20, max_size=20))
def test_size_batch_equals_loop(inst, draws):
    world, cs, eps, reading = inst
    k = len(cs)
    batch = np.array(draws).reshape(5, 4)[:, :k]
    looped = [success(world, [c.with_size(a) for c, a in zip(cs, row, strict=True)], eps, reading)
              for row in batch]
    np.testing.assert_allclose(success(world, cs, eps, reading, sizes=batch), looped, atol=1e-12)


@given(testing.instances(n_collectives=(2,)))
def test_worst_case_decreases_in_eps(inst):
    world, cs, _, reading = inst
    for i in range(len(cs)):
        testing.assert_monotone(success, "eps", -1, world, cs, reading=reading, index=i)


@given(testing.instances(strategies=("feature_label", "feature_only"), noise=False, eps=(0.0,)))
def test_bayes_single_collective_monotone_in_size(inst):
    """THEORY §4: exact, one collective, ε = 0: weakly increasing in α (feature-label, FO "gbj")."""
    world, c, _, _ = inst.alone
    if c.strategy == "feature_only":
        c = c.replace(variant="gbj")
    testing.assert_monotone(success, "size", +1, world, c)


def test_growing_own_size_can_hurt_with_a_rival():
    """THEORY §4: with several collectives the exact success is 'either sign' in own size. Growing
    i shrinks the bystanders, whose base support at x kept i ahead of a conflicting collective j."""
    world = World(
        points=["x", "z"], labels=["yi", "yj"], base=[[0.3, 0.2], [0.0, 0.0]],
        landing={"gi": [[0.01, 0.0], [0.49, 0.5]], "gj": [[0.5, 0.5], [0.0, 0.0]]},
    )
    i = Collective("i", 0.0, "gi", target="yi")
    j = Collective("j", 0.05, "gj", target="yj")
    small, large = success(world, [i, j], sizes=[[0.01, 0.05], [0.6, 0.05]])[:, 0]
    assert float(small) == pytest.approx(1.0) and float(large) == pytest.approx(0.99)


def test_exact_worst_case_single_collective_can_fall_with_size():
    """Finding (not in THEORY §4): for ε > 0 the worst case of one collective is not monotone in α.
    At a point where the signal lands little mass, the margin tends to m(x̃) as α -> 1, which the
    learner's absolute slack can flip, while at small α the base mass protected the point."""
    world = World(
        points=["x", "z"], labels=["no", "yes"], base=[[0.05, 0.4], [0.3, 0.0]],
        landing={"g": [[0.02, 0.0], [0.48, 0.5]]},
    )
    c = Collective("c", 0.0, "g", target="yes")
    values = success(world, c, 0.05, "huber", sizes=[[0.45], [0.95]])[:, 0]
    assert float(values[0]) == pytest.approx(1.0) and float(values[1]) == pytest.approx(0.98)


def test_jit_and_grad_through_the_kernel():
    world = World(points=["a"], labels=["n", "y"], base=[[0.5, 0.2]], landing={"g": [[0.6, 0.4]]})
    c = Collective("c", 0.3, "g", target="y")
    f = jax.jit(lambda a: success(world, c.with_size(a)))
    assert float(f(0.2)[0]) == 0.0 and float(f(0.6)[0]) == 1.0
    # inside a user's jit the oracle's own (tuned) jit is nested: it must still work
    assert float(jax.jit(lambda: success(world, c.with_size(0.6), 0.01))()[0]) == 1.0
    assert float(slack(0.1, "tv")) == pytest.approx(0.2)


@pytest.mark.parametrize(("eps", "reading"), [(0.0, "huber"), (0.05, "huber"), (0.05, "tv")])
def test_grad_through_the_kernel(eps, reading):
    """``S = Σ_x̃ m(x̃) 1[x̃ won and not flipped]``: away from a breakpoint the won set is fixed, so
    ``∂S/∂α = 0``, ``∂S/∂P0 = 0`` and ``∂S/∂m_g(x̃, y)`` is 1 exactly at the points that count.
    Here a is lost (0.28 for 'n' against 0.25) and b is won with margin 0.26 > 2ε."""
    world = World(points=["a", "b"], labels=["n", "y"], base=[[0.4, 0.1], [0.1, 0.3]],
                  landing={"g": [[0.3, 0.3], [0.2, 0.2]]})
    c = Collective("c", 0.3, "g", target="y")
    assert float(success(world, c, eps, reading)[0]) == pytest.approx(0.4)
    g = jax.grad(lambda w: success(w, c, eps, reading)[0])(world)
    np.testing.assert_array_equal(np.asarray(g.landing["g"]), [[0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(np.asarray(g.base), np.zeros((2, 2)))
    assert float(jax.grad(lambda a: success(world, c.with_size(a), eps, reading)[0])(0.3)) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(eps=0.5, reading="tv"), r"eps: 0.5 is outside \[0, 0.5\)"),
        (dict(eps=1.0), r"huber reading needs eps < 1"),
        (dict(eps=float("nan")), "NaN or inf"),
        (dict(reading="kl"), "reading: unknown value 'kl'"),
        (dict(method="fast"), "method: unknown value"),
        (dict(sizes=[[0.6, 0.5]]), r"sum to 1.1 >= 1"),
        (dict(sizes=[[0.1]]), "one size per collective"),
    ],
)
def test_bad_input(kwargs, match):
    world = World(points=["a"], labels=["n", "y"], base=[[0.5, 0.2]], landing={"g": [[0.6, 0.4]]})
    cs = [Collective("c", 0.3, "g", target="y"), Collective("d", 0.3, "g", target="n")]
    with pytest.raises(ACAInputError, match=match):
        success(world, cs, **kwargs)


def test_large_batches_run_in_chunks_with_the_same_answers(monkeypatch):
    """Past _CELLS_PER_CHUNK the Bayes and greedy paths map over chunks of size vectors (bounded
    memory); the answers equal one call per size vector."""
    from aca_games import oracle

    world = World(points=["a", "b", "c"], labels=["n", "y"], base=[[0.2, 0.1], [0.1, 0.1], [0.1, 0.2]],
                  landing={"g": [[0.3, 0.2], [0.1, 0.1], [0.1, 0.2]]})
    cs = [Collective("i", 0.1, "g", target="y"), Collective("j", 0.1, "g", target="n")]
    sizes = np.random.default_rng(0).dirichlet(np.ones(3), size=10)[:, :2] * 0.9
    monkeypatch.setattr(oracle, "_CELLS_PER_CHUNK", 50)  # 12 cells per size vector: chunks of 4
    oracle._compiled_batch.cache_clear()
    try:
        for eps, method in ((0.0, "exact"), (0.02, "greedy")):
            batched = np.asarray(success(world, cs, eps, sizes=sizes, method=method))
            singles = [np.asarray(success(world, cs, eps, sizes=row, method=method)) for row in sizes]
            np.testing.assert_allclose(batched, np.stack(singles), atol=1e-15)
            assert len({tuple(r) for r in batched}) > 1  # the sizes matter
    finally:
        oracle._compiled_batch.cache_clear()


def test_decisions_mark_ties_on_a_world_with_more_points_than_labels():
    """Three points, two labels: a tie at ``a`` (-1), ``y`` leads at ``b``, ``n`` at ``c``."""
    world = World(points=["a", "b", "c"], labels=["n", "y"], base=[[0.2, 0.2], [0.1, 0.3], [0.2, 0.0]],
                  landing={"g": [[0.3, 0.2], [0.1, 0.3], [0.1, 0.0]]})
    assert decisions(world, Collective("c", 0.0, "g", target="y")).tolist() == [-1, 1, 0]
