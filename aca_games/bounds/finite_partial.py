"""Finite-sample certificate under partial information (THEORY §3.4 with §3.2) [BGR+26]: the
per-point certificate of :mod:`aca_games.bounds.finite_sample` with the others' support and
conflict, known only through beliefs, inside the bracket; see :func:`finite_sample_multi`."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games._knapsack import TIE_TOL
from aca_games.beliefs import Beliefs
from aca_games.bounds._partial import Groups, _at_label, _check_beliefs, _option_gaps, option_groups
from aca_games.bounds.finite_sample import (
    Counts,
    estimated_planting,
    member_sizes,
    population_counts,
    radius,
    rules,
    union_delta,
)
from aca_games.collective import Collective
from aca_games.learner import check_eps, slack
from aca_games.world import World


def finite_sample_multi(
    world: World,
    collective: Collective,
    beliefs: Beliefs,
    *,
    n,
    N,
    n_test,
    delta,
    counts: Counts | None = None,
    eps=0.0,
    reading: str = "huber",
    n_estimate=None,
) -> jax.Array:
    """Finite-sample certificate for ``i`` among other collectives known only through beliefs
    (THEORY §3.4: §3.2's per-point certificate with a support lower bound and a conflict upper
    bound inside the bracket, ``N_0 = N - n_act - Σ_j L_j`` bystanders).

    Setting: ``N`` users i.i.d. from ``P0``; ``i`` is a random subset of ``n``; each other ``j`` a
    random subset of ``n_j ∈ [lo_j N, hi_j N]`` of the rest, acting by one option of its menu (its
    per-member planted table ``E_j^o`` is known from the world); ``i`` sees only its own data
    (:class:`~aca_games.bounds.finite_sample.Counts`, or the population plug-in).

    Split each ``j`` into ``L_j = ⌈lo_j N⌉`` *guaranteed* members and ``k_j = n_j - L_j ∈ [0, X_j]``
    *extras* (``X_j = ⌊hi_j N⌋ - L_j``). The *pool* of the ``N_0`` bystanders and extras (plus
    ``i``'s non-acting estimators) is i.i.d. ``P0`` before anybody acts; the extras then replace
    their own data by their submissions. With ``ℓ̂``, ``Ê_i``, ``d̂`` and the radius ``R`` of
    :mod:`aca_games.bounds.finite_sample`, ``e_j = E_j^o(ℓ̂) - E_j^o(y')`` and ``λ = log(1/δ̃)``:

        lb(x̃) = min_{y'∉T_i} [ (n_act/N)(Ê_i(ℓ̂) - Ê_i(y') - 2R(n_act))
                              - (N_0/N)(d̂_{y'} + 2R(n_est) + 2R(N_0))
                              + Σ_j min_o ( (L_j/N)(e_j - 2R(L_j))                       [support]
                                + min_{0<=k<=X_j} (k/N)(e_j + d̂_{y'} - 2R(n_est) - 4R(k)) ) ]   [conflict]
                - κ,

    and the bound is ``[Σ_x̃ m̂_i(x̃) 1[lb(x̃) > τ] - R(n_act) - R(n_test)]_+`` (``τ = TIE_TOL``: a
    margin within ``τ`` of the bar is a tie, a failure, THEORY §4). The inner minimum
    over ``k`` is exact: ``k c - 4 sqrt(kλ/2)`` is convex in ``k`` with minimum ``-2λ/c`` at
    ``k = 2λ/c²`` when ``c > 0``; the candidates are ``0``, ``X_j`` and that interior point.

    *Why.* On the event (union bound, ``δ̃ = δ / (E_i + 6 J |X̃| |Y|)`` with ``E_i`` the events of
    :func:`~aca_games.bounds.finite_sample.union_delta` and, per group ``j``, two-sided cell events
    for the guaranteed members' submissions and for the extras' submissions and original data) every
    empirical cell frequency lies within its radius of its mean: the pool's count margin is at least
    ``-N_0(d + 2R(N_0))`` with ``d <= d̂ + 2R(n_est)``; the guaranteed members add at least
    ``L_j(e_j - 2R(L_j))``; each extra removes its original data (mean ``a0 = -d``) and adds its
    submission, at least ``k(e_j - a0 - 4R(k))``. Taking the minimum over every consistent
    ``(n_j, option)`` covers the true one (for the pooled total-mass group, whose members may mix
    options, each part takes the point-wise worst option; Hoeffding holds for independent,
    non-identical members). So ``lb(x̃) > τ`` certifies that ``ℓ̂`` beats every rival in the
    training counts by more than ``κ + τ``, and the test sample costs the last two radii, as in §3.2.
    With ``N -> ∞`` at ``n/N = α_i`` and the population plug-in, ``lb`` tends to the robust margin
    ``W`` (the ``X_j`` extras reproduce ``min(lo_j c, hi_j c)``); it never exceeds it.

    Beliefs: interval, total-mass or product-prior (support). Strategies of ``i``: feature-label,
    feature-only, unplanting (not erasing). With no other collective it equals
    :func:`~aca_games.bounds.finite_sample.finite_sample`.
    """
    c = collective
    if c.strategy == "erase":
        raise ACAInputError(
            f"{c.name}.strategy: finite_sample_multi covers feature_label, feature_only and unplant; "
            "erasing needs the label-margin conditions of bounds.finite_sample"
        )
    _check_beliefs(beliefs)
    beliefs.check_self(c)
    groups = option_groups(world, beliefs)
    n_est, n_act = member_sizes(c, n, n_estimate)
    N = v.positive_int("N", N)
    n_test = v.positive_int("n_test", n_test)
    if n >= N:
        raise ACAInputError(f"N: the platform has N = {N} users but the collective has n = {n}; need N > n")
    d = float(v.finite_array("delta", delta, ndim=0))
    if not 0.0 < d < 1.0:
        raise ACAInputError(f"delta: {d!r} is outside (0, 1); pass a failure probability")
    check_eps(eps, reading)
    lo, hi = np.asarray(groups.lo), np.asarray(groups.hi)
    guaranteed = np.ceil(lo * N - 1e-6)
    extras = np.maximum(np.floor(hi * N + 1e-6) - guaranteed, 0.0)
    if n + float(np.sum(hi)) * N >= N:
        raise ACAInputError(
            f"beliefs: n = {n} members plus the others' largest counts ({float(np.sum(hi)) * N:g} of "
            f"N = {N}) leave no bystanders; shrink the upper sizes or raise N"
        )
    if counts is None:
        counts = population_counts(world, c, n, n_estimate)
    shape = (len(world.points), len(world.labels))
    for name in ("base", "landing"):
        if jnp.shape(getattr(counts, name)) != shape:
            raise ACAInputError(f"counts.{name}: shape {jnp.shape(getattr(counts, name))} must be {shape}")
    events = 1.0 / float(union_delta(world, c.strategy, 1.0)) + 6 * len(lo) * shape[0] * shape[1]
    delta_tilde = jnp.asarray(d / events, dtype=jnp.float64)
    bystanders = N - n_act - float(np.sum(guaranteed))
    sizes = jnp.asarray([n_est, n_act, N, bystanders], dtype=jnp.float64)
    kappa = jnp.asarray(slack(eps, reading), dtype=jnp.float64)
    lb, mass_hat = _finite_margins(
        rules(world, c),
        jnp.asarray(counts.base, dtype=jnp.float64),
        jnp.asarray(counts.landing, dtype=jnp.float64),
        groups,
        jnp.asarray(guaranteed),
        jnp.asarray(extras),
        sizes,
        delta_tilde,
        kappa,
    )
    certified = jnp.sum(jnp.where(lb > TIE_TOL, mass_hat, 0.0))
    return jnp.maximum(certified - radius(n_act, delta_tilde) - radius(n_test, delta_tilde), 0.0)


@jax.jit
def _finite_margins(r, base, landing, groups: Groups, guaranteed, extras, sizes, delta_tilde, kappa):
    """``(lb(x̃), m̂(x̃))`` of :func:`finite_sample_multi`; ``sizes = (n_est, n_act, N, N_0)``."""
    n_est, n_act, N, N0 = sizes[0], sizes[1], sizes[2], sizes[3]
    base_hat, land_hat = base / n_est, landing / n_act
    planted, onehot = estimated_planting(r, base_hat, land_hat)
    R = lambda k: radius(k, delta_tilde)  # noqa: E731
    lam = -jnp.log(delta_tilde)
    d_hat = base_hat - _at_label(base_hat, onehot)  # P̂0(y') - P̂0(ℓ̂), (P, L)
    pool = jnp.where(N0 > 0, (N0 / N) * (d_hat + 2.0 * R(n_est) + 2.0 * R(N0)), 0.0)
    margin = (n_act / N) * (_at_label(planted, onehot) - planted - 2.0 * R(n_act)) - pool
    e = _option_gaps(groups, onehot)  # (J, O, P, L)
    L = guaranteed[:, None, None, None]
    X = extras[:, None, None, None]
    support = jnp.where(L > 0, (L / N) * (e - 2.0 * R(L)), 0.0)
    conflict = worst_extras(e + d_hat[None, None] - 2.0 * R(n_est), X, lam) / N
    term = jnp.where(groups.valid[:, :, None, None], support + conflict, jnp.inf)
    margin = margin + jnp.sum(jnp.min(term, axis=1), axis=0)
    lb = jnp.min(jnp.where(r.target, jnp.inf, margin), axis=-1) - kappa
    return lb, land_hat.sum(axis=1)


def worst_extras(c, X, lam) -> jax.Array:
    """``min_{0<=k<=X} (k c - 4 sqrt(k λ / 2))`` over real ``k`` (elementwise): the conflict of up to
    ``X`` extras, ``k (c - 4 R(k))`` with ``R(k) = sqrt(λ / (2k))``. The function is convex in
    ``k`` (a line minus a concave root); for ``c > 0`` its stationary point is ``k = 2λ/c²`` with
    value ``-2λ/c``, so the minimum is at ``0``, ``X`` or that point when it lies in ``(0, X)``.

    >>> float(worst_extras(1.0, 100.0, 2.0))   # k = 4: 4 - 4 sqrt(4) = -4 = -2λ/c
    -4.0
    """
    full = X * c - 4.0 * jnp.sqrt(X * lam / 2.0)
    safe = jnp.where(c > 0, c, 1.0)
    inner = jnp.where((c > 0) & (2.0 * lam / safe**2 < X), -2.0 * lam / safe, jnp.inf)
    return jnp.minimum(0.0, jnp.minimum(full, inner))
