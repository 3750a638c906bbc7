"""Game-level analyses: price of anarchy / stability and equilibrium maps (THEORY §5).

**Price of anarchy.** With welfare ``W(a) = Σ_i u_i(a)`` (expected welfare for mixed profiles), the
optimum ``W* = max_a W(a)`` over pure profiles (no mixed profile does better: ``W`` is multilinear, so
its expectation is an average of pure welfares), and the welfare of the worst and best equilibria:

    PoA = W* / min_{eq} W(eq),        PoS = W* / max_{eq} W(eq).

Convention when welfare can be ``<= 0`` (ACA payoffs subtract costs): the ratio is reported only when
both numbers are positive; otherwise the *difference* ``W* - W(eq)`` is reported instead and
``value["convention"]`` says which was used. The differences (``anarchy_gap``, ``stability_gap``)
are always reported. Both measures are ``>= 1`` resp. ``>= 0``, with equality when the equilibrium
is efficient.

Default equilibria: for two players all *extreme* equilibria from
:func:`~solvers.equilibrium.two_player.two_player_equilibria` (mixed included). Welfare is bilinear
and every maximal Nash subset of a bimatrix game is a product of polytopes whose vertex pairs are
extreme equilibria, so the worst and best welfare over the *whole* (possibly infinite) equilibrium
set are attained at extreme equilibria: the numbers are exact. For three or more players: all pure
equilibria (:func:`~solvers.equilibrium.pure.pure_nash`); a game without one gives status
``"infeasible"`` — pass ``equilibria=mixed_nash(...)`` (any :class:`~solvers.Solution` of an equilibrium
solver, or a list of pure/mixed profiles). The certificate holds the optimal profile, the equilibria
used, their welfare and their largest NashConv (:func:`~solvers.equilibrium._regret.nash_conv`), so
every number can be re-checked.

**Equilibrium maps** over a grid of parameters (:func:`equilibrium_map`, :func:`plot_equilibrium_map`)
live in :mod:`solvers.equilibrium.maps` and are re-exported here.

>>> import numpy as np
>>> dilemma = np.array([[[3.0, 0.0], [5.0, 1.0]], [[3.0, 5.0], [0.0, 1.0]]])
>>> sol = price_of_anarchy(dilemma)                # optimum (C, C) = 6, unique equilibrium (D, D) = 2
>>> sol.value["optimum"], sol.value["worst_equilibrium"], sol.value["price_of_anarchy"]
(6.0, 2.0, 3.0)
>>> sol.certificate["optimal_profile"], sol.certificate["nash_conv"]
((0, 0), 0.0)
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Sequence

import numpy as np

from aca_games import ACAInputError
from solvers._payoffs import payoff_tensor
from solvers._solution import Solution
from solvers.equilibrium._regret import expected_payoffs, nash_conv
from solvers.equilibrium.maps import PLOT_QUANTITIES as PLOT_QUANTITIES  # re-exported
from solvers.equilibrium.maps import PURE_TOL, EquilibriumMap, equilibrium_map, plot_equilibrium_map
from solvers.equilibrium.pure import pure_nash
from solvers.equilibrium.two_player import two_player_equilibria

__all__ = ["EquilibriumMap", "PURE_TOL", "equilibrium_map", "plot_equilibrium_map", "price_of_anarchy"]


# ------------------------------------------------------------------------------- price of anarchy
def _measure(opt: float, eq: float) -> tuple[float, str]:
    if opt > 0 and eq > 0:
        return opt / eq, "ratio"
    return opt - eq, "difference"


def _profiles_of(equilibria, P: np.ndarray) -> list:
    """Normalise equilibria (a Solution's value or a list) into a list of profiles."""
    n = P.shape[0]
    value = equilibria.value if isinstance(equilibria, Solution) else equilibria
    if hasattr(value, "to_lists"):  # an EquilibriumBatch holding one game
        if len(value.count) != 1:
            raise ACAInputError("equilibria: got a batch of several games; pass one game's equilibria")
        value = value.game(0)
    if (
        isinstance(value, tuple)
        and len(value) == n
        and all(isinstance(x, np.ndarray) and x.ndim == 1 for x in value)
    ):
        value = [value]  # one mixed profile (as mixed_nash returns)
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ACAInputError(
            f"equilibria: expected a list of profiles or a Solution, got {type(value).__name__}"
        )
    out = []
    for e, prof in enumerate(value):
        if not isinstance(prof, Sequence | np.ndarray) or len(prof) != n:
            raise ACAInputError(f"equilibria[{e}]: expected a profile with {n} entries (one per player)")
        xs = []
        for p, a in enumerate(prof):
            m = P.shape[1 + p]
            if isinstance(a, numbers.Integral) and not isinstance(a, bool):
                if not 0 <= int(a) < m:
                    raise ACAInputError(
                        f"equilibria[{e}][{p}]: option {int(a)} out of range (player {p} has {m})"
                    )
                x = np.zeros(m)
                x[int(a)] = 1.0
            else:
                x = np.asarray(a, dtype=np.float64).reshape(-1)
                if (
                    x.shape != (m,)
                    or not np.isfinite(x).all()
                    or (x < -PURE_TOL).any()
                    or abs(x.sum() - 1) > 1e-6
                ):
                    raise ACAInputError(
                        f"equilibria[{e}][{p}]: expected an option index or {m} probabilities summing to 1"
                    )
            xs.append(x)
        out.append(tuple(xs))
    return out


def _as_pure(profile) -> tuple[int, ...] | None:
    idx = []
    for x in profile:
        k = int(np.argmax(x))
        if x[k] < 1 - PURE_TOL:
            return None
        idx.append(k)
    return tuple(idx)


def price_of_anarchy(game_or_payoffs, equilibria=None) -> Solution:
    """Price of anarchy and of stability against the welfare optimum (see the module docstring).

    Args:
        game_or_payoffs: an :class:`aca_games.ACAGame` or a payoff tensor ``(n_players, m_1, ..., m_n)``.
        equilibria: ``None`` (default: all extreme equilibria for 2 players, all pure equilibria
            otherwise), a :class:`~solvers.Solution` of an equilibrium solver, or a list of profiles
            (each a tuple of option indices or of probability vectors).

    Returns:
        :class:`~solvers.Solution` with ``value`` a dict: ``optimum``, ``worst_equilibrium``,
        ``best_equilibrium``, ``price_of_anarchy``, ``price_of_stability``, ``convention`` (``{"anarchy":
        "ratio" | "difference", "stability": ...}``), ``anarchy_gap``, ``stability_gap``;
        ``certificate`` a dict: ``optimal_profile``, ``equilibria`` (the profiles used, pure ones as
        index tuples), ``welfare`` (of each), ``worst``/``best`` (indices into ``equilibria``),
        ``nash_conv`` (largest over the equilibria used); status ``"optimal"``, or the equilibrium
        solver's status if it was not ok, or ``"infeasible"`` when there is no equilibrium to use.
    """
    t0 = time.perf_counter()
    P = payoff_tensor(game_or_payoffs)
    n = P.shape[0]
    welfare = P.sum(axis=0)
    opt_idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(welfare)), welfare.shape))
    optimum = float(welfare[opt_idx])
    status = "optimal"
    if equilibria is None:
        if n == 2:
            equilibria = two_player_equilibria(P[0], P[1])
            source = "two_player_equilibria"
        else:
            equilibria = pure_nash(P)
            source = "pure_nash"
    else:
        source = "given"
    if isinstance(equilibria, Solution) and not equilibria.ok:
        status = equilibria.status
    profiles = _profiles_of(equilibria, P)
    stats = {"n_players": n, "shape": P.shape[1:], "source": source, "n_equilibria": len(profiles)}
    cert = {"optimal_profile": opt_idx}
    if not profiles:
        stats.update(
            seconds=time.perf_counter() - t0,
            message="no equilibrium to compare with; pass equilibria=mixed_nash(game) for mixed ones",
        )
        value = {
            "optimum": optimum,
            "worst_equilibrium": None,
            "best_equilibrium": None,
            "price_of_anarchy": None,
            "price_of_stability": None,
            "convention": None,
            "anarchy_gap": None,
            "stability_gap": None,
        }
        cert.update(equilibria=[], welfare=[], nash_conv=None)
        return Solution(value=value, status="infeasible", certificate=cert, stats=stats)
    eq_welfare = np.array([float(expected_payoffs(P, prof).sum()) for prof in profiles])
    worst, best = int(np.argmin(eq_welfare)), int(np.argmax(eq_welfare))
    poa, poa_kind = _measure(optimum, float(eq_welfare[worst]))
    pos, pos_kind = _measure(optimum, float(eq_welfare[best]))
    value = {
        "optimum": optimum,
        "worst_equilibrium": float(eq_welfare[worst]),
        "best_equilibrium": float(eq_welfare[best]),
        "price_of_anarchy": poa,
        "price_of_stability": pos,
        "convention": {"anarchy": poa_kind, "stability": pos_kind},
        "anarchy_gap": optimum - float(eq_welfare[worst]),
        "stability_gap": optimum - float(eq_welfare[best]),
    }
    cert.update(
        equilibria=[_as_pure(p) or p for p in profiles],
        welfare=eq_welfare.tolist(),
        worst=worst,
        best=best,
        nash_conv=max(nash_conv(P, prof) for prof in profiles),
    )
    stats["seconds"] = time.perf_counter() - t0
    return Solution(value=value, status=status, certificate=cert, stats=stats)
