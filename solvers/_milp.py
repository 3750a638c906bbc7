"""LP/MILP plumbing for :mod:`solvers.coalition`: margin rows, model builders, HiGHS (highspy).

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

#: Solver status -> :data:`solvers.STATUSES`. The solver statuses are cvxpy's names (this module
#: called HiGHS through cvxpy before; reports keep the same words). ``optimal_inaccurate`` is not a
#: certified optimum, so it maps to ``converged`` (the answer is still re-checked);
#: ``infeasible_or_unbounded`` is ``infeasible`` because every model here has bounded variables.
STATUS_MAP = {
    "optimal": "optimal",
    "optimal_inaccurate": "converged",
    "infeasible": "infeasible",
    "infeasible_inaccurate": "infeasible",
    "infeasible_or_unbounded": "infeasible",
    "unbounded": "unbounded",
    "unbounded_inaccurate": "unbounded",
    "user_limit": "max_iter",
    "solver_error": "error",
}
#: HiGHS model status -> solver status (as cvxpy names them; anything else is ``solver_error``).
HIGHS_STATUS = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnboundedOrInfeasible": "infeasible_or_unbounded",
    "kUnbounded": "unbounded",
    **dict.fromkeys(("kObjectiveBound", "kObjectiveTarget", "kTimeLimit", "kIterationLimit",
                     "kSolutionLimit", "kInterrupt"), "user_limit"),
}
_INF = float("inf")


def map_status(status: str | None) -> str:
    """A solver status as a :class:`~solvers.Solution` status (unknown -> ``error``)."""
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
    """What a solve returns: mapped status, raw solver status, values, residual, timings, info."""

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
    ``w·α <= cutoff``. Variables ``x = (α, z, y)``.
    """
    caps, weights, targets = (np.asarray(x, float) for x in (caps, weights, targets))
    K, Z, R = caps.size, rows.owner.size, rows.M.size
    n_y = K if select else 0
    model = _Model(np.concatenate([caps, np.ones(Z + n_y)]), K)
    alpha, z, y = model.block(0, K), model.block(K, Z), model.block(K + Z, n_y)
    model.at_most(alpha(np.ones((1, K))), [1.0 - SUM_GAP])
    need = targets - TARGET_TOL - rows.won
    cover = sp.csr_matrix((rows.mass, (rows.owner, np.arange(Z))), shape=(K, Z))
    if R:
        Mz = sp.csr_matrix((rows.M, (np.arange(R), rows.zid)), shape=(R, Z))
        model.at_least(alpha(rows.B) + z(-Mz), rows.theta - rows.M - rows.a)
    if select:
        model.at_most(alpha(sp.eye(K)) + y(-sp.diags(caps)), np.zeros(K))
        model.at_least(y(np.ones((1, K))), [1.0])
        if Z:
            model.at_most(z(sp.eye(Z)) + y(-sp.csr_matrix((np.ones(Z), (np.arange(Z), rows.owner)),
                                                           shape=(Z, K))), np.zeros(Z))
            model.at_least(z(cover) + y(-sp.diags(need)), np.zeros(K))
        else:
            model.at_most(y(sp.diags(need)), np.zeros(K))
    else:
        needed = need > 0
        if needed.any():
            if not Z:
                return Outcome("infeasible", "infeasible (no point can be cracked)")
            model.at_least(z(cover[needed]), need[needed])
    if cutoff is not None:
        model.at_most(alpha(weights[None]), [cutoff])
    out, x = model.solve(np.concatenate([weights, np.zeros(Z + n_y)]))
    out.n_binaries, out.n_rows = Z + n_y, R
    if x is not None:
        res = [0.0, float(x[:K].sum() - (1.0 - SUM_GAP))]
        res.append(float(np.max(x[:K] - caps, initial=0)))
        res.append(float(np.max(-x[:K], initial=0)))
        zv = x[K:K + Z]
        if R:
            lhs = rows.B @ x[:K] - rows.M * zv[rows.zid]
            res.append(float(np.max(rows.theta - rows.M - rows.a - lhs)))
        yv = x[K + Z:] if select else np.ones(K)
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
    model = _Model(caps, None)
    model.at_most(np.ones((1, K)), [1.0 - SUM_GAP])
    if A.shape[0]:
        model.at_least(A, rhs)
    if extra_lower is not None:
        c, d = extra_lower
        model.at_least(sp.diags(np.asarray(c, float)), d)
    out, v = model.solve(weights)
    out.n_rows = A.shape[0]
    if v is not None:
        res = [0.0, float(v.sum() - (1.0 - SUM_GAP)), float(np.max(v - caps)), float(np.max(-v))]
        if A.shape[0]:
            res.append(float(np.max(rhs - A @ v)))
        if extra_lower is not None:
            res.append(float(np.max(d - c * v)))
        out.residual = max(res)
    return out


