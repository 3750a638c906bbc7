"""The property-testing kit (aca_games.testing): its draws bite, its checkers catch wrong bounds
and print counterexamples that reproduce when pasted."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aca_games import ACAInputError, Collective, World, bounds, slack, success, testing
from aca_games.world import split_landing


def staircase_without_slack(world, collective, eps=0.0, reading="huber"):
    """A planted bug: the staircase with the learner's slack forgotten (unsound for ε > 0)."""
    return bounds.staircase(world, collective, 0.0, reading)


def _failure(check) -> str:
    with pytest.raises(AssertionError) as info:
        check()
    return str(info.value)


def _paste(message: str) -> dict:
    namespace: dict = {}
    exec(message.split("Counterexample", 1)[1].split(":\n", 1)[1], namespace)  # our own literal
    return namespace


def test_an_unsound_bound_is_caught_and_the_counterexample_reproduces():
    @given(testing.instances(eps=(0.01, 0.05)))
    def check(inst):
        testing.assert_sound(staircase_without_slack, *inst.alone)

    message = _failure(check)
    assert "staircase_without_slack is not sound" in message
    case = _paste(message)
    with pytest.raises(AssertionError, match="is not sound"):
        testing.assert_sound(staircase_without_slack, case["world"], case["collectives"], case["eps"],
                             case["reading"])
    testing.assert_sound(bounds.staircase, case["world"], case["collectives"], case["eps"], case["reading"])


def test_a_bound_falling_with_size_is_caught_and_the_counterexample_reproduces():
    def shrinking(world, collective, eps=0.0, reading="huber"):
        return 1.0 - bounds.closed_form(world, collective, eps, reading)

    world = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.2]], landing={"g": [[0.5, 0.5]]})
    c = Collective("c", 0.5, "g", target="y")
    message = _failure(lambda: testing.assert_monotone(shrinking, "size", +1, world, c))
    assert "shrinking is not non-decreasing in size" in message
    case = _paste(message)
    pasted = case["collectives"]
    assert pasted.signal == "g" and float(pasted.size) < 0.5  # the lower size of the failing pair
    np.testing.assert_array_equal(case["world"].base, world.base)
    values = [float(shrinking(case["world"], pasted.with_size(float(pasted.size) + d))) for d in (0.0, 0.05)]
    assert values[1] < values[0]
    testing.assert_monotone(bounds.closed_form, "size", +1, world, c)  # the bound itself is fine


def test_monotone_checker_sweeps_custom_parameters():
    world = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.2]], landing={"g": [[0.5, 0.5]]})
    c = Collective("c", 0.3, "g", target="y")

    def scale_base(w, cs, eps, t):
        scaled = World(points=w.points, labels=w.labels, base=np.asarray(w.base) * t, landing=w.landing)
        return scaled, cs, eps

    values = testing.assert_monotone(bounds.closed_form, scale_base, -1, world, c, grid=[0.0, 0.5, 1.0])
    assert values[0] > values[-1]
    with pytest.raises(AssertionError, match="is not non-decreasing in scale_base"):
        testing.assert_monotone(bounds.closed_form, scale_base, +1, world, c, grid=[0.0, 1.0])
    with pytest.raises(ValueError, match="sign"):
        testing.assert_monotone(bounds.closed_form, "size", 2, world, c)


@given(testing.worlds())
def test_worlds_are_consistent_and_padded_to_the_buckets(world):
    assert (len(world.points), len(world.labels)) in testing.SHAPES
    marginals = np.array([np.asarray(t).sum(axis=0) for t in world.landing.values()])
    np.testing.assert_allclose(marginals, marginals[:1].repeat(len(marginals), axis=0), atol=1e-12)
    assert np.all(np.asarray(world.base).sum(axis=0) <= marginals[0] + 1e-12)
    again = eval(repr(world), {"World": World})
    np.testing.assert_array_equal(again.base, world.base)
    for name in world.signals:
        np.testing.assert_array_equal(again.landing[name], world.landing[name])


@given(testing.instances(n_collectives=(1, 2, 3)))
def test_collective_literals_rebuild_the_collective(inst):
    for c in inst.collectives:
        assert eval(repr(c), {"Collective": Collective}) == c


def test_instances_bite():
    """Drawn instances are decided near thresholds: the oracle is often strictly between 0 and 1,
    and the first collective's size often lies within 1e-3 of one of its thresholds."""
    seen = []

    @given(testing.instances(n_collectives=(1, 2)))
    def run(inst):
        world, cs, eps, reading = inst
        exact = float(success(world, cs, eps, reading)[0])
        levels = testing.thresholds(world, cs, 0, float(slack(eps, reading)))
        near = levels.size and np.min(np.abs(levels - float(cs[0].size))) < 1e-3
        seen.append((0 < exact < 1, bool(near)))

    run()
    strictly, near = np.mean(seen, axis=0)
    assert strictly >= 0.2 and near >= 0.2, (strictly, near)


@given(st.lists(st.integers(0, 5), min_size=4, max_size=4),
       st.lists(st.integers(1, 5), min_size=3, max_size=3))
def test_split_landing_keeps_row_masses_and_sets_the_marginal(rows, cols):
    if sum(rows) == 0:
        rows = [1, 0, 0, 0]
    masses, marginal = np.array(rows) / sum(rows), np.array(cols) / sum(cols)
    table = split_landing(masses, marginal)
    np.testing.assert_allclose(table.sum(axis=1), masses, atol=1e-15)
    np.testing.assert_allclose(table.sum(axis=0), marginal, atol=1e-15)
    assert np.all(table >= 0) and np.all(table[masses == 0] == 0)
    with pytest.raises(ACAInputError, match="marginal: total mass"):
        split_landing(masses, marginal * 0.5)
