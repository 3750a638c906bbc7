"""Trained parametric learners for checking the bounds of :mod:`aca_games.bounds.parametric`.

Every run trains with ``optax.sgd`` on the mixture of base and collective examples, with
per-example gradients from ``jax.vmap(jax.grad(loss))``, and returns the trajectory of distances
``‖θ_t - θ*‖``. Two models:

**Quadratic (mixture population).** Base example ``x`` has loss ``½ (θ - x)ᵀ H (θ - x)``, so
``∇R_0(θ) = H (θ - θ_base)`` with ``θ_base`` the mean base point (``μ_0 = λ_min(H)``-strongly
convex). A collective example is a planted point ``p`` with the Huber distance loss
``C · huber_w(‖θ - p‖)`` (``r²/(2w)`` for ``r <= w``, ``r - w/2`` beyond): convex, gradient
``C (θ - p)/max(‖θ - p‖, w)`` of norm ``<= C`` everywhere, and exactly any vector ``c`` with
``‖c‖ <= C`` at ``θ`` when ``p = θ - w c / C``.

**Logistic regression.** Example ``(x, y)``, ``y ∈ {-1, +1}``, loss
``log(1 + exp(-y xᵀθ)) + (reg/2) ‖θ‖²``. The collective plants ``(x*, +1)`` with
``x* = -s ŵ``, ``s σ(s ŵᵀθ) = ‖w‖``, ``w = c - reg θ``, whose gradient at ``θ`` is ``c``
(solved by bisection; possible when ``ŵᵀθ >= 0`` or ``‖w‖ <= 0.2785/|ŵᵀθ|``; every run reports
its realisation error so a test can insist it is at rounding level).

**Collective strategies** (the ones the bounds' proofs use; white box, as in [HMMZ23 §4]):
neutralising plants fixed data whose gradient at ``θ*`` is ``-min(C, (1-α)g/α) g0/‖g0‖``;
control re-plants every step, ``greedy`` (``c_t = clip_C((e_t - η(1-α) b_t)/(ηα))``) or
``linear`` (``c_t = clip_C((λ' e_t - (1-α) b_t)/α)``, ``λ' = min(λ, 1/η)``), where
``e_t = θ_t - θ*`` and ``b_t`` is the (clipped, for DP-SGD) mean base gradient.

**DP-SGD.** Full batch of ``b = n_base + n_collective`` examples (``α = n_collective/b``), each
per-example gradient clipped to ``C``, Gaussian noise of standard deviation ``σC/b`` added to the
mean, ``optax.sgd``; one ``jax.random`` key per run, vmapped over keys.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from aca_games import _validate as v
from aca_games._errors import ACAInputError

__all__ = [
    "Logistic",
    "Quadratic",
    "Run",
    "control_logistic",
    "control_quadratic",
    "dp_sgd_quadratic",
    "logistic_base_grad_bound",
    "logistic_base_gradient",
    "neutralise_logistic",
    "neutralise_quadratic",
    "plant_logistic",
    "quadratic_base_grad_bound",
    "quadratic_base_gradient",
    "random_logistic",
    "random_quadratic",
]

#: Root of ``u σ(u) = 1``: ``s ↦ s σ(-s|a|)`` peaks at ``s = _PEAK/|a|`` (value ``≈ 0.2785/|a|``).
_PEAK = 1.2784645427610737
#: Bisection iterations for :func:`plant_logistic` (bracket halves to float64 resolution).
_PLANT_ITERS = 120


class Run(NamedTuple):
    """One training run."""

    distances: jax.Array  #: ``‖θ_t - θ*‖`` for ``t = 0..T``, shape ``(T+1,)``
    theta: jax.Array  #: final parameter
    grad_norm: jax.Array  #: ‖mixture gradient‖ at the final parameter (noise-free runs)
    plant_error: jax.Array  #: max ‖realised - intended collective gradient‖ over the run
    collective_grad_max: jax.Array  #: max per-example collective gradient norm over the run


# --------------------------------------------------------------------------- models
class Quadratic(NamedTuple):
    """Quadratic base data: ``hessian`` (d, d) SPD, ``base_points`` (n, d), ``target`` θ* (d,)."""

    hessian: jax.Array
    base_points: jax.Array
    target: jax.Array


def random_quadratic(key, dim: int, n_base: int = 40, eig=(0.2, 0.5), offset=1.0, spread=0.2):
    """A random :class:`Quadratic`: eigenvalues uniform in ``eig``, ``θ* = 0``, base points around
    a centre at distance ``offset`` from ``θ*`` with Gaussian ``spread``.

    One Gaussian draw feeds everything (the uniform eigenvalues are ``Φ`` of Gaussians and the
    eigenbasis is a product of two Householder reflections), which keeps compilation cheap.
    """
    z = jax.random.normal(key, (3 * dim + n_base * dim + 1,))
    u1, u2, lam_z, rest = z[:dim], z[dim : 2 * dim], z[2 * dim : 3 * dim], z[3 * dim :]
    q = _householder(u1) @ _householder(u2)
    lam = eig[0] + (eig[1] - eig[0]) * jax.scipy.special.ndtr(lam_z)
    hessian = (q * lam[None, :]) @ q.T
    centre = offset * q[:, 0]
    points = centre[None, :] + spread * rest[: n_base * dim].reshape(n_base, dim)
    return Quadratic(0.5 * (hessian + hessian.T), points, jnp.zeros(dim))


def _householder(u):
    """The reflection ``I - 2 u uᵀ/‖u‖²`` (orthogonal)."""
    return jnp.eye(u.shape[0]) - 2.0 * jnp.outer(u, u) / (u @ u)


def _quadratic_loss(theta, x, hessian):
    d = theta - x
    return 0.5 * d @ hessian @ d


def _huber_loss(theta, point, budget, width):
    r2 = jnp.sum((theta - point) ** 2)
    far = r2 > width**2
    r = jnp.sqrt(jnp.where(far, r2, width**2))
    return budget * jnp.where(far, r - 0.5 * width, r2 / (2.0 * width))


_quad_grads = jax.vmap(jax.grad(_quadratic_loss), in_axes=(None, 0, None))
_huber_grads = jax.vmap(jax.grad(_huber_loss), in_axes=(None, 0, None, None))


def quadratic_base_gradient(model: Quadratic, theta) -> jax.Array:
    """Mean base gradient ``∇R_0(θ) = H (θ - θ_base)`` from per-example gradients."""
    return jnp.mean(_quad_grads(theta, model.base_points, model.hessian), axis=0)


def quadratic_base_grad_bound(model: Quadratic, radius) -> jax.Array:
    """``G``: a bound on every base example's gradient norm on ``‖θ - θ*‖ <= radius``,
    ``‖H‖₂ (max_i ‖θ* - x_i‖ + radius)`` (it also bounds the mean base gradient)."""
    far = jnp.max(jnp.linalg.norm(model.base_points - model.target[None, :], axis=1))
    spectral = jnp.max(jnp.abs(jnp.linalg.eigvalsh(model.hessian)))  # H is symmetric
    return spectral * (far + radius)


class Logistic(NamedTuple):
    """Logistic data: ``features`` (n, d), ``labels`` (n,) in ±1, ``target`` θ*, ``reg`` >= 0."""

    features: jax.Array
    labels: jax.Array
    target: jax.Array
    reg: jax.Array


def random_logistic(key, dim: int, n: int = 300, scale=1.0, reg=0.1, target=None) -> Logistic:
    """Synthetic logistic data: ``x ~ N(0, scale² I)``, ``y = sign(xᵀw + noise)`` for a random unit
    ``w``. The default target ``θ*`` is ``-w/2`` (the collective wants the decision reversed)."""
    z = jax.random.normal(key, (dim + n * dim + n,))
    w = z[:dim] / jnp.linalg.norm(z[:dim])
    x = scale * z[dim : dim + n * dim].reshape(n, dim)
    y = jnp.where(x @ w + 0.3 * scale * z[dim + n * dim :] >= 0, 1.0, -1.0)
    target = -0.5 * w if target is None else jnp.asarray(target, dtype=jnp.float64)
    return Logistic(x, y, target, jnp.asarray(reg, dtype=jnp.float64))


def _logistic_loss(theta, x, y, reg):
    return jax.nn.softplus(-y * (x @ theta)) + 0.5 * reg * theta @ theta


_logistic_grads = jax.vmap(jax.grad(_logistic_loss), in_axes=(None, 0, 0, None))


def logistic_base_gradient(model: Logistic, theta) -> jax.Array:
    """Mean base gradient (with the ridge term) from per-example gradients."""
    return jnp.mean(_logistic_grads(theta, model.features, model.labels, model.reg), axis=0)


def plant_logistic(theta, grad, reg) -> jax.Array:
    """A feature vector ``x*`` whose example ``(x*, +1)`` has gradient ``grad`` at ``theta``."""
    w = grad - reg * theta
    m = jnp.linalg.norm(w)
    unit = w / jnp.where(m > 0, m, 1.0)
    a = unit @ theta
    hi = jnp.where(a >= 0, 2.0 * m + 1e-300, _PEAK / jnp.where(a < 0, -a, 1.0))

    def body(_, bracket):
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        low = mid * jax.nn.sigmoid(mid * a) < m
        return jnp.where(low, mid, lo), jnp.where(low, hi, mid)

    _, s = jax.lax.fori_loop(0, _PLANT_ITERS, body, (jnp.zeros_like(m), hi))
    return -s * unit


# --------------------------------------------------------------------------- training loop
def _clip(g, c):
    """Scale ``g`` (each row, if 2-d) to norm at most ``c``."""
    n = jnp.linalg.norm(g, axis=-1, keepdims=True)
    return g * jnp.minimum(1.0, c / jnp.where(n > 0, n, 1.0))


def _train(theta0, target, step, steps, mixture_grad) -> Run:
    """``optax.sgd`` on ``mixture_grad(theta, t) -> (grad, plant_error, collective_grad_max)``."""
    opt = optax.sgd(step)

    def body(carry, t):
        theta, state = carry
        grad, err, cmax = mixture_grad(theta, t)
        updates, state = opt.update(grad, state, theta)
        theta = optax.apply_updates(theta, updates)
        return (theta, state), (jnp.linalg.norm(theta - target), err, cmax)

    init = (theta0, opt.init(theta0))
    (theta, _), (dist, err, cmax) = jax.lax.scan(body, init, jnp.arange(steps))
    dist = jnp.concatenate([jnp.linalg.norm(theta0 - target)[None], dist])
    final, _, _ = mixture_grad(theta, steps)
    return Run(dist, theta, jnp.linalg.norm(final), jnp.max(err), jnp.max(cmax))


def _check(alpha, budget, steps, *, controlling=False, step=None):
    if v.is_concrete(alpha):
        a = v.unit_interval("alpha", alpha, upper_open=True)
        if controlling and a <= 0:
            raise ACAInputError("alpha: must be > 0 for a controlling collective")
    if v.is_concrete(budget) and float(v.finite_array("budget", budget, ndim=0)) < 0:
        raise ACAInputError(f"budget: {budget!r} is negative; it is a gradient norm")
    if step is not None and v.is_concrete(step) and not float(step) > 0:
        raise ACAInputError(f"step: {step!r} must be > 0 (the learning rate η)")
    v.positive_int("steps", steps)


def _anti_aligned(g0, alpha, budget):
    """The neutralising gradient ``-min(C, (1-α)g/α) g0/‖g0‖`` (0 if ``g0 = 0``)."""
    g = jnp.linalg.norm(g0)
    size = jnp.minimum(budget, (1.0 - alpha) * g / jnp.where(alpha > 0, alpha, 1.0))
    return -size * g0 / jnp.where(g > 0, g, 1.0)


def _control(e, base, alpha, budget, step, lam, greedy):
    """The collective's gradient this step (see module docstring); ``greedy`` may be traced."""
    want_greedy = (e - step * (1.0 - alpha) * base) / (step * alpha)
    want_linear = (jnp.minimum(lam, 1.0 / step) * e - (1.0 - alpha) * base) / alpha
    return _clip(jnp.where(greedy, want_greedy, want_linear), budget)


