"""Minimum-size coalitions (THEORY §5): critical mass, joint sizing (LP / MILP), coalition formation.

Independent references: scipy's ``linprog`` on constraints rebuilt here from the library's terms,
brute force over subsets x labels x minimal covers for coalition formation, the library bounds and
the exact oracle for feasibility, and shrink probes for minimality.
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.optimize import linprog

from aca_games import ACAInputError, Collective, World, bounds, plant_all, slack, success, testing
from aca_games import critical_mass as library_critical_mass
from aca_games._knapsack import TIE_TOL
from aca_games.bounds.multi import stacked_terms
from aca_games.planting import training_mass
from aca_games.world import split_landing
from solvers import coalition
from solvers._milp import GAP, SUM_GAP, map_status
from solvers.coalition import critical_mass, form_coalition, min_joint_sizes

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `benchmarks` is not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_coalition import random_instance  # noqa: E402

#: Two LP optima of the same constraints agree to this (HiGHS tolerances are 1e-10, scipy's 1e-7).
LP_AGREE = 1e-7
#: Shrink step of the minimality checks: relative, with an absolute floor, far above GAP / slope.
SHRINK_REL, SHRINK_ABS = 1e-6, 1e-7
#: Sizes below this are "zero up to the strictness gap" (a tie in the base needs a size of order
#: GAP / slope to break): the models' optimum is minimal only up to moves of that order, so the
#: minimality checks skip them.
GAP_SCALE = 1000 * GAP

# Two points a, b; "g" lands on both, "h" only on b. Used by the hand-made cases.
W2 = World(
    points=["a", "b"],
    labels=["n", "y"],
    base=[[0.3, 0.1], [0.2, 0.2]],
    landing={"g": [[0.5, 0.0], [0.2, 0.3]], "h": [[0.0, 0.0], [0.7, 0.3]], "f": [[0.7, 0.3], [0.0, 0.0]]},
)


#: One world shape for every property test: JAX compiles the library's ops once per shape.
SHAPE = ((4, 3),)


@st.composite
def instances(draw, ks=(2, 3, 4), strategies=("feature_label",), noise=False, targets=(0.2, 0.95),
              caps=(0.1, 0.6)):
    """(world, collectives, targets, caps): a world of the fixed shape, K collectives."""
    k = draw(st.sampled_from(ks))
    world = draw(testing.worlds(shapes=SHAPE))
    cs = [draw(testing.collectives(world, f"c{i}", strategies, noise)) for i in range(k)]
    goal, cap = (st.floats(*bounds).map(lambda x: round(x, 3)) for bounds in (targets, caps))
    return world, cs, np.array([draw(goal) for _ in cs]), np.array([draw(cap) for _ in cs])


def _shrunk(alpha, i):
    out = alpha.copy()
    out[i] = max(alpha[i] - max(SHRINK_REL * alpha[i], SHRINK_ABS), 0.0)
    return out


# ------------------------------------------------------------------------------------------------
# joint sizing: closed form (LP)
# ------------------------------------------------------------------------------------------------
def _linprog_closed_form(world, cs, targets, caps, kappa):
    """The B1 constraints rebuilt by probing the affine function f_i(α) = α_i ν_i (1 - S*_i) -
    against_i(α) at 0 and at the unit vectors, then solved by scipy's linprog."""
    terms, _ = stacked_terms(world, cs)
    rho = np.asarray(bounds.conflict_mass(world, cs))
    nu, b, delta, xi, res = (np.asarray(x) for x in (terms.net_rate, terms.bystander_rate, terms.delta,
                                                     terms.xi, terms.resistance))

    def f(alpha):
        bystanders = 1.0 - (alpha.sum() - alpha) - b * alpha
        against = (bystanders * delta + alpha * res) * xi + rho @ alpha + kappa
        return alpha * nu * (1.0 - targets) - against

    k = len(cs)
    f0 = f(np.zeros(k))
    C = np.stack([f(np.eye(k)[j]) - f0 for j in range(k)], axis=1)
    gap = np.where(targets < 1, GAP, 0.0)
    A_ub = np.vstack([-C, -np.diag(nu), np.ones((1, k))])
    b_ub = np.concatenate([f0 - gap, -np.full(k, GAP), [1.0 - SUM_GAP]])
    return linprog(np.ones(k), A_ub=A_ub, b_ub=b_ub, bounds=list(zip(np.zeros(k), caps, strict=True)),
                   method="highs", options={"primal_feasibility_tolerance": 1e-10})


