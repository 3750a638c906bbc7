"""Coalition formation (THEORY §5c): from candidate groups, the smallest bloc planting one common label
with each member meeting its target, one MILP per label (see :mod:`solvers.coalition`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import ACAInputError, Collective, World, bounds, oracle, plant, plant_all
from aca_games import _validate as v
from aca_games.learner import check_eps, slack
from solvers import _milp
from solvers._coalition import (
    _LABELLED,
    _check_cap,
    _check_target,
    _check_weight,
    _collectives,
    _finish,
    _per_item,
    _shrink_probe,
)
from solvers._solution import Solution


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
    ...           landing={"g": [[0.5, 0.0], [0.2, 0.3]], "h": [[0.7, 0.3], [0.0, 0.0]]})
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
             "solver": "HiGHS (highspy)", "gap": _milp.GAP}
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
