"""One tie rule everywhere (THEORY §4): a margin <= TIE_TOL is a tie, i.e. a failure.

Each test builds a world where some margin lies in ``(0, TIE_TOL]``, so the exact oracle counts a
failure there, and checks that a bound does not count a win. Before the tie rule was applied to the
ratio bounds they exceeded the oracle by up to 1.0 on these worlds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from aca_games import Collective, World, bounds, critical_mass, success
from aca_games._knapsack import TIE_TOL
from aca_games.beliefs import Beliefs
from aca_games.bounds.finite_sample import point_bounds, rules, union_delta

#: One point, no base mass: a collective of size α has margin exactly α (feature-label).
EMPTY = World(points=["a"], labels=["n", "y"], base=[[0.0, 0.0]], landing={"g": [[0.25, 0.75]]})
#: Three points, no base mass: margins α·m(x̃) with m = (0.3, 0.3, 0.4).
EMPTY3 = World(
    points=["a", "b", "c"], labels=["n", "y"], base=np.zeros((3, 2)),
    landing={"g": [[0.1, 0.2], [0.1, 0.2], [0.2, 0.2]]},
)


def test_closed_form_counts_a_tie_as_a_failure():
    """The issue's example: size 1e-12, margin 1e-12 is a tie; the closed form said 1.0."""
    c = Collective("c", 1e-12, "g", target="y")
    assert float(success(EMPTY, c)[0]) == 0.0
    assert float(bounds.closed_form(EMPTY, c)) <= 0.0
    assert float(bounds.smooth.smooth_closed_form(EMPTY, c, tau=1e-9)) < 0.5


def test_closed_form_allows_a_tie_at_every_failed_point():
    """Every point of X* ties (margins 0.75e-12, 0.75e-12, 1e-12): the allowance must be
    |X*|·TIE_TOL, one TIE_TOL (0.6 here) is not enough."""
    c = Collective("c", 2.5e-12, "g", target="y")
    assert float(success(EMPTY3, c)[0]) == 0.0
    assert float(bounds.closed_form(EMPTY3, c)) <= 0.0
    assert float(bounds.multi_closed_form(EMPTY3, [c])[0]) <= 0.0
    assert float(bounds.bloc(EMPTY3, [c])[0]) <= 0.0
    # and the allowance vanishes relative to real margins: 1 - 3e-12/α
    big = c.with_size(0.5)
    assert float(bounds.closed_form(EMPTY3, big)) == pytest.approx(1.0 - 3 * TIE_TOL / 0.5, abs=1e-15)


def _rivals():
    """i plants 'y' with 2e-12, j plants 'n' with 1e-12 on the same point: i's margin is 1e-12."""
    return [Collective("i", 2e-12, "g", target="y"), Collective("j", 1e-12, "g", target="n")]


def test_b1_counts_a_tie_as_a_failure():
    cs = _rivals()
    assert float(success(EMPTY, cs)[0]) == 0.0
    assert float(bounds.multi_closed_form(EMPTY, cs)[0]) <= 0.0  # was 0.5


def test_bloc_counts_a_tie_as_a_failure():
    cs = _rivals()
    assert float(bounds.bloc(EMPTY, cs)[0]) <= 0.0  # was 1.0


def test_robust_aggregate_tier_counts_a_tie_as_a_failure():
    c = Collective("c", 1e-12, "g", target="y")
    beliefs = Beliefs.aggregate_conflict(0.0, 0.0, 0.0)
    assert float(bounds.robust(EMPTY, c, beliefs)) <= 0.0  # was 1.0


