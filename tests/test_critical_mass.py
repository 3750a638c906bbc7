"""Critical mass with the exact oracle at ε > 0: breakpoints, against an independent reference.

The reference (``tests/references/flip_sets.py``) computes the worst-case success from the
definitions: planted tables from THEORY §1, every flip set enumerated, tv costs by an LP per flip
set. The library's answer ``α*`` must be met just above (at its witness) and missed at every size
below, checked on a grid.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from references import bounds as bounds_ref
from references import flip_sets as ref

from aca_games import ACAInputError, Collective, World, critical_mass, critical_masses, success
from aca_games.critical import ENUMERATE_MAX_POINTS, GRID, critical_mass_result
from solvers.coalition import critical_mass as certified_critical_mass

#: The issue's world: feature-label on label 1, tv ε = 0.05, success 1.0 only on (0.2501, 0.2504).
WINDOW = World(
    points=["a", "b"], labels=["n", "y"], base=[[0.1, 0.216702], [0.183485, 0.0]],
    landing={"g": [[0.05, 0.0], [0.733298, 0.216702]]},
)
FL = Collective("c", 0.0, "g", target="y")


def _check_against_reference(world, c, target, eps, reading, n_below=40):
    """α* is met at its witness and missed below it, by the reference and by the library oracle."""
    r = critical_mass_result(world, c, target, "exact", eps, reading)
    assert r.exact and r.method == "breakpoints"
    top = r.value if math.isfinite(r.value) else 1.0
    below = np.concatenate([np.linspace(0.0, top, n_below, endpoint=False), [top * (1 - 1e-7)]])
    # The tie tolerance moves a crack level by TIE_TOL/slope; the two sides may round a margin at
    # exactly the budget differently there (seen at α* ~ 1e-12): compare 1e-9 away from α*.
    below = below[below < top - 1e-9]
    for a in below:
        assert ref.success(world, c, a, eps, reading, target_success=target) < target - 1e-12, a
    fine = np.linspace(0.0, top, GRID, endpoint=False)[:, None] if top > 0 else np.zeros((0, 1))
    assert np.all(np.asarray(success(world, c, eps, reading, sizes=fine)) < target - 1e-12)
    if math.isfinite(r.value):
        assert r.value <= r.witness < 1
        assert ref.success(world, c, r.witness, eps, reading) >= target - 1e-12
        assert float(success(world, c, eps, reading, sizes=[[r.witness]])[0, 0]) >= target - 1e-12
    return r


def test_exact_finds_a_window_narrower_than_the_grid():
    r = _check_against_reference(WINDOW, FL, 1.0, 0.05, "tv")
    assert r.value == pytest.approx(0.2501, abs=1e-4)
    # the window, by the reference: 1.0 inside, below 1 on both sides, narrower than a grid cell
    inside = [r.value + 1e-7, r.witness, 0.2503]
    assert all(ref.success(WINDOW, FL, a, 0.05, "tv") == 1.0 for a in inside)
    assert all(ref.success(WINDOW, FL, a, 0.05, "tv") < 1.0 for a in (r.value - 1e-7, 0.2504))
    assert 0.2504 - r.value < 1 / (GRID - 1)
    # the old grid method misses it: no grid size reaches the target, so it reports inf
    grid = np.linspace(0.0, 1.0, GRID)[:-1]
    assert np.all(np.asarray(success(WINDOW, FL, 0.05, "tv", sizes=grid[:, None])) < 1.0)
    old = critical_mass_result(WINDOW, FL, 1.0, "grid", 0.05, "tv")
    assert math.isinf(old.value) and not old.exact and old.method == "grid_bisection"


def test_theory_counterexample_is_found_exactly():
    """THEORY §4: success 1.00 at α = 0.28 and 0.95 at 0.30 (tv ε = 0.05)."""
    world = World(points=["a", "b"], labels=["n", "y"], base=[[0.10, 0.22], [0.0, 0.0]],
                  landing={"g": [[0.05, 0.0], [0.40, 0.55]]})
    r = _check_against_reference(world, FL, 1.0, 0.05, "tv")
    assert r.value < 0.28 < r.witness or ref.success(world, FL, 0.28, 0.05, "tv") == 1.0


def test_a_margin_crossing_the_tie_far_from_any_cell_crossing():
    """Point a lands 1.5e-12 on a tied base: its margin 1.5e-12·α crosses TIE_TOL at α = 2/3, far
    from the cells' crossing at 0, and exceeds the slack κ = 1e-13 plus TIE_TOL only above 11/15."""
    world = World(points=["a", "b"], labels=["n", "y"], base=[[0.2, 0.2], [0.0, 0.0]],
                  landing={"g": [[0.0, 1.5e-12], [0.5, 0.5 - 1.5e-12]]})
    eps = 1e-13 / (1 + 1e-13)  # huber κ = ε/(1-ε) = 1e-13
    r = critical_mass_result(world, FL, 1.0, "exact", eps, "huber")
    # margins of 1e-12 computed from cells of 0.2 carry rounding of ~1e-16: α* to within 1e-4
    assert r.value == pytest.approx(11 / 15, abs=1e-4)
    assert float(success(world, FL, eps, sizes=[[r.witness]])[0, 0]) == 1.0
    assert ref.success(world, FL, 0.72, eps, "huber") < 1.0 <= ref.success(world, FL, 0.75, eps, "huber")


