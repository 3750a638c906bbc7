"""The whole oracle against the independent MILP reference (``tests/references/oracle.py``).

Worlds are consistent by construction: ``World.from_table`` of a random full joint table with
integer signal maps (THEORY §1). Collectives draw every strategy and noise mode; sizes are random.
The library's default ``method="exact"`` must equal the reference in both readings; above 12 points
this runs the reduction / fixing / core search of :mod:`aca_games._knapsack`, below it the
enumeration (``tests/test_knapsack.py`` compares the two on small instances directly).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from references import oracle as ref
from worlds import random_collective, random_sizes

from aca_games import Collective, World, success

ALL = ("feature_label", "feature_only", "unplant", "erase")
#: The reference verifies its flip sets to 1e-9 of budget; masses then agree far closer.
ATOL = 1e-9


def table_world(rng: np.random.Generator, n_points: int, n_labels: int, n_signals: int) -> World:
    """A compact world with exactly ``n_points`` relevant points, from a full table.

    ``|X| = 2 n_points`` features; signal ``g0`` fixes the relevant features and sends the others
    into them, so every relevant point is reached; the other signals send every feature into a
    random part of the relevant points. Half the time masses are multiples of 1/400 (ties occur).
    """
    n_features = 2 * n_points
    p0 = rng.dirichlet(np.full(n_features * n_labels, 0.7))
    if rng.random() < 0.5:
        p0 = rng.multinomial(400, p0) / 400
    p0 = p0.reshape(n_features, n_labels)
    relevant = rng.choice(n_features, n_points, replace=False)
    g0 = relevant[rng.integers(n_points, size=n_features)]
    g0[relevant] = relevant
    signals = {"g0": g0}
    for s in range(1, n_signals):
        part = rng.choice(relevant, max(1, int(n_points * rng.uniform(0.3, 1.0))), replace=False)
        signals[f"g{s}"] = part[rng.integers(len(part), size=n_features)]
    return World.from_table(p0, signals, labels=[f"y{j}" for j in range(n_labels)])


def random_case(seed: int, n_points: int, k: int, n_labels: int = 3):
    rng = np.random.default_rng(seed)
    world = table_world(rng, n_points, n_labels, n_signals=3)
    sizes = random_sizes(rng, k, total=0.6)
    collectives = [random_collective(rng, world, f"c{i}", sizes[i], ALL, noise=True) for i in range(k)]
    return world, collectives, sizes


def check_against_reference(world, collectives, sizes, eps, reading):
    ours = np.asarray(success(world, collectives, eps, reading))
    expected = ref.worst_success(world, collectives, sizes, eps, reading)
    np.testing.assert_allclose(ours, expected, atol=ATOL, err_msg=f"{reading} eps={eps}")
    return ours


@pytest.mark.parametrize("reading", ["huber", "tv"])
@pytest.mark.parametrize(("seed", "n_points"), [(1, 24), (2, 24)])
def test_exact_oracle_equals_reference_milp(seed, n_points, reading):
    world, collectives, sizes = random_case(seed, n_points, k=3)
    np.testing.assert_allclose(success(world, collectives), ref.bayes_success(world, collectives, sizes),
                               atol=1e-12)
    for eps in (0.01, 0.04):
        check_against_reference(world, collectives, sizes, eps, reading)


@pytest.mark.slow
@pytest.mark.parametrize("reading", ["huber", "tv"])
@pytest.mark.parametrize(("seed", "n_points"), [(3, 36), (11, 60), (12, 100), (13, 200), (14, 200)])
def test_exact_oracle_equals_reference_milp_large(seed, n_points, reading):
    world, collectives, sizes = random_case(seed, n_points, k=3)
    for eps in (0.01, 0.04):
        check_against_reference(world, collectives, sizes, eps, reading)


@given(st.integers(0, 2**32 - 1), st.sampled_from([2, 8]), st.sampled_from(["huber", "tv"]),
       st.sampled_from([0.0, 0.02, 0.08]))
def test_small_worlds_equal_reference(seed, n_points, reading, eps):
    """Few shapes (2 or 8 points, 3 labels, 2 collectives): JAX compiles once per shape."""
    rng = np.random.default_rng(seed)
    world = table_world(rng, n_points, 3, n_signals=2)
    k = 2
    sizes = random_sizes(rng, k, total=0.8)
    collectives = [random_collective(rng, world, f"c{i}", sizes[i], ALL, noise=True) for i in range(k)]
    if eps == 0.0:
        np.testing.assert_allclose(success(world, collectives),
                                   ref.bayes_success(world, collectives, sizes), atol=1e-12)
    else:
        check_against_reference(world, collectives, sizes, eps, reading)


def test_tv_needs_more_than_the_margin_when_two_targets_lead():
    """Two target labels tie at the top (0.2 each) over a rival (0.15): flipping must lower both,
    which costs TV 1/15 (about 0.067), more than the margin 0.05 (enough under huber). With
    2ε = 0.06 the tv learner cannot flip the point; with 2ε = 0.08 it can. A tv oracle that used
    the huber cost (the margin) would flip it at 2ε = 0.06 too."""
    p0 = [[0.0, 0.25, 0.1875], [0.2, 0.2, 0.1625]]
    world = World.from_table(p0, {"g": [0, 0]}, labels=["a", "b", "r"])
    c = Collective("c", 0.2, "g", target=["a", "b"], label="a")
    outcomes = {eps: check_against_reference(world, [c], np.array([0.2]), eps, "tv")[0]
                for eps in (0.03, 0.04)}
    assert outcomes[0.03] != outcomes[0.04]  # the case sits between the two budgets
