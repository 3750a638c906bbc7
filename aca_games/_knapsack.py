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
allows. :func:`max_flipped_exact` enumerates all subsets (small point sets); :func:`max_flipped_greedy`
solves the fractional relaxation of each single constraint and keeps the smallest, an upper bound on
the flipped mass and therefore a sound lower bound on the worst-case success.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

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


@functools.lru_cache(maxsize=32)
def _subsets(n_points: int) -> np.ndarray:
    """All ``2^n`` subsets of ``n`` points as a 0/1 matrix, shape ``(2^n, n)``."""
    ids = np.arange(2**n_points)[:, None]
    return ((ids >> np.arange(n_points)) & 1).astype(np.float64)


def max_flipped_exact(value: jax.Array, costs: jax.Array, budget) -> jax.Array:
    """Exact multi-constraint 0/1 knapsack by enumeration.

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
    the other constraints and integrality only enlarges the feasible set.
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
