"""Shared machinery of the partial-information bounds (THEORY §3.4) [BGR+26]: the others' menus as
arrays (:class:`Groups`), margins at ``i``'s planted label, and the batched evaluation of ``i``'s
success against stacked profiles of the others (used by :mod:`aca_games.bounds.partial`,
:mod:`aca_games.bounds.bayesian` and :mod:`aca_games.bounds.finite_partial`)."""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games._knapsack import TIE_TOL
from aca_games.beliefs import Beliefs
from aca_games.oracle import success_kernel
from aca_games.planting import Planting, plant, training_mass
from aca_games.world import World

PAYOFFS = ("exact", "per_point")


class Groups(NamedTuple):
    """The others' options per group (one group per other collective, or one pooled group).

    Attributes:
        planted: planted tables of the menu options, padded, shape ``(J, O, P, L)``.
        valid: which options are real (not padding), ``(J, O)``.
        lo, hi: size interval per group, ``(J,)``.
        pooled: the group pools several collectives (tier 1): its options may mix, ``(J,)``.
    """

    planted: jax.Array
    valid: jax.Array
    lo: jax.Array
    hi: jax.Array
    pooled: jax.Array



def option_groups(world: World, beliefs: Beliefs) -> Groups:
    """Plant every option of interval (or total-mass) beliefs once; a product prior uses its support."""
    n_points, n_labels = len(world.points), len(world.labels)
    if beliefs.kind == "total_mass":
        mass = jnp.stack([world.landing_mass(g) for g in world.signals])  # (S, P)
        eye = jnp.eye(n_labels, dtype=jnp.float64)
        options = (mass[:, None, :, None] * eye[None, :, None, :]).reshape(-1, n_points, n_labels)
        options = jnp.concatenate([options, world.base[None]])  # feature-label options + inert
        lo, hi = beliefs.total
        return Groups(
            options[None],
            jnp.ones((1, options.shape[0]), dtype=bool),
            jnp.asarray([lo], dtype=jnp.float64),
            jnp.asarray([hi], dtype=jnp.float64),
            jnp.asarray([True]),
        )
    if beliefs.kind not in ("intervals", "product"):
        raise ACAInputError(
            "beliefs: per-point bounds need interval, total-mass or product-prior beliefs, "
            f"got {beliefs.kind!r}"
        )
    others = beliefs.support().others
    width = max([len(o.menu) for o in others], default=1)
    planted = np.zeros((len(others), width, n_points, n_labels))
    valid = np.zeros((len(others), width), dtype=bool)
    for j, o in enumerate(others):
        for k, c in enumerate(o.menu):
            planted[j, k] = np.asarray(plant(world, c).planted)
            valid[j, k] = True
    as_f = lambda x: jnp.asarray(x, dtype=jnp.float64)  # noqa: E731
    return Groups(
        jnp.asarray(planted),
        jnp.asarray(valid),
        as_f([o.lo for o in others]),
        as_f([o.hi for o in others]),
        jnp.zeros(len(others), dtype=bool),
    )


def _at_label(table: jax.Array, onehot: jax.Array) -> jax.Array:
    """``table(x̃, ℓ(x̃))`` kept as a trailing axis of length 1; ``onehot`` is ``(P, L)``."""
    lead = (None,) * (table.ndim - 2)
    return jnp.sum(table * onehot[lead], axis=-1, keepdims=True)


def _option_gaps(groups: Groups, onehot: jax.Array) -> jax.Array:
    """``e^o(x̃, y') = E^o(ℓ) - E^o(y')`` per option, ``(J, O, P, L)``; for a pooled group every option
    is replaced by the point-wise worst (smallest) one, since its mass may mix options."""
    e = _at_label(groups.planted, onehot) - groups.planted
    worst = jnp.min(jnp.where(groups.valid[:, :, None, None], e, jnp.inf), axis=1, keepdims=True)
    return jnp.where(groups.pooled[:, None, None, None], jnp.broadcast_to(worst, e.shape), e)

