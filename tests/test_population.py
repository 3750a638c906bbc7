"""Single-collective population bounds: soundness against the oracle, monotonicity, critical mass."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from aca_games import ACAInputError, Collective, World, bounds, critical_mass, success, testing
from aca_games._knapsack import TIE_TOL
from aca_games.bounds.population import ClosedFormTerms, closed_form_critical_mass, closed_form_value

PLANTING = ("feature_label", "feature_only")


def oracle(world, c, eps=0.0, reading="huber"):
    return float(success(world, c, eps, reading)[0])


@given(testing.instances())
def test_staircase_is_sound(inst):
    testing.assert_sound(bounds.staircase, *inst.alone)


@given(testing.instances(strategies=PLANTING))
def test_closed_form_is_sound(inst):
    testing.assert_sound(bounds.closed_form, *inst.alone)


@given(testing.instances(strategies=PLANTING, eps=(0.0,), max_targets=1))
def test_staircase_equals_oracle_at_zero_eps(inst):
    """THEORY §3.1: with one target label and ε = 0 the staircase is the oracle (any strategy
    planting that label, any noise)."""
    world, c, _, _ = inst.alone
    assert float(bounds.staircase(world, c)) == pytest.approx(oracle(world, c), abs=1e-12)


@given(testing.instances(strategies=PLANTING))
def test_closed_form_increasing_in_size(inst):
    testing.assert_monotone(bounds.closed_form, "size", +1, *inst.alone)
    world, c, eps, reading = inst.alone
    f = lambda a: bounds.closed_form(world, c.with_size(a), eps, reading)  # noqa: E731
    sizes = jnp.linspace(0.01, 0.99, 50)
    values, grads = (np.asarray(jax.vmap(g)(sizes)) for g in (f, jax.grad(f)))
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


@given(testing.instances(strategies=("feature_label",)))
def test_bounds_decrease_with_noise(inst):
    """THEORY §4: ↓ in σ, every mode. The staircase only at ε = 0: at ε > 0 it may fall as the
    effective size grows, so it may also rise with drop noise."""
    testing.assert_monotone(bounds.closed_form, "noise", -1, *inst.alone)
    world, c, _, _ = inst.alone
    testing.assert_monotone(bounds.staircase, "noise", -1, world, c)


def test_twice_the_size_four_times_the_noise():
    """THEORY §3.3: under drop the training mass depends on α(1-σ) only, so doubling the size with
    four times the noise loses exactly when σ > 1/7. Under misfire the net planted rate is
    α(1-2σ): with no base resistance (Δξ = 0) the closed form depends on it alone -> 1/14."""
    world = World(points=["a", "b"], labels=["no", "yes"], base=[[0.3, 0.1], [0.2, 0.2]],
                  landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
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


@given(testing.instances(), st.sampled_from([0.5, 0.8, 1.0]))
def test_staircase_critical_mass_is_the_smallest(inst, target):
    world, c, eps, reading = inst.alone
    alpha = critical_mass(world, c, target, "staircase", eps, reading)
    stair = jax.vmap(lambda a: bounds.staircase(world, c.with_size(a), eps, reading))
    below = _sizes_below(alpha)
    assert np.all(np.asarray(stair(jnp.asarray(below))) < target - 1e-12)
    if np.isfinite(alpha):
        assert float(stair(jnp.asarray([alpha + 1e-9]))[0]) >= target - 1e-12


@given(testing.instances(eps=(0.0,)), st.sampled_from([0.5, 0.8, 1.0]))
def test_exact_critical_mass_is_the_smallest(inst, target):
    world, c, _, _ = inst.alone
    alpha = critical_mass(world, c, target, "exact")
    grid = _sizes_below(alpha)
    assert np.all(np.asarray(success(world, c, sizes=grid[:, None])) < target - 1e-12)
    if np.isfinite(alpha):
        assert float(success(world, c, sizes=[[alpha + 1e-9]])[0, 0]) >= target - 1e-12


@given(testing.instances(strategies=("feature_label",), eps=(0.0, 0.02), readings=("huber",)),
       st.sampled_from([0.5, 0.9]))
def test_critical_masses_are_ordered(inst, target):
    """Bounds below the oracle, all increasing (feature-label, ε = 0): exact <= staircase <= closed.
    At ε > 0 the staircase may need more than the closed form (see the test below)."""
    world, c, eps, _ = inst.alone
    closed = critical_mass(world, c, target, "closed_form", eps)
    if eps == 0.0:
        stair = critical_mass(world, c, target, "staircase")
        # Margins must exceed TIE_TOL, which moves a crack level by TIE_TOL/slope: allow 1e-9.
        assert critical_mass(world, c, target, "exact") <= stair + 1e-9 <= closed + 2e-9
    if np.isfinite(closed):
        assert float(bounds.closed_form(world, c.with_size(closed + 1e-9), eps)) >= target - 1e-9
        if closed > 1e-6:
            assert float(bounds.closed_form(world, c.with_size(closed - 1e-6), eps)) < target


def test_closed_form_can_need_less_than_the_staircase_at_positive_eps():
    """Found by the kit: the staircase asks every point to clear the whole slack κ, the closed
    form lets the failed points share it (Σ s <= κ). At ε = 0.02 (huber) the closed form reaches
    0.5 at α = 0.188, the staircase only at 0.204; both stay below the oracle."""
    world = World(points=["x0", "x1", "x2"], labels=["y0", "y1"], base=[[0.0, 1 / 11], [0, 0], [0, 0]],
                  landing={"g": [[0.0, 5 / 11], [0.0, 1 / 11], [0.0, 5 / 11]]})
    c = Collective("c", 0.0, "g", target="y0")
    closed = critical_mass(world, c, 0.5, "closed_form", 0.02)
    stair = critical_mass(world, c, 0.5, "staircase", 0.02)
    assert closed == pytest.approx(0.18838, abs=1e-5) and stair == pytest.approx(0.20408, abs=1e-5)
    between = c.with_size(0.19)
    closed_value = float(bounds.closed_form(world, between, 0.02))
    assert float(bounds.staircase(world, between, 0.02)) < 0.5 <= closed_value <= oracle(world, between, 0.02)


def test_exact_critical_mass_with_eps_is_the_infimum():
    """Point a's margin 0.7α - 0.2 must exceed κ = 0.02/0.98 (plus TIE_TOL): α* = 0.2204/0.7."""
    world = World(points=["a", "b"], labels=["no", "yes"], base=[[0.3, 0.1], [0.2, 0.2]],
                  landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
    c = Collective("c", 0.0, "g", target="yes")
    alpha = critical_mass(world, c, 1.0, "exact", eps=0.02)
    assert alpha == pytest.approx((0.02 / 0.98 + 0.2) / 0.7, abs=1e-11)
    values = success(world, c, 0.02, sizes=[[alpha - 1e-9], [alpha + 1e-9]])[:, 0]
    assert float(values[0]) < 1.0 and float(values[1]) == 1.0


def test_published_form_without_noise():
    """Noiseless feature-label: 1 - ((1-α)/α) Δ ξ - κ/α [HMMZ23 Thm 1] (Δ = 0.5, ξ = 0.8 here)."""
    world = World(points=["a", "b"], labels=["no", "yes"], base=[[0.3, 0.1], [0.2, 0.2]],
                  landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
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
                  landing={"g": [[0.05, 0.05], [0.25, 0.65]]})
    c = Collective("c", 0.0, "g", target="yes", strategy="feature_only", variant="hardt")
    small, large = (float(bounds.staircase(world, c.with_size(a))) for a in (0.2, 0.9))
    assert small == pytest.approx(1.0) and large == pytest.approx(0.9)


def test_vmap_and_jit_equal_loop():
    world = World(points=["a", "b"], labels=["no", "yes"], base=[[0.3, 0.1], [0.2, 0.2]],
                  landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
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


def test_closed_form_critical_mass_on_the_host_equals_the_device():
    """numpy terms are evaluated by numpy (no XLA program): bit for bit the values of the same
    formula on JAX arrays, eagerly and under jit, including the infinite (never reached) cases."""
    rng = np.random.default_rng(7)
    scale = np.array([[0.2], [1.0], [1.0], [1.0], [0.05], [1e-6]])  # delta, xi, nu, b, h*Gamma, ties
    cols = rng.random((len(ClosedFormTerms._fields), 64)) * scale
    cols[2, :8] = 0.0  # no net rate: never reached (inf)
    host = ClosedFormTerms(*cols)
    device = ClosedFormTerms(*map(jnp.asarray, cols))
    for kappa, target in ((0.0, 0.5), (0.02, 0.9), (0.1, 1.0)):
        on_host = closed_form_critical_mass(host, kappa, target)
        assert isinstance(on_host, np.ndarray)
        eager = np.asarray(closed_form_critical_mass(device, kappa, target))
        jitted = np.asarray(jax.jit(closed_form_critical_mass)(device, kappa, target))
        assert np.isinf(on_host[:8]).all() and (target == 1.0 or np.isfinite(on_host).any())
        np.testing.assert_array_equal(on_host, eager)
        np.testing.assert_array_equal(np.isinf(on_host), np.isinf(jitted))
        np.testing.assert_allclose(on_host, jitted, rtol=1e-14)