@given(instances(strategies=("feature_label", "feature_only"), noise=True), st.sampled_from([0.0, 0.0, 0.02]))
def test_lp_matches_linprog_and_meets_every_target(inst, eps):
    world, cs, targets, caps = inst
    sol = min_joint_sizes(world, cs, targets, caps, bound="closed_form", eps=eps)
    ref = _linprog_closed_form(world, cs, targets, caps, float(slack(eps, "huber")))
    assert sol.status in ("optimal", "infeasible"), sol.stats
    assert (sol.status == "optimal") == (ref.status == 0), (sol.stats, ref.message)
    if sol.status == "optimal":
        assert sol.value["objective"] == pytest.approx(ref.fun, abs=LP_AGREE)
        alpha = np.asarray(list(sol.value["sizes"].values()))
        b1 = np.asarray(bounds.multi_closed_form(world, cs, eps, sizes=alpha))
        assert np.all(b1 >= targets - 1e-12)
        assert np.all(np.asarray(success(world, cs, eps, sizes=alpha)) >= targets - 1e-12)
        assert sol.certificate["max_residual"] <= 1e-9
        assert np.all(alpha <= caps) and alpha.sum() < 1
    else:
        assert "cannot" in sol.stats["reason"]


@given(instances(targets=(0.05, 0.4), caps=(0.3, 0.9)))  # B1 is weak: easy targets, room to grow
def test_closed_form_answer_is_minimal(inst):
    world, cs, targets, caps = inst
    sol = min_joint_sizes(world, cs, targets, caps, bound="closed_form")
    assume(sol.status == "optimal")
    alpha = np.asarray(list(sol.value["sizes"].values()))
    for i in np.flatnonzero(alpha > GAP_SCALE):
        b1 = np.asarray(bounds.multi_closed_form(world, cs, sizes=_shrunk(alpha, i)))
        assert np.any(b1 < targets), (i, alpha, b1)


# ------------------------------------------------------------------------------------------------
# joint sizing: staircase (MILP)
# ------------------------------------------------------------------------------------------------
@given(instances(strategies=("feature_label", "feature_only", "unplant")), st.sampled_from([0.0, 0.02]))
def test_staircase_answer_is_feasible_and_minimal(inst, eps):
    world, cs, targets, caps = inst
    sol = min_joint_sizes(world, cs, targets, caps, bound="staircase", eps=eps)
    assert sol.status in ("optimal", "infeasible"), sol.stats
    if sol.status == "infeasible":
        assert "cannot" in sol.stats["reason"]
        return
    alpha = np.asarray(list(sol.value["sizes"].values()))
    assert np.all(np.asarray(bounds.per_point(world, cs, eps, sizes=alpha)) >= targets - 1e-12)
    assert np.all(np.asarray(success(world, cs, eps, sizes=alpha)) >= targets - 1e-12)
    assert sol.certificate["recheck_passed"] and (sol.certificate["mip_gap"] or 0.0) <= 1e-9
    for i in np.flatnonzero(alpha > GAP_SCALE):
        pp = np.asarray(bounds.per_point(world, cs, eps, sizes=_shrunk(alpha, i)))
        assert np.any(pp < targets - 1e-12), (i, alpha, pp)


@given(instances(targets=(0.05, 0.4), caps=(0.3, 0.9)))
def test_staircase_is_no_larger_than_closed_form(inst):
    """At ε = 0 the per-point form is at least the B1 bound, so its minimum is no larger."""
    world, cs, targets, caps = inst
    lp = min_joint_sizes(world, cs, targets, caps, bound="closed_form")
    assume(lp.status == "optimal")
    milp = min_joint_sizes(world, cs, targets, caps, bound="staircase")
    assert milp.status == "optimal", milp.stats
    assert milp.value["total"] <= lp.value["total"] + 1e-6


@pytest.mark.parametrize("bound", ["closed_form", "staircase"])
def test_one_collective_reduces_to_its_critical_mass(bound):
    c = Collective("c", 0.0, "g", target="y")
    for target in (0.5, 0.6):
        joint = min_joint_sizes(W2, [c], target, bound=bound)
        alone = critical_mass(W2, c, target, bound=bound)
        assert joint.status == alone.status == "optimal"
        assert joint.value["sizes"]["c"] == pytest.approx(alone.value, abs=1e-8)  # + GAP / slope


