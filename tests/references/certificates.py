"""Solver certificates recomputed from their definitions (THEORY §5), sharing no code with ``solvers``.

Finite games: a payoff tensor ``P`` of shape ``(n_players, m_1, ..., m_n)``, ``P[p][a]`` player
``p``'s payoff at the pure profile ``a``. Expected payoffs are explicit sums over every pure profile
(itertools), weighted by the product of the players' probabilities; a player's regret is the most it
gains by switching to one of its pure actions; NashConv is the sum of the regrets.

Continuous games: the best-response gap ``max_i [max_{s ∈ [0, cap_i]} u_i(s, α_{-i}) - u_i(α)]`` on a
dense grid (a lower bound on the true gap, within ``curvature · spacing² / 8`` of it for smooth
payoffs).
"""

from __future__ import annotations

import itertools

import numpy as np


def profiles(P):
    """Every pure profile of the game, as tuples."""
    return itertools.product(*(range(m) for m in P.shape[1:]))


def expected_payoffs(P, strategies) -> np.ndarray:
    """``u_p(x) = Σ_a Π_q x_q(a_q) P[p][a]`` for every player ``p``."""
    P = np.asarray(P, dtype=float)
    u = np.zeros(P.shape[0])
    for a in profiles(P):
        weight = 1.0
        for q, action in enumerate(a):
            weight *= float(strategies[q][action])
        u += weight * P[(slice(None), *a)]
    return u


def pure(m: int, action: int) -> np.ndarray:
    out = np.zeros(m)
    out[action] = 1.0
    return out


def regrets(P, strategies) -> np.ndarray:
    """Each player's largest gain from a unilateral switch to a pure action (may be slightly
    negative by rounding: not clipped)."""
    P = np.asarray(P, dtype=float)
    u = expected_payoffs(P, strategies)
    out = []
    for p, m in enumerate(P.shape[1:]):
        gains = []
        for b in range(m):
            deviated = list(strategies)
            deviated[p] = pure(m, b)
            gains.append(expected_payoffs(P, deviated)[p] - u[p])
        out.append(max(gains))
    return np.asarray(out)


def nash_conv(P, strategies) -> float:
    """``Σ_p max(regret_p, 0)``."""
    return float(np.maximum(regrets(P, strategies), 0.0).sum())


def pure_regrets(P, a) -> np.ndarray:
    """Regrets at the pure profile ``a``, by looping over every unilateral pure deviation."""
    P = np.asarray(P, dtype=float)
    out = []
    for p, m in enumerate(P.shape[1:]):
        here = P[(p, *a)]
        out.append(max(P[(p, *a[:p], b, *a[p + 1 :])] - here for b in range(m)))
    return np.asarray(out)


def max_pure_regret(P, equilibria) -> float:
    """The largest regret of any player at any of the listed pure profiles (0 for an empty list)."""
    return max((float(pure_regrets(P, a).max()) for a in equilibria), default=0.0)


def max_nash_conv(P, equilibria) -> float:
    """The largest NashConv over a list of mixed profiles (0 for an empty list)."""
    return max((nash_conv(P, x) for x in equilibria), default=0.0)


# -- best responses of one player -----------------------------------------------------------------
def option_scores(P, player: int, against) -> np.ndarray:
    """Player ``player``'s score for each own option (THEORY §5, best responses):

    * a tuple of pure actions or of mixed strategies (own entry ignored): the expected payoff;
    * a dict ``{others' profile: probability}`` (others in player order): the expectation;
    * a set of the others' profiles: the worst case over the set.
    """
    P = np.asarray(P, dtype=float)
    n, m = P.shape[0], P.shape[1 + player]

    def full(others, option):
        return (*others[:player], option, *others[player:])

    if isinstance(against, (set, frozenset)):
        return np.array([min(P[(player, *full(s, o))] for s in against) for o in range(m)])
    if isinstance(against, dict):
        return np.array([sum(w * P[(player, *full(s, o))] for s, w in against.items()) for o in range(m)])
    strategies = []
    for q in range(n):
        x = 0 if q == player else against[q]
        strategies.append(pure(P.shape[1 + q], int(x)) if np.ndim(x) == 0 else np.asarray(x, dtype=float))
    scores = []
    for o in range(m):
        strategies[player] = pure(m, o)
        scores.append(expected_payoffs(P, strategies)[player])
    return np.asarray(scores)


def best_response_gap(P, player: int, against, option: int) -> float:
    """How much the best option scores above ``option``."""
    scores = option_scores(P, player, against)
    return float(scores.max() - scores[option])


# -- continuous games -----------------------------------------------------------------------------
def continuous_gap(payoff, sizes, caps, grid: int = 100_001) -> np.ndarray:
    """Per player: ``max_{s on a grid of [0, cap_i], or s = α_i} u_i(s, α_{-i}) - u_i(α)``.

    ``payoff`` maps a batch of size vectors ``(B, n)`` to payoffs ``(B, n)`` (numpy).
    """
    sizes = np.asarray(sizes, dtype=float)
    here = payoff(sizes[None])[0]
    out = []
    for i, cap in enumerate(caps):
        trial = np.repeat(sizes[None], grid + 1, axis=0)
        trial[:-1, i] = np.linspace(0.0, cap, grid)
        out.append(float(payoff(trial)[:, i].max() - here[i]))
    return np.asarray(out)
