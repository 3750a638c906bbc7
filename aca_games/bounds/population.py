"""Single-collective bounds at the population level (THEORY §3.1).

One collective of size ``α`` acts alone; bystanders have mass ``1 - α``. With its planted table
``E`` (:mod:`aca_games.planting`), the platform trains on ``P_α = (1 - α) P0 + α E``.

**Staircase** [GBJ25, population limit]. With planted label ``ℓ(x̃)`` and rivals ``y ∉ T``,

    S(α) >= Σ_x̃ m(x̃) · 1[ P_α(x̃, ℓ) - max_{y∉T} P_α(x̃, y) > κ ],

which for feature-label reads ``α m(x̃) - (1-α) d(x̃) > κ`` with the joint gap
``d(x̃) = max_{y∉T} P0(x̃,y) - P0(x̃,ℓ)``. Sound: a point whose margin exceeds ``κ`` cannot be flipped
by the learner's whole slack (its flip cost is at least its margin, :mod:`aca_games._knapsack`), and
the planted label's margin is at most the target set's. At ``ε = 0`` with ``T = {ℓ}`` it *is* the
oracle. Each margin is a minimum of lines in ``α``, so the points won form an interval of sizes;
:func:`crack_intervals` returns it and :mod:`aca_games.critical_mass` sorts the crack levels.

**Closed form** [HMMZ23 Thm 1], generalised here to feature-only and to coordination noise:

    S(α) >= 1 - [ β_0 Δ ξ + α h Γ ξ + κ ] / (α ν)      (0 if ν <= 0)

with ``Δ = max_{x̃∈X*} [max_{y∉T} P0(y|x̃) - P0(ℓ|x̃)]_+`` (conditional gap), ``ξ = P0(X*)``,
bystanders ``β_0 = 1 - b α`` (``b = 1 - σ`` under ``drop``, else 1), net planting rate
``ν = r(1-σ) - σ·1[misfire]`` where ``r = min_{X*} m(x̃,ℓ)/m(x̃)`` is the label share (1 for
feature-label), and for feature-only "hardt" the unmoved members' resistance ``h = 1 - σ``,
``Γ = max_{x̃∈X*} max_{y∉T} P0(y|x̃)`` (``h = 0`` otherwise). For feature-label without noise this is
``1 - ((1-α)/α) Δ ξ - κ/α``, the published form at ``ε = 0``.

*Proof.* At a point the worst-case learner flips (or a tie), the margin of ``ℓ`` over the leading
rival ``y'`` is at most the slack spent there, ``s(x̃)`` with ``Σ s <= κ``. That margin is at least
``α ν m(x̃) - β_0 d(x̃) - α h P0(x̃, y')``: members plant at least ``r m(x̃)`` on ``ℓ`` and, under
misfire, at most ``σ m(x̃)`` on a rival (scatter adds equally to all labels). Using
``d(x̃) <= Δ P0(x̃)`` and ``P0(x̃, y') <= Γ P0(x̃)`` and summing over failed points,
``α ν (1 - S) <= β_0 Δ ξ + α h Γ ξ + κ``. The THEORY constant ``κ`` (2ε for tv, ε/(1-ε) for huber)
replaces the unconfirmed published ``ε`` term. ∎ The closed form applies to ``feature_label`` and
``feature_only``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from aca_games._errors import ACAInputError
from aca_games._knapsack import TIE_TOL
from aca_games.collective import Collective
from aca_games.learner import slack
from aca_games.planting import plant
from aca_games.world import World


class ClosedFormTerms(NamedTuple):
    """The world-dependent constants of the closed form (see module docstring)."""

    delta: jax.Array  #: conditional gap Δ
    xi: jax.Array  #: signal uniqueness ξ
    net_rate: jax.Array  #: ν
    bystander_rate: jax.Array  #: b in β_0 = 1 - b α
    resistance: jax.Array  #: h Γ (hardt's unmoved members), 0 otherwise


def closed_form_terms(world: World, c: Collective) -> ClosedFormTerms:
    """Compute ``Δ, ξ, ν, b, hΓ`` for collective ``c``.

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
    planting = plant(world, c)
    land = world.landing_table(c.signal)
    mass = planting.landing
    inside = mass > 0
    label = world.label_index(c.label)
    delta = label_gaps(world, c.signal, planting.target)[label]
    xi = world.xi(c.signal)
    rival = _rival_conditional(world, planting.target)
    sigma = c.noise
    share = 1.0
    resistance = 0.0
    if c.strategy == "feature_only":
        share = jnp.min(jnp.where(inside, land[:, label] / jnp.where(inside, mass, 1.0), 1.0))
        if c.variant == "hardt":
            resistance = (1.0 - sigma) * jnp.max(jnp.where(inside, jnp.maximum(rival, 0.0), 0.0))
    net_rate = share * (1.0 - sigma) - (sigma if c.noise_mode == "misfire" else 0.0)
    bystander_rate = 1.0 - sigma if c.noise_mode == "drop" else 1.0
    as_array = lambda x: jnp.asarray(x, dtype=jnp.float64)  # noqa: E731
    return ClosedFormTerms(*map(as_array, (delta, xi, net_rate, bystander_rate, resistance)))


