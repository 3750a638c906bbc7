"""Bounds under partial information (THEORY §3.4) [BGR+26].

Collective ``i`` (the "self") knows the world and its own option and size ``α_i``; about the other
collectives it holds :class:`~aca_games.beliefs.Beliefs`.

**Robust, per point** (:func:`robust`, tiers 1 and 3). At a relevant point ``x̃`` with ``i``'s planted
label ``ℓ = ℓ_i(x̃)`` and a rival ``y' ∉ T_i``, substituting ``α_0 = 1 - α_i - Σ_j α_j`` into the
training mass gives the margin

    M(x̃, y') = P(ℓ) - P(y') = (1 - α_i) a0 + α_i e_i + Σ_j α_j (e_j - a0),

``a0 = P0(ℓ) - P0(y')``, ``e_i = E_i(ℓ) - E_i(y')``, ``e_j = E_j(ℓ) - E_j(y')`` (planted tables of
:mod:`aca_games.planting`, noise included). The term ``-α_j a0`` is the bystander mass that ``j``
displaces. ``M`` is a sum of one term per other collective, each depending only on that
collective's size and option, and linear in the size. Interval beliefs make the consistent worlds
a product ``Π_j ([lo_j, hi_j] × menu_j)`` (every point of which is a valid world since
``α_i + Σ_j hi_j < 1``), so

    W(x̃, y') = (1 - α_i) a0 + α_i e_i + Σ_j min_{o ∈ menu_j} min(lo_j c_jo, hi_j c_jo),
    c_jo = e_j^o - a0,

is the exact minimum of ``M(x̃, y')`` over consistent worlds (a linear function on an interval is
smallest at an end: supporters, ``c > 0``, at ``lo``; conflicting or displacing mass at ``hi``).

    robust = Σ_x̃ m_i(x̃) · 1[ min_{y'∉T_i} W(x̃, y') > κ + TIE_TOL ].

*Soundness.* Fix any world consistent with the beliefs. At a point counted by ``robust`` its planted
label beats every rival by ``min_{y'} M(x̃, y') >= min_{y'} W(x̃, y') > κ + TIE_TOL``; this is the
point-wise condition of the multi-collective staircase :func:`~aca_games.bounds.per_point`, so the
point is won by the ε-suboptimal learner in that world (its target margin is at least the planted
label's, and flipping it costs at least that margin, more than the whole slack ``κ``, see
:mod:`aca_games._knapsack`). Hence ``robust <= per_point(world) <= oracle(world)``. The adversary
may pick a different world at each point; that only lowers the bound. With every interval a point
and every menu a single option ``W = M`` and ``robust`` *is* :func:`~aca_games.bounds.per_point`
for ``i``. Widening an interval or adding an option enlarges the minimum's range: the bound can only
drop (nested beliefs give ordered bounds). ∎

*Tier 1 (total mass).* The others' total mass ``α_o ∈ [lo, hi]`` may be split among any collectives
planting any signal of the world with any label (feature-label), or sitting inert (acting like
bystanders: abstaining members, drop-noise deviators; planted table ``P0``, so ``c = 0``). For a
split ``α_o = Σ_k α_k`` with options ``o_k`` the others' term is ``Σ_k α_k c_{o_k} >= α_o min_o c_o``:
it is linear in each part, so pooling all mass on the worst option is the worst case, and the tier
is the interval bound for one pooled collective whose menu is every ``(signal, label)``
feature-label option plus the inert one: per point ``min_o c_o = min(0, -max_g m_g(x̃) - a0)``
(plant the rival ``y'`` on the signal landing most there, or stay inert). Every feature-label,
feature-only "gbj", unplanting or erasing option, with any noise mode, has planted table a convex
combination of rows moving at most ``m_g(x̃)`` of mass onto one label and of ``P0`` (drop
deviators), hence ``c_j >= min(0, -max_g m_g(x̃) - a0)``: tier 1 covers those strategies and is
below tier 3 for any menu of them on the same total interval ``[Σ lo_j, Σ hi_j]``. It does *not*
cover feature-only "hardt" collectives, whose unmoved members can withdraw base mass from ``ℓ``
(``c`` down to ``-P0(x̃, ℓ)``); describe those with interval beliefs.

*Tier 2 (aggregate conflict).* With a published ``R >= Σ_j α_j ρ_ij`` (``ρ`` of
:func:`~aca_games.bounds.conflict_mass`) the B1 proof of :mod:`aca_games.bounds.multi` goes through
with ``Σ_j α_j ρ_ij`` replaced by ``R`` and the bystander term at its worst consistent value:
``β_0 = 1 - Σ_j α_j - b_i α_i`` multiplies ``Δ_i ξ_i >= 0`` so the largest, ``1 - total_lo - b_i α_i``,
is worst:

    S_i >= 1 - [ (1 - total_lo - b_i α_i) Δ_i ξ_i + α_i h_iΓ_i ξ_i + R + κ + |X*_i| τ ] / (α_i ν_i)

(:func:`~aca_games.bounds.closed_form_terms`, with the tie allowance ``|X*_i| τ`` of the B1 proof;
planting strategies only, 0 for the others).

**Bayesian** (:func:`~aca_games.bounds.bayesian.bayes`, :func:`~aca_games.bounds.bayesian.bayes_exact`):
expected success of ``i`` under a prior, in :mod:`aca_games.bounds.bayesian`.

**Finite sample** (:func:`~aca_games.bounds.finite_partial.finite_sample_multi`): THEORY §3.2's
certificate with the others' support and conflict inside the bracket, in
:mod:`aca_games.bounds.finite_partial`.

This module is the family's public face: it re-exports those functions, so
``aca_games.bounds.partial.bayes`` and friends keep working.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from aca_games._knapsack import TIE_TOL
from aca_games.beliefs import Beliefs
from aca_games.bounds._partial import (
    PAYOFFS,
    Groups,
    _at_label,
    _check_beliefs,
    _evaluate,
    _normalise,
    _option_gaps,
    _scenario_table,
    _static,
    option_groups,
)
from aca_games.bounds.bayesian import Estimate, bayes, bayes_exact
from aca_games.bounds.finite_partial import finite_sample_multi
from aca_games.bounds.population import closed_form_terms, ratio_bound
from aca_games.collective import Collective
from aca_games.learner import check_eps, slack
from aca_games.planting import Planting, plant
from aca_games.world import World

__all__ = [
    "PAYOFFS",
    "Estimate",
    "Groups",
    "bayes",
    "bayes_exact",
    "finite_sample_multi",
    "option_groups",
    "robust",
    "worst_margins",
]


def worst_margins(base: jax.Array, own: Planting, alpha, groups: Groups) -> jax.Array:
    """``min_{y'∉T_i} W(x̃, y')``: the smallest margin of ``i``'s planted label over consistent
    worlds, per point, shape ``(P,)`` (``+inf`` where ``i`` has no rival label). Pure JAX."""
    onehot = jax.nn.one_hot(own.label, base.shape[-1], dtype=base.dtype)
    a0 = _at_label(base, onehot) - base  # (P, L)
    e_i = _at_label(own.planted, onehot) - own.planted
    c = _option_gaps(groups, onehot) - a0[None, None]
    lo, hi = groups.lo[:, None, None, None], groups.hi[:, None, None, None]
    term = jnp.where(groups.valid[:, :, None, None], jnp.minimum(lo * c, hi * c), jnp.inf)
    others = jnp.sum(jnp.min(term, axis=1), axis=0)  # (P, L); zeros when there are no others
    margin = (1.0 - alpha) * a0 + alpha * e_i + others
    return jnp.min(jnp.where(own.target, jnp.inf, margin), axis=-1)


def robust(
    world: World, collective: Collective, beliefs: Beliefs, eps=0.0, reading: str = "huber"
) -> jax.Array:
    """Robust lower bound on ``i``'s worst-case success for every world consistent with ``beliefs``.

    * interval beliefs (tier 3) and total-mass beliefs (tier 1): the per-point worst case
      ``Σ_x̃ m_i 1[min_{y'} W(x̃, y') > κ + TIE_TOL]`` of the module docstring; a product prior is
      read through its support;
    * aggregate-conflict beliefs (tier 2): the B1 form with ``R`` and the largest bystander mass;
    * a finite prior: the smallest multi-collective staircase over its scenarios (exact minimum of
      :func:`~aca_games.bounds.per_point` over the consistent worlds).

    Full knowledge (:meth:`Beliefs.known`) reproduces :func:`~aca_games.bounds.per_point`.

    Example:
        >>> from aca_games import Collective, World
        >>> from aca_games.beliefs import Beliefs
        >>> w = World(points=["a", "b"], labels=["n", "y"], base=[[0.3, 0.1], [0.2, 0.2]],
        ...           landing={"g": [[0.5, 0.0], [0.2, 0.3]], "h": [[0.0, 0.0], [0.7, 0.3]]})
        >>> i = Collective("i", 0.4, "g", target="y")
        >>> rival = [Collective("j", 0, "h", target="n")]   # plants 'n' on b
        >>> float(robust(w, i, Beliefs.intervals({"j": (0.0, 0.01)}, {"j": rival})))
        1.0
        >>> float(robust(w, i, Beliefs.intervals({"j": (0.0, 0.3)}, {"j": rival})))   # loses b
        0.5
        >>> float(robust(w, i, Beliefs.total_mass(0.0, 0.3)))   # any signal: loses a too
        0.0
    """
    check_eps(eps, reading)
    _check_beliefs(beliefs)
    beliefs.check_self(collective)
    kappa = slack(eps, reading)
    if beliefs.kind == "aggregate_conflict":
        return _aggregate(world, collective, beliefs, kappa)
    own = _normalise(plant(world, collective))
    alpha = jnp.asarray(collective.size, dtype=jnp.float64)
    if beliefs.kind == "scenarios":
        table = _scenario_table(world, beliefs.scenarios())
        static = _static(eps, reading, "per_point")
        return jnp.min(_evaluate(world.base, own, alpha, table.others, table.sizes, kappa, **static))
    return _robust_kernel(world.base, own, alpha, option_groups(world, beliefs), kappa)


@jax.jit
def _robust_kernel(base, own: Planting, alpha, groups: Groups, kappa) -> jax.Array:
    margin = worst_margins(base, own, alpha, groups)
    return jnp.sum(jnp.where(margin > kappa + TIE_TOL, own.landing, 0.0))


def _aggregate(world: World, c: Collective, beliefs: Beliefs, kappa) -> jax.Array:
    if c.strategy not in ("feature_label", "feature_only"):
        return jnp.float64(0.0)
    t = closed_form_terms(world, c)
    alpha = jnp.asarray(c.size, dtype=jnp.float64)
    bystanders = 1.0 - beliefs.total[0] - t.bystander_rate * alpha
    against = bystanders * t.delta * t.xi + alpha * t.resistance * t.xi + beliefs.conflict
    return ratio_bound(alpha * t.net_rate, against + kappa + t.ties)