def _greedy_flag(strategy):
    """``"greedy"``/``"linear"`` -> a boolean; a boolean array (True = greedy) passes through, so
    a batch of runs can be vmapped over strategies."""
    if isinstance(strategy, str):
        return jnp.asarray(v.choice("strategy", strategy, ("greedy", "linear")) == "greedy")
    return jnp.asarray(strategy, dtype=bool)


def _f(x):
    return jnp.asarray(x, dtype=jnp.float64)


# --------------------------------------------------------------------------- quadratic model
def neutralise_quadratic(model: Quadratic, alpha, budget, steps=1000, n_collective=20, width=1.0):
    """Train to the minimiser of the quadratic mixture against a neutralising collective.

    Collective points ``p_j = θ* + r_j u``, ``u = g0/‖g0‖``: ``r_j = k w`` with
    ``k = (1-α)g/(αC) <= 1`` (exact cancellation at ``θ*``), else ``r_j ∈ [w, 2w)`` (each pushes
    with the full budget). Step ``1/L``, ``L = (1-α) λ_max(H) + α C/w``; start at ``θ_base``.
    ``Run.plant_error`` is ``‖∇R_c(θ*) - c‖`` for the intended ``c``.
    """
    _check(alpha, budget, steps)
    return _neutralise_quadratic(model, _f(alpha), _f(budget), steps, n_collective, _f(width))


