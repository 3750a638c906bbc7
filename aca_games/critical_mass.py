"""Critical mass: the smallest size at which a collective acting alone reaches a success target.

``critical_mass`` returns the infimum ``α*`` of sizes meeting the target ``S*``: every size just
above ``α*`` meets it (margins must *exceed* the slack, so at ``α*`` itself a tie may fail), and no
size below does. ``inf`` means no size in ``[0, 1)`` reaches the target.

* ``"closed_form"`` [HMMZ23]: ``α* = (Δξ + κ)/(ν(1-S*) + bΔξ - hΓξ)`` (THEORY §3.1).
* ``"staircase"`` [GBJ25]: every point is won on an interval of sizes
  (:func:`aca_games.bounds.population.crack_intervals`); the bound only changes at the interval
  ends, so the answer is the smallest crack level whose right-limit success reaches ``S*``:
  exact, by sorting, no root finding.
* ``"exact"``: the oracle. At ``ε = 0`` the same construction with one interval per target label
  is exact. For ``ε > 0`` the worst case also changes where sums of margins cross the budget; the
  oracle is evaluated on a grid of :data:`GRID` sizes (one vmapped call) and the first crossing is
  refined by bisection; the size returned meets the target and lies within :data:`BISECT_TOL`
  above the infimum. Exact unless the success dips below the target and
  back within one grid cell.
"""

from __future__ import annotations

import numpy as np

from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games.bounds.population import (
    closed_form_critical_mass,
    closed_form_terms,
    crack_intervals,
)
from aca_games.collective import Collective
from aca_games.learner import check_eps, slack
from aca_games.oracle import success
from aca_games.planting import plant
from aca_games.world import World

#: Success sums are compared to the target with this tolerance (float sums of landing masses).
TARGET_TOL = 1e-12
GRID = 2049
BISECT_TOL = 1e-12

BOUNDS = ("staircase", "closed_form", "exact")


def critical_mass(
    world: World,
    collective: Collective,
    target_success,
    bound: str = "staircase",
    eps=0.0,
    reading: str = "huber",
) -> float:
    """Smallest size (infimum) at which ``collective``, acting alone, reaches ``target_success``.

    Args:
        world: the world.
        collective: the collective (its own size is ignored).
        target_success: ``S* ∈ (0, 1]``.
        bound: ``"staircase"``, ``"closed_form"`` or ``"exact"`` (the oracle).
        eps, reading: the learner (see :mod:`aca_games.learner`).

    Returns:
        ``α*`` as a float, or ``inf`` if no size in ``[0, 1)`` reaches ``S*``.

    Example:
        >>> w = World(points=["a", "b"], labels=["no", "yes"],
        ...           base=[[0.3, 0.1], [0.2, 0.2]], landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
        >>> c = Collective("c", 0.0, "g", target="yes")
        >>> round(critical_mass(w, c, 1.0), 4)     # point a cracks at 0.2 / (0.5 + 0.2)
        0.2857
        >>> critical_mass(w, c, 1.0, bound="closed_form")
        inf
    """
    v.choice("bound", bound, BOUNDS)
    check_eps(eps, reading)
    target = float(v.finite_array("target_success", target_success, ndim=0))
    if not 0 < target <= 1:
        raise ACAInputError(f"target_success: {target!r} is outside (0, 1]")
    kappa = slack(eps, reading)
    if bound == "closed_form":
        terms = closed_form_terms(world, collective)
        return float(closed_form_critical_mass(terms, kappa, target))
    if bound == "staircase":
        lo, hi = crack_intervals(world, collective, kappa)
        return _first_crack(lo[:, None], hi[:, None], plant(world, collective).landing, target)
    if v.is_concrete(eps) and float(eps) == 0.0:
        lo, hi = crack_intervals(world, collective, kappa, labels="target")
        return _first_crack(lo, hi, plant(world, collective).landing, target)
    return _grid_bisect(world, collective, target, eps, reading)


def _first_crack(lo, hi, landing, target) -> float:
    """Smallest candidate size whose right-limit success reaches ``target``.

    ``lo, hi`` have shape ``(P, J)``: point ``p`` is won for sizes in ``∪_j (lo[p,j], hi[p,j])``.
    """
    lo, hi, landing = (np.asarray(x) for x in (lo, hi, landing))
    candidates = np.unique(np.concatenate([[0.0], lo[(lo >= 0) & (lo < 1)]]))
    # won just above c  <=>  lo <= c < hi for some interval of the point
    won = np.any((lo[None] <= candidates[:, None, None]) & (candidates[:, None, None] < hi[None]), 2)
    reached = won.astype(float) @ landing >= target - TARGET_TOL
    return float(candidates[np.argmax(reached)]) if reached.any() else float("inf")


def _grid_bisect(world, collective, target, eps, reading) -> float:
    grid = np.linspace(0.0, 1.0, GRID)[:-1]
    values = np.asarray(success(world, collective, eps, reading, sizes=grid[:, None]))[:, 0]
    reached = values >= target - TARGET_TOL
    if not reached.any():
        return float("inf")
    first = int(np.argmax(reached))
    if first == 0:
        return 0.0
    lo, hi = grid[first - 1], grid[first]
    while hi - lo > BISECT_TOL:
        mid = 0.5 * (lo + hi)
        if float(success(world, collective, eps, reading, sizes=[[mid]])[0, 0]) >= target - TARGET_TOL:
            hi = mid
        else:
            lo = mid
    return float(hi)
