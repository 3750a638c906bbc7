"""The whole oracle from the definitions (THEORY §1–2), as mixed-integer programmes.

Independent of ``aca_games``: it reads a world's arrays (``base``, ``landing``, ``labels``) and a
collective's fields, and uses numpy and scipy only. Nothing here knows the library's flip costs.

* **Training table** (§1). A collective of size ``α`` submits, per unit of members, the table
  ``E = (1 - σ) M + σ N``. Members' table ``M`` (``m`` = landing table, ``m(x̃)`` its row sums):
  feature-label ``M(x̃, ℓ) = m(x̃)``; feature-only ``M(x̃, ℓ) = m(x̃, ℓ)`` (members whose label is
  ``ℓ`` move to the signal; the others leave the relevant points ("gbj") or keep their own data,
  ``M(x̃, y) = P0(x̃, y)`` for ``y ≠ ℓ`` ("hardt")); unplanting ``M(x̃, ℓ(x̃)) = m(x̃)`` with
  ``ℓ(x̃)`` the strongest base label among the targets; erasing the same with the base modal label,
  the target at ``x̃`` being the base modal labels there. Deviators ``N``: ``P0`` (drop: they are
  bystanders), ``m(x̃)/L`` on every label (scatter), ``m(x̃)`` on the wrong label (misfire).
  ``P = (1 - Σ α_j) P0 + Σ_j α_j E_j``. Ties in "strongest"/"modal" go to the first label.
* **Bayes learner**: collective ``j`` wins at ``x̃`` iff ``max_{T} P - max_{not T} P > 1e-12``
  (a tie is a failure); success ``Σ m_j(x̃) 1[win]``.
* **ε > 0, worst case for** ``j``: the learner is Bayes-optimal for a perturbed table ``D``, chosen
  by an adversary to make ``j`` lose as much landing mass as possible. ``j`` loses ``x̃`` when
  some rival (non-target) label has ``D(x̃, r) >= D(x̃, t) - tie`` for every target ``t``. Binary
  ``s[x̃, r]`` picks the rival (at most one per point); big-M switches the rows off otherwise.

  - huber: ``D = (1 - ε) P + ε Q`` with ``Q`` any distribution: variables ``Q(x̃, y) >= 0`` on
    the relevant cells, the rest of ``Q`` outside, ``Σ Q <= 1``; ``tie = (1 - ε)·1e-12``.
  - tv: ``D = P̃`` with ``TV(P, P̃) <= ε``: variables ``P̃ >= 0`` on the relevant cells and the
    mass outside them (``1 - Σ P`` under ``P``), total 1, ``½ Σ |P̃ - P| <= ε`` (split into
    increases and decreases); ``tie = 1e-12``.

  HiGHS (``scipy.optimize.milp``) works to tolerances (integrality, feasibility) far above the
  masses' rounding, so every answer is *verified*: with the chosen rivals fixed, an LP finds the
  least budget that loses those points; if it exceeds the budget (beyond ``1e-9``) that choice is
  cut off and the MILP solved again.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize
import scipy.sparse

TIE = 1e-12
#: Flip rows are multiplied by this so HiGHS's absolute row tolerance means ~1e-13 of mass.
ROW_SCALE = 1e6
#: The objective is multiplied by this so HiGHS's absolute gap (1e-6) means 1e-12 of mass.
OBJECTIVE_SCALE = 1e6
#: A verified flip set may use this much more than the budget (solver tolerance).
BUDGET_SLACK = 1e-9


# -- §1: what the collectives plant -------------------------------------------------------------
def target_sets(world, c) -> np.ndarray:
    """Boolean ``(P, L)``: the target labels of ``c`` at each relevant point."""
    base = np.asarray(world.base, dtype=float)
    if c.strategy == "erase":
        return base == base.max(axis=1, keepdims=True)
    row = np.isin(np.arange(len(world.labels)), [list(world.labels).index(t) for t in c.target])
    return np.tile(row, (base.shape[0], 1))


def planted_per_unit(world, c) -> np.ndarray:
    """``E(x̃, y)`` submitted at the relevant cells per unit size of ``c``, noise included."""
    labels = list(world.labels)
    base = np.asarray(world.base, dtype=float)
    land = np.asarray(world.landing[c.signal], dtype=float)
    mass = land.sum(axis=1)
    n_points, n_labels = base.shape
    targets = target_sets(world, c)
    members = np.zeros_like(base)
    for x in range(n_points):
        if c.strategy == "feature_label":
            members[x, labels.index(c.label)] = mass[x]
        elif c.strategy == "feature_only":
            ell = labels.index(c.label)
            members[x, ell] = land[x, ell]
            if c.variant == "hardt":
                for y in range(n_labels):
                    if y != ell:
                        members[x, y] = base[x, y]
        elif c.strategy == "unplant":
            allowed = [y for y in range(n_labels) if targets[x, y]]
            members[x, max(allowed, key=lambda y: (base[x, y], -y))] = mass[x]
        elif c.strategy == "erase":
            members[x, max(range(n_labels), key=lambda y: (base[x, y], -y))] = mass[x]
        else:
            raise ValueError(c.strategy)
    if c.noise_mode == "drop":
        deviators = base
    elif c.noise_mode == "scatter":
        deviators = np.repeat(mass[:, None] / n_labels, n_labels, axis=1)
    else:
        if c.misfire_label is not None:
            wrong = labels.index(c.misfire_label)
        else:
            wrong = min(y for y in range(n_labels) if not targets[0, y])
        deviators = np.zeros_like(base)
        deviators[:, wrong] = mass
    return (1 - c.noise) * members + c.noise * deviators


def training_table(world, collectives, sizes) -> np.ndarray:
    """``P = (1 - Σ α_j) P0 + Σ_j α_j E_j`` on the relevant cells."""
    table = (1 - float(np.sum(sizes))) * np.asarray(world.base, dtype=float)
    for c, alpha in zip(collectives, sizes, strict=True):
        table = table + float(alpha) * planted_per_unit(world, c)
    return table


def landing_mass(world, c) -> np.ndarray:
    return np.asarray(world.landing[c.signal], dtype=float).sum(axis=1)


# -- §2: the oracle -----------------------------------------------------------------------------
def bayes_success(world, collectives, sizes) -> np.ndarray:
    """Success of each collective under the Bayes-optimal learner."""
    P = training_table(world, collectives, sizes)
    out = []
    for c in collectives:
        targets, mass = target_sets(world, c), landing_mass(world, c)
        total = 0.0
        for x in range(P.shape[0]):
            best_target = max(P[x, y] for y in range(P.shape[1]) if targets[x, y])
            rivals = [P[x, y] for y in range(P.shape[1]) if not targets[x, y]]
            if not rivals or best_target - max(rivals) > TIE:
                total += mass[x]
        out.append(total)
    return np.array(out)


def worst_success(world, collectives, sizes, eps: float, reading: str) -> np.ndarray:
    """Worst-case success of each collective over ``ε``-suboptimal learners (one MILP each)."""
    P = training_table(world, collectives, sizes)
    return np.array([
        landing_mass(world, c).sum() - most_mass_lost(P, target_sets(world, c), landing_mass(world, c),
                                                      eps, reading)
        for c in collectives
    ])


def most_mass_lost(P, targets, mass, eps, reading) -> float:
    """The largest landing mass the adversary can make the collective lose (verified)."""
    model = _Model(P, targets, mass, eps, reading)
    cuts = []
    for _ in range(100):
        choice = model.solve(cuts)
        if model.least_budget(choice) <= model.budget + BUDGET_SLACK:
            return float(sum(mass[x] for x, _ in choice))
        cuts.append(choice)
    raise RuntimeError("reference MILP: no verified flip set after 100 cuts")


def tv_to_lose(P, targets, x) -> float:
    """The least TV that makes the collective lose point ``x`` alone (LP, best rival)."""
    model = _Model(P, targets, np.ones(P.shape[0]), 0.25, "tv")
    return min(model.least_budget([(x, r)]) for r in np.flatnonzero(~targets[x]))


class _Model:
    """Variables: the perturbation (reading-specific, continuous) then one binary per (point, rival).

    huber: ``q`` (P·L cells) and ``q_out``; ``D = (1-ε) P + ε q``; ``Σ q + q_out = 1``.
    tv: ``p̃`` (P·L), ``o`` (outside), increases ``u`` and decreases ``d`` for the P·L cells and the
    outside; ``p̃ - P = u - d``, ``o - o_P = u_o - d_o``, ``Σ p̃ + o = 1``, ``½ Σ (u + d) <= ε``.
    """

    def __init__(self, P, targets, mass, eps, reading):
        self.P, self.targets, self.mass, self.eps, self.reading = P, targets, mass, eps, reading
        n_points, n_labels = P.shape
        self.cells = n_points * n_labels
        if reading == "huber":
            self.n_cont = self.cells + 1
            self.budget = 1.0
        else:
            outside = 1.0 - P.sum()
            assert outside >= -1e-9, f"training mass {P.sum()} > 1: the world is inconsistent"
            self.outside = max(outside, 0.0)
            self.n_cont = 3 * (self.cells + 1)
            self.budget = eps
        self.pairs = [(x, r) for x in range(n_points) if mass[x] > 0
                      for r in range(n_labels) if not targets[x, r]]

    # perturbed table D(x, y) = scale * P(x, y) + weight * variable(x, y)
    def _d(self, x, y):
        if self.reading == "huber":
            return (1 - self.eps) * self.P[x, y], self.eps, x * self.P.shape[1] + y
        return 0.0, 1.0, x * self.P.shape[1] + y

    def _tie(self):
        return (1 - self.eps) * TIE if self.reading == "huber" else TIE

    def _big_m(self, x, r, t):
        move = self.eps if self.reading == "huber" else 2 * self.eps
        scale = (1 - self.eps) if self.reading == "huber" else 1.0
        return max(0.0, scale * (self.P[x, t] - self.P[x, r])) + move + 1e-9

    def _budget_rows(self):
        """Rows (dense over the continuous variables) with bounds: the reading's constraints."""
        n = self.n_cont
        rows, lo, hi = [], [], []
        if self.reading == "huber":
            rows.append(np.ones(n)), lo.append(1.0), hi.append(1.0)  # Σ q + q_out = 1
            return rows, lo, hi
        c = self.cells
        p_tilde, u, d = np.arange(c + 1), np.arange(c + 1, 2 * c + 2), np.arange(2 * c + 2, 3 * c + 3)
        before = np.concatenate([self.P.ravel(), [self.outside]])
        for i in range(c + 1):  # p̃_i - u_i + d_i = P_i
            row = np.zeros(n)
            row[p_tilde[i]], row[u[i]], row[d[i]] = 1.0, -1.0, 1.0
            rows.append(row), lo.append(before[i]), hi.append(before[i])
        row = np.zeros(n)
        row[p_tilde] = 1.0
        rows.append(row), lo.append(1.0), hi.append(1.0)  # total mass 1
        row = np.zeros(n)
        row[u], row[d] = 0.5, 0.5
        rows.append(row), lo.append(-np.inf), hi.append(self.eps)  # TV <= ε
        return rows, lo, hi

    def _flip_rows(self, pairs, with_binaries):
        """``D(x,r) - D(x,t) + tie >= 0`` per target ``t``, or ``>= -M(1 - s)`` with binaries."""
        n = self.n_cont + (len(self.pairs) if with_binaries else 0)
        rows, lo = [], []
        for k, (x, r) in enumerate(pairs):
            for t in np.flatnonzero(self.targets[x]):
                (a_r, w_r, v_r), (a_t, w_t, v_t) = self._d(x, r), self._d(x, t)
                row = np.zeros(n)
                row[v_r] += w_r
                row[v_t] -= w_t
                bound = a_t - a_r - self._tie()
                if with_binaries:
                    big = self._big_m(x, r, t)
                    row[self.n_cont + k] = -big
                    bound -= big
                rows.append(row * ROW_SCALE), lo.append(bound * ROW_SCALE)
        return rows, lo

    def _bounds(self):
        lower = np.zeros(self.n_cont)
        upper = np.full(self.n_cont, np.inf)
        return lower, upper

    def solve(self, cuts):
        """The MILP: most landing mass lost; ``cuts`` exclude rival choices found unaffordable."""
        k = len(self.pairs)
        n = self.n_cont + k
        rows, lo, hi = self._budget_rows()
        rows = [np.concatenate([r, np.zeros(k)]) for r in rows]
        flips, flo = self._flip_rows(self.pairs, with_binaries=True)
        rows += flips
        lo += flo
        hi += [np.inf] * len(flips)
        index = {pair: i for i, pair in enumerate(self.pairs)}
        for x in sorted({x for x, _ in self.pairs}):  # one rival per point
            row = np.zeros(n)
            row[[self.n_cont + index[(x, r)] for r in range(self.P.shape[1]) if (x, r) in index]] = 1
            rows.append(row), lo.append(-np.inf), hi.append(1.0)
        for choice in cuts:  # not exactly this choice again
            row = np.zeros(n)
            for pair in choice:
                row[self.n_cont + index[pair]] = 1
            rows.append(row), lo.append(-np.inf), hi.append(len(choice) - 1)
        objective = np.zeros(n)
        objective[self.n_cont:] = [-self.mass[x] * OBJECTIVE_SCALE for x, _ in self.pairs]
        lower, upper = self._bounds()
        result = scipy.optimize.milp(
            objective,
            constraints=scipy.optimize.LinearConstraint(scipy.sparse.csr_array(np.array(rows)), lo, hi),
            integrality=np.concatenate([np.zeros(self.n_cont), np.ones(k)]),
            bounds=scipy.optimize.Bounds(np.concatenate([lower, np.zeros(k)]),
                                         np.concatenate([upper, np.ones(k)])),
            options={"mip_rel_gap": 0.0},
        )
        if result.status != 0:
            raise RuntimeError(f"reference MILP failed: {result.message}")
        chosen = result.x[self.n_cont:] > 0.5
        return [pair for pair, on in zip(self.pairs, chosen, strict=True) if on]

    def least_budget(self, choice) -> float:
        """LP: the least budget (Q mass, or TV) that loses every point of ``choice`` via its rival."""
        if not choice:
            return 0.0
        rows, lo, hi = self._budget_rows()
        cost = np.zeros(self.n_cont)
        if self.reading == "huber":
            rows, lo, hi = [], [], []
            cost[: self.cells] = 1.0  # Q mass spent on the relevant cells; the rest may stay outside
        else:
            cost[self.cells + 1:] = 0.5  # ½ Σ (u + d)
            rows, lo, hi = rows[:-1], lo[:-1], hi[:-1]  # drop the TV <= ε row: it is the objective
        flips, flo = self._flip_rows(choice, with_binaries=False)
        a = np.array(rows + flips)
        lower, upper = self._bounds()
        result = scipy.optimize.linprog(
            cost,
            A_ub=-a[len(rows):], b_ub=-np.array(flo),
            A_eq=a[: len(rows)] if rows else None, b_eq=np.array(lo) if rows else None,
            bounds=list(zip(lower, upper, strict=True)), method="highs",
        )
        return float(result.fun) if result.status == 0 else np.inf
