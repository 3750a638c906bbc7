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

This module holds :func:`critical_mass` and re-exports the other two, which live in
:mod:`solvers.joint_sizes` and :mod:`solvers.coalition_formation` (shared re-checks and input checks
in :mod:`solvers._coalition`).

**Formulations** (details and tolerances in :mod:`solvers._milp`).

*Closed form (LP).* With ``D_i = Δ_i ξ_i``, ``R_i = h_iΓ_i ξ_i`` and ``ρ_ij`` from
:func:`~aca_games.bounds.multi.stacked_terms` / :func:`~aca_games.bounds.multi.conflict_mass`, the
bound ``S_i >= 1 - [(1 - Σ_{j≠i} α_j - b_i α_i) D_i + α_i R_i + Σ_j α_j ρ_ij + κ + t_i]/(α_i ν_i)``
(``t_i = |X*_i| TIE_TOL``, the tie allowance) meets ``S*_i`` iff

    α_i (ν_i (1 - S*_i) + b_i D_i - R_i) + Σ_{j≠i} α_j (D_i - ρ_ij) >= D_i + κ + t_i + g_i,

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
:data:`CHECK_TOL`, or the exact oracle does, the status is ``"error"`` and the value ``None``:
never a silently wrong answer.

**Caps.** ``min_joint_sizes`` takes ``caps=None`` to mean "no individual cap": each size lies in
``[0, 1)`` and only the joint constraint ``Σ α < 1`` binds (a collective's own ``size`` field is
ignored). ``form_coalition`` requires caps (what each group can contribute).
"""

from __future__ import annotations

import time

import numpy as np

from aca_games import Collective, World, bounds, oracle
from aca_games.critical import critical_mass_result
from aca_games.learner import slack
from solvers._coalition import CHECK_TOL, NEAR_ONE, SHRINK_REL
from solvers._solution import Solution
from solvers.coalition_formation import form_coalition
from solvers.joint_sizes import JOINT_BOUNDS as JOINT_BOUNDS  # re-exported
from solvers.joint_sizes import min_joint_sizes

__all__ = ["critical_mass", "min_joint_sizes", "form_coalition", "CHECK_TOL", "SHRINK_REL"]

#: Step just above/below a critical mass at which the certificate evaluates the bound.
STEP = 1e-9


def critical_mass(
    world: World,
    collective: Collective,
    target_success,
    bound: str = "staircase",
    eps=0.0,
    reading: str = "huber",
) -> Solution:
    """Critical mass ``α*`` of one collective acting alone, certified (THEORY §3.1, §5a).

    Wraps :func:`aca_games.critical.critical_mass_result`. ``value`` is ``α*`` (the infimum of
    sizes meeting the target; every size just above it does; for ``bound="grid"`` a size meeting it,
    not necessarily the smallest: ``stats["exact"]`` is then False). ``status`` is ``"optimal"``, or
    ``"infeasible"`` when no size in ``[0, 1)`` reaches the target (``value = inf``;
    ``stats["reason"]`` gives the most the collective reaches with the chosen bound), or ``"error"``
    if the re-check fails. The certificate holds the bound at the library's witness (a size just
    above ``α*``) and at ``α* - STEP`` (exact methods only), and the exact oracle at the witness.
    ``stats["method"]`` names the method (:class:`~aca_games.critical.CriticalMass`).

    >>> from aca_games import World, Collective
    >>> w = World(points=["a", "b"], labels=["no", "yes"],
    ...           base=[[0.3, 0.1], [0.2, 0.2]], landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
    >>> sol = critical_mass(w, Collective("c", 0.0, "g", target="yes"), 1.0)
    >>> sol.status, round(sol.value, 4), sol.certificate["bound_above"], sol.certificate["oracle_above"]
    ('optimal', 0.2857, 1.0, 1.0)
    """
    start = time.perf_counter()
    found = critical_mass_result(world, collective, target_success, bound, eps, reading)
    alpha, target = found.value, float(target_success)
    stats = {"bound": bound, "method": found.method, "exact": found.exact, "seconds": 0.0}
    evaluate = _single_bound(world, collective, bound, eps, reading)
    if not np.isfinite(alpha):
        best = _best_single(world, collective, bound, eps, reading, evaluate)
        stats["reason"] = (
            f"{collective.name!r} cannot reach target_success={target:g} at any size in [0, 1): "
            f"the most it reaches with the {bound} bound is {best:.6g}"
            + {"closed_form": " (as its size -> 1)", "exact": " (on a grid)", "grid": " (on a grid)"}.get(
                bound, ""
            )
        )
        stats["seconds"] = time.perf_counter() - start
        return Solution(float("inf"), "infeasible", {"best_reachable": best, "target": target}, stats)
    above = found.witness
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
    }
    problems = []
    if cert["bound_above"] < target - CHECK_TOL:
        problems.append(f"the {bound} bound at {above!r} is {cert['bound_above']!r} < target {target!r}")
    if alpha > 0 and found.exact and cert["bound_below"] >= target - CHECK_TOL:
        problems.append(f"the {bound} bound already meets the target at {below!r} < α* = {alpha!r}")
    if cert["oracle_above"] < target - CHECK_TOL:
        problems.append(f"the exact oracle at {above!r} is {cert['oracle_above']!r} < target {target!r}")
    stats["seconds"] = time.perf_counter() - start
    if problems:
        stats["reason"] = "re-check failed: " + "; ".join(problems)
        return Solution(None, "error", cert, stats | {"candidate": alpha})
    return Solution(alpha, "optimal", cert, stats)


def _single_bound(world, collective, bound, eps, reading):
    """``sizes (n,) -> bound values (n,)`` for one collective (a loop: few sizes, no new compiles)."""
    if bound in ("exact", "grid"):
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
