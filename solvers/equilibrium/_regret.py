"""Regrets and NashConv of mixed profiles in N-player finite games (the equilibrium certificate).

Conventions shared by every equilibrium solver:

* ``payoffs``: array of shape ``(n_players, m_1, ..., m_n)``; ``payoffs[p][a_1, ..., a_n]`` is player
  ``p``'s payoff at the pure profile ``(a_1, ..., a_n)``. Any object with a ``payoff_tensor()``
  method returning such an array is accepted too. :func:`regrets` and :func:`nash_conv` of an
  :class:`aca_games.ACAGame` never build its tensor: they use deviation payoffs
  (:func:`solvers.equilibrium._deviations.game_regrets`), so they work at any size for pure
  profiles (option indices) and for mixed product profiles with small supports.
* ``profile``: a sequence of ``n_players`` mixed strategies, ``profile[p]`` of length ``m_p``.

For player ``p`` the *deviation payoffs* are ``d_p(a) = u_p(a, x_{-p})`` for each own action ``a``;
the expected payoff is ``u_p(x) = x_p · d_p``; the *regret* is ``max_a d_p(a) - u_p(x)`` (the most
``p`` gains by a unilateral switch to a pure action, which is also the most it gains by any mixed
switch); *NashConv* is the sum of the regrets. ``x`` is a Nash equilibrium iff NashConv is 0 and an
``ε``-Nash equilibrium iff every regret is at most ``ε``.

Everything here is plain numpy in float64 (independent of the JAX kernels it certifies), costing
``O(n · m_1 ⋯ m_n)`` per call.

>>> import numpy as np
>>> pennies = np.array([[[1.0, -1.0], [-1.0, 1.0]], [[-1.0, 1.0], [1.0, -1.0]]])
>>> half = np.array([0.5, 0.5])
>>> float(nash_conv(pennies, (half, half)))
0.0
>>> regrets(pennies, (np.array([1.0, 0.0]), half)).tolist()
[0.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aca_games import ACAGame, ACAInputError
from solvers._payoffs import payoff_tensor
from solvers.equilibrium._deviations import game_regrets

__all__ = ["deviation_payoffs", "expected_payoffs", "nash_conv", "regrets"]


def _profile(P: np.ndarray, profile: Sequence) -> list[np.ndarray]:
    n = P.shape[0]
    if len(profile) != n:
        raise ACAInputError(f"profile: expected {n} mixed strategies (one per player), got {len(profile)}")
    xs = []
    for p, x in enumerate(profile):
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        if x.shape[0] != P.shape[1 + p]:
            raise ACAInputError(
                f"profile[{p}]: expected {P.shape[1 + p]} probabilities (player {p}'s actions), "
                f"got {x.shape[0]}"
            )
        xs.append(x)
    return xs


def deviation_payoffs(payoffs, profile: Sequence) -> list[np.ndarray]:
    """``[d_0, ..., d_{n-1}]`` with ``d_p[a] = u_p(a, x_{-p})`` (player ``p``'s payoff per own action).

    >>> import numpy as np
    >>> P = np.stack([np.eye(2), np.eye(2)])
    >>> [d.tolist() for d in deviation_payoffs(P, ([1.0, 0.0], [0.25, 0.75]))]
    [[0.25, 0.75], [1.0, 0.0]]
    """
    P = payoff_tensor(payoffs)
    xs = _profile(P, profile)
    n = P.shape[0]
    out = []
    for p in range(n):
        T = P[p]
        # Contract the opponents' axes from the last to the first so the axis numbers stay valid.
        for q in reversed(range(n)):
            if q != p:
                T = np.tensordot(T, xs[q], axes=([q], [0]))
        out.append(np.asarray(T, dtype=np.float64))
    return out


def expected_payoffs(payoffs, profile: Sequence) -> np.ndarray:
    """Expected payoff ``u_p(x)`` of each player, shape ``(n_players,)``.

    >>> import numpy as np
    >>> P = np.stack([np.eye(2), 2 * np.eye(2)])
    >>> expected_payoffs(P, ([0.5, 0.5], [1.0, 0.0])).tolist()
    [0.5, 1.0]
    """
    P = payoff_tensor(payoffs)
    xs = _profile(P, profile)
    return np.array([float(d @ x) for d, x in zip(deviation_payoffs(P, xs), xs, strict=True)])


def regrets(payoffs, profile: Sequence) -> np.ndarray:
    """Each player's regret ``max_a u_p(a, x_{-p}) - u_p(x)``, shape ``(n_players,)``, clipped at 0.

    For a genuine mixed profile the difference is ``>= 0`` up to rounding; the clip only removes
    ``-1e-17``-sized noise (a profile that is not a probability vector is the caller's bug).
    An :class:`aca_games.ACAGame` of any size is handled without its tensor; its profile entries
    may be option indices or probability vectors (see the module docstring).
    """
    if isinstance(payoffs, ACAGame):
        return game_regrets(payoffs, profile)
    P = payoff_tensor(payoffs)
    xs = _profile(P, profile)
    ds = deviation_payoffs(P, xs)
    return np.array([max(float(d.max() - d @ x), 0.0) for d, x in zip(ds, xs, strict=True)])


def nash_conv(payoffs, profile: Sequence) -> float:
    """NashConv ``Σ_p regret_p`` (0 exactly at a Nash equilibrium); a Python float."""
    return float(regrets(payoffs, profile).sum())
