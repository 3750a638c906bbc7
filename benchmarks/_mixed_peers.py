"""N-player mixed equilibria: :func:`solvers.mixed_nash` vs pygambit gnm / ipa / logit (issue 8).

Part of :mod:`benchmarks.bench_equilibria` (see its docstring); split out to keep modules small.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable

import numpy as np

import solvers
from benchmarks._peers import (
    GAMBIT_ERROR,
    GAMBIT_TIMEOUT_S,
    NASHCONV_TOL,
    _row,
    gambit_profiles,
    gbt,
    interleave,
    timed,
)

#: pygambit's N-player mixed solvers (called with their defaults, floats).
GAMBIT_MIXED = ("gnm", "ipa", "logit")
#: ... of which ours must be faster, at equal or better certification.
GAMBIT_MIXED_TARGETS = ("gnm", "ipa")

MIXED_SHAPES = {
    "3x3x3": (3, 3, 3, 3),
    "4 players x 3": (4, 3, 3, 3, 3),
    "3 players x 5": (3, 5, 5, 5),
    "5 players x 3": (5,) + (3,) * 5,
    "6 players x 2": (6,) + (2,) * 6,
}


_GNM_PROBE = """
import sys, numpy as np, pygambit as gbt
P = np.load(sys.argv[1])
gbt.nash.gnm_solve(gbt.Game.from_arrays(*P))
"""


def gnm_finishes(P: np.ndarray) -> bool:
    """Whether pygambit ``gnm_solve`` finishes ``P`` within ``GAMBIT_TIMEOUT_S`` (a subprocess: its
    C++ loop ignores Python signals, and on some 5-player games it runs for minutes)."""
    with tempfile.NamedTemporaryFile(suffix=".npy") as fh:
        np.save(fh.name, P)
        try:
            out = subprocess.run(
                [sys.executable, "-c", _GNM_PROBE, fh.name], capture_output=True, timeout=GAMBIT_TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            return False
    return out.returncode == 0


def _gambit_mixed(name: str, game) -> Callable[[], list]:
    solve = getattr(gbt.nash, f"{name}_solve")
    return lambda: gambit_profiles(solve(game), game)


def bench_mixed(cfg) -> list[dict]:
    """One mixed equilibrium of random N-player games: ours vs pygambit gnm / ipa / logit.

    Per game, every solver runs ``mixed_repeats`` times round-robin (median kept); its answer is
    certified when our NashConv of its best returned profile is ``<= NASHCONV_TOL``. A gnm call that
    does not finish a game within ``GAMBIT_TIMEOUT_S`` (probed in a subprocess first) counts as
    uncertified and its time as ``> GAMBIT_TIMEOUT_S``.
    """
    rows = []
    peers = GAMBIT_MIXED if gbt is not None else ()
    for k, (label, shape) in enumerate(MIXED_SHAPES.items()):
        rng = np.random.default_rng(cfg.seed + 300 + k)
        warm = rng.random(shape)
        _, t_first = timed(lambda warm=warm: solvers.mixed_nash(warm))
        first = {"ours": t_first}
        if gbt is not None:
            wg = gbt.Game.from_arrays(*warm)
            for name in ("ipa", "logit"):
                first[name] = timed(_gambit_mixed(name, wg))[1]
        medians = {n: [] for n in ("ours", *peers)}
        certified = dict.fromkeys(medians, 0)
        convs = {n: [] for n in medians}
        timeouts, build = 0, []
        for _ in range(cfg.mixed_games):
            P = rng.random(shape)
            impls = {"ours": lambda P=P: list(solvers.mixed_nash(P).value)}
            if gbt is not None:
                game, t_build = timed(lambda P=P: gbt.Game.from_arrays(*P))
                build.append(t_build)
                for name in peers:
                    if name == "gnm" and not gnm_finishes(P):
                        timeouts += 1
                        medians["gnm"].append(np.inf)
                        convs["gnm"].append(np.inf)
                        continue
                    impls[name] = _gambit_mixed(name, game)
            for name, fn in impls.items():
                answer = fn()
                profiles = [answer] if name == "ours" else answer
                conv = min((solvers.nash_conv(P, list(p)) for p in profiles), default=np.inf)
                convs[name].append(conv)
                certified[name] += int(conv <= NASHCONV_TOL)
            for name, t in interleave(impls, dict.fromkeys(impls, cfg.mixed_repeats)).items():
                medians[name].append(float(np.median(t)))
        ours = float(np.median(medians["ours"]))
        n = cfg.mixed_games
        common = {
            "games": n,
            "certified_ours": certified["ours"],
            "ours_max_s": float(np.max(medians["ours"])),
        }
        if not peers:
            rows.append(
                _row(f"mixed NE, {label} ({n} games)", f"pygambit not installed ({GAMBIT_ERROR})", ours,
                     None, first, f"ours {certified['ours']}/{n} certified", float(np.max(convs["ours"])),
                     **common)
            )
        for name in peers:
            peer = float(np.median(medians[name]))
            targeted = name in GAMBIT_MIXED_TARGETS
            note = f" ({timeouts} > {GAMBIT_TIMEOUT_S:g} s)" if name == "gnm" and timeouts else ""
            rows.append(
                _row(
                    f"mixed NE, {label} ({n} games)",
                    f"pygambit {name}_solve",
                    ours,
                    peer,
                    {"ours": first["ours"], "peer": first.get(name)},
                    f"certified <= 1e-8: ours {certified['ours']}/{n}, peer {certified[name]}/{n}{note}",
                    float(np.max(convs["ours"])),
                    target="faster, all certified" if targeted else None,
                    met=(peer > ours and certified["ours"] == n) if targeted else None,
                    **common,
                    certified_peer=certified[name],
                    max_nash_conv_peer=float(np.max(convs[name])),
                    gambit_build_s=float(np.median(build)),
                )
            )
    return rows
