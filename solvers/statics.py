"""Comparative statics: derivatives of bounds, best responses and continuous equilibria (THEORY §5).

**Design: parameters enter through payoff functions.** An :class:`aca_games.ACAGame` is built in
Python (players validate their numbers), so a parameter ``θ`` cannot be traced through its
construction in general. The statics API therefore acts on a payoff function

    payoff(sizes, theta) -> (n_players,)

a pure JAX function of the sizes ``α`` and a parameter array ``θ`` (any shape). Three ways to get one:

* :func:`parametric_payoff` ``(game, "size_cost" | "value")``: ``θ`` replaces the players' size
  costs ``k_i`` or values ``v_i`` (a scalar for all players or one per player) in
  ``u_i = v_i·B_i(α) - c_i - k_i·α_i``;
* :func:`game_payoff` ``(game_fn)``: ``u(α, θ) = game_fn(θ).payoffs_at(profile, α)`` for a
  ``game_fn`` whose construction is traceable in ``θ`` — true when ``θ`` enters through the world's
  arrays (base masses, landing tables: e.g. a base-mass scale), the temperature ``tau`` or ``eps``;
* any hand-written function, e.g. from the kernels in :mod:`aca_games.bounds`.

The same functions drive :func:`solvers.equilibrium.continuous.continuous_nash` with
``args=(θ,)``, so re-solving at ``θ ± h`` (finite differences) reuses one compilation.

**Equilibria** (:func:`equilibrium_derivative`). At an equilibrium ``α*(θ)`` each *interior* player
satisfies ``F_i(α, θ) = ∂u_i/∂α_i = 0``; players at a bound of their box ``[0, cap_i]`` stay there
under small changes of ``θ`` when the bound is strictly active (``F_i < 0`` at 0, ``F_i > 0`` at the
cap), so their derivative is 0. With ``I`` the interior players, the implicit function theorem
gives

    dα*_I/dθ = -[∂F_I/∂α_I]^{-1} ∂F_I/∂θ,        dα*_i/dθ = 0 for i ∉ I.

Requirements, checked: interior first-order conditions hold (``|F_i| <= foc_tol``; a player at a kink
of the clipped closed form fails this — use the smooth surrogate or finite differences), active
players have the right sign, and ``∂F_I/∂α_I`` is invertible. A weakly active player
(``|F_i| <= foc_tol`` at a bound) has only one-sided derivatives: a warning says so and it is treated
as held.

**Best responses.** :func:`best_response_value_derivative` is the envelope theorem: with the others
fixed, ``V_i(θ) = max_{a ∈ [0, cap_i]} u_i(a, α_{-i}, θ)`` has ``dV_i/dθ = ∂u_i/∂θ`` at the (global,
unique) best response. :func:`best_response_derivative` is ``-u_i,aθ / u_i,aa`` at an interior
best response, 0 at a bound.

**Bounds.** :func:`bound_derivative` is ``jax.jacfwd`` of any bound written as a function of ``θ``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import ACAGame, ACAInputError
from solvers._solution import Solution
from solvers.equilibrium.continuous import DEFAULT_GRID, best_responses, check_caps, sizing_payoff

__all__ = [
    "ACTIVE_TOL",
    "FOC_TOL",
    "PARAMETERS",
    "best_response_derivative",
    "best_response_value_derivative",
    "bound_derivative",
    "equilibrium_derivative",
    "game_payoff",
    "parametric_payoff",
]

#: Game parameters :func:`parametric_payoff` can expose.
PARAMETERS = ("size_cost", "value")
#: A size within ACTIVE_TOL of 0 or of its cap is at that bound (sizes are shares in [0, 1)).
ACTIVE_TOL = 1e-9
#: First-order conditions count as satisfied when ``|∂u_i/∂α_i| <= FOC_TOL`` (payoff per unit size).
#: ``continuous_nash`` polishes with Newton to ~1e-15; a profile certified only to a gap ``g`` can
#: have ``|F_i| ~ sqrt(2 |u_i''| g)``, so loosen this (or re-solve tighter) for such profiles.
FOC_TOL = 1e-6
#: ``∂F/∂α`` on the interior players counts as singular beyond this condition number.
MAX_COND = 1e12


# ----------------------------------------------------------------------------------------------
# Payoff functions with a parameter.


def parametric_payoff(game: ACAGame, wrt: str, profile=None) -> tuple[Callable, np.ndarray]:
    """``(payoff(sizes, θ), θ0)`` with ``θ`` replacing the players' ``wrt`` in the game's payoff.

    ``wrt="size_cost"``: ``u_i = v_i·B_i(α) - c_i - θ_i·α_i``; ``wrt="value"``:
    ``u_i = θ_i·B_i(α) - c_i - k_i·α_i``, with ``B_i = game.success_at(profile, α)``. ``θ`` is a
    scalar (shared by all players) or one entry per player; ``θ0`` is the game's own vector, at
    which ``payoff(α, θ0) == game.payoffs_at(profile, α)``. Create it once and reuse it: every new
    function compiles its solver again.
    """
    if wrt not in PARAMETERS:
        raise ACAInputError(f"wrt: unknown parameter {wrt!r}, expected one of {list(PARAMETERS)}")
    sizing_payoff(game, profile)  # validates game and profile
    profile = (0,) * len(game.players) if profile is None else tuple(int(k) for k in profile)
    n = len(game.players)
    costs = jnp.asarray([p.costs[k] for p, k in zip(game.players, profile, strict=True)])
    values = game.values
    size_costs = jnp.asarray([p.size_cost for p in game.players])

    def payoff(sizes, theta):
        theta = jnp.broadcast_to(jnp.asarray(theta, dtype=jnp.float64), (n,))
        success = game.success_at(profile, sizes)
        if wrt == "size_cost":
            return values * success - costs - theta * sizes
        return theta * success - costs - size_costs * sizes

    theta0 = np.asarray(size_costs if wrt == "size_cost" else values)
    return payoff, theta0


def game_payoff(game_fn: Callable[..., ACAGame], profile=None) -> Callable:
    """``payoff(sizes, θ) = game_fn(θ).payoffs_at(profile, sizes)``.

    ``game_fn`` must build the game with ``θ`` traced: put ``θ`` into the world's arrays
    (``World(..., base=θ * P0, ...)``), ``tau`` or ``eps`` — not into ``Player`` numbers (use
    :func:`parametric_payoff` for values and size costs). A ``World`` with traced entries skips its
    checks *and its conversion to arrays*, so give every table (landing too) as a JAX array. The caps are
    not differentiated: take them from ``sizing_payoff(game_fn(θ0), profile)[1]``.
    """
    if not callable(game_fn):
        raise ACAInputError(f"game_fn: expected a function theta -> ACAGame, got {type(game_fn).__name__}")

    def payoff(sizes, theta):
        game = game_fn(theta)
        if not isinstance(game, ACAGame):
            raise ACAInputError(f"game_fn: must return an ACAGame, got {type(game).__name__}")
        fixed = (0,) * len(game.players) if profile is None else tuple(profile)
        return game.payoffs_at(fixed, sizes)

    return payoff


# ----------------------------------------------------------------------------------------------
# Checks.


def _theta(theta) -> jax.Array:
    try:
        arr = np.asarray(theta, dtype=np.float64)
    except (TypeError, ValueError):
        raise ACAInputError(f"theta: expected numbers, got {theta!r}") from None
    if not np.all(np.isfinite(arr)):
        raise ACAInputError(f"theta: NaN or inf at index {np.argwhere(~np.isfinite(arr))[0].tolist()}")
    return jnp.asarray(arr)


def _point(sizes, caps):
    """Sizes and caps from a Solution (its caps by default) or arrays; validated."""
    if isinstance(sizes, Solution):
        if not sizes.ok:
            raise ACAInputError(
                f"sizes: the solution's status is {sizes.status!r} (gap {sizes.certificate!r}); "
                "differentiate a certified equilibrium"
            )
        if caps is None:
            caps = sizes.stats.get("caps")
        sizes = sizes.value
    if caps is None:
        raise ACAInputError("caps: needed (one per player), or pass the Solution of continuous_nash")
    caps = check_caps(caps)
    try:
        a = np.asarray(sizes, dtype=np.float64)
    except (TypeError, ValueError):
        raise ACAInputError(f"sizes: expected numbers, got {sizes!r}") from None
    if a.shape != caps.shape or not np.all(np.isfinite(a)):
        raise ACAInputError(f"sizes: expected {caps.shape[0]} finite sizes, got {a!r}")
    if np.any(a < -ACTIVE_TOL) or np.any(a > caps + ACTIVE_TOL):
        raise ACAInputError(f"sizes: {a.tolist()} leave the box [0, caps] = [0, {caps.tolist()}]")
    return jnp.asarray(np.clip(a, 0.0, caps)), caps


def _own_grad(payoff, sizes, theta):
    return jnp.diagonal(jax.jacfwd(payoff, argnums=0)(sizes, theta))


@functools.partial(jax.jit, static_argnames="payoff")
def _focs(payoff, sizes, theta):
    """``F = ∂u_i/∂α_i``, ``∂F/∂α`` ``(n, n)`` and ``∂F/∂θ`` ``(n, *θ.shape)`` in one compiled call."""
    F_a, F = jax.jacfwd(lambda s: (_own_grad(payoff, s, theta),) * 2, has_aux=True)(sizes)
    F_t = jax.jacfwd(_own_grad, argnums=2)(payoff, sizes, theta)
    return F, F_a, F_t


@functools.partial(jax.jit, static_argnames="payoff")
def _at_best_responses(payoff, sizes, theta, br):
    """Per player ``i`` at ``(br_i, α_{-i})``: ``∂u_i/∂θ``, ``u_i,aθ`` and ``u_i,aa``."""

    def one(i, x):
        own = lambda y, t: payoff(sizes.at[i].set(y), t)[i]  # noqa: E731
        u_t = jax.grad(own, argnums=1)(x, theta)
        u_at = jax.grad(jax.grad(own, argnums=0), argnums=1)(x, theta)
        u_aa = jax.grad(jax.grad(own, argnums=0), argnums=0)(x, theta)
        return u_t, u_at, u_aa

    return jax.vmap(one)(jnp.arange(sizes.shape[0]), br)


# ----------------------------------------------------------------------------------------------
# Public API.


def equilibrium_derivative(
    payoff: Callable, theta, sizes, caps=None, *, active_tol: float = ACTIVE_TOL, foc_tol: float = FOC_TOL
) -> np.ndarray:
    """``dα*/dθ`` at a continuous equilibrium, by implicit differentiation (module docstring).

    Args:
        payoff: ``payoff(sizes, θ) -> (n_players,)``, a JAX function.
        theta: the parameter value (any shape) at which ``sizes`` is an equilibrium.
        sizes: the equilibrium sizes, or the :class:`~solvers.Solution` of
            ``continuous_nash(payoff, caps=..., args=(theta,))`` (its caps are used by default).
        caps: the box ``[0, cap_i]`` (fixed, not differentiated).
        active_tol: distance to a bound below which a player is at it.
        foc_tol: tolerance on the interior first-order conditions.

    Returns:
        ``D`` of shape ``(n_players, *θ.shape)``, ``D[i, ...] = dα*_i/dθ``; rows of players held at a
        bound are 0.

    Raises:
        ACAInputError: not an equilibrium (interior ``|F_i| > foc_tol`` — e.g. a kink of a clipped
            bound —, or a bound pushing the wrong way), a singular Jacobian, or bad input.

    >>> import jax.numpy as jnp
    >>> cournot = lambda a, c: a * (1.0 - jnp.sum(a)) - c * a     # α* = (1 - c)/3 each
    >>> equilibrium_derivative(cournot, 0.1, [0.3, 0.3], caps=[0.45, 0.45]).round(6).tolist()
    [-0.333333, -0.333333]
    """
    theta = _theta(theta)
    a, caps = _point(sizes, caps)
    foc, F_a, F_t = (np.asarray(x) for x in _focs(payoff, a, theta))
    if not (np.all(np.isfinite(foc)) and np.all(np.isfinite(F_a)) and np.all(np.isfinite(F_t))):
        raise ACAInputError("payoff: its derivatives are not finite at these sizes")
    a_np = np.asarray(a)
    lower, upper = a_np <= active_tol, a_np >= caps - active_tol
    for i in np.flatnonzero(~(lower | upper)):
        if abs(foc[i]) > foc_tol:
            raise ACAInputError(
                f"sizes[{i}]: interior but ∂u_{i}/∂α_{i} = {foc[i]:.3g} (> foc_tol = {foc_tol:g}); not a "
                "stationary point (a kink of a clipped bound, or not an equilibrium): implicit "
                "differentiation needs F_i = 0 — use the smooth surrogate or finite differences"
            )
    wrong = (lower & (foc > foc_tol)) | (upper & (foc < -foc_tol))
    if np.any(wrong):
        i = int(np.flatnonzero(wrong)[0])
        raise ACAInputError(
            f"sizes[{i}]: at a bound but its payoff rises into the box (∂u/∂α = {foc[i]:.3g}); "
            "not an equilibrium"
        )
    weak = (lower | upper) & (np.abs(foc) <= foc_tol)
    if np.any(weak):
        warnings.warn(
            f"players {np.flatnonzero(weak).tolist()} are weakly active (at a bound with ∂u/∂α ~ 0): "
            "their derivative is one-sided; treated as held at the bound",
            RuntimeWarning,
            stacklevel=2,
        )
    n = a_np.size
    free = np.flatnonzero(~(lower | upper))
    D = np.zeros((n, max(int(np.prod(theta.shape)), 1)))
    if free.size:
        A = F_a[np.ix_(free, free)]
        if np.linalg.cond(A) > MAX_COND:
            raise ACAInputError(
                "payoff: ∂F/∂α on the interior players is singular; the equilibrium is not locally "
                "unique, so dα*/dθ is not defined"
            )
        D[free] = -np.linalg.solve(A, F_t.reshape(n, -1)[free])
    return D.reshape((n, *theta.shape))


def best_response_value_derivative(
    payoff: Callable, theta, sizes, caps, *, grid: int = DEFAULT_GRID
) -> np.ndarray:
    """Envelope theorem: ``dV_i/dθ = ∂u_i/∂θ`` at player ``i``'s best response, others fixed.

    ``V_i(θ) = max_{a ∈ [0, cap_i]} u_i(a, α_{-i}, θ)``, the best response found by the global search
    of :func:`~solvers.equilibrium.continuous.best_responses`. Valid where that maximiser is unique
    (at a tie between two global maxima ``V_i`` has a kink). Shape ``(n_players, *θ.shape)``.
    """
    theta = _theta(theta)
    a, caps = _point(sizes, caps)
    br, _ = best_responses(payoff, sizes=np.asarray(a), caps=caps, grid=grid, args=(theta,))
    return np.asarray(_at_best_responses(payoff, a, theta, jnp.asarray(br))[0])


def best_response_derivative(
    payoff: Callable, theta, sizes, caps, *, grid: int = DEFAULT_GRID, active_tol: float = ACTIVE_TOL
) -> np.ndarray:
    """``d BR_i/dθ`` with the others fixed: ``-u_i,aθ / u_i,aa`` at an interior best response, 0 at a
    bound. Shape ``(n_players, *θ.shape)``; requires ``u_i,aa < 0`` there (a strict local maximum)."""
    theta = _theta(theta)
    a, caps = _point(sizes, caps)
    br, _ = best_responses(payoff, sizes=np.asarray(a), caps=caps, grid=grid, args=(theta,))
    _, u_at, curvature = (np.asarray(x) for x in _at_best_responses(payoff, a, theta, jnp.asarray(br)))
    n = br.size
    safe = np.where(curvature != 0.0, curvature, 1.0)
    D = -u_at / safe.reshape((n,) + (1,) * (u_at.ndim - 1))
    interior = (br > active_tol) & (br < caps - active_tol)
    if np.any(interior & ~(curvature < 0)):
        i = int(np.flatnonzero(interior & ~(curvature < 0))[0])
        raise ACAInputError(
            f"player {i}: best response is not a strict local maximum (u_aa = {curvature[i]:.3g})"
        )
    mask = interior.reshape((n,) + (1,) * (D.ndim - 1))
    return np.where(mask, D, 0.0)


def bound_derivative(bound_fn: Callable, theta) -> np.ndarray:
    """``jax.jacfwd(bound_fn)(θ)``: the derivative of any bound written as a function of ``θ``.

    Bounds are pure JAX functions of their parameters (sizes, noise, world arrays), so this is plain
    forward-mode differentiation; piecewise-constant bounds (staircase, oracle) have derivative 0
    almost everywhere — differentiate their smooth surrogates (:mod:`aca_games.bounds.smooth`).

    >>> from aca_games import Collective, World, bounds
    >>> w = World(points=["a", "b"], labels=["no", "yes"], base=[[0.3, 0.1], [0.2, 0.2]],
    ...           landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
    >>> c = Collective("c", 0.8, "g", target="yes")
    >>> d = bound_derivative(lambda a: bounds.closed_form(w, c.with_size(a)), 0.8)
    >>> round(float(d), 9)   # (Δξ + |X*|·TIE_TOL)/α² = (0.4 + 2e-12)/0.64
    0.625
    """
    theta = _theta(theta)
    out = np.asarray(jax.jacfwd(bound_fn)(theta))
    if not np.all(np.isfinite(out)):
        raise ACAInputError("bound_fn: its derivative is not finite at theta")
    return out
