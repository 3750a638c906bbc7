"""Array kernels of :class:`aca_games.ACAGame` (see :mod:`aca_games.game` for the math).

Pure functions of a :class:`GameArrays` pytree and a hashable static ``config = (bound, reading,
method)``: every game with the same shapes and config shares one compiled program (a jit of a
game's bound method would compile again for every game).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from aca_games.bounds.multi import b1_kernel, b1_value, conflict_pair, per_point_kernel
from aca_games.bounds.population import ClosedFormTerms
from aca_games.bounds.smooth import smooth_kernel
from aca_games.oracle import success_kernel
from aca_games.planting import Planting


class GameArrays(NamedTuple):
    """Every option of every player resolved into arrays padded to the widest menu ``m``.

    Attributes:
        base: ``P0``, ``(P, L)``.
        planting: leaves ``(n, m, ...)``; sizes, costs: ``(n, m)``.
        terms, covered: closed-form terms and coverage ``(n, m)`` (``None`` unless the bound is
            ``closed_form``).
        counts: menu sizes ``(n,)``; values, size_costs: ``v_i``, ``k_i`` ``(n,)``.
        kappa, tau: the learner's slack and the smooth bound's temperature.
    """

    base: jax.Array
    planting: Planting
    sizes: jax.Array
    costs: jax.Array
    terms: ClosedFormTerms | None
    covered: jax.Array | None
    counts: jax.Array
    values: jax.Array
    size_costs: jax.Array
    kappa: jax.Array
    tau: jax.Array


@functools.partial(jax.jit, static_argnames=("bound", "reading", "method"))
def bound_kernel(base, planting: Planting, sizes, terms, covered, kappa, tau, *, bound, reading, method):
    """``B_i`` for all players from arrays: the oracle, the per-point bound, B1 or the surrogate."""
    if bound == "exact":
        bayes = method == "bayes"
        return success_kernel(base, planting, sizes, kappa, reading=reading, method=method, bayes=bayes)
    if bound == "per_point":
        return per_point_kernel(base, planting, sizes, kappa)
    if bound == "smooth":
        return smooth_kernel(base, planting, sizes, kappa, tau)
    return b1_kernel(planting, terms, covered, sizes, kappa)


def _chosen(arrays: GameArrays, profile):
    """The profile's options (plantings ``(n, ...)``, sizes ``(n,)``) and ``Σ_j α_j E_j(a_j)``."""
    rows = jnp.arange(arrays.sizes.shape[0])
    planting = jax.tree_util.tree_map(lambda x: x[rows, profile], arrays.planting)
    sizes = arrays.sizes[rows, profile]
    return planting, sizes, jnp.einsum("k,kpl->pl", sizes, planting.planted)


def _row(arrays: GameArrays, chosen, p, config) -> jax.Array:
    """``u_p(b, a_{-p})`` for every ``b`` of the padded menu of player ``p`` (``-inf`` padding)."""
    bound_name, reading, method = config
    planting, sizes, total = chosen
    others_size = sizes.sum() - sizes[p]
    others_mass = total - sizes[p] * planting.planted[p]

    def one(b):
        option = jax.tree_util.tree_map(lambda x: x[p, b], arrays.planting)
        alpha = arrays.sizes[p, b]
        if bound_name == "closed_form":  # B1 row of p: conflicts with the others' current options
            rho = jax.vmap(conflict_pair, in_axes=(None, 0))(option, planting)
            rho = jnp.where(jnp.arange(sizes.shape[0]) == p, 0.0, rho)
            terms = jax.tree_util.tree_map(lambda x: x[p, b], arrays.terms)
            bound = b1_value(terms, arrays.covered[p, b], alpha, others_size, rho @ sizes, arrays.kappa)
        else:  # a function of the training mass: evaluate p's bound alone at P_b (size 0 on P_b)
            mass = (1.0 - others_size - alpha) * arrays.base + others_mass + alpha * option.planted
            alone = jax.tree_util.tree_map(lambda x: x[None], option)
            bound = bound_kernel(mass, alone, jnp.zeros(1), None, None, arrays.kappa, arrays.tau,
                                 bound=bound_name, reading=reading, method=method)[0]
        return arrays.values[p] * bound - arrays.costs[p, b] - arrays.size_costs[p] * alpha

    options = jnp.arange(arrays.sizes.shape[1])
    return jnp.where(options < arrays.counts[p], jax.vmap(one)(options), -jnp.inf)


def deviation_row(arrays: GameArrays, profile, player, config) -> jax.Array:
    """``u_p(b, a_{-p})`` for every option of ``player``, ``(m,)`` with ``-inf`` padding; traceable."""
    return _row(arrays, _chosen(arrays, jnp.asarray(profile)), player, config)


def deviation_table(arrays: GameArrays, profile, config, chunk: int = 64) -> jax.Array:
    """Every player's :func:`deviation_row`, ``(n, m)``: the aggregate once, players mapped in
    chunks of ``chunk``; traceable."""
    chosen = _chosen(arrays, jnp.asarray(profile))
    players = jnp.arange(arrays.sizes.shape[0])
    return jax.lax.map(lambda p: _row(arrays, chosen, p, config), players, batch_size=chunk)


deviation_row_jit = jax.jit(deviation_row, static_argnames=("config",))


@functools.partial(jax.jit, static_argnames=("config", "chunk"))
def deviation_tables(arrays: GameArrays, profiles, config, chunk: int = 64) -> jax.Array:
    """:func:`deviation_table` for a batch of profiles ``(B, n)``, one profile at a time."""
    return jax.lax.map(lambda prof: deviation_table(arrays, prof, config, chunk), profiles)