@partial(jax.jit, static_argnames=("steps", "n_collective"))
def _neutralise_quadratic(model, alpha, budget, steps, n_collective, width):
    g0 = quadratic_base_gradient(model, model.target)
    c = _anti_aligned(g0, alpha, budget)
    g = jnp.linalg.norm(g0)
    u = g0 / jnp.where(g > 0, g, 1.0)
    k = jnp.linalg.norm(c) / jnp.where(budget > 0, budget, 1.0)
    radii = width * jnp.where(k < 1.0, k, 1.0 + jnp.arange(n_collective) / n_collective)
    points = model.target[None, :] + radii[:, None] * u[None, :]
    err = jnp.linalg.norm(jnp.mean(_huber_grads(model.target, points, budget, width), 0) - c)
    lmax = jnp.linalg.eigvalsh(model.hessian)[-1]
    step = 1.0 / ((1.0 - alpha) * lmax + alpha * budget / width)

    def grad(theta, _):
        per = _huber_grads(theta, points, budget, width)
        mix = (1.0 - alpha) * quadratic_base_gradient(model, theta) + alpha * jnp.mean(per, 0)
        return mix, err, jnp.max(jnp.linalg.norm(per, axis=1))

    return _train(jnp.mean(model.base_points, axis=0), model.target, step, steps, grad)


