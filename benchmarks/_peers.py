"""Helpers shared by the equilibrium benchmarks: timing, peer conventions, set matching, rows.

Peers' calls and conventions are PEERS.md's; every profile is scored with our own
:func:`solvers.nash_conv`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np

import solvers

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=FutureWarning)

import quantecon.game_theory as gt  # noqa: E402  (after the warning filters: numba deprecations)

try:  # the `bench` extra installs it; the smoke test runs without it
    import pygambit as gbt
except ImportError as _exc:  # pragma: no cover - depends on the environment
    gbt, GAMBIT_ERROR = None, f"{type(_exc).__name__}: {_exc}"
else:
    GAMBIT_ERROR = None

#: An equilibrium of ours matches one of the peer's when every probability differs by at most this.
MATCH_ATOL = 1e-6
#: NashConv accepted for a returned profile (payoffs are uniform on [0, 1]).
NASHCONV_TOL = 1e-8
#: A pygambit gnm call on one game is given this long (subprocess probe) before it counts as failed.
GAMBIT_TIMEOUT_S = 10.0


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def interleave(impls: dict[str, Callable[[], object]], repeats: dict[str, int]) -> dict[str, list[float]]:
    """Warm wall times of each implementation, round-robin (``repeats[name]`` runs each)."""
    times: dict[str, list[float]] = {name: [] for name in impls}
    for r in range(max(repeats.values())):
        for name, fn in impls.items():
            if r < repeats[name]:
                times[name].append(timed(fn)[1])
    return times


def qe_bimatrix(A: np.ndarray, B: np.ndarray):
    return gt.NormalFormGame((gt.Player(A), gt.Player(B.T)))


def qe_nplayer(P: np.ndarray):
    n = P.shape[0]
    return gt.NormalFormGame(
        [gt.Player(np.transpose(P[i], [(i + k) % n for k in range(n)])) for i in range(n)]
    )


def _flat_unique(profiles: Sequence) -> list[np.ndarray]:
    """Profiles as flat vectors, duplicates (within 1e-9) dropped: pygambit's enummixed lists a
    degenerate game's vertex once per basis."""
    out: list[np.ndarray] = []
    for prof in profiles:
        v = np.concatenate([np.asarray(x, float) for x in prof])
        if all(np.max(np.abs(v - u)) > 1e-9 for u in out):
            out.append(v)
    return out


def match_sets(ours: Sequence, theirs: Sequence, peer_subset: bool = False) -> float:
    """Largest probability difference in a one-to-one matching of two equilibrium lists (the
    peer's deduplicated); with ``peer_subset`` only every peer equilibrium must be one of ours.

    Raises ``AssertionError`` if the counts differ (not with ``peer_subset``) or an equilibrium has
    no partner within ``MATCH_ATOL``.
    """
    mine, peer = _flat_unique(ours), _flat_unique(theirs)
    assert len(mine) == len(ours), "ours has duplicate equilibria"
    if peer_subset:
        mine, peer = peer, mine  # match each peer equilibrium to one of ours
    else:
        assert len(mine) == len(peer), f"ours {len(mine)} equilibria, peer {len(peer)}"
    free = list(range(len(peer)))
    worst = 0.0
    for v in mine:
        dists = [float(np.max(np.abs(v - peer[j]))) for j in free]
        k = int(np.argmin(dists)) if dists else -1
        assert k >= 0 and dists[k] <= MATCH_ATOL, f"no partner within {MATCH_ATOL} of {v}"
        worst = max(worst, dists[k])
        free.pop(k)
    return worst


def max_conv(P: np.ndarray, profiles: Sequence) -> float:
    return max((solvers.nash_conv(P, list(p)) for p in profiles), default=0.0)


def _ms(s: float | None) -> str:
    if s is None:
        return "-"
    return f"> {GAMBIT_TIMEOUT_S:g} s (timeout)" if s == np.inf else f"{s * 1e3:.3g} ms"


def gambit_profiles(result, game) -> list[list[np.ndarray]]:
    """pygambit equilibria as lists of numpy mixed strategies (PEERS.md's ``to_np``)."""
    return [
        [np.array([float(eq[p][s]) for s in p.strategies]) for p in game.players] for eq in result.equilibria
    ]


def _row(workload, peer, ours_s, peer_s, first, answers, conv, target=None, met=None, **extra) -> dict:
    return {
        "workload": workload,
        "peer": peer,
        "ours_s": ours_s,
        "peer_s": peer_s,
        "speedup": None if peer_s is None else peer_s / ours_s,
        "first_call_s": first,
        "answers": answers,
        "max_nash_conv_ours": conv,
        "target": target,
        "met": met,
        **extra,
    }


