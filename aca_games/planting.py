"""What a collective adds to the training distribution (THEORY §1).

Every strategy and every noise mode reduces to one *planted table* ``E_j(x̃, y)``: the mass that one
unit of collective ``j`` submits at each relevant cell (the rest of its submissions land outside the
relevant points). With coordination noise ``σ`` and deviation table ``N``,

    E_j = (1 - σ) M_j + σ N_j,    N = P0 (drop) | m_j/L on every label (scatter) | m_j at w (misfire)

and the platform trains on ``P(x̃, y) = α_0 P0(x̃, y) + Σ_j α_j E_j(x̃, y)`` with ``α_0 = 1 - Σ_j α_j``.
Noise is therefore just more planted mass, with no special case downstream.

Planted mass ``M_j`` per strategy (``m`` = landing table of the collective's signal, ``ℓ`` = label):

* feature_label:          ``M(x̃, ℓ) = m(x̃)``
* feature_only, "gbj":    ``M(x̃, ℓ) = m(x̃, ℓ)``
* feature_only, "hardt":  ``M(x̃, ℓ) = m(x̃, ℓ)`` and ``M(x̃, y) = P0(x̃, y)`` for ``y ≠ ℓ``
* unplant / erase:        ``M(x̃, ℓ(x̃)) = m(x̃)`` with the per-point label of :mod:`collective`.
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games._pytree import stack_trees, to_device
from aca_games.collective import Collective
from aca_games.world import World


class Planting(NamedTuple):
    """A collective resolved against a world. Arrays may carry a leading collective axis ``K``.

    Attributes:
        planted: ``E(x̃, y)`` per unit size, noise included, shape ``(P, L)``.
        target: target mask ``T(x̃, y)``, boolean, shape ``(P, L)``.
        label: planted label ``ℓ(x̃)`` at each point, integer, shape ``(P,)``.
        landing: success weights ``m(x̃)``, shape ``(P,)``.
    """

    planted: jax.Array
    target: jax.Array
    label: jax.Array
    landing: jax.Array


def target_mask(world: World, c: Collective) -> np.ndarray:
    """The collective's target mask ``T(x̃, y)`` (static: it depends on names and, for
    ``erase``, on the base modal labels)."""
    n_points, n_labels = len(world.points), len(world.labels)
    if c.strategy == "erase":
        base = np.asarray(world.base)
        return base >= base.max(axis=1, keepdims=True)
    row = np.zeros(n_labels, dtype=bool)
    row[[world.label_index(t) for t in c.target]] = True
    if c.strategy == "unplant" and row.sum() != n_labels - 1:
        raise ACAInputError(
            f"{c.name}.target: unplanting avoids exactly one label, so the target must be every "
            f"label but one; got {list(c.target)} of {list(world.labels)}"
        )
    return np.broadcast_to(row, (n_points, n_labels))


def plant(world: World, c: Collective) -> Planting:
    """Resolve collective ``c`` against ``world`` into its :class:`Planting`.

    The names are resolved here; the arithmetic is one jitted kernel per strategy and noise mode
    (menus of large games plant thousands of options).

    Example:
        >>> w = World(points=["a"], labels=["no", "yes"], base=[[0.5, 0.2]],
        ...           landing={"g": [[0.7, 0.3]]})
        >>> p = plant(w, Collective("c", 0.1, "g", target="yes"))
        >>> p.planted.tolist(), p.label.tolist()
        ([[0.0, 1.0]], [1])
    """
    land = world.landing_table(c.signal)
    target = to_device(target_mask(world, c))
    label = world.label_index(c.label) if c.strategy in ("feature_label", "feature_only") else -1
    wrong = _misfire_label(world, c, target) if c.noise_mode == "misfire" else -1
    planted, labels, mass = _plant_kernel(world.base, land, target, label, wrong, c.noise,
                                          strategy=c.strategy, variant=c.variant, noise_mode=c.noise_mode)
    return Planting(planted, target, labels, mass)


@functools.partial(jax.jit, static_argnames=("strategy", "variant", "noise_mode"))
def _plant_kernel(base, land, target, label, wrong, noise, *, strategy, variant, noise_mode):
    """``E = (1 - σ) M + σ N`` (module docstring), the planted label per point and the landing mass."""
    n_points, n_labels = base.shape
    mass = land.sum(axis=1)
    if strategy in ("feature_label", "feature_only"):
        labels = jnp.full(n_points, label)
    elif strategy == "unplant":
        labels = jnp.argmax(jnp.where(target, base, -1.0), axis=1)
    else:  # erase: the base modal label
        labels = jnp.argmax(base, axis=1)
    onehot = jax.nn.one_hot(labels, n_labels, dtype=base.dtype)
    if strategy == "feature_only":
        members = land * onehot
        if variant == "hardt":
            members = members + base * (1.0 - onehot)
    else:
        members = mass[:, None] * onehot
    if noise_mode == "drop":
        deviators = base
    elif noise_mode == "scatter":
        deviators = jnp.broadcast_to(mass[:, None] / n_labels, base.shape)
    else:
        deviators = mass[:, None] * jax.nn.one_hot(wrong, n_labels, dtype=base.dtype)[None, :]
    return (1.0 - noise) * members + noise * deviators, labels, mass


def _misfire_label(world: World, c: Collective, target) -> int:
    """The wrong label misfiring members plant: ``misfire_label`` or the first label outside ``T``."""
    if c.misfire_label is not None:
        return world.label_index(c.misfire_label)
    outside = np.flatnonzero(~np.asarray(target)[0])
    if c.strategy == "erase" or outside.size == 0:
        raise ACAInputError(f"{c.name}.misfire_label: name the wrong label that misfiring members plant")
    return int(outside[0])


def check_collectives(collectives, name: str = "collectives") -> list[Collective]:
    """The collectives acting together in one call, as a list: at least one, every item a
    :class:`Collective`, names unique. Every multi-collective entry point goes through it (via
    :func:`plant_all` and :func:`sizes_of`). A name identifies a collective in every result, and a
    collective listed twice would plant its members twice, so repeated names are an input error
    (a player's *menu* may repeat its collective across options: menus are planted one option at a
    time, never through this check).

    >>> c = Collective("c", 0.1, "g", target="yes")
    >>> check_collectives([c, c.with_size(0.2)])
    Traceback (most recent call last):
    ...
    aca_games._errors.ACAInputError: collectives: names must be unique in one call, ['c'] appears more ...
    """
    try:
        collectives = list(collectives)
    except TypeError:
        raise ACAInputError(f"{name}: expected a sequence of Collective, got {collectives!r}") from None
    if not collectives:
        raise ACAInputError(f"{name}: need at least one collective, got an empty list")
    for i, c in enumerate(collectives):
        if not isinstance(c, Collective):
            raise ACAInputError(f"{name}[{i}]: expected a Collective, got {type(c).__name__}")
    counts = Counter(c.name for c in collectives)
    repeated = sorted(n for n, k in counts.items() if k > 1)
    if repeated:
        verb = "appears" if len(repeated) == 1 else "appear"
        raise ACAInputError(
            f"{name}: names must be unique in one call, {repeated} {verb} more than once; give each "
            "collective its own name (a collective listed twice would plant its members twice)"
        )
    return collectives


def plant_all(world: World, collectives) -> Planting:
    """Stack the plantings of several collectives along a leading axis ``K``
    (checked by :func:`check_collectives`)."""
    collectives = check_collectives(collectives)
    return stack_trees([plant(world, c) for c in collectives])


def sizes_of(collectives) -> jax.Array:
    """The vector of sizes; checks the collectives (:func:`check_collectives`) and that they leave
    bystanders (``Σ α_j < 1``)."""
    collectives = check_collectives(collectives)
    sizes = to_device([c.size for c in collectives], dtype=jnp.float64)
    check_sizes(sizes)
    return sizes


def check_sizes(sizes) -> None:
    """Sizes in [0, 1) with ``Σ α_j < 1`` (concrete values only; traced ones pass).

    Valid sizes pass after three reductions (:func:`_plainly_valid`); only invalid input takes the
    entry-by-entry path that writes the message.
    """
    if not v.is_concrete(sizes) or _plainly_valid(sizes):
        return
    arr = v.finite_array("sizes", sizes)
    if np.any(arr < 0) or np.any(arr >= 1):
        raise ACAInputError(f"sizes: every size must lie in [0, 1), got {arr.tolist()}")
    totals = arr.sum(axis=-1)
    if np.any(totals >= 1):
        raise ACAInputError(
            f"sizes: collectives sum to {float(np.max(totals))!r} >= 1; they are disjoint "
            "sub-populations and must leave room for bystanders (Σ α_j < 1)"
        )


def _plainly_valid(sizes) -> bool:
    """Every size in [0, 1) and every row sum below ``1 - 1e-12``, from a minimum, a maximum and the
    row sums added column by column (``sum(axis=-1)`` over a short axis is several times slower);
    NaN fails every comparison, and the margin covers a different rounding of the sums (sums
    within it take the entry-by-entry path). ``False`` means "check entry by entry"."""
    try:
        arr = np.asarray(sizes, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if not (arr.ndim and arr.size and arr.min() >= 0 and arr.max() < 1):
        return False
    totals = arr[..., 0].copy()
    for k in range(1, arr.shape[-1]):
        totals += arr[..., k]
    return bool(totals.max() < 1.0 - 1e-12)


def training_mass(base: jax.Array, sizes: jax.Array, planted: jax.Array) -> jax.Array:
    """``P = (1 - Σ α_j) P0 + Σ_j α_j E_j``; ``sizes`` ``(K,)``, ``planted`` ``(K, P, L)``."""
    return (1.0 - sizes.sum()) * base + jnp.einsum("k,kpl->pl", sizes, planted)