def control_quadratic(
    model: Quadratic,
    alpha,
    budget,
    theta0,
    step,
    steps,
    strategy="greedy",
    base_grad_bound=None,
    n_collective=10,
    width=1.0,
) -> Run:
    """Gradient descent on the quadratic mixture; the collective re-plants every step.

    At ``θ_t`` the collective picks ``c_t`` (``strategy`` "greedy" or "linear", module docstring;
    or a boolean array, True = greedy, to vmap over strategies) and plants ``n_collective``
    copies of ``p_t = θ_t - w c_t/C`` (gradient exactly ``c_t``).
    ``base_grad_bound`` (the ``G`` of the linear strategy's ``λ``) defaults to
    :func:`quadratic_base_grad_bound` on the ball of radius ``‖θ0 - θ*‖``.
    """
    greedy = _greedy_flag(strategy)
    _check(alpha, budget, steps, controlling=True, step=step)
    theta0 = _f(theta0)
    if base_grad_bound is None:
        base_grad_bound = quadratic_base_grad_bound(model, jnp.linalg.norm(theta0 - model.target))
    args = (_f(alpha), _f(budget), theta0, _f(step), _f(base_grad_bound), _f(width), greedy)
    return _control_quadratic(model, *args, steps, n_collective)


@partial(jax.jit, static_argnames=("steps", "n_collective"))
def _control_quadratic(model, alpha, budget, theta0, step, G, width, greedy, steps, n_collective):
    dist0 = jnp.linalg.norm(theta0 - model.target)
    lam = (alpha * budget - (1.0 - alpha) * G) / dist0
    safe_budget = jnp.where(budget > 0, budget, 1.0)

    def grad(theta, _):
        base = quadratic_base_gradient(model, theta)
        c = _control(theta - model.target, base, alpha, budget, step, lam, greedy)
        points = jnp.broadcast_to(theta - width * c / safe_budget, (n_collective, theta.shape[0]))
        per = _huber_grads(theta, points, budget, width)
        realised = jnp.mean(per, 0)
        mix = (1.0 - alpha) * base + alpha * realised
        return mix, jnp.linalg.norm(realised - c), jnp.max(jnp.linalg.norm(per, axis=1))

    return _train(theta0, model.target, step, steps, grad)


