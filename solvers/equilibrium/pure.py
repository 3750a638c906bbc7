"""Pure Nash equilibria of N-player finite games by exact, vectorised enumeration (THEORY §5).

A pure profile ``a = (a_1, ..., a_n)`` is a Nash equilibrium iff no player gains by a unilateral
switch: ``u_p(a) >= max_b u_p(b, a_{-p})`` for every player ``p``. With the payoff tensor
``payoffs`` of shape ``(n_players, m_1, ..., m_n)`` this is one ``max`` over player ``p``'s own axis
of ``payoffs[p]`` per player, broadcast back and compared with ``payoffs[p]`` itself: ``O(n · Π m_i)``
work and memory, no Python loop over profiles (6 players x 6 actions = 46,656 profiles take about a
millisecond).

Tolerance: with ``tol = 0`` (the default) the comparison is exact in float64 — a profile is returned
iff every player's payoff *equals* the maximum over its own deviations, so exact ties (common in ACA
games, whose bounds clip at 0 and 1) count as best responses and nothing else does. With ``tol > 0``
a profile is returned iff every player's regret ``max_b u_p(b, a_{-p}) - u_p(a)`` is ``<= tol``
(``tol``-Nash profiles, in payoff units), e.g. to absorb rounding in payoffs computed in different
orders.

>>> import numpy as np
>>> coordination = np.stack([np.eye(2), np.eye(2)])          # both players want to match
>>> pure_nash(coordination).value
[(0, 0), (1, 1)]
>>> dilemma = np.array([[[3.0, 0.0], [5.0, 1.0]], [[3.0, 5.0], [0.0, 1.0]]])
>>> pure_nash(dilemma).value                                  # (defect, defect)
[(1, 1)]
"""

from __future__ import annotations

import math
import time

import numpy as np

from aca_games import ACAInputError
from solvers._payoffs import payoff_tensor
from solvers._solution import Solution

__all__ = ["pure_nash"]


def pure_nash(payoffs, tol: float = 0.0) -> Solution:
    """All pure Nash equilibria of a finite N-player game, by exact enumeration.

    Args:
        payoffs: array ``(n_players, m_1, ..., m_n)``; ``payoffs[p][a]`` is player ``p``'s payoff at
            pure profile ``a``. Or an object with a ``payoff_tensor()`` method returning it.
        tol: accepted regret per player, in payoff units; ``0.0`` (default) is the exact test
            ``u_p(a) == max_b u_p(b, a_{-p})`` (ties are best responses).

    Returns:
        :class:`Solution` with ``value`` the equilibria as tuples of action indices sorted
        lexicographically (possibly empty: a game need not have a pure equilibrium), status
        ``"optimal"`` (the enumeration is exhaustive), ``certificate`` the largest regret of any
        player at any returned profile (``0.0`` when ``tol == 0``; ``0.0`` when nothing is
        returned), and ``stats`` with ``n_players``, ``shape``, ``n_profiles``, ``n_equilibria``,
        ``seconds`` and ``method``.

    Raises:
        ACAInputError: bad shape, empty action set, non-finite payoffs, or ``tol`` negative or not
            finite.

    >>> import numpy as np
    >>> pennies = np.array([[[1.0, -1.0], [-1.0, 1.0]], [[-1.0, 1.0], [1.0, -1.0]]])
    >>> sol = pure_nash(pennies)
    >>> sol.value, sol.status, sol.stats["n_profiles"]
    ([], 'optimal', 4)
    """
    t0 = time.perf_counter()
    P = payoff_tensor(payoffs)
    try:
        tol = float(tol)
    except (TypeError, ValueError) as exc:
        raise ACAInputError(f"tol: expected a non-negative number, got {tol!r}") from exc
    if not math.isfinite(tol) or tol < 0:
        raise ACAInputError(f"tol: expected a finite number >= 0, got {tol!r}")
    n = P.shape[0]
    # regret[p][a] = max_b u_p(b, a_{-p}) - u_p(a) >= 0, exactly 0 at p's best responses.
    best = np.ones(P.shape[1:], dtype=bool)
    max_regret = np.zeros(P.shape[1:])
    for p in range(n):
        gain = P[p].max(axis=p, keepdims=True) - P[p]
        best &= gain <= tol
        if tol > 0:
            np.maximum(max_regret, gain, out=max_regret)
    profiles = np.argwhere(best)  # row-major order == lexicographic order of the index tuples
    value = [tuple(int(i) for i in row) for row in profiles]
    certificate = float(max_regret[best].max()) if (tol > 0 and len(value)) else 0.0
    stats = {
        "method": "enumeration",
        "n_players": n,
        "shape": tuple(P.shape[1:]),
        "n_profiles": int(np.prod(P.shape[1:])),
        "n_equilibria": len(value),
        "tol": tol,
        "seconds": time.perf_counter() - t0,
    }
    return Solution(value=value, status="optimal", certificate=certificate, stats=stats)
