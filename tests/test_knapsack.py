"""The exact knapsack solver against brute force, path by path (aca_games._knapsack, _knapsack_search).

``max_flipped_exact`` with a small ``core_max`` runs the reduction, the reduced-cost fixing, the
core enumeration and the numpy search on instances small enough to enumerate. The search's later
steps (meet in the middle, large neighbourhoods, the error) are forced by lowering its limits.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize
from hypothesis import given
from hypothesis import strategies as st

from aca_games import ACAInputError
from aca_games import _knapsack as ks
from aca_games import _knapsack_search as search

# One shape per core_max keeps compilations few.
N_ITEMS, N_COSTS = 9, 3
EXACT = {m: jax.jit(lambda v, w, b, m=m: ks.max_flipped_exact(v, w, b, core_max=m)) for m in (0, 4)}


def brute_force(value, costs, budget):
    """Largest value of a set whose every cost column sums to at most ``budget + TIE_TOL``."""
    best = 0.0
    for r in range(len(value) + 1):
        for subset in itertools.combinations(range(len(value)), r):
            pick = list(subset)
            if np.all(costs[pick].sum(axis=0) <= budget + ks.TIE_TOL):
                best = max(best, float(value[pick].sum()))
    return best


def instance(rng, n_costs, coarse, proportional=False):
    value = rng.random(N_ITEMS) * (rng.random(N_ITEMS) < 0.85)
    costs = rng.random((N_ITEMS, N_COSTS)) * 0.3 + 1e-3
    costs[:, n_costs:] = 0.0  # unused constraint columns
    if coarse:  # grid masses: sums hit the budget exactly, and the tie tolerance decides
        value, costs = np.round(value * 8) / 8, np.round(costs * 20) / 20 + 0.05
    if proportional:  # equal value/cost ratios: a subset sum, no bound prunes
        costs[:, 0] = 0.25 * value + 1e-3 * (value == 0)
    budget = float(np.round(rng.random() * 12) / 20) if coarse else rng.random() * 0.6
    return value, costs, budget


@given(st.integers(0, 2**32 - 1), st.sampled_from([1, 2, 3]), st.booleans(), st.booleans())
def test_exact_equals_enumeration_on_every_path(seed, n_costs, coarse, proportional):
    value, costs, budget = instance(np.random.default_rng(seed), n_costs, coarse, proportional)
    expected = float(ks.max_flipped_enumerate(jnp.asarray(value), jnp.asarray(costs), budget))
    assert expected == pytest.approx(brute_force(value, costs, budget), abs=1e-12)
    for core_max, solver in EXACT.items():
        got = float(solver(jnp.asarray(value), jnp.asarray(costs), budget))
        assert got == pytest.approx(expected, abs=search.VALUE_TOL), core_max


@given(st.integers(0, 2**32 - 1), st.booleans())
def test_search_steps_equal_brute_force(seed, proportional):
    """Meet in the middle over all items, and the large-neighbourhood incumbent, on one constraint."""
    rng = np.random.default_rng(seed)
    value, costs, budget = instance(rng, 1, coarse=False, proportional=proportional)
    value, cost = value[value > 0], costs[value > 0, 0]
    expected = brute_force(value, cost[:, None], budget)
    room = budget + ks.TIE_TOL
    assert search._meet_in_the_middle(value, cost, room) == pytest.approx(expected, abs=1e-12)
    found, certified = search._large_neighbourhoods(value, cost, room)
    assert found <= expected + 1e-12
    if certified:
        assert found == pytest.approx(expected, abs=search.VALUE_TOL)


@given(st.integers(0, 2**32 - 1), st.booleans())
def test_search_equals_brute_force_with_several_constraints(seed, implied):
    """The numpy search alone, rooms differing by constraint; with ``implied`` one cost column is
    a multiple of another (it is implied only if its room is large enough)."""
    rng = np.random.default_rng(seed)
    value = rng.random(8) + 0.01
    costs = rng.random((8, 3)) * 0.4
    if implied:
        costs[:, 1] = costs[:, 0] * rng.uniform(0.3, 1.0)
    room = rng.random(3) * 0.8
    expected = _brute_force_rooms(value, costs, room)
    assert search.solve(value, costs, room) == pytest.approx(expected, abs=search.VALUE_TOL)


def _brute_force_rooms(value, costs, room):
    bits = (np.arange(2 ** len(value))[:, None] >> np.arange(len(value))) & 1
    fits = np.all(bits @ costs <= room, axis=1)
    return float(np.max(np.where(fits, bits @ value, 0.0)))


def test_a_set_over_budget_by_rounding_only_is_affordable():
    """0.1 + 0.2 exceeds 0.3 by 4e-17 in floats: within TIE_TOL the pair can be flipped, on every
    path. Equal value/cost ratios leave every point free after fixing, so ``core_max=4`` decides
    the tie in the kernel's core enumeration and ``core_max=0`` in the numpy search."""
    value = jnp.asarray([0.1, 0.2, 0.15, 0.25, 0.0])
    costs = value[:, None]
    for budget, best in ((0.3, 0.1 + 0.2), (0.3 - 2e-12, 0.25)):
        assert float(ks.max_flipped_enumerate(value, costs, budget)) == best
        for core_max, solver in EXACT.items():
            assert float(solver(value, costs, budget)) == pytest.approx(best, abs=1e-15), (budget, core_max)


