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

import math
import time
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from aca_games import ACAInputError
from solvers._solution import Solution
from solvers.equilibrium._continuous_kernels import (  # the tuning constants stay importable from here
    BACKTRACK,  # noqa: F401
    GOLDEN_ITERS,  # noqa: F401
    LR_DECAY,  # noqa: F401
    NEWTON_ITERS,  # noqa: F401
    NEWTON_STOP,  # noqa: F401
    REFINE_CELLS,
    SWITCH_TOL,  # noqa: F401
    _solve,
)
from solvers.equilibrium._sizing import (
    _check_int,
    _check_sizes,
    _positive,
    _problem,
    check_caps,  # noqa: F401  (solvers.statics imports it from here)
    sizing_payoff,
)

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
DEFAULT_MAX_ITER, DEFAULT_MAX_ROUNDS, DEFAULT_LEARNING_RATE = 2000, 50, 1e-2

_ADAM = optax.scale_by_adam()


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