def test_infeasible_targets_name_the_collective():
    i = Collective("i", 0.0, "g", target="y")  # needs 2/7 alone on the staircase
    j = Collective("j", 0.0, "h", target="y")  # helps i only at b
    for bound in ("closed_form", "staircase"):
        sol = min_joint_sizes(W2, [i, j], [1.0, 0.5], caps=[0.1, 0.5], bound=bound)
        assert sol.status == "infeasible" and sol.value is None
        assert "'i' cannot reach its target 1" in sol.stats["reason"] and "'j'" not in sol.stats["reason"]


def test_conflicting_targets_are_named_together():
    """Two collectives on the same signal planting opposite labels: each target is reachable alone,
    not both (their margins have opposite signs at every point)."""
    up = Collective("up", 0.0, "h", target="y")
    down = Collective("down", 0.0, "h", target="n")
    sol = min_joint_sizes(W2, [up, down], 1.0, bound="staircase")
    assert sol.status == "infeasible"
    assert "['up', 'down'] cannot all be met together" in sol.stats["reason"]


def test_failed_recheck_is_an_error_not_an_answer(monkeypatch):
    cs = [Collective("i", 0.0, "g", target="y"), Collective("j", 0.0, "h", target="y")]
    assert min_joint_sizes(W2, cs, 1.0, bound="staircase").status == "optimal"
    monkeypatch.setattr(coalition.bounds, "per_point", lambda *a, **k: jnp.zeros(2))
    sol = min_joint_sizes(W2, cs, 1.0, bound="staircase")
    assert sol.status == "error" and sol.value is None
    assert "re-check failed" in sol.stats["reason"] and "candidate" in sol.certificate


def test_cvxpy_statuses_are_mapped_never_dropped():
    import cvxpy as cp

    expected = {cp.OPTIMAL: "optimal", cp.OPTIMAL_INACCURATE: "converged", cp.INFEASIBLE: "infeasible",
                cp.INFEASIBLE_INACCURATE: "infeasible", "infeasible_or_unbounded": "infeasible",
                cp.UNBOUNDED: "unbounded", cp.UNBOUNDED_INACCURATE: "unbounded", cp.USER_LIMIT: "max_iter",
                cp.SOLVER_ERROR: "error", None: "error", "something new": "error"}
    assert {s: map_status(s) for s in expected} == expected


# ------------------------------------------------------------------------------------------------
# critical mass
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bound", ["staircase", "closed_form", "exact"])
def test_critical_mass_wraps_and_certifies(bound):
    c = Collective("c", 0.0, "g", target="y")
    sol = critical_mass(W2, c, 0.5, bound=bound)
    assert sol.status == "optimal"
    assert sol.value == library_critical_mass(W2, c, 0.5, bound=bound)
    cert = sol.certificate
    assert cert["bound_above"] >= 0.5 > cert["bound_below"] and cert["oracle_above"] >= 0.5
    missed = critical_mass(W2, c, 1.0, bound="closed_form")  # 1 - 0.4 (1 - α)/α < 1 for all α < 1
    assert missed.status == "infeasible" and missed.value == float("inf")
    assert "'c' cannot reach target_success=1" in missed.stats["reason"]
    assert 0.99 < missed.certificate["best_reachable"] < 1.0


# ------------------------------------------------------------------------------------------------
# coalition formation
# ------------------------------------------------------------------------------------------------
N_POINTS = 5


