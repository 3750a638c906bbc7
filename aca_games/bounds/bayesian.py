"""Bayesian bounds under partial information (THEORY §3.4) [BGR+26].

**Bayesian** (:func:`bayes`, :func:`bayes_exact`). Expected success of ``i`` under a prior, by
Monte Carlo vmapped over samples (sizes and option indices drawn with ``jax.random``, each menu
option planted once and gathered by index, the oracle kernel
:func:`aca_games.oracle.success_kernel` evaluated on the stacked plantings), with the standard
error ``std / sqrt(n)``; a finite prior is also summed exactly.

Collective ``i`` knows the world and its own option and size; about the others it holds a prior
(:meth:`~aca_games.beliefs.Beliefs.prior` or :meth:`~aca_games.beliefs.Beliefs.product_prior`).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games.beliefs import Beliefs
from aca_games.bounds._partial import (
    _check_beliefs,
    _evaluate,
    _normalise,
    _scenario_table,
    _stack,
    _static,
    _Table,
)
from aca_games.collective import Collective
from aca_games.learner import check_eps, slack
from aca_games.planting import Planting, plant
from aca_games.world import World


class Estimate(NamedTuple):
    """A Monte Carlo estimate: ``mean`` and its standard error ``stderr`` (sample std / sqrt(n))."""

    mean: jax.Array
    stderr: jax.Array


class _Product(NamedTuple):
    """A product prior as arrays: flat option plantings and per-collective sampling tables."""

    options: Planting  #: (O_total, ...) every menu option, planted once
    offsets: jax.Array  #: (J,) index of each collective's first option
    logits: jax.Array  #: (J, O_max) log menu weights, -inf padding
    uniform: jax.Array  #: (J,) size uniform on [lo, hi] (else discrete)
    lo: jax.Array
    hi: jax.Array
    values: jax.Array  #: (J, V_max) discrete sizes
    value_logits: jax.Array  #: (J, V_max) their log probabilities


def _product_table(world: World, beliefs: Beliefs) -> _Product:
    n_points, n_labels = len(world.points), len(world.labels)
    others = beliefs.others
    flat = [plant(world, c) for o in others for c in o.menu]
    width = max([len(o.menu) for o in others], default=1)
    n_values = max([len(o.sizes) for o in others if o.sizes is not None], default=1)
    logits = np.full((len(others), width), -np.inf)
    values = np.zeros((len(others), n_values))
    value_logits = np.zeros((len(others), n_values))
    with np.errstate(divide="ignore"):
        for j, o in enumerate(others):
            logits[j, : len(o.menu)] = np.log(o.weights)
            if o.sizes is not None:
                value_logits[j] = -np.inf
                values[j, : len(o.sizes)] = o.sizes
                value_logits[j, : len(o.sizes)] = np.log(o.size_weights)
    as_f = lambda x: jnp.asarray(x, dtype=jnp.float64)  # noqa: E731
    return _Product(
        _stack(flat, (len(flat),), n_points, n_labels),
        jnp.asarray(np.cumsum([0] + [len(o.menu) for o in others])[:-1], dtype=jnp.int64),
        as_f(logits),
        jnp.asarray([o.sizes is None for o in others], dtype=bool),
        as_f([o.lo for o in others]),
        as_f([o.hi for o in others]),
        as_f(values),
        as_f(value_logits),
    )


@functools.partial(jax.jit, static_argnames="n")
def _draw_product(key, t: _Product, n: int):
    """``n`` profiles of the others: plantings ``(n, J, ...)`` and sizes ``(n, J)``."""
    k_opt, k_val, k_uni = jax.random.split(key, 3)
    shape = (n, t.lo.shape[0])
    local = jax.random.categorical(k_opt, t.logits, axis=-1, shape=shape)
    pick = jax.random.categorical(k_val, t.value_logits, axis=-1, shape=shape)
    discrete = jnp.take_along_axis(
        jnp.broadcast_to(t.values[None], (n, *t.values.shape)), pick[..., None], -1
    )
    u = jax.random.uniform(k_uni, shape, dtype=jnp.float64)
    sizes = jnp.where(t.uniform[None], t.lo[None] + u * (t.hi - t.lo)[None], discrete[..., 0])
    index = t.offsets[None] + local
    return jax.tree_util.tree_map(lambda a: a[index], t.options), sizes


@functools.partial(jax.jit, static_argnames="n")
def _draw_scenarios(key, t: _Table, n: int):
    pick = jax.random.categorical(key, jnp.log(t.probs), shape=(n,))
    return jax.tree_util.tree_map(lambda a: a[pick], t.others), t.sizes[pick]


def _self_planting(world, collective, beliefs, eps, reading):
    check_eps(eps, reading)
    _check_beliefs(beliefs)
    beliefs.check_self(collective)
    return _normalise(plant(world, collective)), slack(eps, reading)


def bayes(
    world: World,
    collective: Collective,
    beliefs: Beliefs,
    key,
    n_samples: int,
    eps=0.0,
    reading: str = "huber",
    payoff: str = "exact",
) -> Estimate:
    """Monte Carlo estimate of ``i``'s expected success under a prior over the others.

    Draws ``n_samples`` profiles of the others with ``jax.random`` (a scenario index for
    :meth:`Beliefs.prior`; option indices and sizes for :meth:`Beliefs.product_prior`), gathers the
    precomputed plantings and evaluates ``i``'s success for all samples in one vmapped, jitted call.

    Args:
        key: a JAX PRNG key.
        n_samples: number of samples (>= 2).
        eps, reading: learner suboptimality.
        payoff: ``"exact"`` (the oracle: worst case over ε-suboptimal learners, exact at every size) or
            ``"per_point"`` (the multi-collective staircase of ``i``).

    Returns:
        :class:`Estimate` ``(mean, stderr)`` with ``stderr = std(ddof=1)/sqrt(n)``.

    Example:
        >>> import jax
        >>> from aca_games import Collective, World
        >>> from aca_games.beliefs import Beliefs
        >>> w = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.2]], landing={"g": [[0.5, 0.5]]})
        >>> i = Collective("i", 0.1, "g", target="y")
        >>> prior = Beliefs.prior([(0.25, [Collective("j", 0.05, "g", target="n")]), (0.75, [])])
        >>> float(bayes_exact(w, i, prior))   # beats the base alone, loses against j
        0.75
        >>> float(bayes_exact(w, i.with_size(0.2), prior))
        1.0
        >>> est = bayes(w, i, prior, jax.random.key(0), 400)
        >>> abs(float(est.mean) - 0.75) < 4 * float(est.stderr)
        True
    """
    own, kappa = _self_planting(world, collective, beliefs, eps, reading)
    n = v.positive_int("n_samples", n_samples, minimum=2)
    static = _static(eps, reading, payoff)
    if beliefs.kind == "scenarios":
        others, sizes = _draw_scenarios(key, _scenario_table(world, beliefs.scenarios()), n)
    elif beliefs.kind == "product":
        others, sizes = _draw_product(key, _product_table(world, beliefs), n)
    else:
        raise ACAInputError(
            f"beliefs: bayes needs a prior (Beliefs.prior or Beliefs.product_prior), got {beliefs.kind!r}"
        )
    alpha = jnp.asarray(collective.size, dtype=jnp.float64)
    values = _evaluate(world.base, own, alpha, others, sizes, kappa, **static)
    return Estimate(jnp.mean(values), jnp.std(values, ddof=1) / jnp.sqrt(n))


def bayes_exact(
    world: World,
    collective: Collective,
    beliefs: Beliefs,
    eps=0.0,
    reading: str = "huber",
    payoff: str = "exact",
) -> jax.Array:
    """Exact expected success of ``i`` under a finite prior, by enumerating its scenarios
    (:meth:`Beliefs.scenarios`: a :meth:`Beliefs.prior`, or a product prior with discrete sizes)."""
    own, kappa = _self_planting(world, collective, beliefs, eps, reading)
    table = _scenario_table(world, beliefs.scenarios())
    alpha = jnp.asarray(collective.size, dtype=jnp.float64)
    values = _evaluate(
        world.base, own, alpha, table.others, table.sizes, kappa, **_static(eps, reading, payoff)
    )
    return jnp.sum(table.probs * values)
