"""Bounds for several collectives at the population level (THEORY §3.3) [BGNAD25, KKVS25].

All collectives act at once; the platform trains on ``P = α_0 P0 + Σ_j α_j E_j``.

**Per point** (the exact form, with full knowledge): collective ``i`` wins at ``x̃`` iff
``max_{y∈T_i} P - max_{y∉T_i} P > κ + τ`` (``τ = TIE_TOL``: a smaller margin is a tie, a failure,
THEORY §4); :func:`per_point` sums ``m_i`` over the points where its own
planted label clears that bar (the multi-collective staircase); the oracle itself is
:func:`aca_games.success`. Alignment is asymmetric: ``j`` supports ``i`` at ``x̃`` iff ``j``'s
planted label there lies in ``T_i``.

**Aggregative closed form (B1).** With the single-collective terms of ``i``
(:func:`~aca_games.bounds.population.closed_form_terms`: ``Δ_i, ξ_i, ν_i, b_i, h_iΓ_i`` and the tie
allowance ``|X*_i| τ``), bystanders
``β_0 = 1 - Σ_{j≠i} α_j - b_i α_i`` and the *conflict mass* of ``j`` on ``i``'s signal set

    ρ_ij = Σ_{x̃∈X*_i} max_{y∉T_i} [E_j(x̃, y) - E_j(x̃, ℓ_i)]_+,

    S_i >= 1 - [β_0 Δ_i ξ_i + α_i h_i Γ_i ξ_i + Σ_{j≠i} α_j ρ_ij + κ + |X*_i| τ] / (α_i ν_i).

For a feature-label ``j`` planting outside ``T_i``, ``ρ_ij = Σ_{X*_i} m_j`` as in THEORY; for a
supporter ``ρ_ij = 0``. *Proof*: as for the single closed form
(:mod:`aca_games.bounds.population`): summed over the failed points of ``i``, its margin is at most
``κ + |X*_i| τ`` (a tie, margin ``<= τ``, at each failed point outside the flipped set, and the
flipped set costs at most ``κ + τ``); at each failed point add the rival mass
``α_j (E_j(y') - E_j(ℓ_i)) <= α_j c_ij(x̃)`` of every other collective to the lower bound on the
margin. ∎
``∂S_i/∂α_j = (Δ_i ξ_i - ρ_ij)/(α_i ν_i)`` where positive: a conflicting collective whose planting
misses ``X*_i`` *helps* by displacing bystanders.

**Bloc form (B2, shared signal).** Feature-label collectives on ``i``'s signal pool their planting:
``ā_y = Σ_j α_j a_j(y)`` with ``a_j(y)`` the share of ``j``'s landing planted on ``y`` (noise
included; ``drop`` deviators count as bystanders). With the bloc margin
``μ_i = max_{y∈T_i} ā_y - max_{y∉T_i} ā_y`` and the leading target label ``y_T``:

    S_i >= 1 - [β_0 Δ_i ξ_i + Σ_{j outside the bloc} α_j ρ_ij + κ + |X*_i| τ] / μ_i    if μ_i > 0, else 0,

where ``Δ_i`` is the conditional gap of ``y_T``. *Proof*: at ``x̃`` the target margin is at least
``μ_i m(x̃) - β_0 d(x̃) - Σ_{outside} α_j c_ij(x̃)``; summed over the failed points it is at most
``κ + |X*_i| τ`` (as for B1). ∎ Splitting the bloc
leaves every part's bound unchanged: success inside a bloc is a public good.

Both closed forms apply to planting strategies (``feature_label``, ``feature_only``; the bloc form to
``feature_label``); other collectives get the trivial bound 0 from them (use :func:`per_point`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from aca_games._knapsack import TIE_TOL
from aca_games._pytree import stack_trees, to_device
from aca_games.bounds.population import (
    ClosedFormTerms,
    _gaps,
    clip01,
    closed_form_terms,
    ratio_bound,
    tie_allowance,
)
from aca_games.collective import Collective
from aca_games.learner import check_eps, slack
from aca_games.planting import Planting, _misfire_label, plant_all, sizes_of, target_mask, training_mass
from aca_games.world import World

_CLOSED = ("feature_label", "feature_only")


def _sizes(collectives, sizes):
    return sizes_of(collectives) if sizes is None else jnp.asarray(sizes, dtype=jnp.float64)


def _over_sizes(fn, sizes) -> jax.Array:
    """``fn`` of one size vector ``(K,)`` applied to a batch ``(..., K)`` by one ``vmap``."""
    if sizes.ndim <= 1:
        return fn(sizes)
    flat = sizes.reshape(-1, sizes.shape[-1])
    return jax.vmap(fn)(flat).reshape(sizes.shape)


def per_point(
    world: World, collectives: Sequence[Collective], eps=0.0, reading: str = "huber", *, sizes=None
) -> jax.Array:
    """Multi-collective staircase: ``S_i >= Σ m_i 1[P(x̃, ℓ_i) - max_{y∉T_i} P(x̃, y) > κ + τ]``.

    Equals the oracle at ``ε = 0`` when every target set is the planted label alone, and the
    single-collective staircase (:func:`~aca_games.bounds.staircase`) of ``i`` when only ``i`` has
    a positive size. ``sizes`` overrides the collectives' own: ``(K,)`` or a batch ``(..., K)``.

    >>> w = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.2]], landing={"g": [[0.5, 0.5]]})
    >>> cs = [Collective("i", 0.1, "g", target="y"), Collective("j", 0.05, "g", target="n")]
    >>> per_point(w, cs).tolist()   # 'y': 0.85*0.2 + 0.1 = 0.27 < 'n': 0.85*0.3 + 0.05 = 0.305
    [0.0, 1.0]
    >>> per_point(w, cs, sizes=[[0.1, 0.0], [0.0, 0.05]]).tolist()   # each alone
    [[1.0, 0.0], [0.0, 1.0]]
    """
    check_eps(eps, reading)
    p = plant_all(world, collectives)
    kappa = slack(eps, reading)
    return _over_sizes(lambda s: per_point_kernel(world.base, p, s, kappa), _sizes(collectives, sizes))


@jax.jit
def per_point_kernel(base, p: Planting, sizes, kappa) -> jax.Array:
    """:func:`per_point` from arrays (stacked plantings ``(K, ...)``, sizes ``(K,)``)."""
    P = training_mass(base, sizes, p.planted)
    own = jnp.take_along_axis(P[None], p.label[:, :, None], axis=2)[..., 0]  # (K, P)
    rival = jnp.max(jnp.where(p.target, -jnp.inf, P[None]), axis=2)
    margin = jnp.where(jnp.isfinite(rival), own - rival, jnp.inf)
    return jnp.sum(jnp.where(margin > kappa + TIE_TOL, p.landing, 0.0), axis=1)


def conflict_mass(world: World, collectives: Sequence[Collective]) -> jax.Array:
    """``ρ_ij``: how much of ``j``'s planting competes with ``i`` on ``i``'s signal set; ``(K, K)``
    with a zero diagonal."""
    return _conflict(plant_all(world, collectives))


@functools.partial(jax.jit, static_argnames="relative")
def _conflict(p: Planting, relative: bool = True) -> jax.Array:
    """``ρ[i, j]`` (:func:`conflict_pair`) for every ordered pair of the stacked plantings ``p``;
    zero diagonal."""
    pair = functools.partial(conflict_pair, relative=relative)
    rho = jax.vmap(jax.vmap(pair, in_axes=(None, 0)), in_axes=(0, None))(p, p)
    return rho * (1.0 - jnp.eye(rho.shape[0]))


def conflict_pair(i: Planting, j: Planting, relative: bool = True) -> jax.Array:
    """``ρ_ij = Σ_{x̃∈X*_i} max_{y∉T_i} [E_j(x̃, y) - E_j(x̃, ℓ_i(x̃))]_+`` for two single plantings
    (no collective axis); with ``relative=False`` the subtracted term is dropped (valid whatever
    label leads for ``i``)."""
    own = jnp.take_along_axis(j.planted, i.label[:, None], axis=1)  # (P, 1): E_j(x̃, ℓ_i(x̃))
    own = own if relative else 0.0
    excess = jnp.where(~i.target, j.planted - own, 0.0)  # (P, L)
    c = jnp.maximum(jnp.max(excess, axis=1), 0.0)
    return jnp.sum(jnp.where(i.landing > 0, c, 0.0))


def multi_closed_form(
    world: World,
    collectives: Sequence[Collective],
    eps=0.0,
    reading: str = "huber",
    *,
    sizes=None,
    clip=clip01,
) -> jax.Array:
    """Aggregative closed form (B1), one bound per collective (THEORY §3.3).

    ``S_i >= 1 - [β_0 Δ_i ξ_i + α_i h_iΓ_i ξ_i + Σ_{j≠i} α_j ρ_ij + κ + |X*_i| τ]/(α_i ν_i)``, clipped to
    ``[0, 1]`` (by ``clip``; smooth surrogates pass a soft clip); equals
    :func:`~aca_games.bounds.closed_form` for one collective (or when only ``i`` has a positive
    size). ``sizes`` overrides the collectives' own: ``(K,)`` or a batch ``(..., K)``.

    >>> w = World(points=["a", "b"], labels=["n", "y"], base=[[0.3, 0.1], [0.2, 0.2]],
    ...           landing={"g": [[0.5, 0.0], [0.2, 0.3]], "h": [[0.0, 0.0], [0.7, 0.3]]})
    >>> i = Collective("i", 0.8, "g", target="y")
    >>> [round(float(b), 4) for b in multi_closed_form(w, [i])]
    [0.9]
    >>> rival = Collective("j", 0.1, "h", target="n")   # plants 'n' on b, inside X*_i
    >>> [round(float(b), 4) for b in multi_closed_form(w, [i.with_size(0.7), rival])]
    [0.7429, 0.0]
    """
    check_eps(eps, reading)
    collectives = list(collectives)
    p = plant_all(world, collectives)
    terms, covered = stacked_terms(world, collectives)
    kappa = slack(eps, reading)
    return _over_sizes(lambda s: b1_kernel(p, terms, covered, s, kappa, clip), _sizes(collectives, sizes))


def stacked_terms(world: World, collectives: Sequence[Collective]):
    """Closed-form terms of every collective, stacked, and a mask of those the form covers."""
    zero = ClosedFormTerms(*(np.float64(0.0),) * len(ClosedFormTerms._fields))  # stacked on the host
    covered = [c.strategy in _CLOSED for c in collectives]
    terms = [closed_form_terms(world, c) if ok else zero for c, ok in zip(collectives, covered, strict=True)]
    return stack_trees(terms), to_device(covered)


@functools.partial(jax.jit, static_argnames="clip")
def b1_kernel(p: Planting, terms: ClosedFormTerms, covered, sizes, kappa, clip=clip01) -> jax.Array:
    """:func:`multi_closed_form` from arrays: stacked plantings, terms and sizes ``(K,)``. One jitted
    program (eagerly, its dozen array operations would each compile on first use)."""
    return b1_value(terms, covered, sizes, sizes.sum() - sizes, _conflict(p) @ sizes, kappa, clip)


def b1_value(terms: ClosedFormTerms, covered, size, others, conflict, kappa, clip=clip01) -> jax.Array:
    """B1 of collective ``i`` from its terms (tie allowance included), its size ``α_i``, the others'
    total size ``Σ_{j≠i} α_j`` and its conflict ``Σ_j ρ_ij α_j`` (elementwise over a leading axis)."""
    bystanders = 1.0 - others - terms.bystander_rate * size
    against = (bystanders * terms.delta + size * terms.resistance) * terms.xi
    against = against + conflict + kappa + terms.ties
    return jnp.where(covered, ratio_bound(size * terms.net_rate, against, clip), 0.0)


def bloc(
    world: World, collectives: Sequence[Collective], eps=0.0, reading: str = "huber", *, sizes=None
) -> jax.Array:
    """Bloc form (B2): feature-label collectives sharing a signal pool their size.

    ``S_i >= 1 - [β_0 Δ_i ξ_i + Σ_{j∉bloc} α_j ρ_ij + κ + |X*_i| τ]/μ_i`` when the bloc margin
    ``μ_i > 0`` (``τ = TIE_TOL``, module docstring). ``sizes`` overrides the collectives' own:
    ``(K,)`` or a batch ``(..., K)``.

    >>> w = World(points=["a", "b"], labels=["n", "y"], base=[[0.3, 0.1], [0.2, 0.2]],
    ...           landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
    >>> whole = [Collective("i", 0.8, "g", target="y")]
    >>> halves = [Collective("i1", 0.4, "g", target="y"), Collective("i2", 0.4, "g", target="y")]
    >>> [round(float(b), 4) for b in bloc(w, whole)], [round(float(b), 4) for b in bloc(w, halves)]
    ([0.9], [0.9, 0.9])
    """
    check_eps(eps, reading)
    collectives = list(collectives)
    alphas = _sizes(collectives, sizes)
    p = plant_all(world, collectives)
    planting = np.array([c.strategy == "feature_label" for c in collectives])
    signals = np.array([c.signal for c in collectives])
    members = planting[:, None] & planting[None, :] & (signals[:, None] == signals[None, :])  # bloc of i
    # a_j(y): share of j's landing planted on y (feature-label members; drop deviators excluded)
    label = [world.label_index(c.label) if ok else 0 for c, ok in zip(collectives, planting, strict=True)]
    wrong = [_misfire_label(world, c, target_mask(world, c)) if c.noise_mode == "misfire" else 0
             for c in collectives]
    noise = to_device([c.noise for c in collectives], dtype=jnp.float64)
    modes = np.array([[c.noise_mode == m for m in ("drop", "scatter", "misfire")] for c in collectives])
    kappa, label, wrong = slack(eps, reading), np.array(label), np.array(wrong)
    return _over_sizes(
        lambda a: _bloc_kernel(world.base, p, a, kappa, noise, label, wrong, modes, planting, members), alphas
    )


@jax.jit
def _bloc_kernel(base, p: Planting, alphas, kappa, noise, label, wrong, modes, planting, members):
    """:func:`bloc` from arrays: ``label``/``wrong`` label indices, ``modes`` the noise mode of each
    collective (drop, scatter, misfire), ``planting`` the feature-label mask, ``members[i, j]`` j is
    in i's bloc."""
    n_labels = base.shape[1]
    drop, scatter, misfire = modes.T
    shares = (1.0 - noise)[:, None] * jax.nn.one_hot(label, n_labels)
    shares = jnp.where(scatter[:, None], shares + noise[:, None] / n_labels, shares)
    shares = jnp.where(misfire[:, None], shares + noise[:, None] * jax.nn.one_hot(wrong, n_labels), shares)
    shares = jnp.where(planting[:, None], shares, 0.0)  # (K, L)
    dropped = jnp.where(drop, noise, 0.0)
    rho = _conflict(p, relative=False)
    in_bloc = jnp.where(members, alphas[None, :], 0.0)  # (i, j)
    pooled = in_bloc @ shares  # ā_y for i's bloc, (K, L)
    in_target = p.target[:, 0, :]  # feature-label targets are the same at every point
    lead_mass = jnp.where(in_target, pooled, -jnp.inf)
    margin = jnp.max(lead_mass, axis=1) - jnp.max(jnp.where(in_target, -jnp.inf, pooled), axis=1)
    inside = p.landing > 0
    gaps = jax.vmap(_gaps, in_axes=(None, 0, 0))(base, inside, p.target)  # (K, L)
    delta = jnp.take_along_axis(gaps, jnp.argmax(lead_mass, axis=1)[:, None], axis=1)[:, 0]
    xi = jnp.sum(jnp.where(inside, base.sum(axis=1)[None, :], 0.0), axis=1)
    bystanders = 1.0 - alphas.sum() + in_bloc @ dropped
    against = bystanders * delta * xi + jnp.sum(rho * (alphas[None, :] - in_bloc), axis=1) + kappa
    against = against + tie_allowance(p.landing)
    return jnp.where(planting, ratio_bound(margin, against), 0.0)
