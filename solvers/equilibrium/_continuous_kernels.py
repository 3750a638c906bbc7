"""Kernels of :mod:`solvers.equilibrium.continuous` (pure JAX; the payoff function ``fun`` is static,
its ``params`` traced): the global best-response search behind the certificate, projected Newton,
projected gradient play, and the jitted solve loop. The algorithm is described in the module
docstring of :mod:`solvers.equilibrium.continuous`.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

#: Grid-local maxima refined by golden section, and golden-section steps per refinement: the bracket
#: of two cells shrinks by about 0.618 per step, 0.618^48 ~ 1e-10, i.e. to ~1e-14 in size at the
#: default grid.
REFINE_CELLS, GOLDEN_ITERS = 4, 48
#: Gradient play hands over to the polish once the natural residual ``max_i |Π(α_i + ∂_i u_i) - α_i|``
#: is below this: gradient play does the global part of the walk, Newton the last digits (a miss is
#: caught by the certificate and answered by best-response jumps).
SWITCH_TOL = 1e-2
#: Newton: at most NEWTON_ITERS evaluations per round; stop at a natural residual <= NEWTON_STOP
#: (rounding level for payoffs of order 1) or after BACKTRACK step halvings without progress.
NEWTON_ITERS, NEWTON_STOP, BACKTRACK = 40, 1e-15, 8
#: Step-size decay of gradient play: ``η_t = η / sqrt(1 + t / LR_DECAY)``.
LR_DECAY = 100.0
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


# ----------------------------------------------------------------------------------------------
# Kernels (pure JAX; ``fun`` static, ``params`` traced).


def _own_grad(fun, params, a):
    return jnp.diagonal(jax.jacfwd(lambda s: fun(s, *params))(a))


def _refine(f, lo, mid, fmid, hi):
    """Golden-section maximisation on ``[lo, hi]`` seeded with an interior point ``mid`` (a grid
    point, value ``fmid``): each step probes the golden point of the larger side. Returns the best
    point and value seen. One payoff call site (compile time)."""

    def body(_, st):
        lo, mid, fmid, hi = st
        right = hi - mid > mid - lo
        x = jnp.where(right, mid + (1.0 - _GOLDEN) * (hi - mid), mid - (1.0 - _GOLDEN) * (mid - lo))
        fx = f(x)
        better = fx > fmid  # the new point becomes the centre; the old centre bounds its side
        lo_new = jnp.where(right, jnp.where(better, mid, lo), jnp.where(better, lo, x))
        hi_new = jnp.where(right, jnp.where(better, hi, x), jnp.where(better, mid, hi))
        return lo_new, jnp.where(better, x, mid), jnp.where(better, fx, fmid), hi_new

    _, mid, fmid, _ = jax.lax.fori_loop(0, GOLDEN_ITERS, body, (lo, mid, fmid, hi))
    return mid, fmid


def _best_response_one(fun, params, a, caps, i, grid):
    """Global best response of player ``i``: ``(x*, u_i(x*, a_{-i}), u_i(a), all finite)``."""
    f = lambda x: fun(a.at[i].set(x), *params)[i]  # noqa: E731
    xs = caps[i] * jnp.linspace(0.0, 1.0, grid)
    both = jax.vmap(f)(jnp.concatenate([xs, a[i][None]]))  # the grid and the current size
    vals, current = both[:-1], both[-1]
    finite = jnp.all(jnp.isfinite(both))
    vals = jnp.where(jnp.isfinite(vals), vals, -jnp.inf)
    pad = jnp.full((1,), -jnp.inf)
    left, right = jnp.concatenate([pad, vals[:-1]]), jnp.concatenate([vals[1:], pad])
    peaks = jnp.where((vals >= left) & (vals >= right), vals, -jnp.inf)
    top, idx = jax.lax.top_k(peaks, REFINE_CELLS)
    lo, hi = xs[jnp.maximum(idx - 1, 0)], xs[jnp.minimum(idx + 1, grid - 1)]
    rx, rv = jax.vmap(lambda lo, mid, fm, hi: _refine(f, lo, mid, fm, hi))(lo, xs[idx], top, hi)
    rv = jnp.where(jnp.isfinite(rv), rv, -jnp.inf)
    xs_all = jnp.concatenate([rx, a[i][None]])
    vs_all = jnp.concatenate([rv, jnp.where(jnp.isfinite(current), current, -jnp.inf)[None]])
    j = jnp.argmax(vs_all)
    return xs_all[j], vs_all[j], current, finite


def _certificate(fun, params, a, caps, grid):
    """Best responses, their values, current payoffs and finiteness for all players (vmapped)."""
    idx = jnp.arange(a.shape[0])
    return jax.vmap(lambda i: _best_response_one(fun, params, a, caps, i, grid))(idx)


def _newton(fun, params, a, caps):
    """Projected Newton on the first-order conditions of the free players (see module docstring).

    One evaluation per iteration (one payoff call site, for compile time): the candidate
    ``Π(a + t·d)`` is accepted if its natural residual is below the last accepted one (then a new
    direction ``d`` is computed there, ``t = 1``), else ``t`` is halved; :data:`BACKTRACK` halvings
    without progress stop the loop."""
    n = a.shape[0]
    grad = lambda s: _own_grad(fun, params, s)  # noqa: E731
    with_value = lambda s: (grad(s), grad(s))  # noqa: E731  (F and its Jacobian from one trace)

    def cond(st):
        k, _, _, t, r, _ = st
        return (k < NEWTON_ITERS) & (t >= 0.5**BACKTRACK) & (r > NEWTON_STOP)

    def body(st):
        k, a, d, t, r, accepted = st
        c = jnp.clip(a + t * d, 0.0, caps)
        J, F = jax.jacfwd(with_value, has_aux=True)(c)
        r_c = jnp.max(jnp.abs(jnp.clip(c + F, 0.0, caps) - c))
        # held: at a bound pushing outwards, or not locally concave in its own size (Newton would
        # head for a minimum or divide by ~0; such players move by best-response jumps instead)
        held = ((c <= 0.0) & (F <= 0.0)) | ((c >= caps) & (F >= 0.0)) | ~(jnp.diagonal(J) < 0.0)
        free = ~held
        Jm = jnp.where(free[:, None] & free[None, :], J, jnp.eye(n))
        d_c = jnp.linalg.solve(Jm, jnp.where(free, -F, 0.0))
        ok = (r_c < r) & jnp.all(jnp.isfinite(d_c)) & jnp.all(jnp.isfinite(c))
        return (
            k + 1,
            jnp.where(ok, c, a),
            jnp.where(ok, d_c, d),
            jnp.where(ok, 1.0, 0.5 * t),
            jnp.where(ok, r_c, r),
            accepted + ok,
        )

    start = (0, a, jnp.zeros_like(a), 1.0, jnp.inf, 0)
    _, a, _, _, _, accepted = jax.lax.while_loop(cond, body, start)
    return a, jnp.maximum(accepted - 1, 0)


def _gradient_play(fun, params, a, caps, lr, max_iter, optimizer):
    def cond(st):
        t, _, _, r = st
        return (t < max_iter) & (r > SWITCH_TOL)

    def body(st):
        t, a, s, _ = st
        g = _own_grad(fun, params, a)
        r = jnp.max(jnp.abs(jnp.clip(a + g, 0.0, caps) - a))
        upd, s = optimizer.update(-g, s, a)
        eta = lr / jnp.sqrt(1.0 + t / LR_DECAY)
        a_new = jnp.clip(a - eta * upd, 0.0, caps)
        done = r <= SWITCH_TOL  # the residual was measured before the step: keep that point
        return t + 1, jnp.where(done, a, a_new), s, r

    t, a, _, r = jax.lax.while_loop(cond, body, (0, a, optimizer.init(a), jnp.inf))
    return a, t, r


@functools.partial(jax.jit, static_argnames=("fun", "grid", "optimizer"))
def _solve(fun, params, caps, a0, tol, lr, max_iter, max_rounds, polish, *, grid, optimizer):
    """Gradient play, then rounds of Newton + certificate + best-response jumps. Only ``fun``,
    ``grid`` and ``optimizer`` are static (one compilation per payoff function); without ``polish``
    one round computes the certificate of gradient play's last iterate (with ``max_iter=0``: of
    ``a0`` — how :func:`best_response_gap` reuses this compilation). Returns the best round's
    ``(sizes, best responses, gaps, max gap, finite, payoffs)`` and counters."""
    n = a0.shape[0]
    a, grad_steps, residual = _gradient_play(fun, params, a0, caps, lr, max_iter, optimizer)

    def cond(st):
        k, _, _, _, best = st
        return (k < max_rounds) & ~(best[3] <= tol)

    def body(st):
        k, a, newton_steps, prev_gap, best = st
        a, steps = jax.lax.cond(polish, lambda a: _newton(fun, params, a, caps), lambda a: (a, 0), a)
        br, vbest, cur, finite = _certificate(fun, params, a, caps, grid)
        gaps = jnp.where(finite, vbest - cur, jnp.nan)
        gap = jnp.max(gaps)  # NaN if any payoff was not finite
        improved = (k == 0) | (jnp.all(finite) & ~(gap >= best[3]))
        new = (a, br, gaps, gap, finite, cur)
        best = jax.tree_util.tree_map(lambda x, y: jnp.where(improved, x, y), new, best)
        # best-response jumps: every player above tol while the gap keeps falling (Jacobi), else only
        # the worst one (one at a time: no cycling in potential games)
        move = jnp.where(gap < prev_gap, gaps > tol, jnp.arange(n) == jnp.argmax(gaps))
        a = jnp.where(move & (gaps > tol) & polish, br, a)
        return k + 1, a, newton_steps + steps, gap, best

    nothing = (a, a, jnp.full_like(a, jnp.inf), jnp.inf, jnp.zeros(n, dtype=bool), a)  # replaced at k = 0
    k, _, newton_steps, _, best = jax.lax.while_loop(cond, body, (0, a, 0, jnp.inf, nothing))
    return best, (grad_steps, residual, k, newton_steps)