def _small_formation(seed):
    """4 groups, 5 points, 3 labels; the base favours one label per point, and each group targets
    one or two labels on 2-3 points, so most groups must plant and some must pool."""
    rng = np.random.default_rng(seed)
    labels = ["y0", "y1", "y2"]
    base = rng.dirichlet(np.ones(3), size=N_POINTS) * 0.3
    base[np.arange(N_POINTS), rng.integers(3, size=N_POINTS)] += 1.0
    base *= 0.6 / base.sum()
    landing, groups = {}, []
    for g in range(4):
        pts = rng.choice(N_POINTS, size=int(rng.integers(2, 4)), replace=False)
        table = np.zeros((N_POINTS, 3))
        table[pts] = rng.dirichlet(np.ones(len(pts) * 3)).reshape(len(pts), 3)
        # feature-label groups only depend on the row masses: re-split them consistently
        landing[f"s{g}"] = split_landing(table.sum(axis=1) / table.sum(), base.sum(axis=0) / 0.6)
        tset = [str(y) for y in rng.choice(labels, size=1 + int(rng.random() < 0.25), replace=False)]
        groups.append(Collective(f"g{g}", 0.0, f"s{g}", target=tset, label=tset[0]))
    world = World(points=[f"p{i}" for i in range(N_POINTS)], labels=labels, base=base, landing=landing)
    return world, groups, rng.uniform(0.02, 0.12, size=4).round(3), 0.7


def _brute_force(world, groups, caps, target, weights):
    """min over subsets x common labels x one minimal cover per member of an LP (scipy)."""
    theta = TIE_TOL + GAP
    best = np.inf
    for r in range(1, len(groups) + 1):
        for subset in itertools.combinations(range(len(groups)), r):
            common = set.intersection(*(set(groups[g].target) for g in subset))
            for lab in sorted(common):
                members = [groups[g].replace(label=lab) for g in subset]
                p = plant_all(world, members)
                k = len(members)
                P0 = np.asarray(training_mass(world.base, jnp.zeros(k), p.planted))
                dP = [np.asarray(training_mass(world.base, jnp.eye(k)[j], p.planted)) - P0 for j in range(k)]
                li = world.label_index(lab)
                covers = []
                for m in range(k):
                    mass = np.asarray(p.landing[m])
                    pts = np.flatnonzero(mass > 0)
                    ok = [set(s) for n in range(len(pts) + 1) for s in itertools.combinations(pts, n)
                          if mass[list(s)].sum() >= target - 1e-12]
                    covers.append([s for s in ok if not any(o < s for o in ok)])
                for choice in itertools.product(*covers):
                    rows, rhs = [], []
                    for m, cover in enumerate(choice):
                        for x in cover:
                            for y in np.flatnonzero(~np.asarray(p.target[m, x])):
                                rows.append([dP[j][x, li] - dP[j][x, y] for j in range(k)])
                                rhs.append(theta - (P0[x, li] - P0[x, y]))
                    A = np.vstack([-np.asarray(rows).reshape(-1, k), np.ones((1, k))])
                    b = np.concatenate([-np.asarray(rhs), [1 - SUM_GAP]])
                    res = linprog(weights[list(subset)], A_ub=A, b_ub=b, method="highs",
                                  bounds=[(0, caps[g]) for g in subset])
                    if res.status == 0:
                        best = min(best, res.fun)
    return best


@pytest.mark.parametrize("seed", [0, 2, 5, 13])  # two blocs, an infeasible case, a single group
def test_form_coalition_matches_brute_force(seed):
    world, groups, caps, target = _small_formation(seed)
    weights = np.random.default_rng(seed).uniform(0.5, 2.0, size=len(groups))
    sol = form_coalition(world, groups, caps, target, weights=weights)
    best = _brute_force(world, groups, caps, target, weights)
    if not np.isfinite(best):
        assert sol.status == "infeasible" and "no subset" in sol.stats["reason"]
        return
    assert sol.status == "optimal", sol.stats
    assert sol.value["objective"] == pytest.approx(best, abs=LP_AGREE)
    chosen = [g.replace(label=sol.value["label"]) for g in groups if g.name in sol.value["selected"]]
    sizes = np.asarray([sol.value["sizes"][c.name] for c in chosen])
    assert np.all(np.asarray(bounds.per_point(world, chosen, sizes=sizes)) >= target - 1e-12)
    assert np.all(np.asarray(success(world, chosen, sizes=sizes)) >= target - 1e-12)


def test_form_coalition_fifty_groups_forty_points(capsys):
    world, groups, caps, target = random_instance(n_groups=50, n_points=40, seed=0)
    start = time.perf_counter()
    sol = form_coalition(world, groups, caps, target)
    seconds = time.perf_counter() - start
    assert sol.status == "optimal" and sol.certificate["recheck_passed"], sol.stats
    assert sol.certificate["mip_gap"] <= 1e-9 and sol.certificate["max_residual"] <= 1e-9
    assert all(v >= target for v in sol.certificate["per_point"].values())
    with capsys.disabled():
        print(f"\n[form_coalition 50x40] {seconds:.3f} s incl. compilation "
              f"(cvxpy+HiGHS {sol.stats['solve_seconds']:.3f} s), "
              f"{sol.stats['n_binaries']} binaries, bloc {sol.value['selected']} on {sol.value['label']}")


