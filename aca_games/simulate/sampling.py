"""Sampling a collective's own data and simulating the platform end to end (THEORY §3.2).

**What the collective observes** (:func:`sample_counts`): the estimating members' original data,
``base ~ Multinomial(n_estimate)`` over the ``P·L`` relevant cells plus one "off" cell of
probability ``1 - Σ P0``, and the acting members' signalled data
``landing ~ Multinomial(n_act, m_g)``.

**One simulated platform** (:func:`simulate`), ``N`` users in all:

1. the collective's members draw their :class:`Counts` as above;
2. every member carries a deviation coin of probability ``σ``; compliant acting members submit by
   the strategy's rule applied to their own data (mirroring :func:`aca_games.planting.plant`:
   ``(g(x), ℓ)`` for feature-label; ``(g(x), ℓ)`` if ``y = ℓ`` for feature-only, the others
   leaving (gbj) or submitting their original data (hardt)), planting for unplanting and erasing
   the label the collective *estimated* from its own ``base`` counts (it does not know ``P0``);
3. deviating acting members submit their original data (drop), their signalled point with a
   uniform label (scatter) or with the misfire label (misfire);
4. under unplanting the ``n_estimate`` estimators submit their data unchanged;
5. the ``N - n`` bystanders draw their data from ``P0`` (plus the off cell);
6. the platform's Bayes classifier takes, at each relevant point, the argmax of the pooled counts;
   the collective wins the point iff its best target label strictly beats every rival (a tie is a
   failure, as in :mod:`aca_games.oracle`);
7. ``n_test`` fresh signalled points are drawn from the landing mass ``m_g(x̃)``; the success is the
   fraction classified into the target set (for erasing: the base modal labels,
   :func:`aca_games.planting.target_mask`).

*Coupling.* The compact world does not say how a member's original cell ``(x, y)`` is coupled to
its signalled cell ``(g(x), y)``. The simulation draws the two sides independently, each with its
correct marginal and with its own deviation coins: the original-data side (``counts.base``; for
unplanting a separate draw for the actors, whose original data the collective does not observe)
supplies what unmoved (hardt) and dropping members submit, the signalled side (``counts.landing``)
the rest. Without noise feature-label, feature-only "gbj", unplanting and erasing need no coupling
at all; their submissions are exact functions of the counts.

Everything is one jitted kernel of the key with a single batched multinomial draw (it compiles
once per world shape); batches of keys are vmapped (:func:`simulate_batch`).
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
    Rules,
    compliant_submissions,
    member_sizes,
    planted_onehot,
    rules,
)
from aca_games.collective import Collective
from aca_games.world import World


class Simulation(NamedTuple):
    """One simulated platform: the collective's own counts and its measured test success."""

    counts: Counts
    success: jax.Array


def _with_off(table) -> jax.Array:
    """Cell probabilities of a table, flattened, plus an off cell of probability ``1 - Σ``."""
    flat = table.reshape(-1)
    return jnp.concatenate([flat, jnp.maximum(1.0 - flat.sum(), 0.0)[None]])


def _platform(r: Rules, base, landing, sizes, key) -> Simulation:
    """One platform for one key; ``base = P0``, ``landing = m_g``,
    ``sizes = (n_estimate, n_act, N - n, n_test)``.

    All randomness is one batched multinomial draw (one row per group of users, each member's
    deviation coin and deviant label folded into its outcome), so the kernel compiles once per
    world shape. Rows: the estimators' original data × coin; the actors' signalled data ×
    (comply | deviate × new label); the actors' original data × coin (unplanting only, else no
    draws); the bystanders' data; the test points' landing.
    """
    n_points, n_labels = base.shape
    cells = n_points * n_labels
    sigma = r.noise
    original = _with_off(base)  # (PL + 1,)
    coin = jnp.concatenate([(1.0 - sigma) * original, sigma * original])
    land = landing.reshape(-1)
    deviant = (land[:, None] * r.deviant_label[None, :]).reshape(-1)
    signalled = jnp.concatenate([(1.0 - sigma) * land, sigma * deviant])
    rows = [coin, signalled, coin, original, landing.sum(axis=1)]
    width = max(row.shape[0] for row in rows)
    probs = jnp.stack([jnp.pad(row, (0, width - row.shape[0])) for row in rows])
    counts = jnp.stack([sizes[0], sizes[1], sizes[1] * r.estimators, sizes[2], sizes[3]])
    draws = jax.random.multinomial(key, counts, probs / probs.sum(axis=1, keepdims=True))
    grid = lambda x: x.reshape(n_points, n_labels)  # noqa: E731
    deviated = slice(cells + 1, 2 * cells + 1)  # the coin's second half, off cell excluded
    kept_base, deviant_base = grid(draws[0, :cells]), grid(draws[0, deviated])
    kept = grid(draws[1, :cells])
    deviant_land = draws[1, cells : cells + cells * n_labels].reshape(n_points, n_labels, -1)
    own = Counts(kept_base + deviant_base, kept + deviant_land.sum(axis=2), sizes[0], sizes[1])
    # compliant members plant by the rule, with the label estimated from their own counts
    onehot = planted_onehot(r, own.base)
    pool = compliant_submissions(r, kept, kept_base, onehot)
    # deviators: their original data (drop; under unplanting the actors' own draw) or their
    # signalled point with the deviant label (scatter, misfire)
    actor_original = (1.0 - r.estimators) * deviant_base + grid(draws[2, deviated])
    pool = pool + r.drop * actor_original + (1.0 - r.drop) * deviant_land.sum(axis=1)
    # bystanders and (unplanting) estimators; Bayes classifier, ties fail; test success
    pool = pool + grid(draws[3, :cells]) + r.estimators * own.base
    win = margins(pool, r.target) > 0
    success = jnp.sum(jnp.where(win, draws[4, :n_points], 0.0)) / sizes[3]
    return Simulation(own, success)