def _conditional(world: World) -> jax.Array:
    """``P0(y|x̃)``, 0 at points without base mass."""
    base_mass = world.base.sum(axis=1)
    return world.base / jnp.where(base_mass > 0, base_mass, 1.0)[:, None]


def _rival_conditional(world: World, target) -> jax.Array:
    """``max_{y∉T} P0(y|x̃)`` at each point (-1 where every label is a target)."""
    return jnp.max(jnp.where(target, -1.0, _conditional(world)), axis=1)


def label_gaps(world: World, signal: str, target) -> jax.Array:
    """Conditional gap ``Δ(y) = max_{x̃∈X*} [max_{y'∉T} P0(y'|x̃) - P0(y|x̃)]_+`` for every label
    ``y``, shape ``(L,)`` (THEORY §3.1's ``Δ`` is the entry of the planted label)."""
    gap = jnp.maximum(_rival_conditional(world, target)[:, None] - _conditional(world), 0.0)
    inside = world.landing_mass(signal) > 0
    return jnp.max(jnp.where(inside[:, None], gap, 0.0), axis=0)


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
    against = against + alpha * terms.resistance * terms.xi + kappa
    return ratio_bound(alpha * terms.net_rate, against, clip)


def closed_form(world: World, collective: Collective, eps=0.0, reading: str = "huber") -> jax.Array:
    """Closed-form lower bound on success [HMMZ23 Thm 1], THEORY §3.1.

    ``S(α) >= 1 - [β_0 Δ ξ + α h Γ ξ + κ]/(α ν)``, clipped to ``[0, 1]``; for a noiseless
    feature-label collective ``1 - ((1-α)/α) Δ ξ - κ/α``. Assumes the collective acts alone and
    the learner is ``ε``-suboptimal in the given reading. Differentiable in ``collective.size``.

    >>> w = World(points=["a", "b"], labels=["no", "yes"],
    ...           base=[[0.3, 0.1], [0.2, 0.2]], landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
    >>> round(float(closed_form(w, Collective("c", 0.8, "g", target="yes"))), 4)  # 1 - 0.25*0.4
    0.9
    """
    kappa = slack(eps, reading)
    return closed_form_value(collective.size, closed_form_terms(world, collective), kappa)


def closed_form_critical_mass(terms: ClosedFormTerms, kappa, target_success) -> jax.Array:
    """Smallest ``α`` whose closed form reaches ``S*``: ``(Δξ + κ)/(ν(1-S*) + bΔξ - hΓξ)``.

    Returns ``inf`` when no size in ``[0, 1)`` reaches it.
    """
    num = terms.delta * terms.xi + kappa
    den = (
        terms.net_rate * (1.0 - target_success)
        + terms.bystander_rate * terms.delta * terms.xi
        - terms.resistance * terms.xi
    )
    alpha = jnp.where(den > 0, num / jnp.where(den > 0, den, 1.0), jnp.inf)
    return jnp.where((alpha < 1.0) & (terms.net_rate > 0), alpha, jnp.inf)


def staircase(world: World, collective: Collective, eps=0.0, reading: str = "huber") -> jax.Array:
    """Per-point staircase lower bound [GBJ25, population limit], THEORY §3.1.

    ``S(α) >= Σ_x̃ m(x̃) 1[P_α(x̃, ℓ(x̃)) - max_{y∉T} P_α(x̃, y) > κ]``. Valid for every strategy and
    noise mode; equals the exact oracle at ``ε = 0`` when the target is the planted label alone.

    >>> w = World(points=["a", "b"], labels=["no", "yes"],
    ...           base=[[0.3, 0.1], [0.2, 0.2]], landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
    >>> [float(staircase(w, Collective("c", a, "g", target="yes"))) for a in (0.05, 0.3)]
    [0.5, 1.0]
    """
    kappa = slack(eps, reading)
    margin = planted_margins(world, collective, collective.size)
    return jnp.sum(jnp.where(margin > kappa + TIE_TOL, world.landing_mass(collective.signal), 0.0))


def planted_margins(world: World, collective: Collective, alpha) -> jax.Array:
    """Margin of the planted label over the leading rival at each point, for size ``alpha``."""
    p = plant(world, collective)
    P = (1.0 - alpha) * world.base + alpha * p.planted
    own = jnp.take_along_axis(P, p.label[:, None], axis=1)[:, 0]
    rival = jnp.max(jnp.where(p.target, -jnp.inf, P), axis=1)
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
    p = plant(world, collective)
    thresh = kappa + TIE_TOL
    a = world.base[:, :, None] - world.base[:, None, :]  # (P, y, y')
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
