"""The exact oracle: ground truth for every bound (THEORY §2).

With full knowledge of the world and of every collective, the platform trains on
``P = α_0 P0 + Σ_j α_j E_j`` (see :mod:`aca_games.planting`) and decides ``f(x̃) = argmax_y P(x̃, y)``.
Collective ``j`` succeeds at ``x̃`` iff its margin ``max_{y∈T_j} P - max_{y∉T_j} P`` is positive (a tie
is a failure), and its success is ``S_j = Σ_x̃ m_j(x̃) 1[win]``.

For an ``ε``-suboptimal learner the worst case for ``j`` flips the winning points it can afford, a
knapsack solved exactly for small point sets and by its fractional relaxation (a sound lower bound
on success) for large ones; see :mod:`aca_games._knapsack` for the costs of both readings.

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

#: Above this many relevant points ``method="auto"`` uses the greedy relaxation (2^P subsets).
EXACT_MAX_POINTS = 14

METHODS = ("auto", "exact", "greedy")


def success(
    world: World,
    collectives: Collective | Sequence[Collective],
    eps=0.0,
    reading: str = "huber",
    *,
    sizes=None,
    method: str = "auto",
) -> jax.Array:
    """Exact (worst-case) success of every collective.

    Args:
        world: the world.
        collectives: one collective or a sequence of ``K`` collectives acting together.
        eps: learner suboptimality ``ε``; 0 means Bayes-optimal.
        reading: ``"huber"`` or ``"tv"`` (see :mod:`aca_games.learner`).
        sizes: optional batch of size vectors, shape ``(..., K)``, overriding the collectives'
            own sizes; the result then has shape ``(..., K)``.
        method: ``"exact"`` (enumerate flip sets), ``"greedy"`` (fractional relaxation: a lower
            bound on the worst case, exact at ``ε = 0``) or ``"auto"`` (exact up to
            :data:`EXACT_MAX_POINTS` points).

    Returns:
        Success ``S_j`` (``ε = 0``) or worst-case success over ``ε``-suboptimal learners, shape
        ``(K,)`` (or ``(..., K)`` with ``sizes``).

    Example:
        >>> w = World(points=["a", "b"], labels=["no", "yes"],
        ...           base=[[0.3, 0.1], [0.2, 0.2]], landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
        >>> c = Collective("c", 0.3, "g", target="yes")
        >>> success(w, c).tolist()   # wins at a (0.22 > 0.21) and at b: 0.5 + 0.5
        [1.0]
        >>> success(w, c, sizes=[[0.05], [0.3]]).tolist()
        [[0.5], [1.0]]
    """
    collectives = [collectives] if isinstance(collectives, Collective) else list(collectives)
    check_eps(eps, reading)
    v.choice("method", method, METHODS)
    planting = plant_all(world, collectives)
    if sizes is None:
        sizes = sizes_of(collectives)
    else:
        sizes = jnp.asarray(sizes, dtype=jnp.float64)
        if sizes.shape[-1:] != (len(collectives),):
            raise ACAInputError(
                f"sizes: last axis has length {sizes.shape[-1:]}, expected one size per "
                f"collective ({len(collectives)})"
            )
        check_sizes(sizes)
    if method == "auto":
        method = "exact" if len(world.points) <= EXACT_MAX_POINTS else "greedy"
    bayes = v.is_concrete(eps) and float(eps) == 0.0
    batch = sizes.reshape(-1, sizes.shape[-1])
    out = _success_batch(
        world.base, planting, batch, slack(eps, reading), reading=reading, method=method, bayes=bayes
    )
    return out.reshape(sizes.shape)


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
#: (batch, K, 2^P) subset sums at once.
_KNAPSACK_CHUNK = 16


@functools.lru_cache(maxsize=1)
def compiler_options() -> dict | None:
    """The XLA options of the oracle's kernels, or ``None`` if this jaxlib rejects them."""
    try:
        jax.jit(lambda x: x.sum(), compiler_options=_NO_YNN)(jnp.ones(2)).block_until_ready()
    except Exception:  # an unknown experimental option raises at compile time
        return None
    return _NO_YNN


@functools.cache
def _compiled_batch(reading, method, bayes, tuned):
    kernel = functools.partial(success_kernel, reading=reading, method=method, bayes=bayes)

    def batch(base, planting, sizes, kappa):
        one = lambda s: kernel(base, planting, s, kappa)  # noqa: E731
        if method == "exact" and not bayes:
            return jax.lax.map(one, sizes, batch_size=_KNAPSACK_CHUNK)
        return jax.vmap(one)(sizes)

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
    """
    P = training_mass(base, sizes, planting.planted)
    margin = jax.vmap(ks.margins, in_axes=(None, 0))(P, planting.target)  # (K, P)
    value = jnp.where(margin > ks.TIE_TOL, planting.landing, 0.0)
    total = value.sum(axis=-1)
    if bayes:
        return total
    cost_fn = ks.tv_costs if reading == "tv" else ks.huber_costs
    costs = jax.vmap(cost_fn, in_axes=(None, 0))(P, planting.target)  # (K, P, C)
    solve = ks.max_flipped_exact if method == "exact" else ks.max_flipped_greedy
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