def dp_sgd_quadratic(
    model: Quadratic,
    n_collective,
    clip,
    noise_multiplier,
    theta0,
    step,
    steps,
    keys,
    base_grad_bound=None,
    width=1.0,
) -> Run:
    """Full-batch DP-SGD on the quadratic model, one run per key in ``keys`` (vmapped).

    Batch ``b = n_base + n_collective``, ``α = n_collective/b``. Every per-example gradient is
    clipped to ``C = clip``, noise ``N(0, (σC/b)² I)`` is added to the mean, and ``optax.sgd``
    steps. The collective plays the *linear* control against the mean clipped base gradient, with
    ``λ = (αC - (1-α) min(G, C))/‖θ0 - θ*‖``; ``G`` defaults to :func:`quadratic_base_grad_bound`
    on the ball of radius ``‖θ0 - θ*‖``. Returns a :class:`Run` whose fields have a leading axis
    of length ``len(keys)``.
    """
    n_base = int(model.base_points.shape[0])
    b = n_base + v.positive_int("n_collective", n_collective)
    _check(n_collective / b, clip, steps, controlling=True, step=step)
    if v.is_concrete(noise_multiplier) and float(noise_multiplier) < 0:
        raise ACAInputError(f"noise_multiplier: {noise_multiplier!r} is negative")
    theta0 = _f(theta0)
    if base_grad_bound is None:
        base_grad_bound = quadratic_base_grad_bound(model, jnp.linalg.norm(theta0 - model.target))
    args = (_f(clip), _f(noise_multiplier), theta0, _f(step), _f(base_grad_bound), _f(width))
    run = jax.vmap(_dp_quadratic, in_axes=(None, 0, *([None] * 6), None, None))
    return run(model, keys, *args, steps, n_collective)


@partial(jax.jit, static_argnames=("steps", "n_collective"))
def _dp_quadratic(model, key, clip, sigma, theta0, step, G, width, steps, n_collective):
    n_base, dim = model.base_points.shape
    b = n_base + n_collective
    alpha = n_collective / b
    dist0 = jnp.linalg.norm(theta0 - model.target)
    lam = (alpha * clip - (1.0 - alpha) * jnp.minimum(G, clip)) / dist0
    safe_clip = jnp.where(clip > 0, clip, 1.0)

    def grad(theta, t):
        base = _clip(_quad_grads(theta, model.base_points, model.hessian), clip)
        c = _control(theta - model.target, jnp.mean(base, 0), alpha, clip, step, lam, False)
        points = jnp.broadcast_to(theta - width * c / safe_clip, (n_collective, dim))
        coll = _clip(_huber_grads(theta, points, clip, width), clip)  # a no-op: norms <= C
        noise = jax.random.normal(jax.random.fold_in(key, t), (dim,))
        total = (jnp.sum(base, 0) + jnp.sum(coll, 0)) / b + sigma * clip / b * noise
        err = jnp.linalg.norm(jnp.mean(coll, 0) - c)
        return total, err, jnp.max(jnp.linalg.norm(coll, axis=1))

    return _train(theta0, model.target, step, steps, grad)


