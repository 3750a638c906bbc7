"""Smooth surrogates of piecewise-constant guarantees (THEORY §3.6).

Guarantees like the staircase are step functions of the sizes: their gradient is zero almost
everywhere, useless to a gradient-based solver. A surrogate replaces

* the indicator ``1[c > 0]``          by ``sigmoid(c/τ)``,
* ``max_y v_y``                        by ``τ·logsumexp(v/τ)`` (an upper bound within ``τ log L``),
* ``[x]_+`` and clipping to ``[0, 1]`` by ``τ·softplus(x/τ)``.

As ``τ -> 0`` each surrogate converges to its exact bound at every instance whose margins avoid the
threshold itself (where the exact bound jumps and ties fail). **A surrogate is a payoff, not a
guarantee**: it can exceed the exact bound, so reports show both.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp

from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games._knapsack import TIE_TOL
from aca_games.bounds.multi import multi_closed_form
from aca_games.bounds.population import closed_form_terms, closed_form_value
from aca_games.collective import Collective
from aca_games.learner import check_eps, slack
from aca_games.planting import Planting, plant_all, sizes_of, training_mass
from aca_games.world import World


def check_tau(tau):
    """Temperatures must be positive and finite."""
    if v.is_concrete(tau):
        t = float(v.finite_array("tau", tau, ndim=0))
        if t <= 0:
            raise ACAInputError(f"tau: temperature must be > 0, got {t!r}; use tau -> 0 for exactness")
    return tau


def soft_max(values: jax.Array, mask: jax.Array, tau, axis: int = -1) -> jax.Array:
    """``τ·logsumexp(v/τ)`` over entries where ``mask`` holds (``-inf``... handled as no entry)."""
    scaled = jnp.where(mask, values / tau, -jnp.inf)
    return tau * jax.nn.logsumexp(scaled, axis=axis)


def soft_clip01(x, tau):
    """Smooth ``clip(x, 0, 1)``: ``τ softplus(x/τ) - τ softplus((x-1)/τ)``."""
    return tau * (jax.nn.softplus(x / tau) - jax.nn.softplus((x - 1.0) / tau))


def smooth_success(
    world: World,
    collectives: Collective | Sequence[Collective],
    tau=1e-3,
    eps=0.0,
    reading: str = "huber",
    *,
    sizes=None,
    planted_label_only: bool = False,
) -> jax.Array:
    """Surrogate of the per-point success ``Σ m_i 1[max_{T_i} P - max_{∉T_i} P > κ]``, per collective.

    With ``ε = 0`` it converges to the exact oracle; with ``ε > 0`` to the per-point bound
    (:func:`aca_games.bounds.per_point`, the multi-collective staircase) when
    ``planted_label_only=True``, which also reproduces :func:`aca_games.bounds.staircase` for one
    collective. Differentiable in the sizes and in the world's masses.

    >>> w = World(points=["a", "b"], labels=["no", "yes"], base=[[0.3, 0.1], [0.2, 0.2]],
    ...           landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
    >>> c = Collective("c", 0.3, "g", target="yes")
    >>> [round(float(s), 4) for s in smooth_success(w, c, tau=1e-4)]
    [1.0]
    """
    check_tau(tau)
    check_eps(eps, reading)
    collectives = [collectives] if isinstance(collectives, Collective) else list(collectives)
    p = plant_all(world, collectives)
    alphas = sizes_of(collectives) if sizes is None else jnp.asarray(sizes, dtype=jnp.float64)
    return smooth_kernel(world.base, p, alphas, slack(eps, reading), tau, planted_label_only)


def smooth_kernel(base, p: Planting, sizes, kappa, tau, planted_label_only: bool = False) -> jax.Array:
    """:func:`smooth_success` from arrays (stacked plantings ``(K, ...)``, sizes ``(K,)``)."""
    P = training_mass(base, sizes, p.planted)[None]  # (1, P, L)
    if planted_label_only:
        lead = jnp.take_along_axis(P, p.label[:, :, None], axis=2)[..., 0]
    else:
        lead = soft_max(P, p.target, tau)
    has_rival = jnp.any(~p.target, axis=2)
    rival = soft_max(P, ~p.target & has_rival[..., None], tau)
    margin = jnp.where(has_rival, lead - jnp.where(has_rival, rival, 0.0), 1.0)
    return jnp.sum(p.landing * jax.nn.sigmoid((margin - kappa - TIE_TOL) / tau), axis=1)


def smooth_closed_form(world: World, collective: Collective, tau=1e-3, eps=0.0, reading="huber"):
    """Closed form [HMMZ23] with the clip to ``[0, 1]`` smoothed (see :func:`soft_clip01`)."""
    check_tau(tau)
    kappa = slack(eps, reading)
    terms = closed_form_terms(world, collective)
    return closed_form_value(collective.size, terms, kappa, functools.partial(soft_clip01, tau=tau))


def smooth_multi_closed_form(world: World, collectives, tau=1e-3, eps=0.0, reading="huber", *, sizes=None):
    """B1 closed form with the clip to ``[0, 1]`` smoothed, one value per collective."""
    check_tau(tau)
    clip = functools.partial(soft_clip01, tau=tau)
    return multi_closed_form(world, collectives, eps, reading, sizes=sizes, clip=clip)
