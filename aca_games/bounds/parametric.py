"""Parametric learners: gradient neutralising, gradient control, DP-SGD (THEORY §3.5).

A platform trains a parameter ``θ ∈ R^d`` on the mixture risk ``R = (1-α) R_0 + α R_c``: a fraction
``α`` of the training data comes from the collective, whose aim is to move the learnt parameter to
a target ``θ*``. The bounds below are upper bounds on the distance ``‖θ - θ*‖`` that the collective
can *guarantee* with its best strategy (the strategy is part of each proof), given a budget ``C``
on the norm of its per-example gradients. Smaller is better for the collective.

All three forms are **derived in THEORY.md §3.5; published constants not available**: they follow
the arguments of [HMMZ23 §3] (gradient neutralising), [HMMZ23 §4] (gradient control) and [SBAC25]
(DP-SGD) but their constants are this library's own and each is proved in its docstring and checked
against simulated training runs (:mod:`aca_games.simulate.learners`, ``tests/test_parametric.py``).

Every bound is a pure JAX function (float64, ``jit``/``vmap``/``grad``-able, broadcasting over
array arguments). Inputs are validated when concrete; traced inputs pass through. "No guarantee"
is ``+inf`` (never a silent NaN), and a tie at the feasibility boundary (``λ = 0``) counts as no
guarantee, as ties are failures for the collective throughout the library.

Privacy: :func:`noise_multiplier_for` converts a privacy budget ``(ε, δ)`` for ``T`` full-batch
steps into the noise multiplier ``σ`` used by :func:`dp_sgd`, and :func:`dp_delta` is its inverse
(the exact ``δ`` of the Gaussian mechanism, Balle & Wang 2018; Gaussian-DP composition, Dong, Roth
& Su 2019).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import log_ndtr

from aca_games import _validate as v
from aca_games._errors import ACAInputError

__all__ = [
    "NeutralisingBound",
    "dp_delta",
    "dp_sgd",
    "gradient_control",
    "gradient_neutralising",
    "noise_multiplier_for",
]

#: Bisection bracket for the Gaussian-DP parameter ``μ = sqrt(T)/σ`` in :func:`noise_multiplier_for`
#: (``μ`` below 1e-8 is never needed for ``δ > 0``; above 1e4 the guarantee is void for any ``ε``
#: a caller can represent, and the returned ``σ`` is then the conservative ``sqrt(T)/1e4``).
#: The bisection runs on ``log σ`` and returns its private end, so ``dp_delta(σ) <= δ`` exactly.
_MU_LO, _MU_HI = 1e-8, 1e4
#: Bisection iterations on ``log σ``: the bracket spans ~28 in log; 200 halvings reach float64
#: resolution, so ``σ`` is tight to rounding (the tests check ``δ(0.99 σ) > δ``).
_BISECT_ITERS = 200  # pragma: no mutate (search effort)
#: Relative margin added to the returned ``σ`` so that re-evaluating ``δ(σ)`` elsewhere (another
#: fusion, scipy) cannot cross ``δ`` by rounding; ``δ`` decreases in ``σ``, so it only adds privacy.
_SIGMA_MARGIN = 1e-12


# --------------------------------------------------------------------------- validation helpers
def _check(name: str, value, ok, requirement: str) -> None:
    """Raise unless ``ok(arr)`` holds elementwise on the concrete, finite ``value``."""
    if not v.is_concrete(value):
        return
    arr = v.finite_array(name, value)
    bad = ~np.asarray(ok(arr), dtype=bool)
    if np.any(bad):
        idx = tuple(np.argwhere(bad)[0].tolist()) if arr.ndim else ()
        where = f" at index {list(idx)}" if idx else ""
        raise ACAInputError(f"{name}: {arr[idx].item()!r}{where} {requirement}")


def _nonneg(name, value):
    _check(name, value, lambda a: a >= 0, "is negative; norms and budgets must be >= 0")


def _positive(name, value, what):
    _check(name, value, lambda a: a > 0, what)


def _alpha(value):
    _check(
        "alpha",
        value,
        lambda a: (a >= 0) & (a < 1),
        "is outside [0, 1); alpha is the collective's share of the training data",
    )


def _open_unit(name, value):
    _check(name, value, lambda a: (a > 0) & (a < 1), "is outside (0, 1); pass a probability")


def _count(name, value):
    _check(
        name,
        value,
        lambda a: (a >= 1) & (a == np.round(a)),
        "is not a positive integer (expected an integer >= 1)",
    )


def _f64(x):
    return jnp.asarray(x, dtype=jnp.float64)


# --------------------------------------------------------------------------- neutralising
class NeutralisingBound(NamedTuple):
    """Result of :func:`gradient_neutralising`."""

    threshold: jax.Array  #: critical share ``α* = g/(g + C)``
    reachable: jax.Array  #: ``α >= α*``: ``θ*`` is a minimiser of the mixture risk
    distance: jax.Array | None  #: ``[(1-α)g - αC]_+/μ``; ``None`` without ``strong_convexity``


def gradient_neutralising(alpha, base_grad_norm, budget, strong_convexity=None) -> NeutralisingBound:
    """Gradient neutralising [HMMZ23 §3]: can the collective make ``θ*`` the learnt parameter?

    **Inequality.** ``θ*`` is reachable iff ``α >= α* = g/(g + C)``; with ``μ``-strong convexity
    of the mixture risk, ``‖θ̂ - θ*‖ <= max(0, (1-α) g - α C)/μ``, where ``θ̂`` minimises
    ``R = (1-α) R_0 + α R_c``. Derived in THEORY.md §3.5; published constants not available.

    **Assumptions.** ``R_0`` and ``R_c`` convex and differentiable; ``g = ‖∇R_0(θ*)‖`` is the base
    gradient at the target; the collective's gradient at the target, ``c = ∇R_c(θ*)``, is any
    vector with ``‖c‖ <= C`` (per-example gradients of norm ``<= C`` average to such a ``c``); the
    collective plays ``c = -min(C, (1-α)g/α) · g0/‖g0‖`` (anti-aligned with ``g0 = ∇R_0(θ*)``).

    *Proof.* ``∇R(θ*) = (1-α) g0 + α c``. If ``α C >= (1-α) g``, ``c = -(1-α) g0/α`` has norm
    ``<= C`` and makes ``∇R(θ*) = 0``, so ``θ*`` minimises the convex ``R``. Conversely, for every
    admissible ``c``, ``‖∇R(θ*)‖ >= (1-α) g - α ‖c‖ >= (1-α) g - α C > 0`` when ``α < α*``, so
    ``θ*`` is not stationary and not a minimiser. Hence reachable iff ``α C >= (1-α) g`` iff
    ``α >= g/(g + C)``. If ``R`` is ``μ``-strongly convex, ``∇R(θ̂) = 0`` gives
    ``μ ‖θ̂ - θ*‖ <= ‖∇R(θ*) - ∇R(θ̂)‖ = ‖∇R(θ*)‖``, and the anti-aligned ``c`` makes
    ``‖∇R(θ*)‖ = [(1-α) g - α C]_+``. ∎ (With ``g = C = 0``, ``θ*`` already minimises ``R_0``
    and ``α* = 0``.) ``μ`` is the mixture's modulus; e.g. ``(1-α) μ_0`` if ``R_0`` is
    ``μ_0``-strongly convex.

    Args:
        alpha: collective's share ``α ∈ [0, 1)``.
        base_grad_norm: ``g = ‖∇R_0(θ*)‖ >= 0``.
        budget: ``C >= 0``, bound on the collective's gradient norm.
        strong_convexity: ``μ > 0`` of the mixture risk, or ``None`` (no distance bound).

    Returns:
        :class:`NeutralisingBound` ``(threshold, reachable, distance)``; smooth in every argument
        where ``(1-α) g > α C`` (the distance is 0 beyond the threshold).

    >>> b = gradient_neutralising(0.3, base_grad_norm=1.0, budget=3.0, strong_convexity=0.5)
    >>> round(float(b.threshold), 4), bool(b.reachable), float(b.distance)
    (0.25, True, 0.0)
    >>> round(float(gradient_neutralising(0.1, 1.0, 3.0, 0.5).distance), 6)  # (0.9 - 0.3)/0.5
    1.2
    """
    _alpha(alpha)
    _nonneg("base_grad_norm", base_grad_norm)
    _nonneg("budget", budget)
    alpha, g, c = _f64(alpha), _f64(base_grad_norm), _f64(budget)
    total = g + c
    threshold = jnp.where(total > 0, g / jnp.where(total > 0, total, 1.0), 0.0)
    reachable = alpha * c >= (1.0 - alpha) * g
    distance = None
    if strong_convexity is not None:
        _positive("strong_convexity", strong_convexity, "must be > 0 (the mixture's modulus)")
        distance = jnp.maximum((1.0 - alpha) * g - alpha * c, 0.0) / _f64(strong_convexity)
    return NeutralisingBound(threshold, reachable, distance)


# --------------------------------------------------------------------------- control
def _rate(alpha, budget, base_grad_bound, dist0):
    """``λ = (αC - (1-α)G)/D0``."""
    return (alpha * budget - (1.0 - alpha) * base_grad_bound) / dist0


def _contraction(eta_lam, steps):
    """``ρ^T`` and ``V_T = (1 - ρ^{2T})/(1 - ρ²)`` for ``ρ = max(1 - ηλ, 0)``, ``ηλ > 0``.

    Smooth (NaN-free gradients) on both branches: the ``ρ = 0`` branch is constant.
    """
    inner = eta_lam < 1.0
    x = jnp.where(inner, eta_lam, 0.5)  # safe value on the clamped branch
    log_rho = jnp.log1p(-x)
    rho_t = jnp.exp(steps * log_rho)
    v_t = -jnp.expm1(2.0 * steps * log_rho) / (x * (2.0 - x))
    return jnp.where(inner, rho_t, 0.0), jnp.where(inner, v_t, 1.0)


def gradient_control(alpha, budget, base_grad_bound, dist0, step, steps) -> jax.Array:
    """Gradient control [HMMZ23 §4]: distance to ``θ*`` after ``T`` steps of gradient descent.

    **Inequality.** With ``λ(α) = (α C - (1-α) G)/‖θ0 - θ*‖ > 0``,
    ``‖θ_T - θ*‖ <= (1 - ηλ)^T ‖θ0 - θ*‖`` for every ``T >= 1``; if ``ηλ > 1`` the factor is
    clamped at 0 (the bound is 0: see below). If ``λ <= 0`` there is **no guarantee** and the
    function returns ``+inf`` (the base gradient may carry the model anywhere; ``dist0`` would not
    be a valid bound). Derived in THEORY.md §3.5; published constants not available.

    **Assumptions.** Full-batch gradient descent ``θ_{t+1} = θ_t - η ∇R(θ_t)`` on
    ``R = (1-α) R_0 + α R_c``; ``‖∇R_0(θ)‖ <= G`` on the ball ``‖θ - θ*‖ <= ‖θ0 - θ*‖``; at every
    step the collective knows ``θ_t`` and ``∇R_0(θ_t)`` (white box, as in [HMMZ23 §4]) and submits
    data whose gradient ``c_t`` has ``‖c_t‖ <= C``. No convexity is needed.

    *Proof.* Write ``e_t = θ_t - θ*``, ``D_t = ‖e_t‖``, ``κ = α C - (1-α) G = λ D_0``. The
    collective plays the greedy control ``c_t = clip_C(v_t/(ηα))`` with ``v_t = e_t - η(1-α)∇R_0(θ_t)``
    (it cancels as much of ``v_t`` as its budget allows), so
    ``D_{t+1} = ‖v_t - ηα c_t‖ = [‖v_t‖ - ηαC]_+ <= [D_t - ηκ]_+``. Hence ``D_t`` never increases
    (the run stays in the ball where ``G`` applies) and ``D_t <= D_0 [1 - tηλ]_+``. By Bernoulli,
    ``1 - tx <= (1 - x)^t`` for ``x ∈ [0, 1]``, so ``D_t <= (1 - ηλ)^t D_0``; for ``ηλ > 1`` the
    first step already gives ``D_1 = 0``. ∎ (A linear control ``c_t = (λ e_t - (1-α)∇R_0)/α``
    attains ``D_t = (1-ηλ)^t D_0`` exactly; the DP-SGD bound uses that one.)

    Args:
        alpha: ``α ∈ [0, 1)``.  budget: ``C >= 0``.  base_grad_bound: ``G >= 0``.
        dist0: ``‖θ0 - θ*‖ > 0``.  step: ``η > 0``.  steps: ``T``, an integer ``>= 1``.

    Returns:
        The bound on ``‖θ_T - θ*‖`` (``+inf`` without guarantee). Smooth where ``0 < ηλ < 1``.

    >>> float(gradient_control(0.5, budget=2.0, base_grad_bound=1.0, dist0=1.0, step=0.5, steps=2))
    0.5625
    >>> float(gradient_control(0.2, 2.0, 1.0, 1.0, 0.5, 2))  # 0.4 < 0.8: no guarantee
    inf
    """
    _alpha(alpha)
    _nonneg("budget", budget)
    _nonneg("base_grad_bound", base_grad_bound)
    _positive("dist0", dist0, "must be > 0 (θ0 = θ* needs no control)")
    _positive("step", step, "must be > 0 (the learning rate η)")
    _count("steps", steps)
    args = map(_f64, (alpha, budget, base_grad_bound, dist0, step, steps))
    return _control_core(*args)


@jax.jit
def _control_core(alpha, budget, grad_bound, dist0, step, steps):
    lam = _rate(alpha, budget, grad_bound, dist0)
    ok = lam > 0
    rho_t, _ = _contraction(jnp.where(ok, step * lam, 0.5), steps)
    return jnp.where(ok, rho_t * dist0, jnp.inf)


# --------------------------------------------------------------------------- DP-SGD
def dp_sgd(
    alpha,
    clip,
    noise_multiplier,
    batch,
    dim,
    delta_prime,
    base_grad_bound,
    dist0,
    step,
    steps,
    horizon=None,
) -> jax.Array:
    """Collective action against DP-SGD [SBAC25]: distance to ``θ*`` after ``T`` noisy steps.

    **Inequality.** With ``λ = (α C - (1-α) G̃)/‖θ0 - θ*‖ > 0``, ``G̃ = min(G, C)``,
    ``ρ = max(1 - ηλ, 0)``, with probability at least ``1 - δ'``::

        ‖θ_T - θ*‖ <= ρ^T ‖θ0 - θ*‖
                      + (η σ C / b) · sqrt((1 - ρ^{2T})/(1 - ρ²)) · (√d + sqrt(2 log(1/δ'))).

    ``+inf`` (no guarantee) when ``λ <= 0``. Derived in THEORY.md §3.5; published constants not
    available. Non-monotone in ``C``, ``T`` and ``η`` (more clipping budget buys control but also
    noise; more steps contract the start but accumulate noise; a larger step contracts faster but
    injects more noise per step).

    **Assumptions.** Full-batch DP-SGD on ``b`` examples, ``αb`` of them the collective's:
    ``θ_{t+1} = θ_t - η [ (1/b) Σ_i clip_C(∇ℓ_i(θ_t)) + (σC/b) ξ_t ]``, ``ξ_t ~ N(0, I_d)``
    i.i.d.; every base example's gradient has norm ``<= G`` on the ball ``‖θ - θ*‖ <= ‖θ0 - θ*‖``
    (so the mean of clipped base gradients has norm ``<= G̃``; a bound on the *mean* unclipped
    gradient would not do, as clipping can lengthen a mean); the collective is white box as in
    :func:`gradient_control` and submits examples with gradients of norm ``<= C``, so clipping
    leaves them alone. **Feasibility (A4):** the collective's control stays within its budget
    along the run, which holds while ``‖θ_t - θ*‖ <= ‖θ0 - θ*‖``; noise can push the run outside
    that ball, and the probability of that is *not* covered by ``δ'``. The guarantee is *per
    step*: for each fixed ``T``; it is not simultaneous over ``t <= T`` (simulations violate it at
    some step in more than a ``δ'`` fraction of long runs).

    **Uniform, fully rigorous variant** (``horizon=H``): with ``K_H = √d + sqrt(2 log(H/δ'))`` in
    place of ``√d + sqrt(2 log(1/δ'))``, and provided ``σ C K_H / b <= α C - (1-α) G̃`` (else
    ``+inf``), the bound holds at every ``t <= H`` simultaneously with probability ``>= 1 - δ'``,
    with no feasibility assumption: a union bound over the ``H`` noise sums, and on that event the
    noise part ``z_t`` has ``‖z_t‖ <= η s K_H Σ_{k<t} ρ^k <= (1 - ρ^t) κ/λ'`` (``κ = λ D_0``), so
    ``‖e_t‖ <= ρ^t D_0 + ‖z_t‖ <= κ/λ'``: the run never leaves the ball where the control below
    is affordable (A4 holds by induction).

    *Proof.* Let ``e_t = θ_t - θ*``, ``s = σC/b`` and ``λ' = min(λ, 1/η)`` so ``ρ = 1 - ηλ'``.
    The collective plays the linear control ``c_t = (λ' e_t - (1-α) b_t)/α`` (``b_t`` the mean
    clipped base gradient), of norm ``<= (λ' D_t + (1-α) G̃)/α <= C`` while
    ``D_t <= κ/λ'`` (``>= D_0``; A4).
    Then ``e_{t+1} = ρ e_t - η s ξ_t``, a linear recursion, so
    ``e_T = ρ^T e_0 - η s Σ_{k<T} ρ^{T-1-k} ξ_k`` and the sum is ``N(0, V_T I_d)`` with
    ``V_T = Σ_{k<T} ρ^{2k} = (1 - ρ^{2T})/(1 - ρ²)``. Gaussian norm concentration (the norm is
    1-Lipschitz, ``E‖Z‖ <= √d`` for ``Z ~ N(0, I_d)``): ``P(‖Z‖ >= √d + u) <= exp(-u²/2)``; with
    ``u = sqrt(2 log(1/δ'))`` and the triangle inequality the bound follows. ∎ With ``σ = 0`` it is
    :func:`gradient_control`'s bound (with ``G̃``). The privacy of ``(σ, T)`` is
    :func:`dp_delta`; :func:`noise_multiplier_for` picks ``σ`` for a budget.

    Args:
        alpha: ``α ∈ [0, 1)``.  clip: clipping norm ``C >= 0`` (also the collective's budget).
        noise_multiplier: ``σ >= 0``.  batch: ``b``, integer ``>= 1``.  dim: ``d``, integer
        ``>= 1``.  delta_prime: failure probability ``δ' ∈ (0, 1)``.  base_grad_bound: ``G >= 0``.
        dist0: ``‖θ0 - θ*‖ > 0``.  step: ``η > 0``.  steps: ``T``, integer ``>= 1``.
        horizon: ``None`` (per-step guarantee) or an integer ``H >= T`` (uniform over
        ``t <= H``).

    Returns:
        The high-probability bound on ``‖θ_T - θ*‖`` (``+inf`` without guarantee); smooth in the
        real arguments where ``0 < ηλ < 1`` and ``G < C``.

    >>> round(float(dp_sgd(0.6, 2.0, 1.0, 100, 5, 0.05, 1.0, 2.0, 0.5, 50)), 4)
    0.0781
    >>> float(dp_sgd(0.6, 2.0, 0.0, 100, 5, 0.05, 1.0, 2.0, 0.5, 50)) == float(
    ...     gradient_control(0.6, 2.0, 1.0, 2.0, 0.5, 50))
    True
    >>> round(float(dp_sgd(0.6, 2.0, 1.0, 100, 5, 0.05, 1.0, 2.0, 0.5, 50, horizon=50)), 4)
    0.0992
    """
    _alpha(alpha)
    _nonneg("clip", clip)
    _check("noise_multiplier", noise_multiplier, lambda a: a >= 0, "is negative; σ must be >= 0")
    _count("batch", batch)
    _count("dim", dim)
    _open_unit("delta_prime", delta_prime)
    _nonneg("base_grad_bound", base_grad_bound)
    _positive("dist0", dist0, "must be > 0 (θ0 = θ* needs no control)")
    _positive("step", step, "must be > 0 (the learning rate η)")
    _count("steps", steps)
    if horizon is not None:
        _count("horizon", horizon)
        if v.is_concrete((horizon, steps)) and np.any(np.asarray(horizon) < np.asarray(steps)):
            raise ACAInputError(f"horizon: {horizon!r} is shorter than steps {steps!r}")
    args = (alpha, clip, noise_multiplier, batch, dim, delta_prime, base_grad_bound, dist0)
    args = (*args, step, steps, 1.0 if horizon is None else horizon)
    return _dp_core(*map(_f64, args), uniform=horizon is not None)


@partial(jax.jit, static_argnames="uniform")
def _dp_core(
    alpha, clip, sigma, batch, dim, delta_prime, grad_bound, dist0, step, steps, horizon, *, uniform
):
    force = alpha * clip - (1.0 - alpha) * jnp.minimum(grad_bound, clip)  # κ = λ D_0
    noise = sigma * clip / batch  # s
    failure = delta_prime / horizon  # horizon = 1 for the per-step form
    radius = jnp.sqrt(dim) + jnp.sqrt(-2.0 * jnp.log(failure))
    ok = force > 0
    if uniform:
        ok = ok & (noise * radius <= force)
    rho_t, v_t = _contraction(jnp.where(ok, step * force / dist0, 0.5), steps)
    value = rho_t * dist0 + step * noise * jnp.sqrt(v_t) * radius
    return jnp.where(ok, value, jnp.inf)


# --------------------------------------------------------------------------- privacy
def _gdp_delta(eps, mu):
    """Exact ``δ(ε)`` of ``μ``-GDP: ``Φ(-ε/μ + μ/2) - e^ε Φ(-ε/μ - μ/2)`` (stable, in logs)."""
    a = log_ndtr(-eps / mu + mu / 2.0)
    b = eps + log_ndtr(-eps / mu - mu / 2.0)
    return jnp.exp(a) * -jnp.expm1(jnp.minimum(b - a, 0.0))


def dp_delta(noise_multiplier, eps_dp, steps=1) -> jax.Array:
    """Exact ``δ`` at which ``T`` full-batch steps of the Gaussian mechanism are ``(ε, δ)``-DP.

    With sensitivity 1 (clipping norm ``C``, noise ``σC`` on the sum, add/remove-one neighbours)
    one step is ``μ``-GDP with ``μ = 1/σ``, ``T`` steps compose to ``μ = sqrt(T)/σ`` (Dong, Roth &
    Su 2019, exact for Gaussians), and ``μ``-GDP is ``(ε, δ)``-DP exactly for
    ``δ(ε) = Φ(-ε/μ + μ/2) - e^ε Φ(-ε/μ - μ/2)``. For ``T = 1`` this is the analytic Gaussian
    mechanism of Balle & Wang (2018), ``Φ(1/(2σ) - εσ) - e^ε Φ(-1/(2σ) - εσ)``.

    >>> round(float(dp_delta(1.0, 1.0)), 6)  # Φ(-0.5) - e Φ(-1.5)
    0.126937
    """
    _positive("noise_multiplier", noise_multiplier, "must be > 0 for a finite privacy guarantee")
    _positive("eps_dp", eps_dp, "must be > 0 (the privacy budget ε)")
    _count("steps", steps)
    mu = jnp.sqrt(_f64(steps)) / _f64(noise_multiplier)
    return _gdp_delta(_f64(eps_dp), mu)


def noise_multiplier_for(eps_dp, delta, steps=1, sampling_rate=1.0) -> jax.Array:
    """Smallest noise multiplier ``σ`` making ``T`` full-batch Gaussian steps ``(ε, δ)``-DP.

    Inverts :func:`dp_delta`: ``σ = sqrt(T)/μ*`` with ``μ*`` the largest ``μ`` whose exact GDP
    curve satisfies ``δ_μ(ε) <= δ`` (``δ_μ`` increases with ``μ``), found by bisection on
    ``log σ`` in JAX (``jit``/``vmap``-able). ``T = 1`` is the analytic Gaussian mechanism of
    Balle & Wang (2018); ``T`` steps use Gaussian-DP composition (``μ = sqrt(T)/σ``, exact for
    Gaussian mechanisms; Dong, Roth & Su 2019), hence ``σ(T) = sqrt(T) σ(1)``. The returned ``σ``
    is on the private side of the bisection: ``dp_delta(σ, ε, T) <= δ``.

    **Not included:** privacy amplification by subsampling. ``sampling_rate`` must be 1.0
    (full batch); Poisson subsampling needs a dedicated accountant (e.g. a PRV/RDP accountant),
    and the GDP central-limit approximation is not a guarantee, so it is refused, not approximated.

    >>> s = noise_multiplier_for(1.0, 1e-5)
    >>> round(float(s), 3), bool(dp_delta(s, 1.0) <= 1e-5)
    (3.731, True)
    >>> round(float(noise_multiplier_for(1.0, 1e-5, steps=100) / s), 6)
    10.0
    """
    _positive("eps_dp", eps_dp, "must be > 0 (the privacy budget ε)")
    _open_unit("delta", delta)
    _count("steps", steps)
    if v.is_concrete(sampling_rate):
        rate = float(v.finite_array("sampling_rate", sampling_rate, ndim=0))
        if rate != 1.0:
            raise ACAInputError(
                f"sampling_rate: {rate!r} is not supported; privacy amplification by subsampling "
                "is not implemented, so only full-batch steps (sampling_rate=1.0) are accounted; "
                "use a subsampled-Gaussian accountant for minibatch DP-SGD"
            )
    return _sigma_core(_f64(eps_dp), _f64(delta), jnp.sqrt(_f64(steps)))


@jax.jit
def _sigma_core(eps, delta, root):
    eps, delta, root = jnp.broadcast_arrays(eps, delta, root)

    def body(_, bracket):
        lo, hi = bracket  # log σ: δ(hi) <= δ < δ(lo)
        mid = 0.5 * (lo + hi)
        private = _gdp_delta(eps, root / jnp.exp(mid)) <= delta
        return jnp.where(private, lo, mid), jnp.where(private, mid, hi)

    lo = jnp.log(root / _MU_HI)
    hi = jnp.log(root / _MU_LO)
    _, hi = jax.lax.fori_loop(0, _BISECT_ITERS, body, (lo, hi))
    return jnp.exp(hi) * (1.0 + _SIGMA_MARGIN)