def _tied_finite_sample_world(n, N, delta, lb_target):
    """One point, feature-label on 'y', population plug-in: choose the base gap d so that the
    certificate lb = (n/N)(1 - 2R(n)) - ((N-n)/N)(d + 2R(n) + 2R(N-n)) equals ``lb_target``
    (THEORY §3.2 with P̂(x̃) = 1, κ = 0)."""
    log_term = math.log((2 + 2 + 4) / delta)  # δ̃ = δ/(2 + 2|X̃| + 2|X̃||Y|)
    R = lambda k: math.sqrt(log_term / (2 * k))  # noqa: E731
    d = ((n / N) * (1 - 2 * R(n)) - lb_target) / ((N - n) / N) - 2 * R(n) - 2 * R(N - n)
    return World(points=["a"], labels=["n", "y"], base=[[0.1 + d, 0.1]], landing={"g": [[0.5, 0.5]]})


def test_finite_sample_counts_a_tie_as_a_failure():
    n, N, delta = 100_000, 1_000_000, 0.05
    world = _tied_finite_sample_world(n, N, delta, 0.5 * TIE_TOL)
    c = Collective("c", 0.1, "g", target="y")
    r = rules(world, c)
    lb, _ = point_bounds(
        r, world.base, world.landing_table("g"), np.array([n, n, N], float),
        union_delta(world, "feature_label", delta), 0.0,
    )
    assert 0.0 < float(lb[0]) <= TIE_TOL  # the certificate's margin is a tie
    kwargs = dict(n=n, N=N, n_test=1_000_000, delta=delta)
    assert float(bounds.finite_sample(world, c, **kwargs)) == 0.0  # was 0.993
    assert float(bounds.finite_sample_multi(world, c, Beliefs.known([]), **kwargs)) == 0.0
    # a clear margin is still certified
    clear = _tied_finite_sample_world(n, N, delta, 1e-6)
    assert float(bounds.finite_sample(clear, c, **kwargs)) > 0.99


def test_closed_form_critical_mass_agrees_with_the_bound():
    """The issue's example (Δξ + κ = 0): critical_mass returned inf while the bound, before the
    tie rule, was 1 at every α > 0. With the tie rule the bound is 1 - TIE_TOL/α: it reaches any
    S* < 1 at exactly α* = TIE_TOL/(1 - S*) and never reaches 1."""
    world = World(points=["a"], labels=["n", "y"], base=[[0.1, 0.3]], landing={"g": [[0.5, 0.5]]})
    c = Collective("c", 0.0, "g", target="y")
    grid = np.linspace(1e-6, 1 - 1e-6, 50)
    values = np.array([float(bounds.closed_form(world, c.with_size(a))) for a in grid])
    for target in (1.0, 0.999, 0.5):
        alpha = critical_mass(world, c, target, bound="closed_form")
        if math.isinf(alpha):
            assert np.all(values < target)
            continue
        assert np.all(values[grid > alpha] >= target - 1e-12)
        assert np.all(values[grid < alpha] < target)
        assert float(bounds.closed_form(world, c.with_size(alpha))) == pytest.approx(target, abs=1e-12)
    assert math.isinf(critical_mass(world, c, 1.0, bound="closed_form"))
    assert critical_mass(world, c, 0.999, bound="closed_form") == pytest.approx(TIE_TOL / 0.001)


def test_every_per_point_bound_already_counts_a_tie_as_a_failure():
    """The audit: the per-point bounds compare margins with κ + TIE_TOL (regression guard)."""
    c = Collective("c", 1e-12, "g", target="y")
    assert float(bounds.staircase(EMPTY, c)) == 0.0
    assert float(bounds.per_point(EMPTY, [c])[0]) == 0.0
    assert float(bounds.robust(EMPTY, c, Beliefs.known([]))) == 0.0
    assert float(bounds.robust(EMPTY, c, Beliefs.total_mass(0.0, 0.0))) == 0.0
    assert float(bounds.bayes_exact(EMPTY, c, Beliefs.prior([(1.0, [])]))) == 0.0
    assert float(bounds.bayes_exact(EMPTY, c, Beliefs.prior([(1.0, [])]), payoff="per_point")) == 0.0
    assert TIE_TOL <= critical_mass(EMPTY, c, 1.0, "staircase") < 2 * TIE_TOL  # margin α > TIE_TOL