@st.composite
def small_worlds(draw):
    """A consistent compact world (from a full table: the relevant points plus two elsewhere) and
    one feature-label or feature-only collective; coarse masses, so ties and windows occur."""
    n_points, n_labels = draw(st.sampled_from([(2, 2), (3, 3)]))
    cells = draw(st.lists(st.integers(0, 6), min_size=(n_points + 2) * n_labels,
                          max_size=(n_points + 2) * n_labels).filter(any))
    full = np.asarray(cells, dtype=float).reshape(n_points + 2, n_labels)
    full /= full.sum()
    g = draw(st.lists(st.integers(0, n_points - 1), min_size=n_points + 2, max_size=n_points + 2))
    landing = np.zeros((n_points, n_labels))
    np.add.at(landing, g, full)
    labels = [f"y{k}" for k in range(n_labels)]
    world = World(points=[f"p{i}" for i in range(n_points)], labels=labels, base=full[:n_points],
                  landing={"g": landing})
    label = draw(st.sampled_from(labels))
    extra = draw(st.sampled_from([[], [y for y in labels if y != label][:1]])) if n_labels > 2 else []
    strategy = draw(st.sampled_from(["feature_label", "feature_only"]))
    c = Collective(
        "c", 0.0, "g", target=[label, *extra], label=label, strategy=strategy,
        variant=draw(st.sampled_from(["hardt", "gbj"])) if strategy == "feature_only" else None,
        noise=draw(st.sampled_from([0.0, 0.2])),
        noise_mode=draw(st.sampled_from(["drop", "scatter", "misfire"])),
    )
    return world, c


@given(small_worlds(), st.sampled_from([0.5, 0.8, 1.0]), st.sampled_from([0.02, 0.05, 0.1]),
       st.sampled_from(["tv", "huber"]))
def test_exact_critical_mass_matches_the_reference(wc, target, eps, reading):
    world, c = wc
    _check_against_reference(world, c, target, eps, reading, n_below=12)


def test_exact_raises_when_it_cannot_enumerate_and_grid_is_named():
    n = ENUMERATE_MAX_POINTS + 2
    world = World(points=[f"p{i}" for i in range(n)], labels=["n", "y"], base=np.full((n, 2), 0.2 / n),
                  landing={"g": np.full((n, 2), 0.5 / n)})
    with pytest.raises(ACAInputError, match=r"16 > ENUMERATE_MAX_POINTS = 14; use bound='grid'"):
        critical_mass(world, FL, 0.9, "exact", eps=0.01)
    r = critical_mass_result(world, FL, 0.9, "grid", eps=0.01)
    assert not r.exact and r.method == "grid_bisection" and r.value == r.witness
    assert float(success(world, FL, 0.01, sizes=[[r.value]])[0, 0]) >= 0.9 - 1e-12  # meets it
    # at ε = 0 the crack intervals are exact at any size of world
    assert critical_mass_result(world, FL, 0.9, "exact").method == "crack_intervals"


