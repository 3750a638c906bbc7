"""Joint sizing (THEORY §5b): minimum-weight sizes at which several collectives acting together each
meet their target, as an LP (closed form B1) or a MILP (multi-collective staircase).

The formulations, tolerances and re-checks are described in :mod:`solvers.coalition`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import jax
import numpy as np

from aca_games import ACAInputError, Collective, World, bounds, oracle, plant_all
from aca_games import _validate as v
from aca_games._pytree import to_device
from aca_games.bounds.multi import stacked_terms
from aca_games.learner import check_eps, slack
from solvers import _milp
from solvers._coalition import (
    _LABELLED,
    NEAR_ONE,
    _check_cap,
    _check_target,
    _check_weight,
    _collectives,
    _finish,
    _per_item,
    _shrink_probe,
)
from solvers._solution import Solution

JOINT_BOUNDS = ("closed_form", "staircase")


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
    ...           landing={"g": [[0.5, 0.0], [0.2, 0.3]], "h": [[0.0, 0.0], [0.7, 0.3]]})
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

    every_row = None
    if bound == "staircase":  # built once; a subset of required targets keeps its owners' rows
        every_row = _milp.staircase_rows(world.base, p.planted, p.label, p.target, p.landing, caps, kappa)

    def solve(required, cutoff=None):
        if bound == "closed_form":
            A, rhs, nu_rows = build
            return _milp.linear_lp(A[required], rhs[required], caps, weights, _nu_rows(nu_rows, required))
        rows = _milp.restrict_rows(every_row, required)
        return _milp.staircase_milp(rows, caps, weights, np.where(required, targets, 0.0), cutoff=cutoff)

    out = solve(np.ones(K, bool))
    names = [c.name for c in collectives]
    stats = {
        "bound": bound,
        "solver": "HiGHS (highspy)",
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
    sizes = to_device(alpha)
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
    terms = jax.tree_util.tree_map(np.asarray, stacked_terms(world, collectives)[0])  # host arithmetic
    rho = np.asarray(bounds.conflict_mass(world, collectives))
    D = terms.delta * terms.xi
    R = terms.resistance * terms.xi
    nu, b = terms.net_rate, terms.bystander_rate
    A = D[:, None] - rho
    np.fill_diagonal(A, nu * (1.0 - targets) + b * D - R)
    gap = np.where(targets < 1.0, _milp.GAP, 0.0)
    return A, D + kappa + np.asarray(terms.ties) + gap, nu


def _nu_rows(nu, required):
    return np.where(required, nu, 0.0), np.where(required, _milp.GAP, 0.0)


def _infeasible_reason(solve, names, targets, caps) -> str:
    """Name a minimal set of collectives whose targets cannot all be met, found by QuickXplain
    [Junker 2004] over the required targets: ``O(k log(K/k))`` solves for a conflict of ``k`` of the
    ``K`` collectives. A set of one cannot reach its target even with everyone else free to help;
    in a larger set each target is reachable alone (the set is minimal)."""
    K = len(names)

    def infeasible(members) -> bool:
        required = np.zeros(K, bool)
        required[list(members)] = True
        return solve(required).status == "infeasible"

    group = sorted(_quickxplain(infeasible, list(range(K))))
    if len(group) == 1:
        i = group[0]
        return (
            f"collective {names[i]!r} cannot reach its target {targets[i]:g} even at its cap "
            f"{caps[i]:.6g} with every other collective free to help"
        )
    return (
        f"the targets of collectives {[names[i] for i in group]} cannot all be met together (each is "
        "reachable alone); they conflict: raise caps or lower targets"
    )


def _quickxplain(infeasible, items: list) -> list:
    """A minimal subset of ``items`` that is ``infeasible`` (``infeasible(items)`` must hold)."""

    def explain(background: list, added: bool, candidates: list) -> list:
        if added and infeasible(background):
            return []
        if len(candidates) == 1:
            return candidates
        first, second = candidates[: len(candidates) // 2], candidates[len(candidates) // 2 :]
        found_second = explain(background + first, True, second)
        found_first = explain(background + found_second, bool(found_second), first)
        return found_first + found_second

    return explain([], False, items)