_simulate_one = jax.jit(_platform)
_simulate_keys = jax.jit(jax.vmap(_platform, in_axes=(None, None, None, None, 0)))


def sample_counts(world: World, collective: Collective, n, key, n_estimate=None) -> Counts:
    """Draw what the collective observes of its own data (see the module docstring).

    Drawn by :func:`simulate`'s kernel, so they have the distribution of a simulated platform's
    member counts (not the same draw: use :func:`simulate` for that). ``n_estimate`` applies to
    unplanting only (members who estimate; the other ``n - n_estimate`` act). Vectorise with
    ``jax.vmap(lambda k: sample_counts(world, c, n, k))(keys)``.

    >>> w = World(points=["a"], labels=["no", "yes"], base=[[0.5, 0.2]],
    ...           landing={"g": [[0.7, 0.3]]})
    >>> cnt = sample_counts(w, Collective("c", 0.1, "g", target="yes"), 100, jax.random.key(0))
    >>> float(cnt.landing.sum()), bool(cnt.base.sum() <= 100)
    (100.0, True)
    """
    n_est, n_act = member_sizes(collective, n, n_estimate)
    sizes = jnp.asarray([n_est, n_act, 0, 1], dtype=jnp.float64)
    r, base, landing = rules(world, collective), world.base, world.landing_table(collective.signal)
    counts = _simulate_one(r, base, landing, sizes, key).counts
    return counts._replace(n_estimate=n_est, n_act=n_act)


def _prepare(world, c, n, N, n_test, n_estimate):
    n_est, n_act = member_sizes(c, n, n_estimate)
    N = v.positive_int("N", N)
    n_test = v.positive_int("n_test", n_test)
    if n >= N:
        raise ACAInputError(
            f"N: the platform has N = {N} users but the collective has n = {n} members; "
            "N counts everyone (collective and bystanders), so N > n"
        )
    sizes = jnp.asarray([n_est, n_act, N - n, n_test], dtype=jnp.float64)
    return rules(world, c), world.base, world.landing_table(c.signal), sizes


def simulate(world: World, collective: Collective, *, n, N, n_test, key, n_estimate=None) -> Simulation:
    """Simulate one platform (see the module docstring) and return the collective's counts with
    its test success, so the finite-sample bound can be evaluated on the same draw.

    Args:
        world, collective: the world and the collective (``collective.size`` is ignored).
        n: members; N: platform users (``N > n``); n_test: test points; key: a JAX PRNG key.
        n_estimate: unplanting only: members who estimate (``1 <= n_estimate < n``).

    >>> w = World(points=["a"], labels=["no", "yes"], base=[[0.5, 0.2]],
    ...           landing={"g": [[0.7, 0.3]]})
    >>> sim = simulate(w, Collective("c", 0.1, "g", target="yes"), n=400, N=1000, n_test=100,
    ...                key=jax.random.key(0))
    >>> float(sim.success)   # 0.4·1 planted vs 0.6·0.5 bystanders at 'no': the collective wins
    1.0
    """
    return _simulate_one(*_prepare(world, collective, n, N, n_test, n_estimate), key)


def simulate_batch(
    world: World, collective: Collective, *, n, N, n_test, keys, n_estimate=None
) -> Simulation:
    """:func:`simulate` for a batch of keys (one vmapped call); every field gains a leading axis."""
    return _simulate_keys(*_prepare(world, collective, n, N, n_test, n_estimate), keys)


def simulate_many(world: World, collective: Collective, *, n, N, n_test, keys, n_estimate=None) -> jax.Array:
    """Simulated test successes for a batch of keys, shape ``(len(keys),)``."""
    return simulate_batch(
        world, collective, n=n, N=N, n_test=n_test, keys=keys, n_estimate=n_estimate
    ).success


def simulate_success(world: World, collective: Collective, *, n, N, n_test, key, n_estimate=None) -> float:
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
