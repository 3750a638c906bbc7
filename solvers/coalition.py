"""Minimum-size coalitions (THEORY §5): critical mass, joint sizing (LP / MILP), coalition formation.

Three questions, one answer type (:class:`~solvers.Solution`), every answer re-checked:

* :func:`critical_mass` -- how large must one collective acting alone be? Wraps
  :func:`aca_games.critical_mass` and certifies the answer: the bound just above ``α*`` meets the
  target, just below it does not, and the exact oracle agrees.
* :func:`min_joint_sizes` -- sizes ``α_i ∈ [0, cap_i]`` for several collectives acting together so
  that each meets its own target, at minimum ``Σ w_i α_i``. With the aggregative closed form (B1,
  THEORY §3.3) every constraint is linear in the sizes (an LP); with the multi-collective staircase
  (:func:`aca_games.bounds.per_point`) it is a MILP with a binary "cracked" per point.
* :func:`form_coalition` -- from candidate groups pick the subset that merges into one bloc planting
  a common label, each member meeting the target, at minimum total size (a MILP per label).

**Formulations** (details and tolerances in :mod:`solvers._milp`).

*Closed form (LP).* With ``D_i = Δ_i ξ_i``, ``R_i = h_iΓ_i ξ_i`` and ``ρ_ij`` from
:func:`~aca_games.bounds.multi.stacked_terms` / :func:`~aca_games.bounds.multi.conflict_mass`, the
bound ``S_i >= 1 - [(1 - Σ_{j≠i} α_j - b_i α_i) D_i + α_i R_i + Σ_j α_j ρ_ij + κ]/(α_i ν_i)``
meets ``S*_i`` iff

    α_i (ν_i (1 - S*_i) + b_i D_i - R_i) + Σ_{j≠i} α_j (D_i - ρ_ij) >= D_i + κ + g_i,

with ``g_i = GAP`` (1e-9, so that the library's floating-point bound lands on the right side of
``S*_i``) when ``S*_i < 1`` and 0 when ``S*_i = 1``; plus ``ν_i α_i >= GAP`` (the bound is 0 unless
``α_i ν_i > 0``).

*Staircase (MILP).* ``z_ix = 1`` forces every margin of ``i``'s planted label over a rival at ``x``
to reach ``κ + TIE_TOL + GAP`` (big-M, ``M <= 2`` computed per row from the box ``0 <= α <= cap``),
and ``Σ_x m_i(x) z_ix >= S*_i - TARGET_TOL``.

Both add ``Σ α <= 1 - SUM_GAP`` (bystanders remain). HiGHS runs with feasibility and integrality
tolerances of 1e-10 and a relative MIP gap of 1e-10.

**Re-checks.** Every returned answer is evaluated with the library bound (``multi_closed_form`` /
``per_point``) and the exact oracle (:func:`aca_games.success`); both go into the certificate with
the solver status and the largest constraint residual. If the bound misses a target by more than
:data:`CHECK_TOL`, or the exact oracle does (when it is exact: ``ε = 0`` or at most
:data:`aca_games.oracle.EXACT_MAX_POINTS` points; otherwise it is a lower bound and a miss is
reported, not fatal), the status is ``"error"`` and the value ``None``: never a silently wrong answer.

**Caps.** ``min_joint_sizes`` takes ``caps=None`` to mean "no individual cap": each size lies in
``[0, 1)`` and only the joint constraint ``Σ α < 1`` binds (a collective's own ``size`` field is
ignored). ``form_coalition`` requires caps (what each group can contribute).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import ACAInputError, Collective, World, bounds, oracle, plant, plant_all
from aca_games import _validate as v
from aca_games import critical_mass as _critical_mass
from aca_games.bounds.multi import b1_kernel, per_point_kernel, stacked_terms
from aca_games.learner import check_eps, slack
from solvers import _milp
from solvers._solution import Solution

__all__ = ["critical_mass", "min_joint_sizes", "form_coalition", "CHECK_TOL", "SHRINK_REL"]

#: A re-checked success may fall short of its target by at most this (float sums of masses).
CHECK_TOL = 1e-12
#: Step just above/below a critical mass at which the certificate evaluates the bound.
STEP = 1e-9
#: Relative shrink used by the local-minimality probe recorded in the certificates.
SHRINK_REL = 1e-6
#: Largest size used for "at size -> 1" (sizes must stay below 1).
NEAR_ONE = 1.0 - 1e-12

JOINT_BOUNDS = ("closed_form", "staircase")
_LABELLED = ("feature_label", "feature_only")


# ------------------------------------------------------------------------------------------------
# (a) critical mass
# ------------------------------------------------------------------------------------------------
def critical_mass(
    world: World,
    collective: Collective,
    target_success,
    bound: str = "staircase",
    eps=0.0,
    reading: str = "huber",
) -> Solution:
    """Critical mass ``α*`` of one collective acting alone, certified (THEORY §3.1, §5a).

    Wraps :func:`aca_games.critical_mass`. ``value`` is ``α*`` (the infimum of sizes meeting the
    target; every size just above it does). ``status`` is ``"optimal"``, or ``"infeasible"`` when
    no size in ``[0, 1)`` reaches the target (``value = inf``; ``stats["reason"]`` gives the most the
    collective reaches with the chosen bound), or ``"error"`` if the re-check fails. The certificate
    holds the bound at ``α* + STEP`` (and at ``α* - STEP``) and the exact oracle there.

    >>> from aca_games import World, Collective
    >>> w = World(points=["a", "b"], labels=["no", "yes"],
    ...           base=[[0.3, 0.1], [0.2, 0.2]], landing={"g": [[0.5, 0.0], [0.3, 0.2]]})
    >>> sol = critical_mass(w, Collective("c", 0.0, "g", target="yes"), 1.0)
    >>> sol.status, round(sol.value, 4), sol.certificate["bound_above"], sol.certificate["oracle_above"]
    ('optimal', 0.2857, 1.0, 1.0)
    """
    start = time.perf_counter()
    alpha = float(_critical_mass(world, collective, target_success, bound, eps, reading))
    target = float(target_success)
    stats = {"bound": bound, "seconds": 0.0}
    evaluate = _single_bound(world, collective, bound, eps, reading)
    if not np.isfinite(alpha):
        best = _best_single(world, collective, bound, eps, reading, evaluate)
        stats["reason"] = (
            f"{collective.name!r} cannot reach target_success={target:g} at any size in [0, 1): "
            f"the most it reaches with the {bound} bound is {best:.6g}"
            + (" (as its size -> 1)" if bound == "closed_form" else "")
        )
        stats["seconds"] = time.perf_counter() - start
        return Solution(float("inf"), "infeasible", {"best_reachable": best, "target": target}, stats)
    exact_eps = bound == "exact" and not (v.is_concrete(eps) and float(eps) == 0.0)
    above = alpha if exact_eps else min(alpha + STEP * max(1.0, alpha), 0.5 * (alpha + 1.0))
    below = max(alpha - STEP * max(1.0, alpha), 0.0)
    sizes = [above, below] if alpha > 0 else [above]
    values = evaluate(np.asarray(sizes))
    sol_oracle = oracle.success(world, collective, eps, reading, sizes=np.asarray([[above]]))
    cert = {
        "size_above": above,
        "bound_above": float(values[0]),
        "oracle_above": float(sol_oracle[0, 0]),
        "size_below": below if alpha > 0 else None,
        "bound_below": float(values[1]) if alpha > 0 else None,
        "target": target,
        "oracle_exact": _oracle_is_exact(world, eps),
    }
    problems = []
    if cert["bound_above"] < target - CHECK_TOL:
        problems.append(f"the {bound} bound at {above!r} is {cert['bound_above']!r} < target {target!r}")
    if alpha > 0 and not exact_eps and cert["bound_below"] >= target - CHECK_TOL:
        problems.append(f"the {bound} bound already meets the target at {below!r} < α* = {alpha!r}")
    if cert["oracle_exact"] and cert["oracle_above"] < target - CHECK_TOL:
        problems.append(f"the exact oracle at {above!r} is {cert['oracle_above']!r} < target {target!r}")
    stats["seconds"] = time.perf_counter() - start
    if problems:
        stats["reason"] = "re-check failed: " + "; ".join(problems)
        return Solution(None, "error", cert, stats | {"candidate": alpha})
    return Solution(alpha, "optimal", cert, stats)


def _single_bound(world, collective, bound, eps, reading):
    """``sizes (n,) -> bound values (n,)`` for one collective (a loop: few sizes, no new compiles)."""
    if bound == "exact":
        return lambda s: np.asarray(oracle.success(world, collective, eps, reading, sizes=s[:, None]))[:, 0]
    fn = bounds.closed_form if bound == "closed_form" else bounds.staircase
    return lambda s: np.asarray([float(fn(world, collective.with_size(float(a)), eps, reading)) for a in s])


def _best_single(world, collective, bound, eps, reading, evaluate) -> float:
    """The most the collective reaches at any size with the chosen bound."""
    if bound == "closed_form":  # increasing in the size
        return float(evaluate(np.asarray([NEAR_ONE]))[0])
    if bound == "staircase":  # piecewise constant: changes only at the ends of the crack intervals
        lo, hi = bounds.crack_intervals(world, collective, slack(eps, reading))
        ends = np.concatenate([[0.0], np.asarray(lo), np.asarray(hi)])
        ends = np.unique(ends[np.isfinite(ends) & (ends >= 0) & (ends < 1)])
        return float(np.max(evaluate(np.minimum(ends + STEP, NEAR_ONE))))
    return float(np.max(evaluate(np.linspace(0.0, 1.0, 2049)[:-1])))


def _oracle_is_exact(world: World, eps) -> bool:
    """At ``ε = 0``, or with few enough points for the exact knapsack, the oracle is exact; otherwise
    ``success`` uses the greedy relaxation, a lower bound on the worst case."""
    return (v.is_concrete(eps) and float(eps) == 0.0) or len(world.points) <= oracle.EXACT_MAX_POINTS


# ------------------------------------------------------------------------------------------------
# (b) joint sizing
# ------------------------------------------------------------------------------------------------
def min_joint_sizes(
    world: World,
    collectives: Sequence[Collective],
    targets,
    caps=None,
    weights=None,
    bound: str = "closed_form",
    eps=0.0,
    reading: str = "huber",
) -> Solution:
    """Minimum-weight sizes at which every collective meets its target, all acting together.

    Args:
        world: the world.
        collectives: ``K`` collectives (their own ``size`` fields are ignored); names unique.
        targets: ``S*_i ∈ (0, 1]``, one number for all or one per collective.
        caps: ``ᾱ_i ∈ [0, 1)`` per collective; ``None`` = no individual cap (only ``Σ α < 1``).
        weights: ``w_i >= 0`` (default 1): minimise ``Σ w_i α_i``.
        bound: ``"closed_form"`` (B1, an LP) or ``"staircase"`` (per-point form, a MILP).
        eps, reading: the learner.

    Returns:
        :class:`~solvers.Solution` with ``value = {"sizes": {name: α_i}, "total": Σ α,
        "objective": Σ w α}``; status ``optimal`` / ``converged`` (solver optimal but inaccurate),
        ``infeasible`` (``stats["reason"]`` names the collectives whose targets cannot be met),
        ``unbounded``, ``max_iter`` or ``error``. The certificate holds the solver status, the largest
        constraint residual, the library bound and the exact oracle at the returned sizes, and a
        local-minimality probe (shrinking each positive size by ``SHRINK_REL`` breaks a target).

    >>> from aca_games import World, Collective
    >>> w = World(points=["a", "b"], labels=["n", "y"], base=[[0.3, 0.1], [0.2, 0.2]],
    ...           landing={"g": [[0.5, 0.0], [0.3, 0.2]], "h": [[0.0, 0.0], [1.0, 0.0]]})
    >>> cs = [Collective("i", 0.0, "g", target="y"), Collective("j", 0.0, "h", target="y")]
    >>> sol = min_joint_sizes(w, cs, 1.0, bound="staircase")
    >>> sol.status, {k: round(a, 4) for k, a in sol.value["sizes"].items()}
    ('optimal', {'i': 0.2857, 'j': 0.0})
    """
    start = time.perf_counter()
    collectives = _collectives("collectives", collectives)
    K = len(collectives)
    v.choice("bound", bound, JOINT_BOUNDS)
    check_eps(eps, reading)
    targets = _per_item("targets", targets, K, _check_target)
    caps = np.full(K, NEAR_ONE) if caps is None else _per_item("caps", caps, K, _check_cap)
    weights = np.ones(K) if weights is None else _per_item("weights", weights, K, _check_weight)
    if bound == "closed_form":
        for c in collectives:
            if c.strategy not in _LABELLED:
                raise ACAInputError(
                    f"collectives: {c.name!r} has strategy {c.strategy!r}, which the closed form (B1) "
                    "does not cover; use bound='staircase'"
                )
    kappa = float(slack(eps, reading))
    p = plant_all(world, collectives)
    build = _closed_form_model(world, collectives, targets, kappa) if bound == "closed_form" else None

    def solve(required, cutoff=None):
        if bound == "closed_form":
            A, rhs, nu_rows = build
            return _milp.linear_lp(A[required], rhs[required], caps, weights, _nu_rows(nu_rows, required))
        rows = _milp.staircase_rows(world.base, p.planted, p.label, p.target, p.landing, caps, kappa,
                                    required)
        return _milp.staircase_milp(rows, caps, weights, np.where(required, targets, 0.0), cutoff=cutoff)

    out = solve(np.ones(K, bool))
    names = [c.name for c in collectives]
    stats = {
        "bound": bound,
        "solver": "HIGHS via cvxpy",
        "solver_status": out.solver_status,
        "solve_seconds": out.seconds,
        "n_binaries": out.n_binaries,
        "n_rows": out.n_rows,
        "gap": _milp.GAP,
    }
    if out.alpha is None:
        if out.status == "infeasible":
            stats["reason"] = _infeasible_reason(solve, names, targets, caps)
        elif out.message:
            stats["reason"] = out.message
        stats["seconds"] = time.perf_counter() - start
        return Solution(None, out.status, {"solver_status": out.solver_status}, stats)
    alpha = np.clip(out.alpha, 0.0, caps)
    sizes = jnp.asarray(alpha)
    fn = bounds.multi_closed_form if bound == "closed_form" else bounds.per_point
    bound_values = np.asarray(fn(world, collectives, eps, reading, sizes=sizes))
    oracle_values = np.asarray(oracle.success(world, collectives, eps, reading, sizes=sizes))
    terms, covered = (stacked_terms(world, collectives) if bound == "closed_form" else (None, None))
    probe = _shrink_probe(world.base, p, alpha, targets, kappa, terms, covered)
    cert = {
        "solver_status": out.solver_status,
        "objective": out.objective,
        "max_residual": out.residual,
        "mip_gap": out.mip_gap,
        "mip_dual_bound": out.dual_bound,
        "targets": dict(zip(names, targets.tolist(), strict=True)),
        "bound": dict(zip(names, bound_values.tolist(), strict=True)),
        "oracle": dict(zip(names, oracle_values.tolist(), strict=True)),
        "oracle_exact": _oracle_is_exact(world, eps),
        "shrink_breaks_target": dict(zip(names, probe, strict=True)),
    }
    value = {
        "sizes": dict(zip(names, alpha.tolist(), strict=True)),
        "total": float(alpha.sum()),
        "objective": float(weights @ alpha),
    }
    return _finish(value, out.status, cert, stats, names, targets, bound_values, oracle_values, start)


def _closed_form_model(world, collectives, targets, kappa):
    """Rows ``A α >= rhs`` of the B1 constraints and the ``ν`` rows (module docstring)."""
    terms, _ = stacked_terms(world, collectives)
    rho = np.asarray(bounds.conflict_mass(world, collectives))
    D = np.asarray(terms.delta * terms.xi)
    R = np.asarray(terms.resistance * terms.xi)
    nu, b = np.asarray(terms.net_rate), np.asarray(terms.bystander_rate)
    A = D[:, None] - rho
    np.fill_diagonal(A, nu * (1.0 - targets) + b * D - R)
    gap = np.where(targets < 1.0, _milp.GAP, 0.0)
    return A, D + kappa + gap, nu


def _nu_rows(nu, required):
    return np.where(required, nu, 0.0), np.where(required, _milp.GAP, 0.0)


def _infeasible_reason(solve, names, targets, caps) -> str:
    """Name the collectives whose targets cannot be met: first alone (everyone else free to help),
    then an irreducible conflicting set by a deletion filter."""
    K = len(names)
    alone = []
    for i in range(K):
        required = np.zeros(K, bool)
        required[i] = True
        if solve(required).status == "infeasible":
            alone.append(i)
    if alone:
        return "; ".join(
            f"collective {names[i]!r} cannot reach its target {targets[i]:g} even at its cap "
            f"{caps[i]:.6g} with every other collective free to help" for i in alone
        )
    keep = np.ones(K, bool)
    for i in range(K):
        keep[i] = False
        if solve(keep).status != "infeasible":
            keep[i] = True
    group = [names[i] for i in np.flatnonzero(keep)]
    return (
        f"the targets of collectives {group} cannot all be met together (each is reachable alone); "
        "they conflict: raise caps or lower targets"
    )


def _shrink_probe(base, p, alpha, targets, kappa, terms, covered) -> list:
    """For each positive size: does shrinking it by ``SHRINK_REL`` (relative) break some target?
    ``None`` for zero sizes. Uses the library kernels (``b1_kernel`` / ``per_point_kernel``)."""
    out = []
    for i in range(alpha.size):  # a loop reuses the ops the re-check just compiled for this shape
        if alpha[i] <= 0:
            out.append(None)
            continue
        sizes = alpha.copy()
        sizes[i] *= 1.0 - SHRINK_REL
        sizes = jnp.asarray(sizes)
        if terms is None:
            vals = per_point_kernel(base, p, sizes, kappa)
        else:
            vals = b1_kernel(p, terms, covered, sizes, kappa)
        out.append(bool(np.any(np.asarray(vals) < targets - CHECK_TOL)))
    return out


def _finish(value, status, cert, stats, names, targets, bound_values, oracle_values, start) -> Solution:
    """Turn the re-check into a status: ``error`` (value ``None``) if the bound or an exact oracle
    misses a target by more than :data:`CHECK_TOL`."""
    problems = []
    for name, t, b, o in zip(names, targets, bound_values, oracle_values, strict=True):
        if b < t - CHECK_TOL:
            problems.append(f"{name!r}: bound {b!r} < target {t!r}")
        if o < t - CHECK_TOL:
            if cert["oracle_exact"]:
                problems.append(f"{name!r}: exact oracle {o!r} < target {t!r} (bound {b!r})")
            else:
                stats.setdefault("notes", []).append(
                    f"{name!r}: greedy oracle (a lower bound on the worst case) {o!r} < target {t!r}"
                )
    cert["recheck_passed"] = not problems
    stats["seconds"] = time.perf_counter() - start
    if problems:
        stats["reason"] = "re-check failed: " + "; ".join(problems)
        return Solution(None, "error", cert | {"candidate": value}, stats)
    return Solution(value, status, cert, stats)


# ------------------------------------------------------------------------------------------------
# (c) coalition formation
# ------------------------------------------------------------------------------------------------
def form_coalition(
    world: World,
    candidates: Sequence[Collective],
    caps,
    target_success,
    label=None,
    signal=None,
    weights=None,
    eps=0.0,
    reading: str = "huber",
) -> Solution:
    """Smallest bloc of candidate groups planting one common label, each member meeting its target.

    Every selected group plants the common label ``ℓ`` (which must lie in its target set) with its
    own signal (or ``signal`` for all), at a size ``α_g ∈ [0, cap_g]``; each selected group must meet
    ``target_success`` under the per-point form with the pooled planting
    (:func:`aca_games.bounds.per_point`). Minimises ``Σ w_g α_g``. One MILP per label (binary
    ``y_g`` selected, ``z_gx`` cracked; ``α_g <= cap_g y_g``, ``z_gx <= y_g``,
    ``Σ_x m_g(x) z_gx >= (S* - TARGET_TOL) y_g``, ``Σ y >= 1``), each label's MILP cut off at the best
    objective found so far. Groups that cannot reach their target even with every eligible group at
    its cap are removed before the MILP. Selected groups of size 0 are dropped from the answer
    unless no selected group has a positive size (they only add constraints).

    Args:
        candidates: ``feature_label`` or ``feature_only`` collectives with unique names (their
            ``size`` and ``label`` are ignored).
        caps: the most each candidate can contribute, in ``[0, 1)``.
        target_success: ``S* ∈ (0, 1]``, one for all or one per candidate.
        label: restrict to one common label (default: try every label).
        signal: make every candidate use this signal (default: its own).
        weights: ``w_g >= 0`` (default 1).

    Returns:
        :class:`~solvers.Solution` with ``value = {"selected": [names], "sizes": {name: α},
        "label": ℓ, "total": Σ α, "objective": Σ w α}``; the certificate holds per-label solver
        results, the MIP gap, the largest residual, ``per_point`` and the exact oracle of the selected
        groups acting together; stats hold timings and the number of binaries.

    >>> from aca_games import World, Collective
    >>> w = World(points=["a", "b"], labels=["n", "y"], base=[[0.3, 0.1], [0.2, 0.2]],
    ...           landing={"g": [[0.5, 0.0], [0.3, 0.2]], "h": [[1.0, 0.0], [0.0, 0.0]]})
    >>> groups = [Collective("i", 0.0, "g", target="y"), Collective("j", 0.0, "h", target="y")]
    >>> sol = form_coalition(w, groups, caps=[0.1, 0.15], target_success=1.0)
    >>> sol.status, sol.value["selected"], round(sol.value["total"], 4)  # alone: 0.2857 and 0.1667
    ('optimal', ['i', 'j'], 0.1786)
    """
    start = time.perf_counter()
    candidates = _collectives("candidates", candidates)
    G = len(candidates)
    for c in candidates:
        if c.strategy not in _LABELLED:
            raise ACAInputError(
                f"candidates: {c.name!r} has strategy {c.strategy!r}; a bloc plants one common label, "
                "so candidates must be feature_label or feature_only"
            )
    check_eps(eps, reading)
    if caps is None:
        raise ACAInputError("caps: required, the most each candidate group can contribute (in [0, 1))")
    caps = _per_item("caps", caps, G, _check_cap)
    targets = _per_item("target_success", target_success, G, _check_target)
    weights = np.ones(G) if weights is None else _per_item("weights", weights, G, _check_weight)
    if signal is not None:
        v.choice("signal", str(signal), world.signals)
        candidates = [c.replace(signal=str(signal)) for c in candidates]
    labels = world.labels if label is None else (world.labels[world.label_index(label)],)
    kappa = float(slack(eps, reading))
    best, per_label, n_binaries, solve_seconds = None, {}, 0, 0.0
    for lab in labels:
        eligible = [g for g, c in enumerate(candidates) if lab in c.target]
        if not eligible:
            per_label[lab] = {"status": "skipped", "reason": "no candidate has this label in its target"}
            continue
        res = _label_milp(world, candidates, eligible, lab, caps, targets, weights, kappa,
                          None if best is None else best["objective"])
        n_binaries += res.get("n_binaries", 0)
        solve_seconds += res.get("seconds", 0.0)
        keys = ("status", "solver_status", "objective", "reason", "dropped", "n_binaries", "seconds")
        per_label[lab] = {k: res[k] for k in keys if k in res}
        if res["status"] in ("optimal", "converged", "max_iter") and (
            best is None or res["objective"] < best["objective"]
        ):
            best = res | {"label": lab}
    stats = {"labels_tried": list(per_label), "n_binaries": n_binaries, "solve_seconds": solve_seconds,
             "solver": "HIGHS via cvxpy", "gap": _milp.GAP}
    cert = {"per_label": per_label}
    if best is None:
        errors = [lab for lab, r in per_label.items() if r["status"] in ("error", "unbounded")]
        stats["seconds"] = time.perf_counter() - start
        if errors:
            stats["reason"] = f"solver failed for labels {errors}: " + "; ".join(
                str(per_label[lab].get("reason", per_label[lab]["status"])) for lab in errors)
            return Solution(None, "error", cert, stats)
        stats["reason"] = (
            "no subset of candidates meets the target with any common label: " + "; ".join(
                f"{lab}: {r.get('reason', r['status'])}" for lab, r in per_label.items())
        )
        return Solution(None, "infeasible", cert, stats)
    return _finish_coalition(world, candidates, best, targets, weights, (eps, reading, kappa), cert, stats,
                             start)


def _label_milp(world, candidates, eligible, lab, caps, targets, weights, kappa, cutoff) -> dict:
    """One label: plant, prune groups that cannot reach their target, solve the selection MILP."""
    groups = [candidates[g].replace(label=lab) for g in eligible]
    # plant one group at a time and stack in numpy: no JAX compilation per number of groups
    p = jax.tree_util.tree_map(lambda *xs: np.stack([np.asarray(x) for x in xs]),
                               *(plant(world, c) for c in groups))
    idx = np.arange(len(groups))
    dropped = []
    while True:  # pruning shrinks the box, which may block more groups
        sub = jax.tree_util.tree_map(lambda x, keep=idx: x[keep], p)
        cap = caps[eligible][idx]
        rows = _milp.staircase_rows(world.base, sub.planted, sub.label, sub.target, sub.landing, cap, kappa)
        ok = rows.reach >= targets[eligible][idx] - _milp.TARGET_TOL
        if ok.all():
            break
        dropped += [groups[i].name for i in idx[~ok]]
        idx = idx[ok]
        if idx.size == 0:
            return {"status": "infeasible", "solver_status": "not solved",
                    "reason": f"no group reaches its target with every group planting {lab!r} at its cap"}
    out = _milp.staircase_milp(rows, cap, weights[eligible][idx], targets[eligible][idx], select=True,
                               cutoff=None if cutoff is None else cutoff)
    res = {"status": out.status, "solver_status": out.solver_status, "seconds": out.seconds,
           "n_binaries": out.n_binaries, "objective": out.objective, "dropped": dropped}
    if out.status == "infeasible":
        res["reason"] = ("no subset meets the target" if cutoff is None
                         else f"no subset beats the best objective so far ({cutoff:.6g})")
    elif out.message:
        res["reason"] = out.message
    if out.alpha is not None:
        members = [eligible[i] for i in idx]
        res |= {"members": members, "alpha": np.clip(out.alpha, 0.0, cap) * out.y, "y": out.y,
                "residual": out.residual, "mip_gap": out.mip_gap, "dual_bound": out.dual_bound}
    return res


def _finish_coalition(world, candidates, best, targets, weights, learner, cert, stats, start):
    eps, reading, kappa = learner
    lab, members, alpha, y = best["label"], best["members"], best["alpha"], best["y"]
    picked = [i for i in range(len(members)) if y[i]]
    chosen = [i for i in picked if alpha[i] > 0] or picked  # zero-size members only add constraints
    gs = [members[i] for i in chosen]
    group = [candidates[g].replace(label=lab) for g in gs]
    sizes = np.asarray([alpha[i] for i in chosen])
    names = [c.name for c in group]
    pp = np.asarray(bounds.per_point(world, group, eps, reading, sizes=jnp.asarray(sizes)))
    orc = np.asarray(oracle.success(world, group, eps, reading, sizes=jnp.asarray(sizes)))
    probe = _shrink_probe(world.base, plant_all(world, group), sizes, targets[gs], kappa, None, None)
    cert |= {
        "label": lab,
        "solver_status": best["solver_status"],
        "objective": best["objective"],
        "max_residual": best["residual"],
        "mip_gap": best["mip_gap"],
        "mip_dual_bound": best["dual_bound"],
        "per_point": dict(zip(names, pp.tolist(), strict=True)),
        "oracle": dict(zip(names, orc.tolist(), strict=True)),
        "oracle_exact": _oracle_is_exact(world, eps),
        "shrink_breaks_target": dict(zip(names, probe, strict=True)),
    }
    value = {
        "selected": names,
        "sizes": dict(zip(names, sizes.tolist(), strict=True)),
        "label": lab,
        "total": float(sizes.sum()),
        "objective": float(weights[gs] @ sizes),
    }
    return _finish(value, best["status"], cert, stats, names, targets[gs], pp, orc, start)


# ------------------------------------------------------------------------------------------------
# input checks
# ------------------------------------------------------------------------------------------------
def _collectives(name: str, collectives) -> list[Collective]:
    if isinstance(collectives, Collective):
        collectives = [collectives]
    try:
        collectives = list(collectives)
    except TypeError as err:
        raise ACAInputError(f"{name}: expected a sequence of Collective, got {collectives!r}") from err
    if not collectives:
        raise ACAInputError(f"{name}: need at least one collective")
    for i, c in enumerate(collectives):
        if not isinstance(c, Collective):
            raise ACAInputError(f"{name}[{i}]: expected a Collective, got {type(c).__name__}")
    seen = [c.name for c in collectives]
    dup = sorted({n for n in seen if seen.count(n) > 1})
    if dup:
        raise ACAInputError(f"{name}: names must be unique, {dup} appear more than once")
    return collectives


def _per_item(name: str, value, n: int, check) -> np.ndarray:
    arr = v.finite_array(name, value)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ACAInputError(f"{name}: expected one number or {n} (one per collective), got shape {arr.shape}")
    for i, x in enumerate(arr):
        check(f"{name}[{i}]", float(x))
    return arr.astype(float)


def _check_target(name, x):
    if not 0 < x <= 1:
        raise ACAInputError(f"{name}: {x!r} is outside (0, 1]; a success target is a probability")


def _check_cap(name, x):
    if not 0 <= x < 1:
        raise ACAInputError(f"{name}: {x!r} is outside [0, 1); a cap is a population share below 1")


def _check_weight(name, x):
    if x < 0:
        raise ACAInputError(f"{name}: {x!r} is negative; weights must be >= 0")
