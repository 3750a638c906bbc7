"""Sampling a collective's own data and simulating the platform end to end (THEORY §3.2).

**What the collective observes** (:func:`sample_counts`): the estimating members' original data,
``base ~ Multinomial(n_estimate)`` over the ``P·L`` relevant cells plus one "off" cell of
probability ``1 - Σ P0``, and the acting members' signalled data
``landing ~ Multinomial(n_act, m_g)``.

**One simulated platform** (:func:`simulate`), ``N`` users in all:

1. the collective's members draw their :class:`Counts` as above;
2. each acting member deviates independently with probability ``σ`` (binomial thinning of the
   counts); the others submit by the strategy's rule applied to their own data
   (:func:`aca_games.bounds.finite_sample.member_submissions`: ``(g(x), ℓ)`` for feature-label,
   and so on), planting the label the collective *estimated* from its own counts for unplanting
   and erasing (it does not know ``P0``);
3. deviators submit their original data (drop; drawn afresh from ``P0``), their signalled point
   with a uniform label (scatter) or with the misfire label (misfire);
4. under unplanting the ``n_estimate`` estimators submit their data unchanged;
5. the ``N - n`` bystanders draw their data from ``P0`` (plus the off cell);
6. the platform's Bayes classifier takes, at each relevant point, the argmax of the pooled counts;
   the collective wins the point iff its best target label strictly beats every rival (a tie is a
   failure, as in :mod:`aca_games.oracle`);
7. ``n_test`` fresh signalled points are drawn from the landing mass ``m_g(x̃)``; the success is the
   fraction classified into the target set (for erasing: the base modal labels,
   :func:`aca_games.planting.target_mask`).

The compact world does not say how a member's original cell is coupled to its signalled cell; the
simulation draws the two independently (each with its correct marginal), which is all the
feature-only "hardt" rule (unmoved members submit their original data) needs.

Everything is one jitted kernel of the key; batches of keys are vmapped (:func:`simulate_batch`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games._knapsack import margins
from aca_games.bounds.finite_sample import (
    Counts,
    deviation,
    member_sizes,
    member_submissions,
    planted_label,
)
from aca_games.collective import Collective
from aca_games.planting import target_mask
from aca_games.world import World


class Simulation(NamedTuple):
    """One simulated platform: the collective's own counts and its measured test success."""

    counts: Counts
    success: jax.Array


def _draw(key, count, table, *, off: bool = True) -> jax.Array:
    """Multinomial counts of ``count`` draws over the cells of ``table`` (plus an off cell of
    probability ``1 - Σ table`` when ``off``); the off cell is dropped from the result."""
    flat = table.reshape(-1)
    if off:
        flat = jnp.concatenate([flat, jnp.maximum(1.0 - flat.sum(), 0.0)[None]])
    draws = jax.random.multinomial(key, count, flat / flat.sum())
    return (draws[:-1] if off else draws).reshape(table.shape)


def _sample_counts(world: World, c: Collective, n_est, n_act, key) -> Counts:
    k_base, k_land = jax.random.split(key)
    base = _draw(k_base, n_est, world.base)
    landing = _draw(k_land, n_act, world.landing_table(c.signal), off=False)
    return Counts(base, landing, n_est, n_act)


def sample_counts(world: World, collective: Collective, n, key, n_estimate=None) -> Counts:
    """Draw what the collective observes of its own data (see the module docstring).

    ``n_estimate`` applies to unplanting only (members who estimate; the other ``n - n_estimate``
    act). Vectorise over keys with ``jax.vmap(lambda k: sample_counts(world, c, n, k))(keys)``.

    >>> w = World(points=["a"], labels=["no", "yes"], base=[[0.5, 0.2]], landing={"g": [[0.7, 0.3]]})
    >>> cnt = sample_counts(w, Collective("c", 0.1, "g", target="yes"), 100, jax.random.key(0))
    >>> float(cnt.landing.sum()), bool(cnt.base.sum() <= 100)
    (100.0, True)
    """
    n_est, n_act = member_sizes(collective, n, n_estimate)
    return _sample_counts(world, collective, n_est, n_act, key)


def _deviators(world: World, c: Collective, dev, key) -> jax.Array:
    """Submissions of the deviating members, given their signalled data ``dev`` (counts)."""
    rows = dev.sum(axis=1)
    if c.noise_mode == "drop":  # they act as bystanders: their original data
        return _draw(key, rows.sum(), world.base)
    if c.noise_mode == "scatter":
        uniform = jnp.full(dev.shape, 1.0 / dev.shape[1])
        return jax.random.multinomial(key, rows, uniform)
    return deviation(world, c, world.base, rows)  # misfire: all at the wrong label


