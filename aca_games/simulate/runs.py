"""Trained platforms: sample a platform, fit a learner on its data, measure every collective.

One *run* (:func:`run_platforms`, one seed) is: draw a :class:`~aca_games.simulate.platform.Platform`
from the seed's key, fit the learner (:mod:`aca_games.simulate.classifiers`) on its training
counts, and score each collective ``j``:

* ``success[j]``: the fraction of its ``n_test`` signalled test inputs classified into its target
  set ``T_j`` (what a collective measures, and what the finite-sample bound [GBJ25] is about);
* ``expected[j]``: the trained classifier's success on the whole signalled population,
  ``Σ_x̃ m_j(x̃) · 1[f(x̃) ∈ T_j]`` (the same without test-sampling noise; the oracle's quantity).

``f(x̃) ∈ T_j`` means ``max_{y∈T_j} p̂(y|x̃) - max_{y∉T_j} p̂(y|x̃) > 1e-12``: a tie is a failure, as
in :mod:`aca_games.oracle` (for erasing, ``T_j(x̃)`` is the base modal labels at ``x̃``).

Seeds are vmapped: runs go in chunks of :data:`SEED_CHUNK` seeds per compiled call (the last chunk
padded), and seed ``i`` uses the key ``fold_in(key(seed), i)``, so its result does not depend on
how many seeds are run or how they are chunked: a seeded run reproduces bit for bit.
:func:`run_cells` runs several platforms of one shape (the cells of a sweep) in one call vmapped
over platforms and seeds, :data:`CELL_CHUNK` platforms at a time (padded), with the same keys for
every platform (common random numbers across cells).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp

from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games._knapsack import TIE_TOL, margins
from aca_games.bounds.finite_sample import Counts
from aca_games.simulate.classifiers import Learner
from aca_games.simulate.platform import PlatformSpec, _platform

__all__ = [
    "CELL_CHUNK",
    "SEED_CHUNK",
    "TrainedRuns",
    "run_cells",
    "run_platforms",
    "seed_keys",
    "targets_won",
]

#: Seeds per compiled call (a fixed batch shape: one compile, and results independent of chunking).
SEED_CHUNK = 16
#: Platforms per compiled call in :func:`run_cells` (fixed for the same reason).
CELL_CHUNK = 8


class TrainedRuns(NamedTuple):
    """Results of a batch of runs: leading axis = seeds, then collectives ``K``."""

    success: jax.Array  #: ``(S, K)`` measured success on the test inputs
    expected: jax.Array  #: ``(S, K)`` the trained classifier's success on the signalled population
    counts: Counts  #: each collective's own counts per seed, fields ``(S, K, ...)``


def seed_keys(seed: int, count: int) -> jax.Array:
    """Keys ``fold_in(key(seed), i)`` for ``i < count`` (seed ``i``'s key does not depend on
    ``count``)."""
    seed = v.positive_int("seed", seed, minimum=0)
    count = v.positive_int("seeds", count)
    return jax.vmap(lambda i: jax.random.fold_in(jax.random.key(seed), i))(jnp.arange(count))


def targets_won(probs, target) -> jax.Array:
    """``f(x̃) ∈ T`` per point: the best target label beats every rival by more than ``1e-12``.
    ``probs`` ``(P, L)``, ``target`` ``(..., P, L)`` boolean -> ``(..., P)``."""
    return margins(probs, target) > TIE_TOL


def _run(spec: PlatformSpec, learner: Learner, key):
    sample_key, fit_key = jax.random.split(key)
    platform = _platform(spec, sample_key)
    probs = learner.fit(platform.train, fit_key)[:-1]  # the off row decides nothing
    won = jax.vmap(targets_won, in_axes=(None, 0))(probs, spec.rules.target)
    success = jnp.sum(jnp.where(won, platform.test, 0.0), axis=1) / spec.n_test
    expected = jnp.sum(jnp.where(won, spec.landing[:, :-1].sum(axis=2), 0.0), axis=1)
    return TrainedRuns(success, expected, platform.counts)


def _over_seeds(spec, learner, keys):
    return jax.vmap(_run, in_axes=(None, None, 0))(spec, learner, keys)


_run_chunk = jax.jit(_over_seeds, static_argnums=1)
_run_grid = jax.jit(jax.vmap(_over_seeds, in_axes=(0, None, None)), static_argnums=1)


def _seed_chunks(keys):
    """``(chunk, size)`` pairs: ``keys`` cut into :data:`SEED_CHUNK` keys, the last one padded."""
    for start in range(0, keys.shape[0], SEED_CHUNK):
        chunk = keys[start : start + SEED_CHUNK]
        size = chunk.shape[0]
        if size < SEED_CHUNK:
            chunk = jnp.concatenate([chunk, jnp.repeat(chunk[-1:], SEED_CHUNK - size, axis=0)])
        yield start, chunk, size


def run_platforms(
    spec: PlatformSpec,
    learner: Learner,
    keys,
    *,
    progress: Callable[[int], None] | None = None,
) -> TrainedRuns:
    """Run one trained platform per key (module docstring), vmapped over seeds.

    Args:
        spec: the platform (:func:`aca_games.simulate.platform.platform_spec`).
        learner: a learner of :mod:`aca_games.simulate.classifiers`.
        keys: a 1-d batch of ``jax.random`` keys (e.g. :func:`seed_keys`).
        progress: called with the number of seeds finished after each chunk.

    Example:
        >>> from aca_games import Collective, World
        >>> from aca_games.simulate.classifiers import BayesCounts
        >>> from aca_games.simulate.platform import platform_spec
        >>> w = World(points=["a"], labels=["no", "yes"], base=[[0.5, 0.2]],
        ...           landing={"g": [[0.7, 0.3]]})
        >>> spec = platform_spec(w, Collective("c", 0.4, "g", target="yes"), N=1000, n_test=100)
        >>> runs = run_platforms(spec, BayesCounts(), seed_keys(0, 3))
        >>> runs.success.tolist()   # 400 planted 'yes' vs ~300 bystanders' 'no' at a
        [[1.0], [1.0], [1.0]]
    """
    keys = _check_keys(keys)
    parts = []
    for start, chunk, size in _seed_chunks(keys):
        parts.append(jax.tree.map(lambda x, size=size: x[:size], _run_chunk(spec, learner, chunk)))
        if progress is not None:
            progress(start + size)
    return _concat(parts, axis=0)


def run_cells(specs: Sequence[PlatformSpec], learner: Learner, keys) -> list[TrainedRuns]:
    """:func:`run_platforms` for several platforms of one shape (same ``P``, ``L``, ``K``), in calls
    vmapped over :data:`CELL_CHUNK` platforms and :data:`SEED_CHUNK` seeds; every platform uses
    the same ``keys``. Returns one :class:`TrainedRuns` per platform, in order."""
    keys = _check_keys(keys)
    specs = list(specs)
    shapes = {jax.tree.map(jnp.shape, s) for s in specs}
    if len(shapes) > 1:
        raise ACAInputError(
            "specs: platforms of different shapes (points, labels, collectives) cannot share a call"
        )
    out = []
    for first in range(0, len(specs), CELL_CHUNK):
        group = specs[first : first + CELL_CHUNK]
        group = group + [group[-1]] * (CELL_CHUNK - len(group))
        stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *group)
        parts = [
            jax.tree.map(lambda x, size=size: x[:, :size], _run_grid(stacked, learner, chunk))
            for _, chunk, size in _seed_chunks(keys)
        ]
        runs = _concat(parts, axis=1)
        out += [jax.tree.map(lambda x, i=i: x[i], runs) for i in range(min(CELL_CHUNK, len(specs) - first))]
    return out


def _concat(parts, axis):
    return jax.tree.map(lambda *xs: jnp.concatenate(xs, axis=axis), *parts)


def _check_keys(keys) -> jax.Array:
    keys = keys if isinstance(keys, jax.Array) else jnp.asarray(keys)
    typed = jnp.issubdtype(keys.dtype, jax.dtypes.prng_key)
    if keys.ndim != (1 if typed else 2) or keys.shape[0] == 0:
        raise ACAInputError(
            f"keys: expected a non-empty 1-d batch of jax.random keys, got shape {tuple(keys.shape)}; "
            "use seed_keys(seed, count)"
        )
    return keys