def test_subset_sum_is_solved_by_meet_in_the_middle(monkeypatch):
    """Equal ratios over 18 items: the Pareto pass cannot prune and gives up; meet-in-the-middle
    (one pool holds every item) then answers, and exactly (brute force over all 2^18 subsets)."""
    mass = np.random.default_rng(0).dirichlet(np.ones(18))
    calls = []
    original = search._large_neighbourhoods
    monkeypatch.setattr(search, "_large_neighbourhoods", lambda *a: calls.append(a) or original(*a))
    room = 0.2 * 0.5
    got = search.solve(mass, 0.2 * mass[:, None], np.array([room]))
    assert calls, "the Pareto pass was expected to give up on a subset sum"
    bits = (np.arange(2**18)[:, None] >> np.arange(18)) & 1
    fits = bits @ (0.2 * mass) <= room
    assert got == pytest.approx(np.max(np.where(fits, bits @ mass, 0.0)), abs=1e-12)


def test_large_neighbourhoods_are_trusted_only_when_certified(monkeypatch):
    """A 50-item subset sum where one pool of 40 stops 1.8e-9 short of the optimum and no pool
    reaches the fractional bound: the search must go on to the exact meet-in-the-middle. In
    ``solve`` (items sorted) the neighbourhoods do certify; made to certify nothing, with the quick
    Pareto pass giving up, ``solve`` must take the meet-in-the-middle path."""
    mass = np.random.default_rng(2).dirichlet(np.ones(50))
    cost, room = 0.2 * mass, 0.02 / 0.98 + ks.TIE_TOL
    exact = search._meet_in_the_middle(mass, cost, room)
    assert exact is not None
    found, certified = search._large_neighbourhoods(mass, cost, room)
    assert not certified and found <= exact
    assert search.solve(mass, cost[:, None], np.array([room])) == pytest.approx(exact, abs=search.VALUE_TOL)
    monkeypatch.setattr(search, "QUICK_STATES", 1)
    monkeypatch.setattr(search, "_large_neighbourhoods", lambda *args: (0.0, False))
    assert search.solve(mass, cost[:, None], np.array([room])) == pytest.approx(exact, abs=search.VALUE_TOL)