def test_form_coalition_reports_infeasible_and_respects_label_and_signal():
    i, j = Collective("i", 0.0, "g", target="y"), Collective("j", 0.0, "f", target="y")
    sol = form_coalition(W2, [i, j], caps=[0.1, 0.1], target_success=1.0)
    assert sol.status == "infeasible" and "no subset" in sol.stats["reason"]
    both = Collective("k", 0.0, "g", target=["n", "y"], label="y")
    sol = form_coalition(W2, [both], caps=[0.5], target_success=1.0, label="n")
    assert sol.status == "optimal" and sol.value["label"] == "n"  # both labels are targets: no rival
    assert sol.value == {"selected": ["k"], "sizes": {"k": 0.0}, "label": "n", "total": 0.0, "objective": 0.0}
    shared = form_coalition(W2, [i, j], caps=[0.2, 0.2], target_success=1.0, signal="g")
    assert shared.status == "optimal" and set(shared.value["selected"]) == {"i", "j"}
    assert shared.value["total"] == pytest.approx(0.2 / 0.7, abs=1e-6)  # a bloc pools its size


# ------------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------------
_C = [Collective("i", 0.0, "g", target="y"), Collective("j", 0.0, "h", target="y")]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: min_joint_sizes(W2, _C, 1.5), r"targets\[0\]: 1.5 is outside \(0, 1\]"),
        (lambda: min_joint_sizes(W2, _C, [0.5, 0.0]), r"targets\[1\]: 0.0 is outside"),
        (lambda: min_joint_sizes(W2, _C, [0.5, 0.5, 0.5]), r"targets: expected one number or 2"),
        (lambda: min_joint_sizes(W2, _C, 0.5, caps=[0.2, 1.0]), r"caps\[1\]: 1.0 is outside \[0, 1\)"),
        (lambda: min_joint_sizes(W2, _C, 0.5, weights=[1, -1]), r"weights\[1\]: -1.0 is negative"),
        (lambda: min_joint_sizes(W2, _C, 0.5, weights=[1, np.nan]), r"weights: NaN or inf"),
        (lambda: min_joint_sizes(W2, [_C[0], _C[0]], 0.5), r"collectives: names must be unique"),
        (lambda: min_joint_sizes(W2, [], 0.5), r"collectives: need at least one"),
        (lambda: min_joint_sizes(W2, _C, 0.5, bound="stair"), r"bound: unknown value 'stair'.*staircase"),
        (lambda: min_joint_sizes(W2, _C, 0.5, eps=0.7, reading="tv"), r"eps: 0.7 is outside"),
        (lambda: min_joint_sizes(W2, [Collective("u", 0.0, "g", target="y", strategy="unplant")], 0.5),
         r"'u' has strategy 'unplant'.*bound='staircase'"),
        (lambda: form_coalition(W2, _C, None, 0.5), r"caps: required"),
        (lambda: form_coalition(W2, _C, [0.1, -0.1], 0.5), r"caps\[1\]: -0.1 is outside"),
        (lambda: form_coalition(W2, _C, [0.1, 0.1], 2.0), r"target_success\[0\]: 2.0"),
        (lambda: form_coalition(W2, _C, [0.1, 0.1], 0.5, label="maybe"), r"label: unknown value 'maybe'"),
        (lambda: form_coalition(W2, _C, [0.1, 0.1], 0.5, signal="q"), r"signal: unknown value 'q'"),
        (lambda: form_coalition(W2, [_C[1], _C[1]], [0.1, 0.1], 0.5), r"candidates: names must be unique"),
        (lambda: critical_mass(W2, _C[0], 0.5, bound="nope"), r"bound: unknown value 'nope'"),
        (lambda: critical_mass(W2, _C[0], 0.0), r"target_success: 0.0 is outside \(0, 1\]"),
    ],
)
def test_bad_input_names_the_argument(call, message):
    with pytest.raises(ACAInputError, match=message):
        call()
