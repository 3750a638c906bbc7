"""The learner's worst case as a knapsack (THEORY §2).

For collective ``j`` a winning point ``x̃`` has margin ``c(x̃) = max_{y∈T} P(x̃,y) - max_{y∉T} P(x̃,y) > 0``.
An ε-suboptimal learner may flip a set ``F`` of winning points if it can pay for all of them:

* ``huber``: flipping costs ``Q``-mass ``(1-ε)c/ε`` out of a budget of 1, i.e. ``Σ_F c <= κ = ε/(1-ε)``.
  ``Q`` only adds mass, and the cheapest way is to add it to the leading rival label: exact.
* ``tv``: ``P̃`` lowers target labels to a level ``h`` (removing ``r(h) = Σ_{y∈T} (P_y - h)_+``) and
  raises the leading rival from ``b`` to ``h`` (adding ``h - b``). With the rest balanced against
  cells that do not matter to ``j``, the TV cost of flipping ``F`` is
  ``min_h max(Σ_F r_i(h_i), Σ_F (h_i - b_i))``. By minimax this equals
  ``max_{λ∈[0,1]} Σ_F φ_i(λ)`` with ``φ_i(λ) = min_h λ r_i(h) + (1-λ)(h - b_i)`` concave and piecewise
  linear with kinks only at ``λ = 1/(k+1)`` (where the slope ``-λk + (1-λ)`` of the inner objective
  changes sign for ``k`` labels above ``h``). Hence ``F`` is affordable iff for every
  ``k = 1..L``: ``Σ_F w_ik <= 2ε`` with ``w_ik = 2 min_h [r_i(h) + k(h - b_i)]/(k+1)``, the minimum
  taken over the breakpoints ``h ∈ {b_i} ∪ {P_y : y ∈ T, P_y > b_i}``. With a single leading target
  label ``w_i1 = c_i`` is the largest, recovering THEORY's "``c/2`` of TV budget ``ε``".

So the worst case is a (multi-constraint) 0/1 knapsack: flip as much landing mass as the budget
allows, ``max Σ_F m`` subject to ``Σ_F w_k <= budget + TIE_TOL`` for every constraint ``k``.

* :func:`max_flipped_exact` solves it exactly at any size (details below).
* :func:`max_flipped_greedy` solves the fractional relaxation of each single constraint and keeps
  the smallest: an upper bound on the flipped mass, hence a fast *lower bound* on the worst-case
  success (never exact in general).
* :func:`max_flipped_enumerate` enumerates all ``2^P`` subsets: the brute-force reference for small
  point sets (tests and benchmarks).

**The exact solver.** Inside the JAX kernel (jit/vmap-able, no Python per instance):

1. *Reduction*: drop points worth nothing or too expensive to flip alone (some ``w_ik`` above the
   budget).
2. *A feasible flip set*: greedy by efficiency ``m_i / max_k w_ik``, taking every point that still
   fits; its mass ``LB`` is a lower bound on the optimum.
3. *Variable fixing by reduced costs*: for each constraint ``k`` and any ``λ >= 0``, weak LP duality
   bounds every flip set by ``U(λ) = λ·budget + Σ_i (m_i - λ w_ik)_+``; forcing point ``i`` against
   the sign of its reduced cost ``r_i = m_i - λ w_ik`` lowers that bound by ``|r_i|``. If
   ``U - |r_i| < LB`` no flip set at least as good as the greedy one does so, and ``i`` is fixed
   (flipped if ``r_i > 0``, kept if ``r_i < 0``). ``λ`` is the break ratio of the constraint's
   fractional relaxation (the optimal dual, which makes the bound tightest). Fixing needs a margin
   of :data:`FIX_MARGIN` so rounding can never fix a point wrongly.
4. *The core* (points left free) is enumerated if it has at most :data:`CORE_MAX` points;
   otherwise a Pareto search in numpy (:mod:`aca_games._knapsack_search`) solves it exactly, through
   :func:`jax.pure_callback`, only for the instances that need it.

Exactness: every step keeps an optimal flip set, feasibility is decided by the same float test
``Σ_F w_k <= budget + TIE_TOL`` as the enumeration (sums in another order may differ by rounding,
~1e-17), and the Pareto search prunes only partial sets that cannot beat the best known one by
more than :data:`~aca_games._knapsack_search.VALUE_TOL` (1e-12 of landing mass).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from aca_games._knapsack_search import search_rows

#: Margins within this of zero are ties, and ties are failures for the collective (conservative).
#: The same tolerance lets the adversary flip a set whose cost exceeds its budget by rounding only.
TIE_TOL = 1e-12

#: Sentinel for "no rival label" (every label is a target): the margin is then effectively infinite.
_NO_RIVAL = -1e30


def margins(P: jax.Array, target: jax.Array) -> jax.Array:
    """``c(x̃) = max_{y∈T} P(x̃,y) - max_{y∉T} P(x̃,y)`` for one collective; shapes ``(P,L) -> (P,)``."""
    best_target = jnp.max(jnp.where(target, P, _NO_RIVAL), axis=-1)
    best_rival = jnp.max(jnp.where(target, _NO_RIVAL, P), axis=-1)
    return best_target - best_rival


def huber_costs(P: jax.Array, target: jax.Array) -> jax.Array:
    """Flip costs for the huber reading, one constraint: the margin; shape ``(P, 1)``."""
    return margins(P, target)[:, None]


def tv_costs(P: jax.Array, target: jax.Array) -> jax.Array:
    """Flip costs ``w_ik`` (scaled by 2, against budget ``2ε``) for the tv reading; ``(P, L)``."""
    n_labels = P.shape[-1]
    rival = jnp.max(jnp.where(target, _NO_RIVAL, P), axis=-1, keepdims=True)  # (P, 1)
    levels = jnp.concatenate([rival, jnp.where(target, jnp.maximum(P, rival), rival)], axis=-1)
    removed = jnp.sum(
        jnp.where(target[:, None, :], jnp.maximum(P[:, None, :] - levels[:, :, None], 0.0), 0.0),
        axis=-1,
    )  # (P, L+1): r(h) at each candidate level
    added = levels - rival  # (P, L+1)
    k = jnp.arange(1, n_labels + 1, dtype=P.dtype)[None, None, :]  # (1, 1, L)
    objective = (removed[:, :, None] + k * added[:, :, None]) / (k + 1)  # (P, L+1, L)
    return 2.0 * jnp.min(objective, axis=1)




#: Cores (points left free after fixing) up to this size are enumerated inside the kernel
#: (``2^12`` subsets); larger ones go to the Pareto search.
CORE_MAX = 12  # pragma: no mutate (search effort)

#: Reduced-cost fixing requires the forced bound to fall this far below the greedy mass, far above
#: the rounding of sums of at most a few thousand masses <= 1 (so a fix is never an artefact).
FIX_MARGIN = 1e-12


@functools.lru_cache(maxsize=32)
def _subsets(n_points: int) -> np.ndarray:
    """All ``2^n`` subsets of ``n`` points as a 0/1 matrix, shape ``(2^n, n)``."""
    ids = np.arange(2**n_points)[:, None]
    return ((ids >> np.arange(n_points)) & 1).astype(np.float64)


def max_flipped_enumerate(value: jax.Array, costs: jax.Array, budget) -> jax.Array:
    """Exact multi-constraint 0/1 knapsack by enumerating all ``2^P`` subsets (small ``P`` only).

    Args:
        value: landing mass of each winning point (0 elsewhere), shape ``(P,)``.
        costs: flip costs, shape ``(P, C)`` (one column per constraint).
        budget: scalar budget shared by all constraints.

    Returns:
        The largest ``Σ_F value`` over sets ``F`` with ``Σ_F costs[:, k] <= budget`` for all ``k``.
    """
    subsets = jnp.asarray(_subsets(value.shape[0]))
    # Points that cannot be flipped (or carry no value) get zero cost, so they never block a set.
    costs = jnp.where(value[:, None] > 0, costs, 0.0)
    sums = subsets @ jnp.concatenate([costs, value[:, None]], axis=1)  # one product: costs and value
    feasible = jnp.all(sums[:, :-1] <= budget + TIE_TOL, axis=-1)
    return jnp.max(jnp.where(feasible, sums[:, -1], 0.0))


def max_flipped_greedy(value: jax.Array, costs: jax.Array, budget) -> jax.Array:
    """Upper bound on the knapsack optimum: the smallest single-constraint fractional relaxation.

    Each column alone, with fractional items, is solved exactly by the greedy ratio rule; dropping
    the other constraints and integrality only enlarges the feasible set. The oracle's
    ``method="greedy"`` subtracts this from the Bayes success: a lower bound on the worst case.
    """
    return jnp.min(jax.vmap(_fractional, in_axes=(None, 1, None))(value, costs, budget))


def _fractional(value, cost, budget):
    cost = jnp.where(value > 0, jnp.maximum(cost, 0.0), jnp.inf)
    order = jnp.argsort(cost / jnp.where(value > 0, value, 1.0))
    value, cost = value[order], cost[order]
    spent_before = jnp.cumsum(cost) - cost
    room = budget + TIE_TOL - spent_before
    share = jnp.clip(jnp.where(cost > 0, room / jnp.where(cost > 0, cost, 1.0), 1.0), 0.0, 1.0)
    share = jnp.where((room > 0) & jnp.isfinite(cost), share, 0.0)
    return jnp.sum(value * share)


def max_flipped_exact(value: jax.Array, costs: jax.Array, budget, *, core_max: int = CORE_MAX) -> jax.Array:
    """Exact multi-constraint 0/1 knapsack at any size: reduction, fixing, core search.

    Same arguments and answer as :func:`max_flipped_enumerate` (up to rounding of sums and the
    search's value tolerance of 1e-12), for any number of points; see the module docstring. Up to
    ``core_max`` points it *is* the enumeration (cheaper to compile); tests lower ``core_max`` to
    run every step on small instances.
    """
    if value.shape[0] <= core_max:
        return max_flipped_enumerate(value, costs, budget)
    cap = budget + TIE_TOL
    active = (value > 0) & jnp.all(costs <= cap, axis=-1)
    value = jnp.where(active, value, 0.0)
    costs = jnp.where(active[:, None], costs, 0.0)
    lower = _greedy_mass(value, costs, cap, active)
    flip, keep = jax.vmap(_fixed_by_reduced_costs, in_axes=(None, 1, None, None, None))(
        value, costs, cap, active, lower
    )
    fixed_in = jnp.any(flip, axis=0) & ~jnp.any(keep, axis=0)
    core = active & ~jnp.any(flip, axis=0) & ~jnp.any(keep, axis=0)
    fixed_mass = jnp.sum(jnp.where(fixed_in, value, 0.0))
    room = cap - jnp.sum(jnp.where(fixed_in[:, None], costs, 0.0), axis=0)  # (C,)
    small = jnp.sum(core) <= core_max
    enumerated = _enumerate_core(value, costs, room, core, core_max)
    searched = _search(value, costs, room, core, lower - fixed_mass, ~small)
    return fixed_mass + jnp.where(small, enumerated, searched)


def _greedy_mass(value, costs, cap, active):
    """Mass of the greedy flip set: by efficiency ``m / max_k w_k``, each point that still fits."""
    heaviest = jnp.max(costs, axis=-1)
    efficiency = jnp.where(active, value / jnp.where(heaviest > 0, heaviest, 1.0), -jnp.inf)
    order = jnp.argsort(-efficiency)

    def take(used, i):
        fits = active[i] & jnp.all(used + costs[i] <= cap)
        return jnp.where(fits, used + costs[i], used), jnp.where(fits, value[i], 0.0)

    _, taken = jax.lax.scan(take, jnp.zeros(costs.shape[1], costs.dtype), order)
    return jnp.sum(taken)


def _fixed_by_reduced_costs(value, cost, cap, active, lower):
    """Points fixed to flipped / kept by one constraint's reduced costs (module docstring, step 3)."""
    ratio = jnp.where(active, value / jnp.where(cost > 0, cost, 1.0), -jnp.inf)
    order = jnp.argsort(-ratio)
    spent = jnp.cumsum(cost[order])
    brk = jnp.sum(spent <= cap)  # first point that no longer fits (spent is non-decreasing)
    item = order[jnp.minimum(brk, cost.shape[0] - 1)]
    exists = (brk < cost.shape[0]) & active[item]
    lam = jnp.where(exists, value[item] / jnp.where(cost[item] > 0, cost[item], 1.0), 0.0)
    reduced = value - lam * cost
    upper = lam * cap + jnp.sum(jnp.where(active, jnp.maximum(reduced, 0.0), 0.0))
    forced_below = upper - jnp.abs(reduced) < lower - FIX_MARGIN
    return active & (reduced > 0) & forced_below, active & (reduced < 0) & forced_below


def _enumerate_core(value, costs, room, core, core_max):
    """Best flip set of a core of at most ``core_max`` points, by enumeration."""
    size = min(core_max, value.shape[0])
    pick = jnp.argsort(~core, stable=True)[:size]  # core points first
    chosen = core[pick]
    v = jnp.where(chosen, value[pick], 0.0)
    w = jnp.where(chosen[:, None], costs[pick], 0.0)
    sums = jnp.asarray(_subsets(size)) @ jnp.concatenate([w, v[:, None]], axis=1)
    feasible = jnp.all(sums[:, :-1] <= room[None, :], axis=-1)
    return jnp.max(jnp.where(feasible, sums[:, -1], 0.0))


def _search(value, costs, room, core, lower, needed):
    """Exact Pareto search of large cores in numpy, only where ``needed`` (zero elsewhere)."""
    args = jax.tree_util.tree_map(jax.lax.stop_gradient, (value, costs, room, core, lower, needed))
    return jax.pure_callback(
        search_rows, jax.ShapeDtypeStruct(needed.shape, value.dtype), *args, vmap_method="broadcast_all"
    )