class _Model:
    """A HiGHS model ``min c·x`` s.t. ``0 <= x <= upper`` and rows ``lo <= A x <= hi``; the variables
    past the first ``n_real`` are binary."""

    def __init__(self, upper, n_real: int | None):
        self.upper = np.asarray(upper, float)
        self.n_real = self.upper.size if n_real is None else n_real
        self.blocks, self.lower_rows, self.upper_rows = [], [], []

    def block(self, first: int, size: int):
        """``f(M)``: the coefficient matrix ``M`` (rows x ``size``) placed at columns ``first...``."""
        n = self.upper.size

        def place(matrix):
            matrix = sp.csr_matrix(matrix)
            return sp.hstack([sp.csr_matrix((matrix.shape[0], first)), matrix,
                              sp.csr_matrix((matrix.shape[0], n - first - size))], format="csr")

        return place

    def at_least(self, matrix, rhs):
        self._rows(matrix, np.asarray(rhs, float), np.full(np.size(rhs), _INF))

    def at_most(self, matrix, rhs):
        self._rows(matrix, np.full(np.size(rhs), -_INF), np.asarray(rhs, float))

    def _rows(self, matrix, lower, upper):
        matrix = sp.csr_matrix(matrix)
        if matrix.shape[1] != self.upper.size:
            raise ValueError(f"row block has {matrix.shape[1]} columns, the model {self.upper.size}")
        self.blocks.append(matrix)
        self.lower_rows.append(lower)
        self.upper_rows.append(upper)

    def solve(self, cost) -> tuple[Outcome, np.ndarray | None]:
        """Run HiGHS: the outcome (``alpha`` the first ``n_real`` variables) and the whole solution
        vector, ``None`` without a solution."""
        import highspy

        start = time.perf_counter()
        A = sp.vstack(self.blocks, format="csc")
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
        lp.col_cost_ = np.asarray(cost, float)
        lp.col_lower_ = np.zeros(A.shape[1])
        lp.col_upper_ = self.upper
        lp.row_lower_ = np.concatenate(self.lower_rows)
        lp.row_upper_ = np.concatenate(self.upper_rows)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = A.indptr
        lp.a_matrix_.index_ = A.indices
        lp.a_matrix_.value_ = A.data
        mip = self.n_real < A.shape[1]
        if mip:
            kinds = [highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger]
            lp.integrality_ = [kinds[j >= self.n_real] for j in range(A.shape[1])]
        solver = highspy.Highs()
        solver.setOptionValue("output_flag", False)
        for name, value in HIGHS_OPTIONS.items():
            solver.setOptionValue(name, value)
        try:
            solver.passModel(lp)
            solver.run()
        except (ValueError, RuntimeError) as err:
            seconds = time.perf_counter() - start
            return Outcome("error", "solver_error", seconds=seconds, message=str(err)), None
        status = HIGHS_STATUS.get(solver.getModelStatus().name, "solver_error")
        info = solver.getInfo()
        out = Outcome(map_status(status), status, seconds=time.perf_counter() - start)
        if mip:
            out.mip_gap, out.dual_bound = float(info.mip_gap), float(info.mip_dual_bound)
        x = None
        feasible = info.primal_solution_status == int(highspy.kSolutionStatusFeasible)
        if status in ("optimal", "user_limit") and feasible:
            x = np.asarray(solver.getSolution().col_value, float)
            out.alpha, out.objective = x[: self.n_real], float(info.objective_function_value)
        return out, x
