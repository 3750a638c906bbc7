"""Simulated platforms, learners on count tables and trained runs (aca_games.simulate).

* seeded runs reproduce bit for bit (and a seed's result does not depend on the batch around it);
* a platform's training counts have the expected table of THEORY §1 (reference: numpy, written
  from the definitions, several collectives with noise);
* the Bayes classifier on counts converges to the exact oracle as N grows (reference oracle in
  numpy from THEORY §2);
* the learners: logistic/MLP decide like Bayes on clear data, DP-SGD's clipped sum matches a numpy
  reference and its noise has standard deviation σC/n;
* bounds hold on simulated runs at their stated rate (compare_runs).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aca_games import ACAInputError, Collective, World
from aca_games.simulate import (
    DPSGD,
    MLP,
    BayesCounts,
    LogisticRegression,
    make_learner,
    members_of,
    platform_spec,
    population_table,
    run_platforms,
    sample_platforms,
    seed_keys,
)
from aca_games.simulate.classifiers import Params, _private_gradient
from aca_games.simulate.compare import compare_runs, mean_interval
from aca_games.simulate.runs import run_cells
from aca_games.world import split_landing

#: A consistent 3-point world (label marginal of every landing table: 0.6 / 0.4).
WORLD = World(
    points=["a", "b", "c"],
    labels=["no", "yes"],
    base=[[0.10, 0.02], [0.05, 0.05], [0.08, 0.01]],
    landing={"g": [[0.3, 0.2], [0.2, 0.1], [0.1, 0.1]], "h": [[0.0, 0.0], [0.2, 0.1], [0.4, 0.3]]},
)
FL = Collective("fl", 0.05, "g", target="yes")
NOISY = Collective("noisy", 0.04, "h", target="no", noise=0.3, noise_mode="scatter")


def _spec(collectives=(FL, NOISY), N=50_000, n_test=1_000):
    return platform_spec(WORLD, list(collectives), N=N, n_test=n_test)


# -- reproducibility ----------------------------------------------------------------------------
DP = DPSGD(model=MLP(hidden=4, steps=10), noise_multiplier=2.0)


@pytest.mark.parametrize(
    "learner",
    [pytest.param(BayesCounts(), id="bayes"), pytest.param(DP, id="dp-sgd-mlp", marks=pytest.mark.slow)],
)
def test_seeded_runs_reproduce_bit_for_bit(learner):
    spec = _spec()
    first = run_platforms(spec, learner, seed_keys(7, 5))
    again = run_platforms(spec, learner, seed_keys(7, 5))
    longer = run_platforms(spec, learner, seed_keys(7, 21))  # two chunks, other padding
    for a, b, c in zip(jax.tree.leaves(first), jax.tree.leaves(again), jax.tree.leaves(longer), strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, np.asarray(c)[:5])
    other = run_platforms(spec, learner, seed_keys(8, 5))
    assert not np.array_equal(first.counts.landing, other.counts.landing)


@pytest.mark.slow
def test_cells_do_not_depend_on_their_neighbours():
    specs = [_spec(N=n) for n in (20_000, 50_000, 90_000)]
    keys = seed_keys(0, 4)
    together = run_cells(specs, DP, keys)
    apart = run_cells([specs[2], specs[0]], DP, keys)
    for a, b in ((together[0], apart[1]), (together[2], apart[0])):
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
            np.testing.assert_array_equal(x, y)


# -- the platform -------------------------------------------------------------------------------
def _expected_train(world_base, landings, sizes, noises, modes, labels, n_labels):
    """THEORY §1 from the definitions: P = α0 P0 + Σ α_j ((1-σ) M_j + σ N_j), feature-label."""
    P = (1 - sum(sizes)) * np.asarray(world_base)
    for m_table, alpha, sigma, mode, label in zip(landings, sizes, noises, modes, labels, strict=True):
        mass = np.asarray(m_table).sum(axis=1)
        members = np.zeros_like(P)
        members[:, label] = mass
        if mode == "drop":
            deviators = np.asarray(world_base)
        elif mode == "scatter":
            deviators = np.repeat(mass[:, None] / n_labels, n_labels, axis=1)
        else:  # misfire: the other label (two labels)
            deviators = np.zeros_like(P)
            deviators[:, 1 - label] = mass
        P = P + alpha * ((1 - sigma) * members + sigma * deviators)
    return P


@pytest.mark.parametrize("mode", ["drop", "scatter", "misfire"])
def test_training_counts_have_the_expected_table(mode):
    c1 = FL.replace(noise=0.2, noise_mode=mode)
    c2 = NOISY.replace(noise_mode=mode)
    N, seeds = 40_000, 64
    platforms = sample_platforms(_spec((c1, c2), N=N), seed_keys(1, seeds))
    mean = np.asarray(platforms.train).mean(axis=0) / N
    sizes = [m / N for m in members_of([c1, c2], N)]
    expected = _expected_train(
        WORLD.base, [WORLD.landing["g"], WORLD.landing["h"]], sizes, [0.2, 0.3], [mode, mode], [1, 0], 2
    )
    # mean of 64 draws: sd of a cell frequency <= sqrt(0.25/(N*64)) ~ 3e-4
    np.testing.assert_allclose(mean[:3], expected, atol=2e-3)
    assert np.all(np.asarray(platforms.train).sum(axis=(1, 2)) == N)
    off = mean[3]  # the off cell carries the rest of the population's label marginal
    np.testing.assert_allclose(off.sum(), 1 - mean[:3].sum(), atol=1e-12)
    assert np.all(np.asarray(platforms.test).sum(axis=2) == 1_000)


def test_population_table_off_row_completes_the_label_marginal():
    table = np.asarray(population_table(WORLD))
    np.testing.assert_allclose(table.sum(axis=0), [0.6, 0.4], atol=1e-12)
    np.testing.assert_allclose(table.sum(), 1.0, atol=1e-12)


@pytest.mark.parametrize("variant", ["gbj", "hardt"])
def test_feature_only_members_submit_their_planted_mass(variant):
    c = Collective("fo", 0.3, "g", target="yes", strategy="feature_only", variant=variant, noise=0.2)
    N = 10_000
    spec = platform_spec(WORLD, [c, NOISY.with_size(0.0)], N=N, n_test=10, members=[3_000, 0])
    p = sample_platforms(spec, seed_keys(0, 64))
    train = np.asarray(p.train).mean(axis=0) / N
    # THEORY §1: M(x, yes) = m(x, yes); "hardt" also M(x, no) = P0(x, no); "gbj" moves the rest
    # off the signal sets. Drop noise: deviators are bystanders.
    base, m = np.asarray(WORLD.base), np.asarray(WORLD.landing["g"])
    planted = np.zeros_like(base)
    planted[:, 1] = m[:, 1]
    if variant == "hardt":
        planted[:, 0] = base[:, 0]
    expected = 0.7 * base + 0.3 * (0.8 * planted + 0.2 * base)
    np.testing.assert_allclose(train[:3], expected, atol=3e-3)
    assert np.all(np.asarray(p.train).sum(axis=(1, 2)) == N)


@pytest.mark.parametrize(
    "c",
    [
        Collective("u", 0.3, "g", target="yes", strategy="unplant", noise=0.3),
        Collective("e", 0.3, "g", strategy="erase", noise=0.3, noise_mode="scatter"),
        Collective("m", 0.3, "g", target="yes", noise=0.5, noise_mode="misfire"),
    ],
    ids=["unplant", "erase", "misfire"],
)
def test_every_user_submits_one_example(c):
    p = sample_platforms(platform_spec(WORLD, [c, NOISY], N=5_000, n_test=10), seed_keys(2, 16))
    assert np.all(np.asarray(p.train).sum(axis=(1, 2)) == 5_000)
    n = members_of([c], 5_000)[0]
    n_est = n // 2 if c.strategy == "unplant" else n
    assert np.all(
        np.asarray(p.counts.landing[:, 0]).sum(axis=(1, 2)) == n - (n_est if c.strategy == "unplant" else 0)
    )
    assert np.all(np.asarray(p.counts.base[:, 0]).sum(axis=(1, 2)) <= n_est)


# -- convergence to the oracle ------------------------------------------------------------------
def _numpy_oracle(base, landings, sizes, labels):
    """THEORY §2 at ε = 0 for feature-label collectives without noise: argmax of P per point,
    a tie (margin <= 1e-12) fails; S_j = Σ m_j(x̃) over points won (two labels)."""
    P = (1 - sum(sizes)) * base
    for m, alpha, label in zip(landings, sizes, labels, strict=True):
        P[:, label] += alpha * m.sum(axis=1)
    out = []
    for m, label in zip(landings, labels, strict=True):
        won = P[:, label] - P[:, 1 - label] > 1e-12
        out.append(float(m.sum(axis=1)[won].sum()))
    return np.array(out)


@given(st.integers(0, 2**31 - 1))
def test_bayes_on_counts_converges_to_the_oracle(seed):
    rng = np.random.default_rng(seed)
    base = rng.dirichlet(np.ones(7))[:6].reshape(3, 2) * 0.5
    marginal = base.sum(axis=0) + (1 - base.sum()) * rng.dirichlet(np.ones(2))  # consistent world
    landings = [split_landing(rng.dirichlet(np.ones(3)), marginal / marginal.sum()) for _ in range(2)]
    sizes = list(rng.uniform(0.01, 0.3, size=2))
    labels = [1, 0]
    world = World(points=["a", "b", "c"], labels=["no", "yes"], base=base,
                  landing={"g": landings[0], "h": landings[1]})  # fmt: skip
    cs = [Collective("x", sizes[0], "g", target="yes"), Collective("z", sizes[1], "h", target="no")]
    errors = []
    for N in (1_000, 10_000_000):
        members = members_of(cs, N)
        shares = [m / N for m in members]
        oracle = _numpy_oracle(base, landings, shares, labels)
        runs = run_platforms(platform_spec(world, cs, N=N, n_test=100), BayesCounts(), seed_keys(seed, 16))
        errors.append(np.abs(np.asarray(runs.expected) - oracle).mean())
        P = (1 - sum(shares)) * base
        for m, alpha, label in zip(landings, shares, labels, strict=True):
            P[:, label] += alpha * m.sum(axis=1)
        closest = np.abs(P[:, 1] - P[:, 0]).min()
    assert errors[1] <= errors[0]
    if closest > 5e-3:  # every point decided by >= 50 000 users: a wrong argmax is a >10 sd event
        assert errors[1] == 0.0


# -- learners -----------------------------------------------------------------------------------
CLEAR = jnp.array([[900.0, 100.0, 0.0], [50.0, 20.0, 430.0], [10.0, 300.0, 90.0], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize("learner", [LogisticRegression(), MLP(), make_learner("dp-sgd", epsilon=50.0)])
def test_trained_learners_decide_like_bayes_on_clear_data(learner):
    bayes = np.argmax(BayesCounts().fit(CLEAR, None)[:3], axis=1)
    probs = np.asarray(learner.fit(CLEAR, jax.random.key(0)))
    np.testing.assert_array_equal(np.argmax(probs[:3], axis=1), bayes)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)


def test_dp_sgd_without_noise_and_clipping_is_plain_training():
    model = LogisticRegression(steps=60)
    plain = model.fit(CLEAR, jax.random.key(3))
    private = DPSGD(model=model, clip=1e6, noise_multiplier=0.0).fit(CLEAR, jax.random.key(3))
    np.testing.assert_allclose(private, plain, rtol=0, atol=1e-9)


def test_dp_sgd_clipped_sum_matches_numpy():
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(4, 3)), rng.normal(size=3)
    counts = np.asarray(CLEAR)
    model, clip, n = LogisticRegression(prior_scale=1e9), 0.3, counts.sum()
    got = _private_gradient(model, Params(jnp.asarray(W), (jnp.asarray(b),)), CLEAR, n, clip, 0.0,
                            jax.random.key(0))  # fmt: skip
    # per example (x, y): d/dW[x] = d/db = p(x) - e_y, norm sqrt(2)|p - e_y|; clipped to `clip`
    gW, gb = np.zeros_like(W), np.zeros_like(b)
    for x in range(4):
        z = W[x] + b
        p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        for y in range(3):
            g = p - np.eye(3)[y]
            scale = min(1.0, clip / (np.sqrt(2) * np.linalg.norm(g)))
            gW[x] += counts[x, y] * scale * g
            gb += counts[x, y] * scale * g
    np.testing.assert_allclose(got.rows, gW / n, atol=1e-12)
    np.testing.assert_allclose(got.shared[0], gb / n, atol=1e-12)


def test_dp_sgd_noise_has_the_stated_scale():
    model, clip, sigma, n = LogisticRegression(prior_scale=1e9), 0.5, 3.0, 200.0
    zero = Params(jnp.zeros((4, 3)), (jnp.zeros(3),))
    grads = jax.vmap(lambda k: _private_gradient(model, zero, jnp.zeros((4, 3)), n, clip, sigma, k))(
        jax.random.split(jax.random.key(1), 4000)
    )
    sd = np.std(np.asarray(grads.rows))
    assert abs(sd - sigma * clip / n) < 0.05 * sigma * clip / n


def test_make_learner_rejects_bad_options():
    with pytest.raises(ACAInputError, match="unknown learner 'svm'"):
        make_learner("svm")
    with pytest.raises(ACAInputError, match="bayes learner has no options"):
        make_learner("bayes", steps=3)
    with pytest.raises(ACAInputError, match="hidden: only the mlp"):
        make_learner("logistic", hidden=3)
    with pytest.raises(ACAInputError, match="exactly one of epsilon"):
        make_learner("dp-sgd", epsilon=1.0, noise_multiplier=2.0)
    with pytest.raises(ACAInputError, match="steps"):
        make_learner("mlp", steps=0)
    with pytest.raises(ACAInputError, match="N: the collectives have"):
        platform_spec(WORLD, [FL.with_size(0.6), NOISY.with_size(0.39)], N=10, n_test=5)


# -- bounds against simulated runs --------------------------------------------------------------
#: One collective, N such that point a is marginal for the Bayes learner: the finite-sample bound
#: certifies b and c only when the draw allows, and must hold on >= 1 - δ of the seeds.
def test_bounds_hold_at_their_rate_one_collective():
    c = Collective("c", 0.3, "g", target="yes")
    N, n_test, delta = 200_000, 2_000, 0.1
    members = members_of([c], N)
    runs = run_platforms(platform_spec(WORLD, [c], N=N, n_test=n_test), BayesCounts(), seed_keys(0, 48))
    (row,) = compare_runs(WORLD, [c], runs, N=N, n_test=n_test, members=members, delta=delta)
    fs = row["bounds"]["finite_sample"]
    assert fs["value"] > 0.05, "vacuous: this case would check nothing"
    assert fs["held_rate"] >= 1 - delta and fs["held"]
    for name in ("closed_form", "staircase"):
        assert row["bounds"][name]["held"], name
    assert row["measured"]["ci_low"] <= row["measured"]["mean"] <= row["measured"]["ci_high"]
    np.testing.assert_allclose(np.mean(row["measured"]["per_seed"]), row["measured"]["mean"])


def test_bounds_hold_at_their_rate_two_collectives():
    cs = [FL.with_size(0.3), NOISY.with_size(0.2)]
    N, n_test, delta = 400_000, 2_000, 0.1
    runs = run_platforms(platform_spec(WORLD, cs, N=N, n_test=n_test), BayesCounts(), seed_keys(1, 32))
    rows = compare_runs(WORLD, cs, runs, N=N, n_test=n_test, members=members_of(cs, N), delta=delta)
    assert max(r["bounds"]["finite_sample"]["value"] for r in rows) > 0.05
    for r in rows:
        assert set(r["bounds"]) == {"per_point", "multi_closed_form", "bloc", "finite_sample"}
        for name, b in r["bounds"].items():
            assert b["held"], (r["name"], name, b)
        assert abs(r["expected"] - r["oracle"]) < 0.2


def test_a_bound_above_the_measured_success_is_reported_failed():
    """``held`` must be able to say no: a 1% collective that never wins (every base label is
    'no'), scored against the bounds of a 90% collective of the same world (which always wins)."""
    world = World(points=["a", "b", "c"], labels=["no", "yes"], base=[[0.2, 0.0]] * 3,
                  landing={"g": [[0.4, 0.0], [0.3, 0.0], [0.3, 0.0]]})  # fmt: skip
    c = Collective("c", 0.01, "g", target="yes")
    N = 10_000
    runs = run_platforms(platform_spec(world, [c], N=N, n_test=100), BayesCounts(), seed_keys(0, 8))
    assert float(np.max(runs.success)) == 0.0
    (row,) = compare_runs(world, [c.with_size(0.9)], runs, N=N, n_test=100, members=[9_000])
    assert row["bounds"]["staircase"]["value"] == 1.0
    assert row["bounds"]["staircase"]["held"] is False and row["bounds"]["staircase"]["held_rate"] == 0.0


def test_mean_interval_is_the_student_t_interval():
    values = [0.2, 0.4, 0.9, 0.5]
    r = mean_interval(values)
    half = 3.182446305284263 * np.std(values, ddof=1) / 2  # t_{0.975, 3}
    np.testing.assert_allclose([r["ci_low"], r["ci_high"]], [0.5 - half, 0.5 + half])
    assert mean_interval([0.3])["ci_low"] is None