@pytest.mark.parametrize("bound", ["staircase", "closed_form", "exact"])
def test_result_carries_its_method_and_a_witness(bound):
    world = World(points=["a", "b"], labels=["no", "yes"], base=[[0.3, 0.1], [0.2, 0.2]],
                  landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
    r = critical_mass_result(world, FL.replace(target=("yes",), label="yes"), 0.9, bound)
    assert r.exact and r.value == critical_mass(world, FL.replace(target=("yes",), label="yes"), 0.9, bound)
    assert r.value < r.witness < 1
    if bound == "closed_form":  # the bound increases in the size: a witness just above α*
        assert r.witness - r.value <= 1e-8 * r.value + 1e-14


def test_solver_certifies_the_window_at_its_witness():
    """The solver's re-check evaluates the oracle at the library's witness: inside the window."""
    sol = certified_critical_mass(WINDOW, FL, 1.0, "exact", 0.05, "tv")
    assert sol.status == "optimal" and sol.stats["method"] == "breakpoints" and sol.stats["exact"]
    assert sol.certificate["oracle_above"] == 1.0 and sol.certificate["bound_below"] < 1.0
    grid = certified_critical_mass(WINDOW, FL, 1.0, "grid", 0.05, "tv")
    assert grid.status == "infeasible" and not grid.stats["exact"] and "on a grid" in grid.stats["reason"]


def _from_counts(counts, g):
    """A consistent world from integer counts of a full table (relevant points 0 and 1)."""
    counts = np.asarray(counts, dtype=float)
    labels = ["a", "b", "c"][: counts.shape[1]]
    return World.from_table(counts / counts.sum(), {"g": g}, labels=labels, relevant=[0, 1])


#: Worlds found by searching for ones where a planted bug in the breakpoint method changes α*
#: (full-table counts, signal map, collective, ε, reading, target success):
#: two cells of a live point cross inside a piece (misfire noise plants rival labels); tv and huber
#: flip costs differ (unplanting with two target labels); a margin's tie crosses outside a piece.
BREAKPOINT_WORLDS = [
    ([[4, 5, 3], [4, 2, 6], [1, 5, 0], [4, 1, 2]], [0, 1, 1, 0],
     dict(target="a", noise=0.2, noise_mode="misfire"), 0.03, "huber", 0.8),
    ([[6, 1, 5], [5, 5, 5], [1, 5, 3], [3, 1, 4]], [0, 1, 1, 1],
     dict(target="a", noise=0.2, noise_mode="misfire"), 0.08, "tv", 1.0),
    ([[1, 2, 2], [2, 5, 3], [4, 1, 3], [0, 1, 0]], [0, 1, 0, 1],
     dict(target=("b", "c"), strategy="unplant"), 0.03, "tv", 0.8),
    ([[2, 0, 5], [6, 6, 1], [5, 0, 0], [4, 2, 3]], [0, 1, 0, 1],
     dict(target=("a", "b"), strategy="unplant", noise=0.2, noise_mode="scatter"), 0.08, "tv", 0.3),
    ([[1, 0, 2], [2, 5, 3], [0, 2, 4], [5, 5, 6]], [0, 1, 0, 1],
     dict(target="b", strategy="feature_only", variant="gbj", noise=0.2), 0.01, "huber", 0.5),
    ([[4, 6, 2], [1, 4, 6], [6, 6, 4], [2, 2, 0]], [0, 1, 0, 1],
     dict(target=("b", "c"), label="b", noise=0.2), 0.08, "huber", 0.3),
]


@pytest.mark.parametrize(("counts", "g", "spec", "eps", "reading", "target"), BREAKPOINT_WORLDS)
def test_breakpoints_on_worlds_that_broke_planted_bugs(counts, g, spec, eps, reading, target):
    _check_against_reference(_from_counts(counts, g), Collective("c", 0.0, "g", **spec), target, eps,
                             reading, n_below=60)


@pytest.mark.parametrize("reading", ["huber", "tv"])
def test_a_target_of_every_label_is_met_at_size_zero(reading):
    """No rival label: every point is won at any size and no learner can flip it."""
    world = _from_counts([[1, 2], [3, 1], [2, 2]], [0, 1, 1])
    c = Collective("c", 0.0, "g", target=("a", "b"), label="a")
    assert critical_mass(world, c, 1.0, "exact", 0.05, reading) == 0.0
    assert ref.success(world, c, 0.0, 0.05, reading) == 1.0


def test_the_staircase_follows_the_planted_label_and_the_oracle_any_target_label():
    """Target {b, c}, planting b: at point p0 the base already leads with c (the oracle wins it at
    size 0), but the staircase needs b itself to beat a. Both critical masses against the
    reference staircase (``references/bounds.py``) and the oracle."""
    world = _from_counts([[1, 0, 3], [2, 1, 0], [1, 2, 1]], [0, 1, 1])
    c = Collective("c", 0.0, "g", target=("b", "c"), label="b")
    staircase = critical_masses(world, [c, c.replace(name="d")], 1.0, "staircase")
    exact = critical_masses(world, [c], 1.0, "exact")[0]
    assert staircase[0] == staircase[1] > exact >= 0.0
    for alpha in (staircase[0] * (1 - 1e-6), staircase[0] * (1 + 1e-6)):
        expected = bounds_ref.per_point(world, [c], [alpha], 0.0)[0]
        assert (expected >= 1.0 - 1e-12) == (alpha > staircase[0])
    assert float(success(world, c.with_size(exact * (1 + 1e-6) + 1e-12))[0]) == 1.0
