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
#: Collective 0 favours several target labels (unplanting targets every label but one), so that
#: points where two targets lead, and tv costs exceed the margin, are common.
SEVERAL_TARGETS = ("unplant", "unplant", "feature_label", "feature_only")
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


def draw_collectives(rng, world, sizes):
    return [random_collective(rng, world, f"c{i}", size, SEVERAL_TARGETS if i == 0 else ALL, noise=True)
            for i, size in enumerate(sizes)]


def case_near_a_threshold(seed, n_points, k, reading, stretch, total=0.6, tries=20):
    """A random case and an ``ε`` near the budget that makes collective 0 lose one winning point.

    huber: ``ε/(1-ε)`` = ``stretch`` times a winning point's margin. tv: cases are redrawn (up to
    ``tries`` times) until collective 0 has a winning point where the reference's least TV to lose
    it (its LP) exceeds half the margin (several target labels lead there), and ``ε`` is set
    halfway between the two: a tv oracle pricing flips at the margin errs there. Failing that,
    ``ε`` = ``stretch`` times the least TV of such a point.
    """
    rng = np.random.default_rng(seed)
    eps = 0.02
    for _ in range(tries):
        world = table_world(rng, n_points, 3, n_signals=3)
        sizes = random_sizes(rng, k, total=total)
        collectives = draw_collectives(rng, world, sizes)
        P = ref.training_table(world, collectives, sizes)
        targets = ref.target_sets(world, collectives[0])
        has_rival = ~targets.all(axis=1)
        lead = np.full(P.shape[0], -np.inf)
        lead[has_rival] = (np.where(targets, P, -np.inf).max(axis=1)
                           - np.where(targets, -np.inf, P).max(axis=1))[has_rival]
        winning = np.flatnonzero((lead > 1e-9) & (ref.landing_mass(world, collectives[0]) > 0))
        if winning.size == 0:
            continue
        if reading == "huber":
            slack = float(lead[rng.choice(winning)]) * stretch
            return world, collectives, sizes, min(slack / (1 + slack), 0.9)
        tv = np.array([ref.tv_to_lose(P, targets, x) for x in winning])
        x = int(np.argmax(tv / lead[winning]))
        half_margin = lead[winning[x]] / 2
        if tv[x] > 1.01 * half_margin:
            return world, collectives, sizes, min(float(tv[x] + half_margin) / 2, 0.45)
        eps = min(float(tv[x]) * stretch, 0.45)
    return world, collectives, sizes, eps


def check_against_reference(world, collectives, sizes, eps, reading):
    ours = np.asarray(success(world, collectives, eps, reading))
    expected = ref.worst_success(world, collectives, sizes, eps, reading)
    np.testing.assert_allclose(ours, expected, atol=ATOL, err_msg=f"{reading} eps={eps}")
    return ours


def check_case(seed, n_points, k, reading, stretch):
    world, collectives, sizes, eps = case_near_a_threshold(seed, n_points, k, reading, stretch)
    np.testing.assert_allclose(success(world, collectives), ref.bayes_success(world, collectives, sizes),
                               atol=1e-12)
    for e in (0.01, eps):
        check_against_reference(world, collectives, sizes, e, reading)


@pytest.mark.parametrize("reading", ["huber", "tv"])
@pytest.mark.parametrize("seed", [1, 2])
def test_exact_oracle_equals_reference_milp(seed, reading):
    check_case(seed, 24, 3, reading, 0.9)


@pytest.mark.slow
@pytest.mark.parametrize("reading", ["huber", "tv"])
@pytest.mark.parametrize(("seed", "n_points"), [(3, 40), (11, 60), (12, 100), (13, 200), (14, 200)])
def test_exact_oracle_equals_reference_milp_large(seed, n_points, reading):
    check_case(seed, n_points, 3, reading, 0.9)


@given(st.integers(0, 2**32 - 1), st.sampled_from([2, 8]), st.sampled_from(["huber", "tv"]),
       st.sampled_from([0.8, 0.9, 0.95, 1.05, 1.2]))
def test_small_worlds_equal_reference(seed, n_points, reading, stretch):
    """Few shapes (2 or 8 points, 3 labels, 2 collectives): JAX compiles once per shape."""
    check_case(seed, n_points, 2, reading, stretch)


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
