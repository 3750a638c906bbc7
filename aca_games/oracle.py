"""The exact oracle: ground truth for every bound (THEORY §2).

With full knowledge of the world and of every collective, the platform trains on
``P = α_0 P0 + Σ_j α_j E_j`` (see :mod:`aca_games.planting`) and decides ``f(x̃) = argmax_y P(x̃, y)``.
Collective ``j`` succeeds at ``x̃`` iff its margin ``max_{y∈T_j} P - max_{y∉T_j} P`` is positive (a tie
is a failure), and its success is ``S_j = Σ_x̃ m_j(x̃) 1[win]``.

For an ``ε``-suboptimal learner the worst case for ``j`` flips the winning points it can afford: a
0/1 knapsack with one constraint (huber) or ``L`` constraints (tv); see :mod:`aca_games._knapsack`
for the costs of both readings. Two methods solve it (:data:`METHODS`):

* ``"exact"`` (default): the exact worst case at every size (hundreds of points): reduction,
  reduced-cost fixing, enumeration of a small core inside the kernel and an exact Pareto search
  (numpy, via :func:`jax.pure_callback`) for larger cores. Exact up to 1e-12 of landing mass. Its
  worst case is exponential (real-valued subset sum); it then raises rather than guess.
* ``"greedy"``: the fractional relaxation, a fast **lower bound** on the worst-case success (exact
  only at ``ε = 0``, where no knapsack is solved). Never label its numbers "exact":
  :data:`METHOD_LABELS` names both methods for display.

Everything is vectorised: one ``vmap`` over collectives, another over a batch of size vectors.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import _knapsack as ks
from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games.collective import Collective
from aca_games.learner import check_eps, slack
from aca_games.planting import Planting, check_sizes, plant_all, sizes_of, training_mass
from aca_games.world import World

#: Methods of the ε > 0 worst case: ``"exact"`` (any size) and ``"greedy"`` (a lower bound).
METHODS = ("exact", "greedy")

#: How to show a number computed by each method (reports, JSON, tables): a lower bound is never
#: called exact.
METHOD_LABELS = {"exact": "exact", "greedy": "lower bound (greedy relaxation)"}


_SOLVERS = {
    "exact": ks.max_flipped_exact,
    "greedy": ks.max_flipped_greedy,
    "enumerate": ks.max_flipped_enumerate,  # brute force, 2^P subsets: tests and benchmarks only
}


def success(
    world: World,
    collectives: Collective | Sequence[Collective],
    eps=0.0,
    reading: str = "huber",
    *,
    sizes=None,
    method: str = "exact",
) -> jax.Array:
    """Exact (worst-case) success of every collective, or a lower bound on it (``method="greedy"``).

    Args:
        world: the world.
        collectives: one collective or a sequence of ``K`` collectives acting together.
        eps: learner suboptimality ``ε``; 0 means Bayes-optimal.
        reading: ``"huber"`` or ``"tv"`` (see :mod:`aca_games.learner`).
        sizes: optional batch of size vectors, shape ``(..., K)``, overriding the collectives'
            own sizes; the result then has shape ``(..., K)``.
        method: how the ``ε > 0`` worst case is solved: ``"exact"`` (default; exact at every
            size, up to 1e-12) or ``"greedy"`` (fractional relaxation: a **lower bound** on the
            worst-case success, exact only at ``ε = 0``). The array carries no label: whoever shows
            a greedy number must name it with :data:`METHOD_LABELS` ``["greedy"]``.

    Returns:
        Success ``S_j`` (``ε = 0``) or worst-case success over ``ε``-suboptimal learners (a lower
        bound on it with ``method="greedy"``), shape ``(K,)`` (or ``(..., K)`` with ``sizes``).

    Raises:
        ACAInputError: bad input; or (exact method, rare) a worst-case knapsack too hard to solve
            exactly (near-equal mass/cost ratios over many points: real-valued subset sum).

    Example:
        >>> w = World(points=["a", "b"], labels=["no", "yes"],
        ...           base=[[0.3, 0.1], [0.2, 0.2]], landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
        >>> c = Collective("c", 0.3, "g", target="yes")
        >>> success(w, c).tolist()   # wins at a (0.22 > 0.21) and at b: 0.5 + 0.5
        [1.0]
        >>> success(w, c, sizes=[[0.05], [0.3]]).tolist()
        [[0.5], [1.0]]
        >>> success(w, c, 0.05, "tv").tolist()   # margins .01 (a), .15 (b); budget 2ε = .1
        [0.5]
    """
    collectives = [collectives] if isinstance(collectives, Collective) else list(collectives)
    check_eps(eps, reading)
    v.choice("method", method, METHODS)
    planting = plant_all(world, collectives)
    if sizes is None:
        sizes = sizes_of(collectives)
    else:
        given, sizes = sizes, jnp.asarray(sizes, dtype=jnp.float64)
        if sizes.shape[-1:] != (len(collectives),):
            raise ACAInputError(
                f"sizes: last axis has length {sizes.shape[-1:]}, expected one size per "
                f"collective ({len(collectives)})"
            )
        check_sizes(given if isinstance(given, np.ndarray) else sizes)  # numpy input: no copy back
    bayes = v.is_concrete(eps) and float(eps) == 0.0
    return _success_batch(
        world.base, planting, sizes, slack(eps, reading), reading=reading, method=method, bayes=bayes
    )


def _success_batch(base, planting, sizes, kappa, *, reading, method, bayes):
    options = compiler_options()
    try:
        return _compiled_batch(reading, method, bayes, options is not None)(base, planting, sizes, kappa)
    except ValueError as err:
        # Inside a user's jit the kernel is a nested jit, which may not carry compiler options.
        if options is None or "compiler_options" not in str(err):
            raise
        return _compiled_batch(reading, method, bayes, False)(base, planting, sizes, kappa)


#: XLA:CPU's experimental YNNPACK fusions materialise every (batch, K, P, L) intermediate; turning
#: them off makes the oracle 6-13x faster here (benchmarks/RESULTS.md). Used only if accepted.
_NO_YNN = {"xla_cpu_experimental_ynn_fusion_type": ""}
#: Size vectors per chunk on the exact-knapsack path: a whole-batch vmap would hold
#: (batch, K, 2^CORE_MAX) subset sums at once.
_KNAPSACK_CHUNK = 16  # pragma: no mutate (a chunk size)
#: Cells (size vector x collective x point x label) per vectorised chunk on the Bayes and greedy
#: paths: bounds peak memory (~32 MB per intermediate) for large batches on large worlds (a
#: 81 x 81 heat map of a 100-collective, 108-point city held 20 GB in one vmap).
_CELLS_PER_CHUNK = 2**22  # pragma: no mutate (a chunk size)


@functools.lru_cache(maxsize=1)
def compiler_options() -> dict | None:
    """The XLA options of the oracle's kernels, or ``None`` if this jaxlib rejects them."""
    try:
        jax.jit(lambda x: x.sum(), compiler_options=_NO_YNN)(np.ones(2)).block_until_ready()
    except Exception:  # an unknown experimental option raises at compile time
        return None
    return _NO_YNN


@functools.cache
def _compiled_batch(reading, method, bayes, tuned):
    kernel = functools.partial(success_kernel, reading=reading, method=method, bayes=bayes)

    def rows(base, planting, sizes, kappa):
        one = lambda s: kernel(base, planting, s, kappa)  # noqa: E731
        if method != "greedy" and not bayes:
            return jax.lax.map(one, sizes, batch_size=_KNAPSACK_CHUNK)
        chunk = max(1, _CELLS_PER_CHUNK // (sizes.shape[1] * base.size))
        if sizes.shape[0] <= chunk:
            return jax.vmap(one)(sizes)
        return jax.lax.map(one, sizes, batch_size=chunk)

    def batch(base, planting, sizes, kappa):
        """Size vectors ``(..., K)``, flattened to rows inside the program (an eager reshape
        compiles a program of its own)."""
        return rows(base, planting, sizes.reshape(-1, sizes.shape[-1]), kappa).reshape(sizes.shape)

    return jax.jit(batch, compiler_options=compiler_options() if tuned else None)


def success_kernel(
    base: jax.Array,
    planting: Planting,
    sizes: jax.Array,
    kappa,
    *,
    reading: str = "huber",
    method: str = "exact",
    bayes: bool = False,
) -> jax.Array:
    """Pure kernel of :func:`success` for one size vector: arrays in, ``(K,)`` successes out.

    ``kappa`` is the learner's slack; with ``bayes=True`` the knapsack is skipped (``κ = 0``).
    ``method`` is one of :data:`METHODS` (or ``"enumerate"``: all ``2^P`` flip sets, small ``P``).
    """
    P = training_mass(base, sizes, planting.planted)
    margin = jax.vmap(ks.margins, in_axes=(None, 0))(P, planting.target)  # (K, P)
    value = jnp.where(margin > ks.TIE_TOL, planting.landing, 0.0)
    total = value.sum(axis=-1)
    if bayes:
        return total
    cost_fn = ks.tv_costs if reading == "tv" else ks.huber_costs
    costs = jax.vmap(cost_fn, in_axes=(None, 0))(P, planting.target)  # (K, P, C)
    solve = _SOLVERS[method]
    flipped = jax.vmap(solve, in_axes=(0, 0, None))(value, costs, kappa)
    return total - flipped


def decisions(world: World, collectives: Collective | Sequence[Collective]) -> np.ndarray:
    """The Bayes-optimal decision ``argmax_y P(x̃, y)`` at each relevant point (``-1`` on a tie).

    >>> w = World(points=["a"], labels=["no", "yes"], base=[[0.3, 0.1]], landing={"g": [[0.9, 0.1]]})
    >>> decisions(w, Collective("c", 0.3, "g", target="yes")).tolist()
    [1]
    """
    collectives = [collectives] if isinstance(collectives, Collective) else list(collectives)
    planting = plant_all(world, collectives)
    P = np.asarray(training_mass(world.base, sizes_of(collectives), planting.planted))
    top = P.max(axis=1, keepdims=True)
    tied = (top - ks.TIE_TOL <= P).sum(axis=1) > 1
    return np.where(tied, -1, P.argmax(axis=1))