def _check_beliefs(beliefs) -> None:
    if not isinstance(beliefs, Beliefs):
        raise ACAInputError(f"beliefs: expected aca_games.beliefs.Beliefs, got {type(beliefs).__name__}")


class _Table(NamedTuple):
    others: Planting  #: (S, K, ...) plantings of the others, padded with zero-size dummies
    sizes: jax.Array  #: (S, K)
    probs: jax.Array  #: (S,)


def _dummy(n_points: int, n_labels: int) -> Planting:
    return Planting(
        jnp.zeros((n_points, n_labels)),
        jnp.zeros((n_points, n_labels), dtype=bool),
        jnp.zeros(n_points, dtype=jnp.int64),
        jnp.zeros(n_points),
    )


def _normalise(p: Planting) -> Planting:
    """Fixed dtypes without weak types, so that every strategy shares one compiled kernel."""
    dtypes = (jnp.float64, bool, jnp.int64, jnp.float64)
    return Planting(*(jnp.asarray(x, dtype=d) for x, d in zip(p, dtypes, strict=True)))


def _stack(items: list[Planting], lead: tuple[int, ...], n_points: int, n_labels: int) -> Planting:
    """Stack plantings (normalised dtypes) into leading shape ``lead``."""
    fields = []
    for k, proto in enumerate(_dummy(n_points, n_labels)):
        arrs = [jnp.asarray(p[k], dtype=proto.dtype) for p in items]
        arr = jnp.stack(arrs) if arrs else jnp.zeros((0, *proto.shape), dtype=proto.dtype)
        fields.append(arr.reshape(*lead, *proto.shape))
    return Planting(*fields)


def _scenario_table(world: World, scenarios) -> _Table:
    n_points, n_labels = len(world.points), len(world.labels)
    width = max(len(s.collectives) for s in scenarios)
    cache: dict = {}
    items, sizes = [], np.zeros((len(scenarios), width))
    for s, sc in enumerate(scenarios):
        for k in range(width):
            if k < len(sc.collectives):
                c = sc.collectives[k]
                key = c.replace(name="_", size=0.0)
                if key not in cache:
                    cache[key] = plant(world, c)
                items.append(cache[key])
                sizes[s, k] = c.size
            else:
                items.append(_dummy(n_points, n_labels))
    others = _stack(items, (len(scenarios), width), n_points, n_labels)
    probs = jnp.asarray([s.probability for s in scenarios], dtype=jnp.float64)
    return _Table(others, jnp.asarray(sizes), probs)


def _static(eps, reading: str, payoff: str) -> dict:
    """The static arguments of :func:`_evaluate` (the oracle is exact at every size)."""
    v.choice("payoff", payoff, PAYOFFS)
    bayes = v.is_concrete(eps) and float(eps) == 0.0
    return {"reading": reading, "method": "exact", "bayes": bayes, "payoff": payoff}


@functools.partial(jax.jit, static_argnames=("reading", "method", "bayes", "payoff"))
def _evaluate(base, own: Planting, alpha, others: Planting, sizes, kappa, *, reading, method, bayes, payoff):
    """``i``'s success for a batch of others' profiles: ``others`` ``(B, K, ...)``, sizes ``(B, K)``."""
    alpha = jnp.asarray(alpha, dtype=jnp.float64)

    def one(other: Planting, size):
        planting = jax.tree_util.tree_map(
            lambda a, b: jnp.concatenate([a[None].astype(b.dtype), b]), own, other
        )
        all_sizes = jnp.concatenate([alpha[None], size])
        if payoff == "per_point":
            P = training_mass(base, all_sizes, planting.planted)
            onehot = jax.nn.one_hot(own.label, base.shape[-1], dtype=base.dtype)
            margin = jnp.min(jnp.where(own.target, jnp.inf, _at_label(P, onehot) - P), axis=-1)
            return jnp.sum(jnp.where(margin > kappa + TIE_TOL, own.landing, 0.0))
        kernel = functools.partial(success_kernel, reading=reading, method=method, bayes=bayes)
        return kernel(base, planting, all_sizes, kappa)[0]

    return jax.vmap(one)(others, sizes)