# --------------------------------------------------------------------------- logistic model
def neutralise_logistic(model: Logistic, alpha, budget, steps=1000, n_collective=20) -> Run:
    """Train ridge logistic regression to its minimiser against a neutralising collective.

    The collective plants ``n_collective`` copies of ``(x*, +1)`` whose per-example gradient at
    ``θ*`` is the anti-aligned ``c`` (:func:`plant_logistic`). Step ``1/L`` with
    ``L = (1-α) max‖x_i‖²/4 + α‖x*‖²/4 + reg``; start at 0. The mixture is ``reg``-strongly convex.
    """
    _check(alpha, budget, steps)
    return _neutralise_logistic(model, _f(alpha), _f(budget), steps, n_collective)


@partial(jax.jit, static_argnames=("steps", "n_collective"))
def _neutralise_logistic(model, alpha, budget, steps, n_collective):
    g0 = logistic_base_gradient(model, model.target)
    c = _anti_aligned(g0, alpha, budget)
    x_star = plant_logistic(model.target, c, model.reg)
    xs = jnp.broadcast_to(x_star, (n_collective, x_star.shape[0]))
    ys = jnp.ones(n_collective)
    err = jnp.linalg.norm(jnp.mean(_logistic_grads(model.target, xs, ys, model.reg), 0) - c)
    smooth_base = jnp.max(jnp.sum(model.features**2, axis=1)) / 4.0
    step = 1.0 / ((1.0 - alpha) * smooth_base + alpha * x_star @ x_star / 4.0 + model.reg)

    def grad(theta, _):
        per = _logistic_grads(theta, xs, ys, model.reg)
        mix = (1.0 - alpha) * logistic_base_gradient(model, theta) + alpha * jnp.mean(per, 0)
        return mix, err, jnp.max(jnp.linalg.norm(per, axis=1))

    return _train(jnp.zeros_like(model.target), model.target, step, steps, grad)


def logistic_base_grad_bound(model: Logistic, radius) -> jax.Array:
    """``G`` on ``‖θ - θ*‖ <= radius``: ``max_i ‖x_i‖ + reg (‖θ*‖ + radius)``."""
    far = jnp.max(jnp.linalg.norm(model.features, axis=1))
    return far + model.reg * (jnp.linalg.norm(model.target) + radius)


def control_logistic(
    model: Logistic,
    alpha,
    budget,
    theta0,
    step,
    steps,
    strategy="greedy",
    base_grad_bound=None,
    n_collective=10,
) -> Run:
    """Gradient descent on logistic regression; the collective re-plants ``(x_t, +1)`` every step
    so that its per-example gradient at ``θ_t`` is the control ``c_t`` (:func:`plant_logistic`).

    ``base_grad_bound`` defaults to :func:`logistic_base_grad_bound` on the ball of radius
    ``‖θ0 - θ*‖``. ``Run.plant_error`` reports how exactly the planted points realised ``c_t``.
    """
    greedy = _greedy_flag(strategy)
    _check(alpha, budget, steps, controlling=True, step=step)
    theta0 = _f(theta0)
    if base_grad_bound is None:
        base_grad_bound = logistic_base_grad_bound(model, jnp.linalg.norm(theta0 - model.target))
    args = (_f(alpha), _f(budget), theta0, _f(step), _f(base_grad_bound), greedy)
    return _control_logistic(model, *args, steps, n_collective)


@partial(jax.jit, static_argnames=("steps", "n_collective"))
def _control_logistic(model, alpha, budget, theta0, step, G, greedy, steps, n_collective):
    dist0 = jnp.linalg.norm(theta0 - model.target)
    lam = (alpha * budget - (1.0 - alpha) * G) / dist0
    ys = jnp.ones(n_collective)

    def grad(theta, _):
        base = logistic_base_gradient(model, theta)
        c = _control(theta - model.target, base, alpha, budget, step, lam, greedy)
        x = plant_logistic(theta, c, model.reg)
        per = _logistic_grads(theta, jnp.broadcast_to(x, (n_collective, x.shape[0])), ys, model.reg)
        realised = jnp.mean(per, 0)
        mix = (1.0 - alpha) * base + alpha * realised
        return mix, jnp.linalg.norm(realised - c), jnp.max(jnp.linalg.norm(per, axis=1))

    return _train(theta0, model.target, step, steps, grad)
