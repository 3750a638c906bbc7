"""The vectorised paths behind `aca-games run` at scale equal their one-at-a-time definitions:
critical masses of many collectives, success alone and in pairs, batched bound sizes, and the
staircase rows of a subset of required targets."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from worlds import random_collective, random_world

from aca_games import (
    bounds,
    critical_mass,
    critical_masses,
    pairwise_success,
    plant_all,
    success,
    success_alone,
)
from solvers import _milp

STRATEGIES = ("feature_label", "feature_only", "unplant")


def _case(seed, k=4, strategies=STRATEGIES):
    """A world of one fixed shape (5 points, 3 labels, 2 signals) and ``k`` collectives."""
    rng = np.random.default_rng(seed)
    world = random_world(rng, 5, 3, 2)
    cs = [random_collective(rng, world, f"c{i}", float(rng.uniform(0, 0.8 / k)), strategies, noise=True)
          for i in range(k)]
    return rng, world, cs


@given(st.integers(0, 2**32 - 1), st.sampled_from(["staircase", "exact", "closed_form"]),
       st.sampled_from([0.0, 0.01]), st.sampled_from([0.5, 0.9, 1.0]))
def test_critical_masses_equal_one_at_a_time(seed, bound, eps, target):
    strategies = ("feature_label", "feature_only") if bound == "closed_form" else STRATEGIES
    _, world, cs = _case(seed, strategies=strategies)
    many = critical_masses(world, cs, target, bound, eps)
    one = [critical_mass(world, c, target, bound, eps) for c in cs]
    np.testing.assert_allclose(many, one, rtol=1e-12, atol=0)  # inf where unreachable, in both


@given(st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.02]), st.sampled_from(["huber", "tv"]))
def test_success_alone_and_in_pairs_equal_oracle_calls(seed, eps, reading):
    _, world, cs = _case(seed)
    alone, pairs = pairwise_success(world, cs, eps, reading)
    np.testing.assert_allclose(success_alone(world, cs, eps, reading), alone, atol=1e-12)
    for i, c in enumerate(cs):
        assert abs(alone[i] - float(success(world, [c], eps, reading)[0])) <= 1e-12, i
        for j, d in enumerate(cs):
            if j != i:
                both = success(world, [c, d], eps, reading)
                assert abs(pairs[i, j] - float(both[0])) <= 1e-12, (i, j)


@given(st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.02]))
def test_batched_sizes_equal_a_loop(seed, eps):
    rng, world, cs = _case(seed, strategies=("feature_label", "feature_only"))
    batch = rng.dirichlet(np.ones(len(cs) + 1), size=(2, 3))[..., :-1] * 0.9
    for fn in (bounds.per_point, bounds.multi_closed_form):
        many = np.asarray(fn(world, cs, eps, sizes=batch))
        assert many.shape == batch.shape
        for idx in np.ndindex(batch.shape[:-1]):
            np.testing.assert_allclose(many[idx], fn(world, cs, eps, sizes=batch[idx]), atol=1e-15)


@given(st.integers(0, 2**32 - 1), st.integers(0, 2**4 - 1))
def test_restricted_staircase_rows_equal_rows_built_for_the_subset(seed, mask):
    _, world, cs = _case(seed, strategies=("feature_label",))
    p = plant_all(world, cs)
    caps = np.full(len(cs), 0.2)
    required = np.array([(mask >> i) & 1 for i in range(len(cs))], dtype=bool)
    args = (world.base, p.planted, p.label, p.target, p.landing, caps, 0.01)
    direct = _milp.staircase_rows(*args, required)
    restricted = _milp.restrict_rows(_milp.staircase_rows(*args), required)
    for field in dataclasses.fields(direct):
        np.testing.assert_array_equal(getattr(restricted, field.name), getattr(direct, field.name),
                                      err_msg=field.name)
