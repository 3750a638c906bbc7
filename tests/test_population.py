"""Single-collective population bounds: soundness against the oracle, monotonicity, critical mass."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from worlds import random_collective, worlds

from aca_games import ACAInputError, Collective, World, bounds, critical_mass, success
from aca_games._knapsack import TIE_TOL
from aca_games.bounds.population import ClosedFormTerms, closed_form_value

ALL = ("feature_label", "feature_only", "unplant", "erase")
PLANTING = ("feature_label", "feature_only")
EPS = st.sampled_from([0.0, 0.0, 0.01, 0.05])
READING = st.sampled_from(["huber", "tv"])


def oracle(world, c, eps=0.0, reading="huber"):
    return float(success(world, c, eps, reading)[0])


@given(worlds(max_points=10, max_labels=5), st.floats(0.0, 0.95), EPS, READING)
def test_staircase_is_sound(rw, alpha, eps, reading):
    rng, world = rw
    c = random_collective(rng, world, "c", alpha, ALL, noise=True)
    assert float(bounds.staircase(world, c, eps, reading)) <= oracle(world, c, eps, reading) + 1e-12


@given(worlds(max_points=10, max_labels=5), st.floats(0.0, 0.95), EPS, READING)
def test_closed_form_is_sound(rw, alpha, eps, reading):
    rng, world = rw
    c = random_collective(rng, world, "c", alpha, PLANTING, noise=True)
    assert float(bounds.closed_form(world, c, eps, reading)) <= oracle(world, c, eps, reading) + 1e-12


@given(worlds(max_points=10, max_labels=5), st.floats(0.0, 0.95))
def test_staircase_equals_oracle_at_zero_eps(rw, alpha):
    """THEORY §3.1: with one target label and ε = 0 the staircase is the oracle (any strategy
    planting that label, any noise)."""
    rng, world = rw
    c = random_collective(rng, world, "c", alpha, PLANTING, noise=True, singleton=True)
    assert float(bounds.staircase(world, c)) == pytest.approx(oracle(world, c), abs=1e-12)


@given(worlds(), st.sampled_from(["feature_label", "feature_only"]), EPS, READING)
def test_closed_form_increasing_in_size(rw, strategy, eps, reading):
    rng, world = rw
    c = random_collective(rng, world, "c", 0.1, (strategy,), noise=True)
    f = jax.vmap(lambda a: bounds.closed_form(world, c.with_size(a), eps, reading))
    values = np.asarray(f(jnp.linspace(0.01, 0.99, 50)))
    assert np.all(np.diff(values) >= -1e-12)
    grad = jax.grad(lambda a: bounds.closed_form(world, c.with_size(a), eps, reading))
    grads = np.asarray(jax.vmap(grad)(jnp.linspace(0.01, 0.99, 50)))
    t = bounds.closed_form_terms(world, c)
    positive = (values > 1e-9) & (values < 1 - 1e-9)
    assert float(t.ties) > 0  # the tie allowance: Δξ + κ + |X*|τ > 0, so strictly increasing
    assert np.all(grads[positive] > 0), "strictly increasing where the bound is in (0, 1)"


terms = st.builds(
    lambda d, x, nu, b, h, n: ClosedFormTerms(*map(jnp.float64, (d, x, nu, b, h, n * TIE_TOL))),
    st.one_of(st.just(0.0), st.floats(1e-3, 1)),
    st.floats(0.01, 1),
    st.floats(0.05, 1),
    st.floats(0.5, 1),
    st.floats(0, 0.5),
    st.integers(1, 12),
)


_value_and_grads = jax.jit(jax.value_and_grad(closed_form_value, argnums=(0, 1, 2)))


@given(terms, st.floats(0.05, 0.99), st.one_of(st.just(0.0), st.floats(1e-4, 0.2)))
def test_closed_form_signs_by_grad(t, alpha, kappa):
    """THEORY §4: ↑ in α, ↓ in Δ, ξ and the slack; checked on the sign of jax.grad."""
    value, (g_alpha, g_terms, g_kappa) = _value_and_grads(alpha, t, kappa)
    assume(1e-6 < float(value) < 1 - 1e-6)
    # Strictly increasing in α: Δξ + κ + |X*|τ > 0 (the tie allowance is positive).
    assert g_alpha > 0
    assert g_terms.delta <= 0 and g_terms.xi <= 0 and g_kappa < 0
    fd = (closed_form_value(alpha + 1e-6, t, kappa) - closed_form_value(alpha - 1e-6, t, kappa)) / 2e-6
    assert float(g_alpha) == pytest.approx(float(fd), rel=1e-4, abs=1e-8)


@given(worlds(), st.sampled_from(["drop", "scatter", "misfire"]), st.floats(0.05, 0.9))
def test_bounds_decrease_with_noise(rw, mode, alpha):
    rng, world = rw
    c = random_collective(rng, world, "c", alpha, ("feature_label",)).replace(noise_mode=mode)
    for bound in (bounds.closed_form, bounds.staircase):
        values = [float(bound(world, c.replace(noise=s))) for s in (0.0, 0.1, 0.25, 0.45)]
        assert all(b <= a + 1e-12 for a, b in zip(values, values[1:], strict=False)), bound


def test_twice_the_size_four_times_the_noise():
    """THEORY §3.3: under drop the training mass depends on α(1-σ) only, so doubling the size with
    four times the noise loses exactly when σ > 1/7. Under misfire the net planted rate is
    α(1-2σ): with no base resistance (Δξ = 0) the closed form depends on it alone -> 1/14."""
    world = World(points=["a", "b"], labels=["no", "yes"], base=[[0.3, 0.1], [0.2, 0.2]],
                  landing={"g": [[0.5, 0.0], [0.3, 0.2]]})
    c = Collective("c", 0.0, "g", target="yes", noise_mode="drop")
    for sigma in (0.05, 0.1):  # the oracle sees only the effective size
        np.testing.assert_allclose(
            success(world, c.replace(size=0.3, noise=sigma)),
            success(world, c.replace(size=0.3 * (1 - sigma), noise=0.0)), atol=1e-15)

    def closed(alpha, sigma, mode, delta):
        net = 1 - sigma - (sigma if mode == "misfire" else 0.0)
        by = 1 - sigma if mode == "drop" else 1.0
        t = ClosedFormTerms(*map(jnp.float64, (delta, 0.4, net, by, 0.0, 2 * TIE_TOL)))
        return float(closed_form_value(alpha, t, 0.02))

    for mode, cross, delta in (("drop", 1 / 7, 0.5), ("misfire", 1 / 14, 0.0)):
        for sigma, doubling_wins in ((cross * 0.9, True), (cross * 1.1, False)):
            small, big = closed(0.4, sigma, mode, delta), closed(0.8, 4 * sigma, mode, delta)
            assert (big > small) == doubling_wins, (mode, sigma)


def _sizes_below(alpha):
    """A grid of sizes strictly below ``alpha`` (all of [0, 1) when unreachable)."""
    if not np.isfinite(alpha):
        return np.linspace(0, 0.999, 400)
    return np.linspace(0, alpha, 200, endpoint=False) if alpha > 0 else np.zeros(0)


@given(worlds(max_points=10), st.sampled_from([0.5, 0.8, 1.0]), EPS, READING)
def test_staircase_critical_mass_is_the_smallest(rw, target, eps, reading):
    rng, world = rw
    c = random_collective(rng, world, "c", 0.0, ALL)
    alpha = critical_mass(world, c, target, "staircase", eps, reading)
    stair = jax.vmap(lambda a: bounds.staircase(world, c.with_size(a), eps, reading))
    below = _sizes_below(alpha)
    assert np.all(np.asarray(stair(jnp.asarray(below))) < target - 1e-12)
    if np.isfinite(alpha):
        assert float(stair(jnp.asarray([alpha + 1e-9]))[0]) >= target - 1e-12


@given(worlds(max_points=10), st.sampled_from([0.5, 0.8, 1.0]))
def test_exact_critical_mass_is_the_smallest(rw, target):
    rng, world = rw
    c = random_collective(rng, world, "c", 0.0, ALL)
    alpha = critical_mass(world, c, target, "exact")
    grid = _sizes_below(alpha)
    assert np.all(np.asarray(success(world, c, sizes=grid[:, None])) < target - 1e-12)
    if np.isfinite(alpha):
        assert float(success(world, c, sizes=[[alpha + 1e-9]])[0, 0]) >= target - 1e-12


@given(worlds(max_points=10), st.sampled_from([0.5, 0.9]), st.sampled_from([0.0, 0.02]))
def test_critical_masses_are_ordered(rw, target, eps):
    """Bounds below the oracle, all increasing (feature-label, ε = 0): exact <= staircase <= closed."""
    rng, world = rw
    c = random_collective(rng, world, "c", 0.0, ("feature_label",))
    closed = critical_mass(world, c, target, "closed_form", eps)
    stair = critical_mass(world, c, target, "staircase", eps)
    # Margins must exceed TIE_TOL, which moves a crack level by TIE_TOL/slope: allow 1e-9.
    assert stair <= closed + 1e-9
    if eps == 0.0:
        assert critical_mass(world, c, target, "exact") <= stair + 1e-9
    if np.isfinite(closed):
        assert float(bounds.closed_form(world, c.with_size(closed + 1e-9), eps)) >= target - 1e-9
        if closed > 1e-6:
            assert float(bounds.closed_form(world, c.with_size(closed - 1e-6), eps)) < target


def test_exact_critical_mass_with_eps_is_the_infimum():
    """Point a's margin 0.7α - 0.2 must exceed κ = 0.02/0.98 (plus TIE_TOL): α* = 0.2204/0.7."""
    world = World(points=["a", "b"], labels=["no", "yes"], base=[[0.3, 0.1], [0.2, 0.2]],
                  landing={"g": [[0.5, 0.0], [0.3, 0.2]]})
    c = Collective("c", 0.0, "g", target="yes")
    alpha = critical_mass(world, c, 1.0, "exact", eps=0.02)
    assert alpha == pytest.approx((0.02 / 0.98 + 0.2) / 0.7, abs=1e-11)
    values = success(world, c, 0.02, sizes=[[alpha - 1e-9], [alpha + 1e-9]])[:, 0]
    assert float(values[0]) < 1.0 and float(values[1]) == 1.0


