"""The sizing game of :mod:`solvers.equilibrium.continuous` and its input checks: an
:class:`~aca_games.ACAGame` at a fixed option profile as a JAX function of the sizes
(:func:`sizing_payoff`), caps (:func:`check_caps`), and the resolution of ``(game, profile, caps,
args)`` into ``(payoff function, parameters, caps)``.
"""

from __future__ import annotations

import numbers
import weakref
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import ACAGame, ACAInputError
from aca_games._validate import finite_array

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
