"""Single-collective bounds at the population level (THEORY §3.1).

One collective of size ``α`` acts alone; bystanders have mass ``1 - α``. With its planted table
``E`` (:mod:`aca_games.planting`), the platform trains on ``P_α = (1 - α) P0 + α E``.

**Staircase** [GBJ25, population limit]. With planted label ``ℓ(x̃)`` and rivals ``y ∉ T``,

    S(α) >= Σ_x̃ m(x̃) · 1[ P_α(x̃, ℓ) - max_{y∉T} P_α(x̃, y) > κ + τ ],

(``τ = TIE_TOL``, THEORY §4: a margin within ``τ`` of the bar is a tie, a failure) which for
feature-label reads ``α m(x̃) - (1-α) d(x̃) > κ + τ`` with the joint gap
``d(x̃) = max_{y∉T} P0(x̃,y) - P0(x̃,ℓ)``. Sound: a point whose margin exceeds ``κ + τ`` cannot be
flipped by the learner's whole slack (its flip cost is at least its margin, :mod:`aca_games._knapsack`), and
the planted label's margin is at most the target set's. At ``ε = 0`` with ``T = {ℓ}`` it *is* the
oracle. Each margin is a minimum of lines in ``α``, so the points won form an interval of sizes;
:func:`crack_intervals` returns it and :mod:`aca_games.critical` sorts the crack levels.

**Closed form** [HMMZ23 Thm 1], generalised here to feature-only, to coordination noise and to the
tie rule:

    S(α) >= 1 - [ β_0 Δ ξ + α h Γ ξ + κ + |X*| τ ] / (α ν)      (0 if ν <= 0)

with ``Δ = max_{x̃∈X*} [max_{y∉T} P0(y|x̃) - P0(ℓ|x̃)]_+`` (conditional gap), ``ξ = P0(X*)``,
bystanders ``β_0 = 1 - b α`` (``b = 1 - σ`` under ``drop``, else 1), net planting rate
``ν = r(1-σ) - σ·1[misfire]`` where ``r = min_{X*} m(x̃,ℓ)/m(x̃)`` is the label share (1 for
feature-label), and for feature-only "hardt" the unmoved members' resistance ``h = 1 - σ``,
``Γ = max_{x̃∈X*} max_{y∉T} P0(y|x̃)`` (``h = 0`` otherwise). ``τ = TIE_TOL`` (1e-12) is the tie
tolerance of THEORY §4 and ``|X*|`` the number of points of the signal set: the *tie allowance*
``|X*| τ`` (:func:`tie_allowance`). For feature-label without noise this is
``1 - ((1-α)/α) Δ ξ - (κ + |X*| τ)/α``, the published form at ``ε = 0`` up to the allowance.

*Proof.* Let ``X_f ⊆ X*`` be the points the worst-case learner makes fail. Each is either not won,
its target margin ``c(x̃) <= τ`` (a tie is a failure), or lies in the flipped set ``F ⊆ X_f``,
which the learner affords: ``Σ_F c(x̃) <= κ + τ`` (flipping costs at least the margin in both
readings, and the knapsack forgives rounding up to ``τ``, :mod:`aca_games._knapsack`). The margin
of ``ℓ`` over the leading rival ``y'`` is at most ``c(x̃)``, so summed over ``X_f`` it is at most
``|X_f \\ F| τ + κ + τ <= κ + |X*| τ`` if ``F`` is not empty (then ``|X_f \\ F| <= |X*| - 1``), and
at most ``|X_f| τ <= |X*| τ`` if it is. That margin is at least
``α ν m(x̃) - β_0 d(x̃) - α h P0(x̃, y')``: members plant at least ``r m(x̃)`` on ``ℓ`` and, under
misfire, at most ``σ m(x̃)`` on a rival (scatter adds equally to all labels). Using
``d(x̃) <= Δ P0(x̃)`` and ``P0(x̃, y') <= Γ P0(x̃)`` and summing over failed points,
``α ν (1 - S) <= β_0 Δ ξ + α h Γ ξ + κ + |X*| τ``. The THEORY constant ``κ`` (2ε for tv,
ε/(1-ε) for huber) replaces the unconfirmed published ``ε`` term. ∎ The allowance is what makes
the bound respect ties: one point with no base mass and ``α = 1e-12`` has margin ``τ``, fails, and
the bound is ``1 - τ/α = 0`` (without the allowance it was 1). It also means the closed form never
certifies full success (:func:`closed_form_critical_mass`). The closed form applies to
``feature_label`` and ``feature_only``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from aca_games._errors import ACAInputError
from aca_games._knapsack import TIE_TOL
from aca_games._validate import choice
from aca_games.collective import Collective
from aca_games.learner import slack
from aca_games.planting import Planting, plant
from aca_games.world import World


class ClosedFormTerms(NamedTuple):
    """The world-dependent constants of the closed form (see module docstring)."""

    delta: jax.Array  #: conditional gap Δ
    xi: jax.Array  #: signal uniqueness ξ
    net_rate: jax.Array  #: ν
    bystander_rate: jax.Array  #: b in β_0 = 1 - b α
    resistance: jax.Array  #: h Γ (hardt's unmoved members), 0 otherwise
    ties: jax.Array  #: tie allowance |X*| τ (see :func:`tie_allowance`)


def closed_form_terms(world: World, c: Collective) -> ClosedFormTerms:
    """Compute ``Δ, ξ, ν, b, hΓ`` and the tie allowance ``|X*| τ`` for collective ``c``.

    >>> w = World(points=["a", "b"], labels=["no", "yes"],
    ...           base=[[0.3, 0.1], [0.2, 0.2]], landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
    >>> t = closed_form_terms(w, Collective("c", 0.2, "g", target="yes"))
    >>> round(float(t.delta), 3), round(float(t.xi), 3), float(t.net_rate)
    (0.5, 0.8, 1.0)
    """
    if c.strategy not in ("feature_label", "feature_only"):
        raise ACAInputError(
            f"{c.name}.strategy: the closed form [HMMZ23] covers feature_label and feature_only, "
            f"not {c.strategy!r}; use bounds.staircase"
        )
    return _terms_kernel(world.base, world.landing_table(c.signal), plant(world, c).target,
                         world.label_index(c.label), c.noise, strategy=c.strategy, variant=c.variant,
                         noise_mode=c.noise_mode)


@functools.partial(jax.jit, static_argnames=("strategy", "variant", "noise_mode"))
def _terms_kernel(base, land, target, label, sigma, *, strategy, variant, noise_mode) -> ClosedFormTerms:
    """:func:`closed_form_terms` from arrays (one jitted call per collective)."""
    mass = land.sum(axis=1)
    inside = mass > 0
    delta = _gaps(base, inside, target)[label]
    xi = jnp.sum(jnp.where(inside, base.sum(axis=1), 0.0))
    share = 1.0
    resistance = 0.0
    if strategy == "feature_only":
        share = jnp.min(jnp.where(inside, land[:, label] / jnp.where(inside, mass, 1.0), 1.0))
        if variant == "hardt":
            rival = _rival_conditional(base, target)
            resistance = (1.0 - sigma) * jnp.max(jnp.where(inside, jnp.maximum(rival, 0.0), 0.0))
    net_rate = share * (1.0 - sigma) - (sigma if noise_mode == "misfire" else 0.0)
    bystander_rate = 1.0 - sigma if noise_mode == "drop" else 1.0
    as_array = lambda x: jnp.asarray(x, dtype=jnp.float64)  # noqa: E731
    terms = (delta, xi, net_rate, bystander_rate, resistance, tie_allowance(mass))
    return ClosedFormTerms(*map(as_array, terms))


def tie_allowance(landing) -> jax.Array:
    """``|X*| τ``: one tie tolerance ``τ = TIE_TOL`` per point of the signal set (the points where
    ``landing > 0``); the margin a ratio bound must grant its failed points (module docstring).

    >>> float(tie_allowance(jnp.array([0.5, 0.0, 0.5]))) == 2 * TIE_TOL
    True
    """
    return TIE_TOL * jnp.sum(landing > 0, axis=-1)


def _conditional(base) -> jax.Array:
    """``P0(y|x̃)``, 0 at points without base mass."""
    base_mass = base.sum(axis=1)
    return base / jnp.where(base_mass > 0, base_mass, 1.0)[:, None]


def _rival_conditional(base, target) -> jax.Array:
    """``max_{y∉T} P0(y|x̃)`` at each point (-1 where every label is a target)."""
    return jnp.max(jnp.where(target, -1.0, _conditional(base)), axis=1)


def _gaps(base, inside, target) -> jax.Array:
    gap = jnp.maximum(_rival_conditional(base, target)[:, None] - _conditional(base), 0.0)
    return jnp.max(jnp.where(inside[:, None], gap, 0.0), axis=0)


def label_gaps(world: World, signal: str, target) -> jax.Array:
    """Conditional gap ``Δ(y) = max_{x̃∈X*} [max_{y'∉T} P0(y'|x̃) - P0(y|x̃)]_+`` for every label
    ``y``, shape ``(L,)`` (THEORY §3.1's ``Δ`` is the entry of the planted label)."""
    return _gaps(world.base, world.landing_mass(signal) > 0, target)


def clip01(x):
    """Clip to ``[0, 1]``: a success probability. Smooth surrogates substitute a soft clip."""
    return jnp.clip(x, 0.0, 1.0)


def ratio_bound(planted, against, clip=clip01) -> jax.Array:
    """``clip(1 - against/planted)``, and 0 when ``planted <= 0`` (no NaN, safe gradients)."""
    safe = jnp.where(planted > 0, planted, 1.0)
    return jnp.where(planted > 0, clip(1.0 - against / safe), 0.0)


def closed_form_value(alpha, terms: ClosedFormTerms, kappa, clip=clip01) -> jax.Array:
    """The closed-form bound as a function of size, terms and slack (smooth where in (0, 1))."""
    alpha = jnp.asarray(alpha, dtype=jnp.float64)
    against = (1.0 - terms.bystander_rate * alpha) * terms.delta * terms.xi
    against = against + alpha * terms.resistance * terms.xi + kappa + terms.ties
    return ratio_bound(alpha * terms.net_rate, against, clip)


def closed_form(world: World, collective: Collective, eps=0.0, reading: str = "huber") -> jax.Array:
    """Closed-form lower bound on success [HMMZ23 Thm 1], THEORY §3.1.

    ``S(α) >= 1 - [β_0 Δ ξ + α h Γ ξ + κ + |X*| τ]/(α ν)``, clipped to ``[0, 1]``; for a noiseless
    feature-label collective ``1 - ((1-α)/α) Δ ξ - (κ + |X*| τ)/α`` (``τ = TIE_TOL``: a tie at
    every failed point, module docstring). Assumes the collective acts alone and
    the learner is ``ε``-suboptimal in the given reading. Differentiable in ``collective.size``.

    >>> w = World(points=["a", "b"], labels=["no", "yes"],
    ...           base=[[0.3, 0.1], [0.2, 0.2]], landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
    >>> round(float(closed_form(w, Collective("c", 0.8, "g", target="yes"))), 4)  # 1 - 0.25*0.4
    0.9
    """
    kappa = slack(eps, reading)
    return closed_form_value(collective.size, closed_form_terms(world, collective), kappa)


def closed_form_critical_mass(terms: ClosedFormTerms, kappa, target_success) -> jax.Array:
    """Smallest ``α`` whose closed form reaches ``S*`` (a numpy array for numpy terms):
    ``α* = (Δξ + κ + |X*|τ) / (ν(1-S*) + bΔξ - hΓξ)``.

    The closed form meets ``S*`` iff ``α (ν(1-S*) + bΔξ - hΓξ) >= Δξ + κ + |X*|τ`` (for ``αν > 0``).
    The right side is positive (the tie allowance), so the sizes meeting ``S*`` are ``[α*, 1)``
    when the denominator is positive and ``α* < 1``, and none otherwise: ``α*`` is a minimum (the
    bound equals ``S*`` there, up to rounding) or ``inf``. In particular ``S* = 1`` is never met
    (the denominator is then at most ``Δξ``, below the numerator): the closed form never certifies
    full success.

    >>> t = ClosedFormTerms(*map(jnp.float64, (0.0, 0.4, 1.0, 1.0, 0.0, 1e-12)))
    >>> [float(closed_form_critical_mass(t, 0.0, s)) for s in (0.5, 1.0)]   # 1e-12 / (1 - S*)
    [2e-12, inf]
    """
    # numpy inputs are evaluated by numpy on the host (the same IEEE operations, no XLA program)
    leaves = jax.tree_util.tree_leaves((terms, kappa, target_success))
    xp = jnp if any(isinstance(x, jax.Array) for x in leaves) else np
    num = terms.delta * terms.xi + kappa + terms.ties
    den = (
        terms.net_rate * (1.0 - target_success)
        + terms.bystander_rate * terms.delta * terms.xi
        - terms.resistance * terms.xi
    )
    alpha = xp.where(den > 0, num / xp.where(den > 0, den, 1.0), xp.inf)
    return xp.where((alpha < 1.0) & (terms.net_rate > 0), alpha, xp.inf)


def staircase(world: World, collective: Collective, eps=0.0, reading: str = "huber") -> jax.Array:
    """Per-point staircase lower bound [GBJ25, population limit], THEORY §3.1.

    ``S(α) >= Σ_x̃ m(x̃) 1[P_α(x̃, ℓ(x̃)) - max_{y∉T} P_α(x̃, y) > κ + τ]`` (``τ = TIE_TOL``).
    Valid for every strategy and noise mode; equals the exact oracle at ``ε = 0`` when the target
    is the planted label alone.

    >>> w = World(points=["a", "b"], labels=["no", "yes"],
    ...           base=[[0.3, 0.1], [0.2, 0.2]], landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
    >>> [float(staircase(w, Collective("c", a, "g", target="yes"))) for a in (0.05, 0.3)]
    [0.5, 1.0]
    """
    kappa = slack(eps, reading)
    margin = planted_margins(world, collective, collective.size)
    # A dot product rather than sum(where(...)): under a user's jit(vmap(...)) XLA:CPU's YNNPACK
    # fusions split the small reduction from the comparison (2-3x slower, benchmarks/RESULTS.md).
    return jnp.dot((margin > kappa + TIE_TOL).astype(margin.dtype), world.landing_mass(collective.signal))


def planted_margins(world: World, collective: Collective, alpha) -> jax.Array:
    """Margin of the planted label over the leading rival at each point, for size ``alpha``."""
    p = plant(world, collective)
    P = (1.0 - alpha) * world.base + alpha * p.planted
    own = jnp.take_along_axis(P, p.label[:, None], axis=1)[:, 0]
    rivals = jnp.where(p.target, -jnp.inf, P)
    # max over the few labels unrolled (not jnp.max): it then fuses with the comparison under a
    # user's jit(vmap(...)) instead of going to a separate YNNPACK reduction (benchmarks/RESULTS.md)
    rival = functools.reduce(jnp.maximum, [rivals[:, y] for y in range(P.shape[1])])
    return jnp.where(jnp.isfinite(rival), own - rival, jnp.inf)


def crack_intervals(world: World, collective: Collective, kappa, labels=None):
    """Sizes at which each point is won: open intervals ``(lo, hi)`` per point.

    Label ``y`` beats every rival ``y' ∉ T`` by more than ``κ`` iff for all ``y'``:
    ``a + α (b - a) > κ`` with ``a = P0(y) - P0(y')`` and ``b = E(y) - E(y')``. Each constraint is a
    half-line in ``α``; their intersection is ``(lo, hi)`` (empty when ``lo >= hi``).

    Args:
        labels: ``None`` for the planted label (the staircase); ``"target"`` to return one interval
            per target label, shape ``(P, L)`` with empty intervals for non-target labels (the
            exact oracle at ``ε = 0``: a point is won iff some target label wins).

    Returns:
        ``(lo, hi)``, each of shape ``(P,)`` or ``(P, L)``.
    """
    if labels is not None:
        choice("labels", labels, ["target"])
    return crack_kernel(world.base, plant(world, collective), kappa, labels=labels)


@functools.partial(jax.jit, static_argnames=("labels",))
def crack_kernel(base, p: Planting, kappa, labels=None):
    """:func:`crack_intervals` from arrays (one planting, no collective axis; vmappable)."""
    thresh = kappa + TIE_TOL
    a = base[:, :, None] - base[:, None, :]  # (P, y, y')
    b = p.planted[:, :, None] - p.planted[:, None, :]
    slope = b - a
    rival = ~p.target[:, None, :]
    level = (thresh - a) / jnp.where(slope != 0, slope, 1.0)
    lo = jnp.max(jnp.where(rival & (slope > 0), level, -jnp.inf), axis=2)
    hi = jnp.min(jnp.where(rival & (slope < 0), level, jnp.inf), axis=2)
    never = jnp.any(rival & (slope == 0) & (a <= thresh), axis=2)
    lo = jnp.where(never, jnp.inf, lo)
    if labels is None:
        pick = lambda x: jnp.take_along_axis(x, p.label[:, None], axis=1)[:, 0]  # noqa: E731
        return pick(lo), pick(hi)
    lo = jnp.where(p.target, lo, jnp.inf)
    return lo, jnp.where(p.target, hi, -jnp.inf)
