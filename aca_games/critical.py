"""Critical mass: the smallest size at which a collective acting alone reaches a success target.

``critical_mass`` returns the infimum ``α*`` of sizes meeting the target ``S*``: every size just
above ``α*`` meets it (margins must *exceed* the slack, so at ``α*`` itself a tie may fail), and no
size below does. ``inf`` means no size in ``[0, 1)`` reaches the target.
:func:`critical_mass_result` returns the same number with the method that produced it and a
*witness*, a size just above ``α*`` at which the target is met.

* ``"closed_form"`` [HMMZ23]: ``α* = (Δξ + κ + |X*|τ)/(ν(1-S*) + bΔξ - hΓξ)`` (THEORY §3.1,
  :func:`~aca_games.bounds.population.closed_form_critical_mass`; a minimum: the bound equals
  ``S*`` at ``α*``).
* ``"staircase"`` [GBJ25]: every point is won on an interval of sizes
  (:func:`aca_games.bounds.population.crack_intervals`); the bound only changes at the interval
  ends, so the answer is the smallest crack level whose right-limit success reaches ``S*``:
  exact, by sorting, no root finding.
* ``"exact"``: the oracle, exactly. At ``ε = 0`` the same construction with one interval per
  target label. At ``ε > 0`` by enumerating breakpoints (method ``"breakpoints"``, below).
* ``"grid"``: the oracle on a grid of :data:`GRID` sizes, the first crossing refined by bisection.
  **Not exact**: it returns a size at which the oracle meets the target, an upper bound on ``α*``
  that misses any success window narrower than a grid cell (``1/(GRID-1)``). Use it where
  ``"exact"`` cannot enumerate (more than :data:`ENUMERATE_MAX_POINTS` flippable points at
  ``ε > 0``); ``"exact"`` then raises instead of approximating silently.

**Breakpoints (exact at ε > 0).** With ``P(α) = P0 + α(E - P0)`` every cell is a line in ``α``.
The margin of a point and its flip costs (:mod:`aca_games._knapsack`: the margin for huber; for tv
``w_k = 2[Σ_{y∈T}(P_y - h*)_+ + k(h* - b)]/(k+1)`` with ``b`` the leading rival and ``h*`` the larger
of ``b`` and the ``(k+1)``-th largest target cell) depend on the order of the point's cells only
through which cell is which, so they are linear in ``α`` between consecutive crossings of two cell
lines of one point. Splitting ``[0, 1]`` there and where a margin crosses the tie tolerance ``τ``
gives pieces on which the won set ``W`` is fixed and every cost is a line. On such a piece the
worst-case success is below ``S*`` at ``α`` iff some *dangerous* flip set ``F ⊆ W`` (flipping it
leaves less than ``S*``) is affordable at ``α``: ``Σ_F w_k(α) <= κ + τ`` for every ``k``, an
intersection of half-lines, i.e. a closed interval ``I_F``. The sizes meeting ``S*`` on the piece
are the piece minus ``∪_F I_F``; the first uncovered point is found by sorting the ``I_F``. Only
points flippable somewhere on ``[0, 1)`` enter the enumeration (``2^n`` sets, vectorised in numpy);
the others are won or lost outright. The answer is the exact infimum (up to float rounding of the
lines), however narrow the window: the grid misses the window ``(0.2501, 0.2504)`` of
``tests/test_critical_mass.py``, the breakpoints find it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import _knapsack as ks
from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games._pytree import stack_trees, to_device
from aca_games.bounds.population import (
    closed_form_critical_mass,
    closed_form_terms,
    crack_intervals,
    crack_kernel,
)
from aca_games.collective import Collective
from aca_games.learner import check_eps, slack
from aca_games.oracle import success
from aca_games.planting import plant
from aca_games.world import World

#: Success sums are compared to the target with this tolerance (float sums of landing masses).
TARGET_TOL = 1e-12
#: Grid of the ``"grid"`` method: ``GRID - 1`` cells on ``[0, 1)``.
GRID = 2049
BISECT_TOL = 1e-12
#: The breakpoint method enumerates the ``2^n`` flip sets of the ``n`` points a learner can flip;
#: above this ``n`` it raises (use ``bound="grid"``).
ENUMERATE_MAX_POINTS = 14
#: Pieces processed per vectorised batch by the breakpoint method (``(batch, 2^n, L)`` arrays).
_PIECES_PER_BATCH = 8  # pragma: no mutate (a chunk size)
#: Sizes per call of the kernel that reads off the lines of margins and costs.
_LINES_CHUNK = 64  # pragma: no mutate (a chunk size)
#: Cells (collective x candidate x point x interval) per vectorised chunk of :func:`critical_masses`.
CRACK_CELLS = 20_000_000  # pragma: no mutate (a chunk size)

BOUNDS = ("staircase", "closed_form", "exact", "grid")


class CriticalMass(NamedTuple):
    """A critical mass and how it was found.

    Attributes:
        value: ``α*``, the infimum of sizes meeting the target (``exact``), or for the grid method a
            size at which the oracle meets it (an upper bound on the infimum); ``inf`` if none.
        witness: a size in ``[value, 1)`` at which the chosen bound meets the target (just above
            ``value``; ``None`` when ``value`` is ``inf``).
        method: ``"closed_form"``, ``"staircase"``, ``"crack_intervals"`` (exact, ``ε = 0``),
            ``"breakpoints"`` (exact, ``ε > 0``) or ``"grid_bisection"`` (not exact).
        exact: whether ``value`` is the exact infimum for the chosen bound.
    """

    value: float
    witness: float | None
    method: str
    exact: bool


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
        bound: ``"staircase"``, ``"closed_form"``, ``"exact"`` (the oracle) or ``"grid"`` (the
            oracle on a grid: not exact, see the module docstring).
        eps, reading: the learner (see :mod:`aca_games.learner`).

    Returns:
        ``α*`` as a float, or ``inf`` if no size in ``[0, 1)`` reaches ``S*``. For the method and
        a witness size use :func:`critical_mass_result`.

    Raises:
        ACAInputError: bad input, or ``bound="exact"`` at ``ε > 0`` with more than
            :data:`ENUMERATE_MAX_POINTS` flippable points (use ``bound="grid"``).

    Example:
        >>> w = World(points=["a", "b"], labels=["no", "yes"],
        ...           base=[[0.3, 0.1], [0.2, 0.2]], landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
        >>> c = Collective("c", 0.0, "g", target="yes")
        >>> round(critical_mass(w, c, 1.0), 4)     # point a cracks at 0.2 / (0.5 + 0.2)
        0.2857
        >>> critical_mass(w, c, 1.0, bound="closed_form")
        inf
    """
    return critical_mass_result(world, collective, target_success, bound, eps, reading).value


