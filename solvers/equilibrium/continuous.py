"""Continuous sizing games: projected gradient play with a best-response-gap certificate (THEORY §5).

Every player ``i`` keeps its discrete option (fixed by ``profile``) and chooses its recruited size
``α_i ∈ [0, cap_i]``; its payoff is ``u_i(α) = game.payoffs_at(profile, α)[i]``
(``v_i·B_i(α) - c_i - k_i·α_i``). A profile ``α`` is an equilibrium iff its **best-response gap**

    gap(α) = max_i [ max_{a ∈ [0, cap_i]} u_i(a, α_{-i}) - u_i(α) ]

is 0; ``continuous_nash`` returns ``status="converged"`` only when the certified gap is ``<= tol``.

Certificate (:func:`best_response_gap`). A *global* 1-D search per player, all players at once
(``vmap``): the own payoff on a dense grid of ``grid`` points over ``[0, cap_i]`` (endpoints
included), then golden-section refinement (:data:`GOLDEN_ITERS` steps) of the :data:`REFINE_CELLS`
best grid-local maxima, each on the two cells around it, plus the current size itself. No concavity
is assumed, so non-concave payoffs (steep sigmoid steps of the smooth surrogate, kinks of the clipped
closed form) are handled honestly. What the search can miss is a peak narrower than the grid spacing
``cap_i/(grid-1)``; the returned gap is then a lower bound on the true one. The smooth surrogate's
steps have width ``~τ / (landing mass)`` in size, far wider than the default spacing (~1e-4) for the
temperatures used in games; use a finer ``grid`` for tiny ``τ``.

Algorithm (:func:`continuous_nash`, all inside one jitted call):

1. **Projected gradient play** (``method="gradient"``): every player ascends its own payoff,
   ``α <- Π_box(α - η_t·Adam(-∇_own u))`` (optax ``scale_by_adam``; ``η_t = η/√(1 + t/100)``)
   in a ``lax.while_loop``, until the natural residual ``max_i |Π(α_i + ∂_i u_i) - α_i|`` is below
   :data:`SWITCH_TOL` or ``max_iter`` steps are spent. ``method="best_response"`` skips it.
2. **Polish**, rounds of (at most ``max_rounds``):
   a. Newton on the first-order conditions ``F_i(α) = ∂u_i/∂α_i = 0`` of the *free* players, with
      the Jacobian ``jax.jacfwd(F)``. Held fixed: players at a bound pushing outwards (``α_i = 0``
      with ``F_i <= 0``, ``α_i = cap_i`` with ``F_i >= 0``) and players not locally concave in their
      own size (``∂F_i/∂α_i >= 0``: Newton would head for a minimum). Steps are projected on the
      box, with backtracking on the natural residual; non-finite steps (kinks, flat pieces) are
      rejected.
   b. The certificate. Done if the gap is ``<= tol``.
   c. Otherwise best-response jumps to the certificate's global best responses: every player whose
      gap exceeds ``tol`` while the gap keeps falling (Jacobi), else only the worst player (one
      player at a time: each jump raises the potential of a potential game, so no cycling there);
      then back to (a). This escapes
      local maxima where gradient play stalls (e.g. below a sigmoid step of the surrogate, or in
      the flat zero-success piece of the clipped closed form).
   The profile with the smallest certified gap seen is returned.

Payoffs: an :class:`aca_games.ACAGame` with a differentiable bound (``"smooth"``: smooth everywhere;
``"closed_form"``: piecewise smooth, kinks where the clip to [0, 1] starts), or any JAX function
``payoff(sizes, *args) -> (n_players,)`` with ``caps``. With ``"exact"``/``"per_point"`` the gradient
is 0 almost everywhere and the solver reduces to best-response jumps; their steps are open sets in the
sizes (ties fail), so best responses are often not attained and an exact equilibrium may not exist:
expect ``"max_iter"`` (honestly), and use the smooth surrogate.

>>> import jax.numpy as jnp
>>> def cournot(a, c):             # u_i = a_i (1 - a_1 - a_2) - c a_i; equilibrium (1 - c)/3
...     return a * (1.0 - jnp.sum(a)) - c * a
>>> sol = continuous_nash(cournot, caps=[0.45, 0.45], args=(0.1,))
>>> sol.status, [round(float(x), 6) for x in sol.value], sol.certificate <= 1e-8
('converged', [0.3, 0.3], True)
"""

