"""Closed-form terms, conflict masses and the bounds built on them against independent references
(``tests/references/bounds.py``: plain numpy from THEORY.md, no library code).

Instances come from :mod:`aca_games.testing`, drawn where the bounds bite (sizes at and around
crack levels and critical masses, rivals on several points of a collective's signal set, noise in
every mode). Each test also counts its non-trivial examples (a bound strictly between 0 and 1, a
conflict spread over several points) and fails if too few occurred, so no comparison is 0 vs 0.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from references import bounds as ref

from aca_games import bounds, slack, success, testing
from aca_games.bounds.finite_sample import STRATEGIES as FINITE_SAMPLE_STRATEGIES

PLANTING = ("feature_label", "feature_only")
#: Below this planting rate ``α ν`` a ratio bound is decided by the tie rule, not by the formula
#: (margins of order 1e-12): the value comparisons skip it.
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


def test_closed_form_terms_and_value_match_the_reference():
    def check(inst):
        c = inst.collectives[0]
        t = bounds.closed_form_terms(inst.world, c)._asdict()
        expected = ref.terms(inst.world, c)
        for name, value in expected.items():
            assert float(t[name]) == pytest.approx(value, abs=1e-12), name
        value = float(bounds.closed_form(*inst.alone))
        if float(c.size) * expected["net_rate"] >= RATE_FLOOR:
            assert value == pytest.approx(ref.closed_form(*inst.alone), abs=VALUE_TOL)
        misfire = c.noise_mode == "misfire" and float(c.noise) > 0
        return _nontrivial(value), misfire and _nontrivial(value), float(t["resistance"]) > 0

    seen = _run(testing.instances(strategies=PLANTING), check)
    assert seen[:, 0].mean() >= 0.15, "closed form strictly inside (0, 1) too rarely"
    assert seen[:, 1].any() or len(seen) < 20, "no non-trivial closed form under misfire noise"
    assert seen[:, 2].any() or len(seen) < 20, "no feature-only hardt resistance drawn"


def test_conflict_mass_and_b1_match_the_reference():
    def check(inst):
        cs = list(inst.collectives)
        rho = np.asarray(bounds.conflict_mass(inst.world, cs))
        np.testing.assert_allclose(rho, ref.conflict_matrix(inst.world, cs), atol=1e-12)
        value = np.asarray(bounds.multi_closed_form(*inst))
        expected = ref.b1(*inst)
        rates = [float(c.size) * ref.terms(inst.world, c)["net_rate"] if c.strategy in PLANTING else 1.0
                 for c in cs]
        checked = np.array(rates) >= RATE_FLOOR
        np.testing.assert_allclose(value[checked], expected[checked], atol=VALUE_TOL)
        # a rival whose conflicting planting covers two or more points of c0's signal set
        spread = any(_conflict_points(inst, cs[0], d) >= 2 for d in cs[1:])
        return _nontrivial(value[0]), spread, spread and _nontrivial(value[0])

    seen = _run(testing.instances(n_collectives=(2, 3, 4), strategies=PLANTING), check)
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
        value = np.asarray(bounds.bloc(*inst))
        expected = ref.b2(*inst)
        np.testing.assert_allclose(value, expected, atol=VALUE_TOL)
        dropped = any(c.noise_mode == "drop" and float(c.noise) > 0 for c in inst.collectives)
        return _nontrivial(value[0]), dropped and _nontrivial(value[0])

    strategy = testing.instances(n_collectives=(2, 3), strategies=("feature_label",),
                                 rival_strategies=PLANTING, shared_signal=True)
    seen = _run(strategy, check)
    assert seen[:, 0].mean() >= 0.15, "B2 strictly inside (0, 1) too rarely"
    assert seen[:, 1].any() or len(seen) < 20, "no non-trivial bloc with drop-noise members"


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