def critical_mass_result(
    world: World,
    collective: Collective,
    target_success,
    bound: str = "staircase",
    eps=0.0,
    reading: str = "huber",
) -> CriticalMass:
    """:func:`critical_mass` with the method that produced it, whether it is exact, and a witness.

    >>> w = World(points=["a", "b"], labels=["no", "yes"],
    ...           base=[[0.3, 0.1], [0.2, 0.2]], landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
    >>> r = critical_mass_result(w, Collective("c", 0.0, "g", target="yes"), 1.0, "exact", eps=0.02)
    >>> round(r.value, 4), r.method, r.exact, r.value < r.witness
    (0.3149, 'breakpoints', True, True)
    """
    v.choice("bound", bound, BOUNDS)
    check_eps(eps, reading)
    target = float(v.finite_array("target_success", target_success, ndim=0))
    if not 0 < target <= 1:
        raise ACAInputError(f"target_success: {target!r} is outside (0, 1]")
    kappa = float(slack(eps, reading))
    if bound == "closed_form":
        terms = jax.tree_util.tree_map(np.asarray, closed_form_terms(world, collective))
        alpha = float(closed_form_critical_mass(terms, kappa, target))
        return CriticalMass(alpha, _closed_form_witness(alpha), "closed_form", True)
    if bound == "grid":
        alpha = _grid_bisect(world, collective, target, eps, reading)
        return CriticalMass(alpha, alpha if np.isfinite(alpha) else None, "grid_bisection", False)
    landing = np.asarray(plant(world, collective).landing)
    if bound == "staircase":
        lo, hi = crack_intervals(world, collective, kappa)
        return CriticalMass(*_first_crack(lo[:, None], hi[:, None], landing, target), "staircase", True)
    if kappa == 0.0:
        lo, hi = crack_intervals(world, collective, kappa, labels="target")
        return CriticalMass(*_first_crack(lo, hi, landing, target), "crack_intervals", True)
    return CriticalMass(*_breakpoints(world, collective, target, kappa, reading), "breakpoints", True)


