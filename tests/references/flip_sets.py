"""Worst-case success of collectives, from the definitions (THEORY §1, §2).

Independent of ``aca_games``: it reads the world's arrays and the collective's fields only.

* Planted table (§1): feature-label ``M(x̃, ℓ) = m(x̃)``; feature-only ``M(x̃, ℓ) = m(x̃, ℓ)`` plus,
  for "hardt", ``M(x̃, y) = P0(x̃, y)`` for ``y ≠ ℓ``; noise ``σ`` adds ``σ N`` with ``N = P0``
  (drop), ``m(x̃)/L`` on every label (scatter) or ``m(x̃)`` on the misfire label, and the members'
  part is scaled by ``1 - σ``. Training mass ``P = (1 - α) P0 + α E``.
* Success at ``ε = 0``: landing mass of the points whose best target cell beats every rival by
  more than ``1e-12`` (a tie is a failure).
* Worst case at ``ε > 0``: subtract the largest landing mass of a set ``F`` of won points the
  learner can flip, every ``F`` enumerated (itertools). Flipping means making some rival label at
  least as large as every target label at each point of ``F``.
  - huber, from its definition ``(1-ε)P + εQ`` with ``Q`` a distribution: adding ``Q`` to target
    labels never helps and a rival needs ``(1-ε)(max_T P - P(y'))/ε``, least for the leading rival;
    ``F`` is affordable iff those ``Q`` masses sum to at most 1 (plus ``BUDGET_TOL`` of margin).
  - tv: an LP per ``F`` and per choice of rival label at each point (scipy ``linprog``): cell
    increases ``u >= 0`` and decreases ``v <= P`` with ``TV = (Σu + Σv + |Σu - Σv|)/2`` (the
    imbalance moved to or from cells that do not matter); affordable iff ``min TV <= ε`` (plus
    ``BUDGET_TOL`` of margin: moving TV mass ``t`` lowers a margin by ``2t``).
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.optimize

from references import oracle

TIE = 1e-12
#: The learner may overspend its budget by this much margin (rounding in the sums): the library's
#: convention (THEORY §4, one tolerance for ties and budgets), in margin units.
BUDGET_TOL = 1e-12


def planted_table(world, c) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(E, T, m)``: planted table per unit size, target mask and landing mass, for every strategy
    and noise mode (the planted tables of the oracle's reference, ``references/oracle.py``)."""
    m = np.asarray(world.landing[c.signal], dtype=float).sum(axis=1)
    return oracle.planted_per_unit(world, c), oracle.target_sets(world, c), m


def _margin(row, target_row) -> float:
    rivals = row[~target_row]
    return np.inf if rivals.size == 0 else row[target_row].max() - rivals.max()


def huber_affordable(P, target, F, eps) -> bool:
    need = sum((1 - eps) * _margin(P[x], target[x]) / eps for x in F)
    return need <= 1 + (1 - eps) * BUDGET_TOL / eps


def tv_cost(P, target, F) -> float:
    """Least total variation that makes a rival at least as large as every target at each x̃ ∈ F."""
    n_labels = P.shape[1]
    n = len(F) * n_labels
    best = np.inf
    for rivals in itertools.product(*(np.flatnonzero(~target[x]) for x in F)):
        # variables: u (n), v (n), s (imbalance, >= |Σu - Σv|); objective (Σu + Σv + s)/2
        cost = np.concatenate([np.full(2 * n, 0.5), [0.5]])
        rows, rhs = [], []
        balance = np.concatenate([np.ones(n), -np.ones(n), [0.0]])
        rows += [balance - np.eye(2 * n + 1)[-1], -balance - np.eye(2 * n + 1)[-1]]
        rhs += [0.0, 0.0]
        for i, (x, r) in enumerate(zip(F, rivals, strict=True)):
            for y in np.flatnonzero(target[x]):
                row = np.zeros(2 * n + 1)  # P[x,y] + u_y - v_y <= P[x,r] + u_r - v_r
                row[i * n_labels + y] += 1
                row[n + i * n_labels + y] -= 1
                row[i * n_labels + r] -= 1
                row[n + i * n_labels + r] += 1
                rows.append(row)
                rhs.append(P[x, r] - P[x, y])
        decrease = [(0, P[F[k // n_labels], k % n_labels]) for k in range(n)]
        res = scipy.optimize.linprog(
            cost, A_ub=np.array(rows), b_ub=np.array(rhs),
            bounds=[(0, None)] * n + decrease + [(0, None)], method="highs",
        )
        if res.status == 0:
            best = min(best, res.fun)
    return best


def success(world, c, alpha, eps=0.0, reading="huber", target_success=None) -> float:
    """Worst-case success of ``c`` acting alone at size ``alpha``. With ``target_success`` the
    search stops as soon as the answer is known to be below it (returns an upper bound then)."""
    return joint_success(world, [c], [alpha], eps, reading, target_success)[0]


def joint_success(world, collectives, sizes, eps=0.0, reading="huber", target_success=None) -> list:
    """Worst-case success of each collective, all acting together at ``sizes``:
    ``P = (1 - Σ α_j) P0 + Σ_j α_j E_j``."""
    tables = [planted_table(world, c) for c in collectives]
    P = (1 - sum(sizes)) * np.asarray(world.base, dtype=float)
    for a, (E, _, _) in zip(sizes, tables, strict=True):
        P = P + a * E
    return [_worst_case(P, target, m, eps, reading, target_success) for _, target, m in tables]


def _worst_case(P, target, m, eps, reading, target_success) -> float:
    won = [x for x in range(P.shape[0]) if m[x] > 0 and _margin(P[x], target[x]) > TIE]
    total = float(m[won].sum())
    if eps == 0 or not won:
        return total
    worst = total
    for size in range(1, len(won) + 1):  # smallest sets first
        for F in itertools.combinations(won, size):
            left = total - float(m[list(F)].sum())
            if left >= worst:
                continue
            if reading == "huber":
                ok = huber_affordable(P, target, F, eps)
            else:
                ok = tv_cost(P, target, list(F)) <= eps + BUDGET_TOL / 2
            if ok:
                worst = left
                if target_success is not None and worst < target_success - 1e-12:
                    return worst
    return worst
