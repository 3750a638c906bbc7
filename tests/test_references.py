"""Closed-form terms, conflict masses and the bounds built on them against independent references
(``tests/references/bounds.py``: plain numpy from THEORY.md, no library code).

Instances come from :mod:`aca_games.testing`, drawn where the bounds bite (sizes at and around
crack levels and critical masses, rivals on several points of a collective's signal set, noise in
every mode). Each test also counts its non-trivial examples (a bound strictly between 0 and 1, a
conflict spread over several points) and fails if too few occurred, so no comparison is 0 vs 0.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given
from references import bounds as ref

from aca_games import bounds, critical_masses, slack, success, testing
from aca_games.bounds.finite_sample import STRATEGIES as FINITE_SAMPLE_STRATEGIES
from aca_games.collective import NOISE_MODES

PLANTING = ("feature_label", "feature_only")
#: Below this planting rate ``α ν`` (for B2, the bloc margin ``μ``) a ratio bound is decided by the
#: tie rule, not by the formula (margins of order 1e-12), or its value by rounding in the
#: denominator (a bloc of two rivals differing by 5e-12 in size): the value comparisons skip it.
RATE_FLOOR = 1e-3
#: Ratio bounds agree with their references to this (their terms to 1e-12).
VALUE_TOL = 1e-7


def _run(strategy, check):
    """Run ``check`` on every example of ``strategy``; return what it returned, per example."""
    seen = []

    @given(strategy)
    def run(inst):
        seen.append(check(inst))

    run()
    return np.array(seen, dtype=float)


def _nontrivial(x):
    return (x > 1e-9) & (x < 1 - 1e-9)


#: Besides the drawn size, each ratio bound is compared where its reference equals these values
#: (sizes found by bisection on the reference), so every comparison can be non-trivial.
GOALS = (0.25, 0.75)


def _solve(f, goal, room):
    """A size in ``(0, room)`` where the non-decreasing ``f`` crosses ``goal``, or ``None``."""
    lo, hi = 1e-9, room
    if not f(lo) < goal < f(hi):
        return None
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) < goal else (lo, mid)
    return hi


def _with_first_size(cs, alpha):
    return [cs[0].with_size(alpha), *cs[1:]]


def _room(cs):
    return 0.999 - sum(float(c.size) for c in cs[1:])


def _planting_rate(world, cs):
    return float(cs[0].size) * ref.terms(world, cs[0])["net_rate"]


def _compare_at_goals(library, reference, inst, rate=_planting_rate):
    """Compare ``library`` and ``reference`` (functions of the collectives, first output) at the
    drawn sizes and where the reference reaches each of :data:`GOALS`, where the bound's ``rate``
    (its denominator) is at least :data:`RATE_FLOOR`; return whether some comparison had a value
    strictly inside (0, 1)."""
    cs = list(inst.collectives)
    sizes = [float(cs[0].size)]
    sizes += [a for goal in GOALS
              if (a := _solve(lambda x: reference(_with_first_size(cs, x)), goal, _room(cs))) is not None]
    values = []
    for alpha in sizes:
        moved = _with_first_size(cs, alpha)
        if rate(inst.world, moved) < RATE_FLOOR:
            continue  # decided by the tie rule, or by rounding in a tiny denominator
        value = library(moved)
        assert value == pytest.approx(reference(moved), abs=VALUE_TOL), (alpha, value, reference(moved))
        values.append(value)
    return bool(np.any(_nontrivial(np.array(values))))


def _run_per_mode(instances, check) -> dict[str, np.ndarray]:
    """:func:`_run` once per noise mode, with noise forced on (so every mode is exercised)."""
    return {mode: _run(instances(noise_modes=(mode,), min_noise=0.05), check) for mode in NOISE_MODES}


def _assert_bites(seen: dict[str, np.ndarray], what: str):
    """Over all modes, a fair share of examples had a non-trivial comparison; in each mode, some."""
    assert np.concatenate(list(seen.values())).mean() >= 0.3, f"{what} strictly inside (0, 1) too rarely"
    for mode, bits in seen.items():
        assert bits.any() or len(bits) < 20, f"{what}: no non-trivial example under {mode} noise"


def test_closed_form_terms_and_value_match_the_reference():
    """Terms are compared exactly on every example (ν under misfire, hΓ of feature-only hardt...);
    values at the drawn size and where the reference reaches 0.25 and 0.75."""

    def check(inst):
        world, c, eps, reading = inst.alone
        t = bounds.closed_form_terms(world, c)._asdict()
        for name, value in ref.terms(world, c).items():
            assert float(t[name]) == pytest.approx(value, abs=1e-12), name
        return _compare_at_goals(lambda cs: float(bounds.closed_form(world, cs[0], eps, reading)),
                                 lambda cs: ref.closed_form(world, cs[0], eps, reading), inst)

    instances = functools.partial(testing.instances, strategies=PLANTING)
    _assert_bites(_run_per_mode(instances, check), "closed form")


def test_closed_form_critical_mass_is_where_the_reference_crosses_the_target():
    """``α* = (Δξ + κ + |X*|τ) / (ν(1-S*) + bΔξ - hΓξ)`` against a bisection on the reference
    bound, in every noise mode (``b`` under drop, ``ν`` under misfire, ``hΓ`` of hardt)."""

    def check(inst):
        world, c, eps, reading = inst.alone
        bites = False
        for goal in GOALS:
            alpha = float(critical_masses(world, [c], goal, "closed_form", eps, reading)[0])
            bound = lambda x: ref.closed_form(world, c.with_size(x), eps, reading)  # noqa: E731
            crossing = _solve(bound, goal, 0.999)
            if crossing is None:
                assert alpha >= 0.999 - 1e-9 or bound(1e-9) >= goal
                continue
            assert alpha == pytest.approx(crossing, rel=1e-6, abs=1e-9)
            bites = True
        return bites

    instances = functools.partial(testing.instances, strategies=PLANTING)
    _assert_bites(_run_per_mode(instances, check), "closed-form critical mass")


def test_conflict_mass_and_b1_match_the_reference():
    def check(inst):
        world, cs, eps, reading = inst
        rho = np.asarray(bounds.conflict_mass(world, cs))
        np.testing.assert_allclose(rho, ref.conflict_matrix(world, cs), atol=1e-12)
        bit = _compare_at_goals(lambda cs: float(bounds.multi_closed_form(world, cs, eps, reading)[0]),
                                lambda cs: ref.b1(world, cs, eps, reading)[0], inst)
        # a rival with positive size whose conflicting planting covers >= 2 points of c0's signal set
        spread = any(_conflict_points(inst, cs[0], d) >= 2 and float(d.size) > 0 for d in cs[1:])
        return bit, spread, spread and bit

    seen = _run(testing.instances(n_collectives=(2, 3, 4), strategies=PLANTING), check)
    # ~0.55 of 25 examples bite on average (30 seeds: 0.32-0.76; one seed of a CI run gave 0.2)
    assert seen[:, 0].mean() >= 0.15, "B1 strictly inside (0, 1) too rarely"
    assert seen[:, 1].mean() >= 0.3, "rivals conflicting on several points too rarely"
    assert seen[:, 2].any() or len(seen) < 20, "never a non-trivial B1 with a multi-point conflict"


def _conflict_points(inst, i, j):
    """On how many points of ``i``'s signal set ``j`` plants more on a rival label than on ``ℓ_i``."""
    mass = np.asarray(inst.world.landing[i.signal]).sum(axis=1)
    E = ref.planted(inst.world, j)
    labels, targets = ref.planted_labels(inst.world, i), ref.target_sets(inst.world, i)
    return sum(
        any(E[x, y] > E[x, labels[x]] + 1e-12 for y in range(E.shape[1]) if y not in targets[x])
        for x in np.flatnonzero(mass > 0)
    )


