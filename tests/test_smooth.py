"""Smooth surrogates converge to their exact bounds as τ -> 0 and have correct gradients (THEORY §3.6)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given

from aca_games import ACAInputError, Collective, World, bounds, plant_all, success, testing
from aca_games._knapsack import margins
from aca_games.bounds import smooth
from aca_games.bounds.population import planted_margins
from aca_games.learner import slack
from aca_games.planting import training_mass

PLANTING = ("feature_label", "feature_only")


def _far_from_threshold(world, c, eps, reading, gap):
    """True when every planted-label margin on the signal set is at least ``gap`` from the slack."""
    m = np.asarray(planted_margins(world, c, c.size))
    m = m[np.isfinite(m) & (np.asarray(world.landing_mass(c.signal)) > 0)]
    return not np.any(np.abs(m - float(slack(eps, reading))) < gap)


@given(testing.instances(strategies=PLANTING, noise=False, eps=(0.0, 0.02)))
def test_smooth_staircase_converges(inst):
    world, c, eps, reading = inst.alone
    assume(_far_from_threshold(world, c, eps, reading, gap=1e-3))
    exact = float(bounds.staircase(world, c, eps, reading))
    errors = [
        abs(float(smooth.smooth_success(world, c, tau, eps, reading, planted_label_only=True)[0]) - exact)
        for tau in (1e-3, 1e-4, 1e-5)
    ]
    assert errors[-1] < 1e-9 and errors[0] >= errors[-1]


@given(testing.instances(n_collectives=(1, 2, 3), strategies=("feature_label",), noise=False, eps=(0.0,)))
def test_smooth_success_converges_to_oracle(inst):
    world, cs, _, _ = inst
    sizes = np.array([float(c.size) for c in cs])
    p = plant_all(world, cs)
    P = training_mass(world.base, jnp.asarray(sizes), p.planted)
    margin = np.asarray(jax.vmap(margins, in_axes=(None, 0))(P, p.target))  # (K, P)
    on_signal = np.asarray(p.landing) > 0
    clear = ~np.any(on_signal & (np.abs(margin) < 1e-4), axis=1)  # collectives with no near-tie
    assume(clear.any())
    error = np.abs(np.asarray(smooth.smooth_success(world, cs, 1e-7)) - np.asarray(success(world, cs)))
    assert np.all(error[clear] < 1e-9)


@given(testing.instances(n_collectives=(2,), strategies=PLANTING, readings=("huber",)))
def test_smooth_closed_forms_converge(inst):
    world, cs, eps, _ = inst
    c = cs[0]
    exact = float(bounds.closed_form(world, c, eps))
    assert abs(float(smooth.smooth_closed_form(world, c, 1e-9, eps)) - exact) < 1e-8
    np.testing.assert_allclose(
        smooth.smooth_multi_closed_form(world, cs, 1e-9, eps),
        bounds.multi_closed_form(world, cs, eps),
        atol=1e-8,
    )


def test_gradients_match_finite_differences():
    world = World(
        points=["a", "b", "c"],
        labels=["n", "y", "m"],
        base=[[0.2, 0.1, 0.05], [0.1, 0.1, 0.1], [0.05, 0.0, 0.2]],
        landing={
            "g": [[0.2, 0.1, 0.1], [0.1, 0.1, 0.2], [0.1, 0.0, 0.1]],
            "h": [[0.0, 0.0, 0.0], [0.2, 0.1, 0.2], [0.2, 0.1, 0.2]],
        },
    )
    cs = [Collective("i", 0.3, "g", target="y"), Collective("j", 0.1, "h", target=["n", "m"], label="m")]
    sizes = jnp.asarray([0.3, 0.1])
    fns = {
        "success": lambda a: smooth.smooth_success(world, cs, 0.05, sizes=a),
        "per_point": lambda a: smooth.smooth_success(world, cs, 0.05, 0.01, planted_label_only=True, sizes=a),
        "b1": lambda a: smooth.smooth_multi_closed_form(world, cs, 0.05, sizes=a),
    }
    for name, f in fns.items():
        jac = np.asarray(jax.jacfwd(f)(sizes))
        h = 1e-6
        fd = np.stack(
            [(np.asarray(f(sizes + h * e)) - np.asarray(f(sizes - h * e))) / (2 * h) for e in np.eye(2)],
            axis=1,
        )
        np.testing.assert_allclose(jac, fd, rtol=1e-5, atol=1e-7, err_msg=name)
        assert np.any(np.abs(jac) > 1e-6), f"{name}: the surrogate must carry gradient"
    c = cs[0]
    g = float(jax.grad(lambda a: smooth.smooth_closed_form(world, c.with_size(a), 0.05))(0.4))
    fd = (
        float(smooth.smooth_closed_form(world, c.with_size(0.4 + 1e-6), 0.05))
        - float(smooth.smooth_closed_form(world, c.with_size(0.4 - 1e-6), 0.05))
    ) / 2e-6
    assert g == pytest.approx(fd, rel=1e-5)


def test_surrogate_can_exceed_the_guarantee():
    """A surrogate is a payoff, not a guarantee: just below a crack it already pays out."""
    world = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.1]], landing={"g": [[0.5, 0.5]]})
    c = Collective("c", 0.0, "g", target="y")
    crack = 0.2 / 1.2  # α m - (1-α) d = 0 with m = 1, d = 0.2
    below = c.with_size(crack - 1e-3)
    assert float(bounds.staircase(world, below)) == 0.0
    assert float(smooth.smooth_success(world, below, 0.05)[0]) > 0.0


@pytest.mark.parametrize("tau", [0.0, -1.0, float("nan")])
def test_bad_temperature(tau):
    world = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.1]], landing={"g": [[0.5, 0.5]]})
    with pytest.raises(ACAInputError, match="tau"):
        smooth.smooth_success(world, Collective("c", 0.2, "g", target="y"), tau)


def test_soft_clip_tends_to_the_clip_on_both_sides():
    """``τ softplus(x/τ) - τ softplus((x-1)/τ)`` -> ``clip(x, 0, 1)`` as ``τ -> 0``: within ``τ log 2``
    at the kinks 0 and 1, and to rounding a quarter away from them."""
    away, kinks = np.array([-1.0, 0.25, 0.5, 0.75, 2.0]), np.array([0.0, 1.0])
    np.testing.assert_allclose(np.asarray(smooth.soft_clip01(away, 1e-3)), np.clip(away, 0, 1), atol=1e-12)
    gap = np.abs(np.asarray(smooth.soft_clip01(kinks, 1e-3)) - kinks)
    assert np.all(gap <= 1e-3 * np.log(2) + 1e-15)