def test_published_form_without_noise():
    """Noiseless feature-label: 1 - ((1-α)/α) Δ ξ - κ/α [HMMZ23 Thm 1] (Δ = 0.5, ξ = 0.8 here)."""
    world = World(points=["a", "b"], labels=["no", "yes"], base=[[0.3, 0.1], [0.2, 0.2]],
                  landing={"g": [[0.5, 0.0], [0.3, 0.2]]})
    for alpha, eps in ((0.7, 0.0), (0.9, 0.01)):
        kappa = eps / (1 - eps)
        expected = 1 - (1 - alpha) / alpha * 0.5 * 0.8 - kappa / alpha
        c = Collective("c", alpha, "g", target="yes")
        assert float(bounds.closed_form(world, c, eps)) == pytest.approx(max(expected, 0.0))


def test_feature_only_needs_more_than_feature_label():
    world = World(points=["a", "b"], labels=["no", "yes"], base=[[0.3, 0.1], [0.2, 0.2]],
                  landing={"g": [[0.3, 0.2], [0.2, 0.3]]})
    fl = Collective("c", 0.0, "g", target="yes")
    fo = fl.replace(strategy="feature_only", variant="gbj")
    assert critical_mass(world, fo, 0.9, "closed_form") > critical_mass(world, fl, 0.9, "closed_form")
    assert critical_mass(world, fo, 1.0, "staircase") > critical_mass(world, fl, 1.0, "staircase")