from __future__ import annotations

import functools
import math
import numbers
import time
import weakref
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from aca_games import ACAGame, ACAInputError
from aca_games._validate import finite_array
from solvers._solution import Solution

__all__ = [
    "DEFAULT_GRID",
    "METHODS",
    "best_response_gap",
    "best_responses",
    "continuous_nash",
    "sizing_payoff",
]

METHODS = ("gradient", "best_response")
#: Grid points per player of the global best-response search (spacing ``cap/4096``).
DEFAULT_GRID = 4097
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
DEFAULT_MAX_ITER, DEFAULT_MAX_ROUNDS, DEFAULT_LEARNING_RATE = 2000, 50, 1e-2
#: Step-size decay of gradient play: ``η_t = η / sqrt(1 + t / LR_DECAY)``.
LR_DECAY = 100.0

_ADAM = optax.scale_by_adam()
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


# ----------------------------------------------------------------------------------------------
# Payoff functions and input checks.

_GAME_PAYOFFS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def sizing_payoff(game: ACAGame, profile=None) -> tuple[Callable, np.ndarray]:
    """The sizing game of ``game`` at ``profile``: ``(payoff, default_caps)``.

    ``payoff(sizes) = game.payoffs_at(profile, sizes)`` (a JAX function, shape ``(n_players,)``);
    the default caps are the sizes of the options in ``profile``. The function object is cached per
    game and profile, so repeated solves reuse the compiled kernels.
    """
    if not isinstance(game, ACAGame):
        raise ACAInputError(f"game: expected an ACAGame, got {type(game).__name__}")
    profile = _check_profile(game, profile)
    per_game = _GAME_PAYOFFS.setdefault(game, {})
    if profile not in per_game:
        ref = weakref.ref(game)  # the cached function (a static jit key) must not keep the game alive
        per_game[profile] = lambda sizes: ref().payoffs_at(profile, sizes)
    caps = np.array([float(p.options[k].size) for p, k in zip(game.players, profile, strict=True)])
    return per_game[profile], caps


def _check_profile(game: ACAGame, profile) -> tuple[int, ...]:
    n = len(game.players)
    if profile is None:
        return (0,) * n
    try:
        profile = tuple(profile)
    except TypeError:
        raise ACAInputError(f"profile: expected one option index per player, got {profile!r}") from None
    if len(profile) != n:
        raise ACAInputError(f"profile: expected {n} option indices (one per player), got {len(profile)}")
    for i, (k, m) in enumerate(zip(profile, game.shape, strict=True)):
        if not isinstance(k, numbers.Integral) or isinstance(k, bool) or not 0 <= k < m:
            raise ACAInputError(f"profile[{i}]: expected an option index in 0..{m - 1}, got {k!r}")
    return tuple(int(k) for k in profile)


def _finite(name: str, value, shape=None) -> np.ndarray:
    arr = finite_array(name, value)
    if shape is not None and arr.shape != shape:
        raise ACAInputError(f"{name}: expected shape {shape}, got {arr.shape}")
    return arr


def check_caps(caps, n: int | None = None) -> np.ndarray:
    """Caps are sizes: each in ``[0, 1)`` and summing to less than 1 (bystanders remain)."""
    caps = _finite("caps", caps)
    if caps.ndim != 1 or (n is not None and caps.shape != (n,)) or caps.size == 0:
        want = f"({n},)" if n is not None else "(n_players,)"
        raise ACAInputError(f"caps: expected one cap per player, shape {want}, got {caps.shape}")
    bad = np.flatnonzero((caps < 0) | (caps >= 1))
    if bad.size:
        raise ACAInputError(f"caps[{bad[0]}]: {caps[bad[0]]!r} is outside [0, 1); caps are population shares")
    if caps.sum() >= 1:
        raise ACAInputError(
            f"caps: they sum to {caps.sum():.6g} >= 1; every profile must leave bystanders (Σ α_i < 1)"
        )
    return caps


def _check_sizes(name: str, sizes, caps: np.ndarray) -> np.ndarray:
    sizes = _finite(name, sizes, caps.shape)
    bad = np.flatnonzero((sizes < 0) | (sizes > caps))
    if bad.size:
        i = int(bad[0])
        raise ACAInputError(f"{name}[{i}]: {sizes[i]!r} is outside [0, cap] = [0, {caps[i]!r}]")
    return sizes


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ACAInputError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _positive(name: str, value) -> float:
    x = float(_finite(name, value, ()))
    if x <= 0:
        raise ACAInputError(f"{name}: expected a positive number, got {x!r}")
    return x