def _closed_form_witness(alpha) -> float | None:
    """A size just above the closed form's ``α*`` (the bound increases in the size; the step keeps
    the rounded bound at or above the target)."""
    return min(alpha + max(alpha * 1e-9, 1e-15), 0.5 * (alpha + 1.0)) if np.isfinite(alpha) else None


def _first_crack(lo, hi, landing, target) -> tuple[float, float | None]:
    """Smallest candidate size whose right-limit success reaches ``target``, and a witness.

    ``lo, hi`` have shape ``(P, J)``: point ``p`` is won for sizes in ``∪_j (lo[p,j], hi[p,j])``.
    """
    lo, hi, landing = (np.asarray(x) for x in (lo, hi, landing))
    alpha = float(_first_cracks(lo[None], hi[None], landing[None], target)[0])
    if not np.isfinite(alpha):
        return float("inf"), None
    ends = np.concatenate([lo.ravel(), hi.ravel(), [1.0]])
    return alpha, 0.5 * (alpha + float(np.min(ends[ends > alpha])))


def _first_cracks(lo, hi, landing, target) -> np.ndarray:
    """:func:`_first_crack`'s value for ``K`` collectives at once: ``lo, hi`` ``(K, P, J)``,
    ``landing`` ``(K, P)``; candidates are 0 and every ``lo`` in ``[0, 1)``. Collectives are
    processed in chunks of at most :data:`CRACK_CELLS` (candidate, point, interval) cells."""
    K = lo.shape[0]
    starts = np.where((lo >= 0) & (lo < 1), lo, np.inf).reshape(K, -1)
    candidates = np.sort(np.concatenate([np.zeros((K, 1)), starts], axis=1), axis=1)  # inf last
    chunk = max(1, CRACK_CELLS // (candidates.shape[1] * lo.shape[1] * lo.shape[2]))
    out = np.full(K, np.inf)
    for s in range(0, K, chunk):
        c = candidates[s : s + chunk, :, None, None]
        # won just above c  <=>  lo <= c < hi for some interval of the point
        won = np.any((lo[s : s + chunk, None] <= c) & (c < hi[s : s + chunk, None]), axis=3)
        success = np.matmul(won.astype(float), landing[s : s + chunk, :, None])[..., 0]
        reached = success >= target - TARGET_TOL
        first = np.argmax(reached, axis=1)
        hit = reached.any(axis=1)
        out[s : s + chunk][hit] = candidates[s : s + chunk][hit, first[hit]]
    return out


def critical_masses(
    world: World,
    collectives: Sequence[Collective],
    target_success,
    bound: str = "staircase",
    eps=0.0,
    reading: str = "huber",
) -> np.ndarray:
    """:func:`critical_mass` of each collective *acting alone*, shape ``(K,)``, vectorised over the
    collectives where the method allows: the staircase and the exact oracle at ``ε = 0`` (crack
    levels of every collective from one vmapped kernel, sorted in one pass) and the closed form
    (elementwise in the stacked terms). The exact breakpoints at ``ε > 0`` and the grid run one
    collective at a time. The closed form raises for a strategy it does not cover.

    >>> w = World(points=["a", "b"], labels=["no", "yes"],
    ...           base=[[0.3, 0.1], [0.2, 0.2]], landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
    >>> cs = [Collective("c", 0.0, "g", target="yes"), Collective("d", 0.0, "g", target="no")]
    >>> critical_masses(w, cs, 1.0).round(4).tolist()
    [0.2857, 0.0]
    """
    v.choice("bound", bound, BOUNDS)
    check_eps(eps, reading)
    target = float(v.finite_array("target_success", target_success, ndim=0))
    if not 0 < target <= 1:
        raise ACAInputError(f"target_success: {target!r} is outside (0, 1]")
    collectives = list(collectives)
    kappa = float(slack(eps, reading))
    if bound == "closed_form":
        terms = [closed_form_terms(world, c) for c in collectives]
        stacked = jax.tree_util.tree_map(np.asarray, stack_trees(terms))  # evaluated on the host
        return np.asarray(closed_form_critical_mass(stacked, kappa, target), dtype=float)
    if bound == "grid" or (bound == "exact" and kappa != 0.0):
        return np.array([critical_mass(world, c, target, bound, eps, reading) for c in collectives])
    plantings = stack_trees([plant(world, c) for c in collectives])
    # the staircase follows the planted label; the exact oracle at ε = 0 wins with any target label
    labels = None if bound == "staircase" else "target"
    crack = jax.vmap(functools.partial(crack_kernel, labels=labels), in_axes=(None, 0, None))
    lo, hi = (np.asarray(x) for x in crack(world.base, plantings, kappa))
    if labels is None:
        lo, hi = lo[..., None], hi[..., None]
    return _first_cracks(lo, hi, np.asarray(plantings.landing), target)


# -- exact at ε > 0: breakpoints ------------------------------------------------------------------
def _breakpoints(world, collective, target, kappa, reading) -> tuple[float, float | None]:
    """The exact infimum at ``ε > 0`` and a witness (module docstring, "Breakpoints")."""
    p = plant(world, collective)
    landing, rival = np.asarray(p.landing), ~np.asarray(p.target).all(axis=1)
    sure = float(landing[(landing > 0) & ~rival].sum())  # no rival label: won, never flipped
    live = (landing > 0) & rival
    if not live.any():
        return (0.0, 0.5) if sure >= target - TARGET_TOL else (float("inf"), None)
    lo_edge, hi_edge, won, cost0, cost1 = _pieces(world.base, p, live, reading)
    mass, budget = landing[live], kappa + ks.TIE_TOL

    # points affordable alone somewhere are enumerated; the others are won or lost outright
    single_lo, single_hi = _affordable(cost0, cost1, budget)
    flippable = won & (np.maximum(single_lo, lo_edge[:, None]) <= np.minimum(single_hi, hi_edge[:, None]))
    pick = flippable.any(axis=0)
    n_pick = int(pick.sum())
    if n_pick > ENUMERATE_MAX_POINTS:
        raise ACAInputError(
            f"critical_mass: bound='exact' at eps > 0 enumerates the flip sets of the points the "
            f"learner can flip, and {collective.name!r} has {n_pick} > ENUMERATE_MAX_POINTS = "
            f"{ENUMERATE_MAX_POINTS}; use bound='grid' for a size that provably meets the target (an upper "
            f"bound on the critical mass, found on a grid of {GRID - 1} cells: narrower windows are missed)"
        )
    fixed = (won & ~pick).astype(float) @ mass + sure
    subsets = ((np.arange(2**n_pick)[:, None] >> np.arange(n_pick)) & 1).astype(float)
    for start in range(0, len(lo_edge), _PIECES_PER_BATCH):
        part = slice(start, start + _PIECES_PER_BATCH)
        held = won[part][:, pick]
        total = fixed[part] + held.astype(float) @ mass[pick]
        flipped = (subsets[None] * held[:, None, :]) @ mass[pick]  # (pieces, sets)
        lo, hi = _affordable(subsets @ cost0[part][:, pick], subsets @ cost1[part][:, pick], budget)
        harmless = flipped <= total[:, None] - target + TARGET_TOL
        lo, hi = np.where(harmless, np.inf, lo), np.where(harmless, -np.inf, hi)
        first, witness = _first_uncovered(lo, hi, lo_edge[part], hi_edge[part])
        found = np.flatnonzero(first < hi_edge[part])
        if found.size:
            return float(first[found[0]]), float(witness[found[0]])
    return float("inf"), None


def _pieces(base, p, live, reading):
    """Split ``[0, 1]`` where two cells of a live point cross and where a margin crosses ``τ``.

    Returns the piece ends ``lo, hi`` ``(n,)``, the won set ``(n, P_live)`` and the flip costs as
    lines ``cost0 + cost1 α`` ``(n, P_live, C)``, zero at points not won.
    """
    base, mask = np.asarray(base), np.asarray(p.target)
    slope = np.asarray(p.planted) - base
    edges = _edges(_cell_crossings(base[live], slope[live]))
    _, c0, c1, _, _ = _lines(base, slope, mask, 0.5 * (edges[:-1] + edges[1:]), live, "huber")
    with np.errstate(divide="ignore", invalid="ignore"):
        ties = (ks.TIE_TOL - c0) / c1
    edges = _edges(np.concatenate([edges, ties[(ties > edges[:-1, None]) & (ties < edges[1:, None])]]))
    margin, _, _, w0, w1 = _lines(base, slope, mask, 0.5 * (edges[:-1] + edges[1:]), live, reading)
    won = margin > ks.TIE_TOL
    return edges[:-1], edges[1:], won, np.where(won[..., None], w0, 0.0), np.where(won[..., None], w1, 0.0)


def _cell_crossings(base, slope) -> np.ndarray:
    """Sizes in ``(0, 1)`` where two cells of one point are equal (their lines cross)."""
    a = base[:, :, None] - base[:, None, :]
    b = slope[:, :, None] - slope[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = -a / b
    return cross[(b != 0) & (cross > 0) & (cross < 1)]


def _edges(points) -> np.ndarray:
    return np.unique(np.concatenate([[0.0, 1.0], np.asarray(points, dtype=float)]))


def _affordable(a, b, budget):
    """``[lo, hi]``: sizes where ``a + b α <= budget`` in every constraint (last axis)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        root = (budget - a) / b
    hi = np.where(b > 0, root, np.where((b == 0) & (a > budget), -np.inf, np.inf))
    lo = np.where(b < 0, root, -np.inf)
    return lo.max(axis=-1), hi.min(axis=-1)


def _first_uncovered(lo, hi, start, stop):
    """Per row: the infimum of ``(start, stop) \\ ∪_F [lo_F, hi_F]`` and a point just above it.

    Sorting the intervals by ``lo``, the reach of the ones before ``F`` is a running maximum; the
    first interval starting beyond the reach leaves the gap ``(reach, lo_F)``. Rows whose infimum
    is ``>= stop`` are fully covered. Empty intervals have ``lo = inf``.
    """
    order = np.argsort(lo, axis=1)
    lo, hi = np.take_along_axis(lo, order, 1), np.take_along_axis(hi, order, 1)
    lo = np.concatenate([lo, np.full((lo.shape[0], 1), np.inf)], axis=1)  # sentinel: a gap at the end
    reach = np.maximum.accumulate(np.maximum(hi, start[:, None]), axis=1)
    before = np.concatenate([start[:, None], reach], axis=1)
    gap = lo > before
    first = np.argmax(gap, axis=1)
    rows = np.arange(lo.shape[0])
    infimum = np.where(gap.any(axis=1), before[rows, first], np.inf)  # no gap: covered up to +inf
    with np.errstate(invalid="ignore"):  # inf + -inf where a row is covered: not used
        witness = 0.5 * (infimum + np.minimum(lo[rows, first], stop))
    return infimum, witness


@functools.partial(jax.jit, static_argnames="reading")
def _lines_at(base, slope, mask, alphas, *, reading):
    """Margins and flip costs of each point as lines ``c0 + c1 α`` on the pieces containing
    ``alphas``. Both are positively homogeneous and piecewise linear in the cells, so with ``g``
    their gradient at ``P(α)`` they equal ``g · P = g · P0 + α g · (E - P0)`` on the piece."""
    cost_fn = ks.tv_costs if reading == "tv" else ks.huber_costs

    def one(alpha):
        P = base + alpha * slope
        g_margin = jax.grad(lambda Q: ks.margins(Q, mask).sum())(P)  # (P, L)
        g_cost = jax.jacrev(lambda Q: cost_fn(Q, mask).sum(axis=0))(P)  # (C, P, L)
        margin = ks.margins(P, mask)
        return (
            margin,
            jnp.sum(g_margin * base, -1),
            jnp.sum(g_margin * slope, -1),
            jnp.einsum("cpl,pl->pc", g_cost, base),
            jnp.einsum("cpl,pl->pc", g_cost, slope),
        )

    return jax.vmap(one)(alphas)


def _lines(base, slope, mask, alphas, live, reading):
    """:func:`_lines_at` as numpy arrays at the live points, in chunks of :data:`_LINES_CHUNK`
    sizes (the last one padded) with every point kept: one compiled kernel per world shape, and
    bounded memory (the cost gradients are ``(chunk, C, P, L)``)."""
    n = len(alphas)
    padded = np.concatenate([alphas, np.full(-n % _LINES_CHUNK, 0.5)])
    parts = [
        _lines_at(base, slope, mask, to_device(chunk), reading=reading)
        for chunk in padded.reshape(-1, _LINES_CHUNK)
    ]
    return [np.concatenate([np.asarray(part[k]) for part in parts])[:n, live] for k in range(5)]


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
