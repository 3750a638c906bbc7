"""LP/MILP plumbing for :mod:`solvers.coalition`: margin rows, model builders, HiGHS via cvxpy.

Everything here works on arrays; the public functions in :mod:`solvers.coalition` resolve worlds and
collectives with the library (``plant_all``, ``stacked_terms``, ``conflict_mass``) and re-check the
answers with the library bounds and the exact oracle.

**Margins are affine in the sizes.** With ``P = (1 - Σ_j α_j) P0 + Σ_j α_j E_j = P0 + Σ_j α_j (E_j - P0)``
the margin of collective ``i`` at point ``x̃`` against a rival ``y' ∉ T_i`` is

    P(x̃, ℓ_i) - P(x̃, y') = a + Σ_j α_j B_j,    a = P0(x̃, ℓ_i) - P0(x̃, y'),
    B_j = [E_j(x̃, ℓ_i) - P0(x̃, ℓ_i)] - [E_j(x̃, y') - P0(x̃, y')].

**Cracked points** (binary ``z_ix``): ``a + B·α >= θ - M (1 - z_ix)`` for every rival, with
``θ = κ + TIE_TOL + GAP``. The library counts a point iff its margin *exceeds* ``κ + TIE_TOL``; the
strict inequality is modelled by the named gap :data:`GAP`, larger than the solver's feasibility
and integrality tolerances (:data:`HIGHS_OPTIONS`) times ``M`` so that a solver-feasible point is
truly cracked. ``M = θ - (a + Σ_j cap_j min(B_j, 0))``, the smallest value that leaves the row
inactive for every size in the box ``0 <= α <= cap``; since margins lie in ``[-1, 1]``, ``M <= 2``.
Rows whose margin clears ``θ`` everywhere in the box are dropped (the point is always won); a point
with a row that cannot reach ``θ`` anywhere in the box gets no variable (never won).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from aca_games._knapsack import TIE_TOL

#: Strict margins: a cracked point's margin must be at least ``κ + TIE_TOL + GAP``. Chosen 10x
#: above the feasibility and integrality tolerances passed to HiGHS (so a tolerance-feasible
#: solution still has margin ``> κ + TIE_TOL``) and far below any margin that matters.
GAP = 1e-9
#: Bystanders must remain: ``Σ α <= 1 - SUM_GAP`` models ``Σ α < 1``.
SUM_GAP = 1e-9
#: Success sums are compared with targets with this tolerance (sums of landing masses; the
#: library's critical mass uses the same, :data:`aca_games.critical.TARGET_TOL`).
TARGET_TOL = 1e-12
#: HiGHS options: tight feasibility and integrality tolerances (see :data:`GAP`) and a MIP gap
#: small enough that "optimal" means optimal to ~1e-10 relative.
HIGHS_OPTIONS = {
    "primal_feasibility_tolerance": 1e-10,
    "dual_feasibility_tolerance": 1e-10,
    "mip_feasibility_tolerance": 1e-10,
    "mip_rel_gap": 1e-10,
    "mip_abs_gap": 1e-13,
}

#: cvxpy status -> :data:`solvers.STATUSES`. ``optimal_inaccurate`` is not a certified optimum,
#: so it maps to ``converged`` (the answer is still re-checked); ``infeasible_or_unbounded`` is
#: ``infeasible`` because every model here has bounded variables.
STATUS_MAP = {
    cp.OPTIMAL: "optimal",
    cp.OPTIMAL_INACCURATE: "converged",
    cp.INFEASIBLE: "infeasible",
    cp.INFEASIBLE_INACCURATE: "infeasible",
    "infeasible_or_unbounded": "infeasible",
    cp.UNBOUNDED: "unbounded",
    cp.UNBOUNDED_INACCURATE: "unbounded",
    cp.USER_LIMIT: "max_iter",
    cp.SOLVER_ERROR: "error",
}


def map_status(status: str | None) -> str:
    """A cvxpy status as a :class:`~solvers.Solution` status (unknown -> ``error``)."""
    return STATUS_MAP.get(status, "error")


# ------------------------------------------------------------------------------------------------
# Staircase rows
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rows:
    """Big-M rows of the per-point (staircase) model for ``K`` collectives.

    ``z`` variables: ``owner[z]`` (collective), ``point[z]``, ``mass[z] = m_owner(point)``.
    Rows ``r``: ``B[r] @ α - M[r] z[zid[r]] >= θ - M[r] - a[r]``.
    ``won`` is the landing mass each collective wins at every size in the box; ``reach`` the most it
    can win (``won`` plus every point with a variable).
    """

    owner: np.ndarray
    point: np.ndarray
    mass: np.ndarray
    zid: np.ndarray
    a: np.ndarray
    B: np.ndarray
    M: np.ndarray
    theta: float
    won: np.ndarray
    reach: np.ndarray


def margin_terms(base, planted, label, target):
    """``a[i, x, y]`` and ``B[i, x, y, j]`` of the affine margins (module docstring).

    Shapes: ``base (P, L)``, ``planted (K, P, L)``, ``label (K, P)`` (int), ``target (K, P, L)``.
    """
    base, planted, label = np.asarray(base), np.asarray(planted), np.asarray(label)
    n_points = base.shape[0]
    xs = np.arange(n_points)[None, :]
    D = planted - base[None]  # (j, x, y): dP/dα_j
    a = base[xs, label][:, :, None] - base[None]  # (i, x, y)
    D_own = D[:, xs, label]  # (j, i, x): D[j, x, ℓ_i(x)]
    B = np.moveaxis(D_own, 0, -1)[:, :, None, :] - np.moveaxis(D, 0, -1)[None]  # (i, x, y, j)
    return a, B


def staircase_rows(base, planted, label, target, landing, caps, kappa, required=None) -> Rows:
    """Classify every (collective, point) and build the big-M rows (module docstring)."""
    target, landing, caps = np.asarray(target, bool), np.asarray(landing), np.asarray(caps, float)
    K = landing.shape[0]
    required = np.ones(K, bool) if required is None else np.asarray(required, bool)
    a, B = margin_terms(base, planted, label, target)
    theta = float(kappa) + TIE_TOL + GAP
    lower = a + np.minimum(B, 0.0) @ caps  # (i, x, y): least margin over the box
    upper = a + np.maximum(B, 0.0) @ caps
    rival = ~target
    live = (landing > 0) & required[:, None]  # (i, x)
    blocked = np.any(rival & (upper < theta), axis=2)  # some rival can never be beaten
    always = ~np.any(rival & (lower < theta), axis=2)  # every rival always beaten (or none)
    won = np.where(live & always, landing, 0.0).sum(axis=1)
    has_z = live & ~always & ~blocked
    owner, point = np.nonzero(has_z)
    zindex = -np.ones(has_z.shape, int)
    zindex[owner, point] = np.arange(owner.size)
    rows = rival & (lower < theta) & has_z[:, :, None]
    ri, rx, ry = np.nonzero(rows)
    M = theta - lower[ri, rx, ry]
    mass = landing[owner, point]
    reach = won + np.bincount(owner, weights=mass, minlength=K)
    return Rows(owner, point, mass, zindex[ri, rx], a[ri, rx, ry], B[ri, rx, ry], M, theta, won, reach)


def restrict_rows(rows: Rows, required) -> Rows:
    """The rows :func:`staircase_rows` builds with ``required``, taken from those of every collective
    (a collective's rows do not depend on which others are required)."""
    required = np.asarray(required, bool)
    keep_z = required[rows.owner]
    new_id = np.cumsum(keep_z) - 1
    keep_r = keep_z[rows.zid]
    won = np.where(required, rows.won, 0.0)
    reach = won + np.bincount(rows.owner[keep_z], weights=rows.mass[keep_z], minlength=required.size)
    return Rows(rows.owner[keep_z], rows.point[keep_z], rows.mass[keep_z], new_id[rows.zid[keep_r]],
                rows.a[keep_r], rows.B[keep_r], rows.M[keep_r], rows.theta, won, reach)


# ------------------------------------------------------------------------------------------------
# Models
# ------------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What a solve returns: mapped status, raw cvxpy status, values, residual, timings, info."""

    status: str
    solver_status: str
    alpha: np.ndarray | None = None
    z: np.ndarray | None = None
    y: np.ndarray | None = None
    objective: float | None = None
    residual: float | None = None
    mip_gap: float | None = None
    dual_bound: float | None = None
    seconds: float = 0.0
    n_binaries: int = 0
    n_rows: int = 0
    message: str = ""


def staircase_milp(rows: Rows, caps, weights, targets, *, select=False, cutoff=None) -> Outcome:
    """Minimise ``w·α`` over the per-point model.

    Constraints: ``0 <= α <= cap``; ``Σ α <= 1 - SUM_GAP``; the big-M rows; the cover
    ``Σ_x m_i(x) z_ix >= S*_i - TARGET_TOL - won_i`` for every collective with rows (with ``select``:
    times ``y_i``, plus ``α_i <= cap_i y_i``, ``z_ix <= y_i`` and ``Σ y >= 1``); optional cutoff
    ``w·α <= cutoff``.
    """
    caps, weights, targets = (np.asarray(x, float) for x in (caps, weights, targets))
    K, Z, R = caps.size, rows.owner.size, rows.M.size
    alpha = cp.Variable(K, bounds=[np.zeros(K), caps], name="alpha")
    cons = [cp.sum(alpha) <= 1.0 - SUM_GAP]
    z = cp.Variable(Z, boolean=True, name="z") if Z else None
    y = cp.Variable(K, boolean=True, name="y") if select else None
    need = targets - TARGET_TOL - rows.won
    cover = sp.csr_matrix((rows.mass, (rows.owner, np.arange(Z))), shape=(K, Z))
    if R:
        Mz = sp.csr_matrix((rows.M, (np.arange(R), rows.zid)), shape=(R, Z))
        cons.append(rows.B @ alpha - Mz @ z >= rows.theta - rows.M - rows.a)
    if select:
        cons += [alpha <= cp.multiply(caps, y), cp.sum(y) >= 1]
        if Z:
            cons.append(z <= y[rows.owner])
            cons.append(cover @ z >= cp.multiply(need, y))
        else:
            cons.append(cp.multiply(need, y) <= 0)
    else:
        needed = need > 0
        if needed.any():
            if not Z:
                return Outcome("infeasible", "infeasible (no point can be cracked)")
            cons.append(cover[needed] @ z >= need[needed])
    if cutoff is not None:
        cons.append(weights @ alpha <= cutoff)
    out = _solve(cp.Problem(cp.Minimize(weights @ alpha), cons), alpha, z, y)
    out.n_binaries, out.n_rows = Z + (K if select else 0), R
    if out.alpha is not None:
        res = [0.0, float(alpha.value.sum() - (1.0 - SUM_GAP))]
        res.append(float(np.max(alpha.value - caps, initial=0)))
        res.append(float(np.max(-alpha.value, initial=0)))
        zv = z.value if Z else np.zeros(0)
        if R:
            lhs = rows.B @ alpha.value - rows.M * zv[rows.zid]
            res.append(float(np.max(rows.theta - rows.M - rows.a - lhs)))
        yv = y.value if select else np.ones(K)
        res.append(float(np.max(need * yv - cover @ zv)))
        out.residual = max(res)
        out.z = np.round(zv).astype(bool)
        if select:
            out.y = np.round(yv).astype(bool)
    return out


def linear_lp(A, rhs, caps, weights, extra_lower=None) -> Outcome:
    """Minimise ``w·α`` s.t. ``A α >= rhs``, ``0 <= α <= cap``, ``Σ α <= 1 - SUM_GAP``; optional
    per-coordinate rows ``extra_lower = (c, d)`` meaning ``c_i α_i >= d_i``."""
    A, rhs, caps, weights = (np.asarray(x, float) for x in (A, rhs, caps, weights))
    K = caps.size
    alpha = cp.Variable(K, bounds=[np.zeros(K), caps], name="alpha")
    cons = [cp.sum(alpha) <= 1.0 - SUM_GAP]
    if A.shape[0]:
        cons.append(A @ alpha >= rhs)
    if extra_lower is not None:
        c, d = extra_lower
        cons.append(cp.multiply(c, alpha) >= d)
    out = _solve(cp.Problem(cp.Minimize(weights @ alpha), cons), alpha, None, None)
    out.n_rows = A.shape[0]
    if out.alpha is not None:
        v = alpha.value
        res = [0.0, float(v.sum() - (1.0 - SUM_GAP)), float(np.max(v - caps)), float(np.max(-v))]
        if A.shape[0]:
            res.append(float(np.max(rhs - A @ v)))
        if extra_lower is not None:
            res.append(float(np.max(d - c * v)))
        out.residual = max(res)
    return out


def _solve(problem: cp.Problem, alpha, z, y) -> Outcome:
    start = time.perf_counter()
    try:
        problem.solve(solver=cp.HIGHS, **HIGHS_OPTIONS)
    except (cp.SolverError, ValueError) as err:
        return Outcome("error", "solver_error", seconds=time.perf_counter() - start, message=str(err))
    seconds = time.perf_counter() - start
    status = map_status(problem.status)
    out = Outcome(status, str(problem.status), seconds=seconds)
    info = problem.solver_stats.extra_stats if problem.solver_stats is not None else None
    if info is not None and (z is not None or y is not None):
        out.mip_gap, out.dual_bound = float(info.mip_gap), float(info.mip_dual_bound)
    if problem.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE, cp.USER_LIMIT) and alpha.value is not None:
        out.alpha = np.asarray(alpha.value, float)
        out.objective = float(problem.value)
    return out