def _problem(game, profile, caps, args):
    """Resolve ``(fun, params, caps)`` with ``fun(sizes, *params) -> (n,)``."""
    if isinstance(game, ACAGame):
        if args:
            raise ACAInputError("args: only for payoff functions; an ACAGame takes no extra arguments")
        fun, default_caps = sizing_payoff(game, profile)
        caps = check_caps(default_caps if caps is None else caps, len(game.players))
        return fun, (), caps
    if not callable(game):
        raise ACAInputError(f"game: expected an ACAGame or a payoff function, got {type(game).__name__}")
    if profile is not None:
        raise ACAInputError("profile: only for an ACAGame; a payoff function has no options")
    if caps is None:
        raise ACAInputError("caps: a payoff function needs explicit caps (one per player)")
    caps = check_caps(caps)
    params = tuple(jnp.asarray(a, dtype=jnp.float64) for a in args)
    for k, a in enumerate(params):
        if not bool(jnp.all(jnp.isfinite(a))):
            raise ACAInputError(f"args[{k}]: NaN or inf; every parameter must be finite")
    try:
        out = jax.eval_shape(game, jnp.asarray(caps), *params)
    except Exception as err:  # noqa: BLE001 - any tracing failure is the caller's payoff
        raise ACAInputError(f"payoff: cannot be traced by JAX at sizes=caps ({err})") from err
    if getattr(out, "shape", None) != caps.shape:
        raise ACAInputError(f"payoff: must return one payoff per player, shape {caps.shape}, got {out}")
    return game, params, caps


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


# ----------------------------------------------------------------------------------------------
# Public API.


def continuous_nash(
    game,
    profile=None,
    caps=None,
    init=None,
    method: str = "gradient",
    tol: float = 1e-8,
    max_iter: int = DEFAULT_MAX_ITER,
    grid: int = DEFAULT_GRID,
    *,
    args: Sequence = (),
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    polish: bool = True,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    optimizer: optax.GradientTransformation | None = None,
) -> Solution:
    """Equilibrium of the continuous sizing game, certified by the best-response gap.

    Args:
        game: an :class:`aca_games.ACAGame`, or a JAX payoff function ``payoff(sizes, *args)``
            returning one payoff per player (then ``caps`` is required and ``profile`` must be None).
        profile: one option index per player (default all zeros); fixes every player's discrete
            option (signal, label, strategy, noise, option cost).
        caps: the largest size of each player (default: the size of its option in ``profile``);
            each in ``[0, 1)`` and summing to less than 1.
        init: starting sizes (default ``caps / 2``), inside the box.
        method: ``"gradient"`` (projected gradient play, then the polish) or ``"best_response"``
            (polish only: Newton and best-response jumps from ``init``).
        tol: target best-response gap, in payoff units.
        max_iter: gradient-play steps at most.
        grid: grid points per player of the global best-response search (>= 2 * REFINE_CELLS).
        args: extra (traced) arguments of a payoff function, e.g. a parameter ``θ``; changing their
            values reuses the compiled solver.
        max_rounds: polish rounds at most (Newton + certificate + jumps).
        polish: ``False`` returns gradient play's last iterate with its certificate (for diagnosis).
        learning_rate: initial gradient-play step ``η``.
        optimizer: an optax transformation applied to the negated own gradients instead of
            ``scale_by_adam`` (its output is scaled by ``-η_t``; e.g. ``optax.identity()`` for plain
            projected gradient ascent). Reuse the same object across calls to reuse compilations.

    Returns:
        :class:`~solvers.Solution` with ``value`` the sizes (numpy, ``(n_players,)``),
        ``certificate`` the best-response gap (max over players), ``status`` ``"converged"`` iff it
        is ``<= tol``, ``"error"`` if a payoff was not finite, ``"max_iter"`` otherwise, and
        ``stats``: per-player ``gaps``, ``best_responses``, ``payoffs``, ``caps``, gradient steps and
        final residual, polish rounds, Newton steps, ``method``, ``grid``, ``seconds``.

    Raises:
        ACAInputError: caps outside ``[0, 1)`` or summing to >= 1, non-finite inputs, a bad profile,
            ``init`` outside the box, an unknown method, or a payoff of the wrong shape.
    """
    t0 = time.perf_counter()
    if method not in METHODS:
        raise ACAInputError(f"method: unknown {method!r}, expected one of {list(METHODS)}")
    fun, params, caps = _problem(game, profile, caps, args)
    tol = _positive("tol", tol)
    lr = _positive("learning_rate", learning_rate)
    max_iter = _check_int("max_iter", max_iter, 0)
    max_rounds = _check_int("max_rounds", max_rounds, 1)
    grid = _check_int("grid", grid, 2 * REFINE_CELLS)
    a0 = caps / 2.0 if init is None else _check_sizes("init", init, caps)
    steps = max_iter if method == "gradient" else 0
    best, counters = _solve(
        fun,
        params,
        jnp.asarray(caps),
        jnp.asarray(a0),
        tol,
        lr,
        steps,
        max_rounds if polish else 1,
        bool(polish),
        grid=grid,
        optimizer=optimizer or _ADAM,
    )
    a, br, gaps, gap, finite, payoffs = jax.device_get(best)
    finite = bool(np.all(finite))
    grad_steps, residual, rounds, newton_steps = (np.asarray(c).item() for c in jax.device_get(counters))
    gap = float(gap)
    if not bool(finite) or not math.isfinite(gap):
        status = "error"
    else:
        status = "converged" if gap <= tol else "max_iter"
    stats = {
        "gaps": np.asarray(gaps),
        "best_responses": np.asarray(br),
        "payoffs": payoffs,
        "caps": caps,
        "gradient_steps": int(grad_steps),
        "gradient_residual": float(residual),
        "rounds": int(rounds),
        "newton_steps": int(newton_steps),
        "method": method,
        "grid": grid,
        "tol": tol,
        "seconds": time.perf_counter() - t0,
    }
    if status == "error":
        stats["message"] = "a payoff evaluated to NaN or inf; the certificate cannot be trusted"
    return Solution(value=np.asarray(a, dtype=np.float64), status=status, certificate=gap, stats=stats)