def test_hardt_staircase_can_fall_with_size():
    """Finding: feature-only "hardt" moves members with y = ℓ away from x̃ while the unmoved keep
    rival mass there, so a point the base wins for ℓ can be lost as α grows, even at ε = 0."""
    world = World(points=["x", "z"], labels=["no", "yes"], base=[[0.2, 0.3], [0.1, 0.0]],
                  landing={"g": [[0.05, 0.05], [0.05, 0.85]]})
    c = Collective("c", 0.0, "g", target="yes", strategy="feature_only", variant="hardt")
    small, large = (float(bounds.staircase(world, c.with_size(a))) for a in (0.2, 0.9))
    assert small == pytest.approx(1.0) and large == pytest.approx(0.9)


def test_vmap_and_jit_equal_loop():
    world = World(points=["a", "b"], labels=["no", "yes"], base=[[0.3, 0.1], [0.2, 0.2]],
                  landing={"g": [[0.5, 0.0], [0.3, 0.2]]})
    c = Collective("c", 0.0, "g", target="yes")
    sizes = jnp.linspace(0, 0.95, 17)
    for bound in (bounds.staircase, bounds.closed_form):
        vm = jax.jit(jax.vmap(lambda a, bound=bound: bound(world, c.with_size(a), 0.01)))(sizes)
        loop = [float(bound(world, c.with_size(float(a)), 0.01)) for a in sizes]
        np.testing.assert_allclose(vm, loop, atol=1e-15)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda w, c: bounds.closed_form(w, c.replace(strategy="erase", target=(), label=None)),
         "closed form .* covers feature_label and feature_only"),
        (lambda w, c: bounds.staircase(w, c, eps=0.7, reading="tv"), r"outside \[0, 0.5\)"),
        (lambda w, c: critical_mass(w, c, 1.5), r"target_success: 1.5 is outside \(0, 1\]"),
        (lambda w, c: critical_mass(w, c, 0.9, bound="stair"), "did you mean 'staircase'"),
        (lambda w, c: bounds.staircase(w, c.replace(signal="nope")), "signal: unknown value 'nope'"),
        (lambda w, c: bounds.staircase(w, c.replace(target=("maybe",), label=None)),
         "label: unknown value 'maybe'"),
        (lambda w, c: bounds.crack_intervals(w, c, 0.0, labels="targets"),
         "labels: unknown value 'targets'.*did you mean 'target'"),
    ],
)
def test_bad_input(call, match):
    world = World(points=["a"], labels=["no", "yes"], base=[[0.3, 0.1]], landing={"g": [[0.5, 0.5]]})
    with pytest.raises(ACAInputError, match=match):
        call(world, Collective("c", 0.2, "g", target="yes"))