def test_bloc_matches_the_reference():
    def check(inst):
        world, cs, eps, reading = inst
        clear = [c.strategy != "feature_label" or ref.bloc_margin(world, cs, c)[2] >= RATE_FLOOR for c in cs]
        np.testing.assert_allclose(np.asarray(bounds.bloc(*inst))[clear], ref.b2(*inst)[clear],
                                   atol=VALUE_TOL)
        return _compare_at_goals(lambda cs: float(bounds.bloc(world, cs, eps, reading)[0]),
                                 lambda cs: ref.b2(world, cs, eps, reading)[0], inst,
                                 rate=lambda world, cs: ref.bloc_margin(world, cs, cs[0])[2])

    instances = functools.partial(testing.instances, n_collectives=(2, 3), strategies=("feature_label",),
                                  rival_strategies=PLANTING, shared_signal=True)
    _assert_bites(_run_per_mode(instances, check), "B2")


def test_per_point_bounds_match_the_reference():
    def check(inst):
        cs = list(inst.collectives)
        kappa = ref.slack(inst.eps, inst.reading)
        expected = ref.per_point(inst.world, cs, [float(c.size) for c in cs], kappa)
        np.testing.assert_allclose(np.asarray(bounds.per_point(*inst)), expected, atol=1e-12)
        alone = ref.per_point(inst.world, cs[:1], [float(cs[0].size)], kappa)[0]
        assert float(bounds.staircase(*inst.alone)) == pytest.approx(alone, abs=1e-12)
        return _nontrivial(expected[0]) or _nontrivial(alone)

    seen = _run(testing.instances(n_collectives=(1, 2, 3)), check)
    assert seen.mean() >= 0.15, "per-point bounds strictly inside (0, 1) too rarely"


def test_bayes_oracle_is_the_reference_staircase_for_one_target_label():
    """THEORY §3.1: with ``T = {ℓ}`` and ``ε = 0`` the per-point form is the oracle (a tie
    fails). Sizes are drawn at crack levels, where margins are exactly zero."""

    def check(inst):
        cs = [c.replace(target=(c.label,)) for c in inst.collectives]
        expected = ref.per_point(inst.world, cs, [float(c.size) for c in cs], 0.0)
        np.testing.assert_allclose(np.asarray(success(inst.world, cs)), expected, atol=1e-12)
        return _nontrivial(expected[0])

    seen = _run(testing.instances(n_collectives=(1, 2), strategies=PLANTING, eps=(0.0,)), check)
    assert seen.mean() >= 0.15, "oracle strictly inside (0, 1) too rarely"


def test_union_delta_matches_the_reference():
    def check(world):
        for strategy in FINITE_SAMPLE_STRATEGIES:
            assert float(bounds.union_delta(world, strategy, 0.1)) == pytest.approx(
                ref.union_delta(world, strategy, 0.1), rel=1e-14
            ), strategy
        return 1.0

    _run(testing.worlds(), check)


def test_slack_matches_the_reference():
    for reading in ("tv", "huber"):
        for eps in (0.0, 0.01, 0.2, 0.45):
            assert float(slack(eps, reading)) == pytest.approx(ref.slack(eps, reading), rel=1e-15)