def _milp(value, cost, room) -> float:
    """Reference optimum of ``max v·x, c·x <= room, x ∈ {0,1}`` by scipy's MILP (order-1 data)."""
    res = scipy.optimize.milp(-value, constraints=scipy.optimize.LinearConstraint(cost[None], -np.inf, room),
                              integrality=np.ones_like(value), bounds=scipy.optimize.Bounds(0, 1),
                              options={"mip_rel_gap": 0.0})
    return float(-res.fun)


def test_large_neighbourhoods_certify_only_the_optimum():
    """60 items of unequal value/cost ratios (more than one pool), where the greedy set is not the
    best: a set the large neighbourhoods call optimal must be, and none is worth more."""
    short_of_optimum = 0
    for seed in range(6):
        rng = np.random.default_rng(seed)
        value = rng.random(60)
        cost = value * rng.uniform(0.2, 2.0, 60)
        room = 0.3 * cost.sum()
        best = _milp(value, cost, room)
        found, certified = search._large_neighbourhoods(value, cost, room)
        assert found <= best + 1e-9
        assert not certified or found == pytest.approx(best, abs=1e-9)
        short_of_optimum += float(value[search._greedy(cost, room)].sum()) < best - 1e-6
    assert short_of_optimum >= 3  # the greedy start is not already optimal


def test_highs_is_the_last_resort_and_equals_brute_force(monkeypatch):
    """Past MAX_STATES the search hands the knapsack to HiGHS; its set is re-checked and its value
    equals the brute force over every subset."""
    monkeypatch.setattr(search, "QUICK_STATES", 1)
    monkeypatch.setattr(search, "MAX_STATES", 1)
    rng = np.random.default_rng(3)
    value = rng.random(12)
    costs = np.stack([value, value[::-1]], axis=1)  # two constraints, no one implied by the other
    room = np.array([1.5, 1.5])
    subsets = np.array(list(itertools.product([0, 1], repeat=12)), dtype=float)
    fits = np.all(subsets @ costs <= room, axis=1)
    assert search.solve(value, costs, room) == pytest.approx(float((subsets[fits] @ value).max()), abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_highs_is_exact_and_silent_on_tiny_masses(capfd, seed):
    """Landing masses of 1e-6 (a city's rare points): HiGHS' default gaps (1e-6 absolute) and
    feasibility tolerances (1e-7) are as large as the masses, so its answer is exact only with the
    zero gaps and tight tolerances set by ``_highs``; and it prints nothing (``--json`` output)."""
    rng = np.random.default_rng(seed)
    value = rng.random(14) * 1e-6
    costs = np.stack([value * rng.uniform(0.5, 1.5, 14), rng.random(14) * 1e-6], axis=1)
    room = costs.sum(axis=0) * 0.45
    got = search._highs(value, costs, room)
    capfd.readouterr()  # output at import time of highspy is not the solver's
    again = search._highs(value, costs, room)
    assert capfd.readouterr() == ("", "")
    assert got == again == pytest.approx(_brute_force_rooms(value, costs, room), rel=1e-12, abs=0)


def test_search_gives_up_with_a_clear_error(monkeypatch):
    monkeypatch.setattr(search, "QUICK_STATES", 1)
    monkeypatch.setattr(search, "MAX_STATES", 1)
    monkeypatch.setattr(search, "_highs", lambda *args: None)  # HiGHS returned no usable set
    rng = np.random.default_rng(3)
    value = rng.random(12)
    costs = np.stack([value, value[::-1]], axis=1)
    with pytest.raises(ACAInputError, match="method='greedy' for a lower bound"):
        search.solve(value, costs, np.array([1.5, 1.5]))


def test_search_rows_solves_only_the_rows_that_need_it():
    value = np.array([[0.4, 0.3, 0.3], [0.4, 0.3, 0.3]])
    costs = np.array([[[0.2], [0.15], [0.15]]] * 2)
    out = search.search_rows(value, costs, np.array([[0.3], [0.3]]), value > 0, np.zeros(2),
                             np.array([True, False]))
    np.testing.assert_allclose(out, [0.6, 0.0])