def best_responses(game, profile=None, sizes=None, caps=None, *, grid: int = DEFAULT_GRID, args=()):
    """Global best response of every player to ``sizes`` (others fixed): ``(sizes*, values)``.

    Same search as the certificate (see the module docstring). Arguments as in
    :func:`best_response_gap`.
    """
    br, gaps, cur = _evaluate(game, profile, sizes, caps, grid, args)
    return br, gaps + cur


def best_response_gap(game, profile=None, sizes=None, caps=None, *, grid: int = DEFAULT_GRID, args=()):
    """Per-player best-response gaps ``max_{a ∈ [0, cap_i]} u_i(a, α_{-i}) - u_i(α)``, shape ``(n,)``.

    Args:
        game: an ``ACAGame`` or a payoff function ``payoff(sizes, *args)`` (then ``caps`` required).
        profile: option indices (``ACAGame`` only; default all zeros).
        sizes: the profile of sizes ``α`` (default ``caps / 2``), inside the box.
        caps: the box (default: the sizes of the options in ``profile``).
        grid: grid points per player of the global search.

    Returns ``nan`` for a player whose payoff was not finite somewhere on its grid.

    >>> import jax.numpy as jnp
    >>> cournot = lambda a: a * (1.0 - jnp.sum(a))
    >>> [round(float(g), 6) for g in best_response_gap(cournot, sizes=[0.2, 0.2], caps=[0.45, 0.45])]
    [0.04, 0.04]
    """
    return _evaluate(game, profile, sizes, caps, grid, args)[1]


def _evaluate(game, profile, sizes, caps, grid, args):
    fun, params, caps = _problem(game, profile, caps, args)
    grid = _check_int("grid", grid, 2 * REFINE_CELLS)
    a = caps / 2.0 if sizes is None else _check_sizes("sizes", sizes, caps)
    # the solver's own program with no gradient step, no polish and one round: the certificate at
    # ``a`` (shares the compilation with continuous_nash on the same payoff)
    best, _ = _solve(
        fun, params, jnp.asarray(caps), jnp.asarray(a), 1.0, 1.0, 0, 1, False, grid=grid, optimizer=_ADAM
    )
    _, br, gaps, _, _, cur = (np.asarray(x) for x in jax.device_get(best))
    return br, gaps, cur