def _simulate_kernel(world: World, c: Collective, target, sizes, key) -> Simulation:
    """One platform for one key; ``sizes = (n_estimate, n_act, N - n, n_test)``."""
    n_est, n_act, n_bystanders, n_test = (sizes[i] for i in range(4))
    k_counts, k_dev, k_keep, k_dev_data, k_bystanders, k_test = jax.random.split(key, 6)
    counts = _sample_counts(world, c, n_est, n_act, k_counts)
    label, _ = planted_label(world, c, counts.base)
    onehot = jax.nn.one_hot(label, len(world.labels), dtype=counts.base.dtype)
    dev = jax.random.binomial(k_dev, counts.landing, c.noise)
    kept_base = counts.base - jax.random.binomial(k_keep, counts.base, c.noise)
    pool = member_submissions(c, counts.landing - dev, kept_base, onehot)
    pool = pool + _deviators(world, c, dev, k_dev_data)
    pool = pool + _draw(k_bystanders, n_bystanders, world.base)
    if c.strategy == "unplant":
        pool = pool + counts.base  # estimators submit their data unchanged
    win = margins(pool, target) > 0
    test = _draw(k_test, n_test, world.landing_mass(c.signal), off=False)
    return Simulation(counts, jnp.sum(jnp.where(win, test, 0.0)) / n_test)


_simulate_one = jax.jit(_simulate_kernel)
_simulate_keys = jax.jit(jax.vmap(_simulate_kernel, in_axes=(None, None, None, None, 0)))


def _prepare(world, c, n, N, n_test, n_estimate):
    n_est, n_act = member_sizes(c, n, n_estimate)
    N = v.positive_int("N", N)
    n_test = v.positive_int("n_test", n_test)
    if N <= n:
        raise ACAInputError(
            f"N: the platform has N = {N} users but the collective has n = {n} members; "
            "N counts everyone (collective and bystanders), so N > n"
        )
    sizes = jnp.asarray([n_est, n_act, N - n, n_test], dtype=jnp.float64)
    return jnp.asarray(target_mask(world, c)), sizes


def simulate(
    world: World, collective: Collective, *, n, N, n_test, key, n_estimate=None
) -> Simulation:
    """Simulate one platform (see the module docstring) and return the collective's counts with
    its test success, so the finite-sample bound can be evaluated on the same draw.

    Args:
        world, collective: the world and the collective (``collective.size`` is ignored).
        n: members; N: platform users (``N > n``); n_test: test points; key: a JAX PRNG key.
        n_estimate: unplanting only: members who estimate (``1 <= n_estimate < n``).

    >>> w = World(points=["a"], labels=["no", "yes"], base=[[0.5, 0.2]], landing={"g": [[0.7, 0.3]]})
    >>> sim = simulate(w, Collective("c", 0.1, "g", target="yes"), n=400, N=1000, n_test=100,
    ...                key=jax.random.key(0))
    >>> float(sim.success)   # 0.4·1 planted vs 0.6·0.5 bystanders at 'no': the collective wins
    1.0
    """
    target, sizes = _prepare(world, collective, n, N, n_test, n_estimate)
    return _simulate_one(world, collective, target, sizes, key)


def simulate_batch(
    world: World, collective: Collective, *, n, N, n_test, keys, n_estimate=None
) -> Simulation:
    """:func:`simulate` for a batch of keys (one vmapped call); every field gains a leading axis."""
    target, sizes = _prepare(world, collective, n, N, n_test, n_estimate)
    return _simulate_keys(world, collective, target, sizes, keys)


def simulate_many(
    world: World, collective: Collective, *, n, N, n_test, keys, n_estimate=None
) -> jax.Array:
    """Simulated test successes for a batch of keys, shape ``(len(keys),)``."""
    return simulate_batch(
        world, collective, n=n, N=N, n_test=n_test, keys=keys, n_estimate=n_estimate
    ).success


def simulate_success(
    world: World, collective: Collective, *, n, N, n_test, key, n_estimate=None
) -> float:
    """The test success of one simulated platform, as a Python float."""
    sim = simulate(world, collective, n=n, N=N, n_test=n_test, key=key, n_estimate=n_estimate)
    return float(sim.success)


__all__ = [
    "Simulation",
    "sample_counts",
    "simulate",
    "simulate_batch",
    "simulate_many",
    "simulate_success",
]
