"""Continuous sizing games: time to a certified best-response gap <= 1e-8, ours vs NashOpt.

DESIGN.md target: "continuous sizing games: certified best-response gap <= 1e-8 faster than NashOpt
(JAX KKT least-squares generalized-Nash solver) on the same game".

Workload: a 4-player (``--players 3`` for 3) sizing game with smooth-surrogate payoffs
(``bound="smooth"``, ``τ = 0.02``) on a 5-point, 3-label world; every player recruits
``α_i ∈ [0, 0.22]``, pays ``k_i`` per unit size, and has a unique interior equilibrium. Everyone starts
from ``caps / 2``.

Runs, interleaved round-robin (``--repeats`` warm runs each, medians; the first, compiling call of
each is reported separately):

* ``ours``: :func:`solvers.equilibrium.continuous.continuous_nash` (default settings, grid 4097):
  gradient play + Newton polish, and its certificate — the answer comes certified.
* ``ours, grid 1025``: the same with a 4x coarser certificate grid (diagnostic: the certificate,
  ``n_players x grid`` payoff evaluations, is most of our time; its gap is still re-scored on the
  default grid).
* ``nashopt solve()``: ``nashopt.GNEP(sizes=[1]*n, f=[-u_i], lb=0, ub=caps).solve(x0)``, the
  documented call (KKT system with Fischer-Burmeister complementarity, ``scipy.optimize.root``
  hybr). It re-traces and re-compiles its KKT residual and Jacobian on *every* call (it wraps a fresh
  bound method in ``jax.jit``); its own ``stats.jax_jit_time`` is shown.
* ``nashopt kernel``: the same KKT residual and Jacobian, compiled once, then the same
  ``scipy.optimize.root(..., method="hybr", options=dict(xtol=1e-12, maxfev=200))`` — NashOpt's
  algorithm with the compile cost removed, the most favourable reading for the peer.

NashOpt returns a KKT point, not a certificate. Its answer is scored with OUR gap function
(:func:`~solvers.equilibrium.continuous.best_response_gap`, the same global search that certifies
ours), so "time to a certified gap" for NashOpt is its solve plus that certificate; both readings
(with and without the certificate) are printed.

Run: ``python -m benchmarks.bench_continuous [--players 4] [--repeats 5] [--json PATH]``.
NashOpt is an optional peer (``pip install nashopt`` — it also needs ``qpsolvers``, which its
metadata does not declare); without it only our timings are printed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import time
from collections.abc import Sequence

import jax
import numpy as np

import aca_games  # noqa: F401  (enables float64)
from aca_games import ACAGame, Collective, Player, World
from aca_games.world import split_landing
from benchmarks.bench_oracle import machine_info
from solvers.equilibrium.continuous import DEFAULT_GRID, best_response_gap, continuous_nash, sizing_payoff

TOL = 1e-8
CAP, TAU = 0.22, 0.02
TARGETS = ("y", "x", "z", "x")
SIZE_COSTS = (2.0, 2.2, 1.8, 2.5)
_BASE = np.array(
    [[0.08, 0.04, 0.03], [0.05, 0.06, 0.04], [0.03, 0.05, 0.07], [0.06, 0.03, 0.05], [0.04, 0.06, 0.04]]
)
#: Where each signal lands, ``m_g(x̃)``; split over labels with the population's label marginal
#: (the base's, which holds 90% of the population here) so the world is consistent (THEORY §1).
_MASSES = {
    "g1": [0.7, 0.3, 0, 0, 0],
    "g2": [0, 0.2, 0.8, 0, 0],
    "g3": [0, 0, 0.2, 0.8, 0],
    "g4": [0.1, 0, 0, 0.2, 0.7],
}
LANDING = {g: split_landing(m, _BASE.sum(axis=0) / _BASE.sum()).tolist() for g, m in _MASSES.items()}


def sizing_game(n_players: int = 4) -> ACAGame:
    """The benchmark game: ``n_players`` (3 or 4) feature-label collectives, smooth payoffs."""
    world = World(
        points=list("abcde"),
        labels=["x", "y", "z"],
        base=(_BASE / _BASE.sum() * 0.9).tolist(),
        landing=LANDING,
    )
    players = [
        Player(
            f"p{i + 1}",
            [Collective(f"p{i + 1}", CAP, f"g{i + 1}", target=TARGETS[i])],
            value=1.0,
            size_cost=SIZE_COSTS[i],
        )
        for i in range(n_players)
    ]
    return ACAGame(world, players, bound="smooth", tau=TAU)


class _NashOpt:
    """NashOpt on the same game: ``f_i(x) = -u_i(x)``, box ``[0, caps]``."""

    def __init__(self, game: ACAGame):
        import nashopt  # optional peer
        import scipy.optimize

        self.version = getattr(nashopt, "__version__", None) or _dist_version("nashopt")
        fun, caps = sizing_payoff(game)
        n = caps.size
        self.n, self.caps = n, caps
        f = [(lambda x, i=i: -fun(x)[i]) for i in range(n)]
        self.gnep = nashopt.GNEP([1] * n, f, lb=np.zeros(n), ub=caps)
        self._root = scipy.optimize.root
        self._F = jax.jit(self.gnep.kkt_residual)
        self._DF = jax.jit(jax.jacobian(self.gnep.kkt_residual))
        self.z0 = np.concatenate([caps / 2.0, 0.1 * np.ones(self.gnep.nlam_sum)])

    def solve(self):
        """The documented call (re-jits every time)."""
        sol = self.gnep.solve(x0=self.caps / 2.0, verbose=0, tol=1e-12)
        return np.asarray(sol.x), {
            "kkt_residual": float(sol.norm_residual),
            "jit_seconds": float(sol.stats.jax_jit_time),
        }

    def kernel(self):
        """Same KKT system and scipy call as ``GNEP.solve``, compiled once."""
        r = self._root(self._F, self.z0, jac=self._DF, method="hybr", options=dict(xtol=1e-12, maxfev=200))
        return np.asarray(r.x[: self.n]), {"kkt_residual": float(np.linalg.norm(r.fun)), "nfev": int(r.nfev)}


def _dist_version(name: str):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # noqa: BLE001
        return None


def run(n_players: int = 4, repeats: int = 5, coarse_grid: int | None = 1025) -> dict:
    game = sizing_game(n_players)
    _, caps = sizing_payoff(game)
    load_before = list(os.getloadavg()) if hasattr(os, "getloadavg") else None

    def ours(grid=DEFAULT_GRID):
        sol = continuous_nash(game, tol=TOL, grid=grid)
        return sol.value, float(sol.certificate), sol.status

    def certify(x):  # NashOpt's answer, clipped into the box (KKT solvers may overshoot by ~1e-16)
        return float(np.max(best_response_gap(game, sizes=np.clip(x, 0.0, caps))))

    t = time.perf_counter()
    ref, ref_gap, ref_status = ours()
    first = {"ours": time.perf_counter() - t}
    t = time.perf_counter()
    certify(ref)
    first["certificate"] = time.perf_counter() - t
    runs = {"ours": [], "certificate": []}

    peer, peer_error = None, None
    try:
        peer = _NashOpt(game)
    except Exception as err:  # noqa: BLE001 - optional peer: report why it is missing
        peer_error = f"{type(err).__name__}: {err}"
    answers = {}
    if coarse_grid:  # diagnostic: the certificate's resolution is the main cost
        name = f"ours, grid {coarse_grid} (diagnostic)"
        t = time.perf_counter()
        x, _, _ = ours(coarse_grid)
        first[name] = time.perf_counter() - t
        runs[name], answers[name] = [], (x, {})
    if peer is not None:
        for name, call in (("nashopt solve()", peer.solve), ("nashopt kernel", peer.kernel)):
            t = time.perf_counter()
            x, info = call()
            first[name] = time.perf_counter() - t
            runs[name], answers[name] = [], (x, info)

    for _ in range(repeats):
        t = time.perf_counter()
        x, gap, status = ours()
        runs["ours"].append(time.perf_counter() - t)
        assert status == "converged" and gap <= TOL, (status, gap)
        if coarse_grid:
            name = f"ours, grid {coarse_grid} (diagnostic)"
            t = time.perf_counter()
            x_c, gap_c, status_c = ours(coarse_grid)
            runs[name].append(time.perf_counter() - t)
            answers[name] = (x_c, {"own_certificate": gap_c, "status": status_c})
        if peer is not None:
            for name, call in (("nashopt solve()", peer.solve), ("nashopt kernel", peer.kernel)):
                t = time.perf_counter()
                answers[name] = call()
                runs[name].append(time.perf_counter() - t)
        t = time.perf_counter()
        certify(x)
        runs["certificate"].append(time.perf_counter() - t)

    med = {k: statistics.median(v) for k, v in runs.items()}
    rows = [
        {
            "solver": "ours (continuous_nash, certified)",
            "median_s": med["ours"],
            "first_s": first["ours"],
            "gap": ref_gap,
            "max_abs_diff_vs_ours": 0.0,
            "certified_s": med["ours"],
            "info": {},
        }
    ]
    for name, (x, info) in answers.items():
        gap = certify(x)
        rows.append(
            {
                "solver": name,
                "median_s": med[name],
                "first_s": first[name],
                "gap": gap,
                "max_abs_diff_vs_ours": float(np.max(np.abs(x - ref))),
                "certified_s": (med[name] if name.startswith("ours") else med[name] + med["certificate"])
                if gap <= TOL
                else None,
                "info": info,
            }
        )
    return {
        "date_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {**machine_info(), "loadavg_before": load_before},
        "players": n_players,
        "repeats": repeats,
        "tol": TOL,
        "equilibrium": ref.tolist(),
        "certificate_median_s": med["certificate"],
        "certificate_first_s": first["certificate"],
        "nashopt": None if peer is None else peer.version,
        "nashopt_error": peer_error,
        "rows": rows,
    }


def format_report(res: dict) -> str:
    m = res["machine"]
    lines = [
        f"continuous sizing game benchmark  {res['date_utc']}",
        f"machine: {m['platform']}  cpus={m['cpu_count']}  python {m['python']}  jax {m['jax']}  "
        f"numpy {m['numpy']}  nashopt {res['nashopt']}",
        f"load average (1, 5, 15 min) before: {m['loadavg_before']}  after: {m['loadavg']}",
        f"game: {res['players']} players, smooth payoffs (tau={TAU}), caps {CAP}; start caps/2; "
        f"median of {res['repeats']} warm runs (interleaved)",
        f"equilibrium: {np.round(res['equilibrium'], 6).tolist()}",
        f"our certificate alone (grid {DEFAULT_GRID} per player + golden refinement): "
        f"{res['certificate_median_s'] * 1e3:.2f} ms",
        "",
        f"{'solver':36s} {'median':>10s} {'first call':>11s} {'gap (ours)':>11s} {'|x - ours|':>11s} "
        f"{'to certified':>13s}",
    ]
    for r in res["rows"]:
        cert = f"{r['certified_s'] * 1e3:10.2f} ms" if r["certified_s"] is not None else "   not <=tol"
        lines.append(
            f"{r['solver']:36s} {r['median_s'] * 1e3:7.2f} ms {r['first_s']:9.2f} s {r['gap']:11.2e} "
            f"{r['max_abs_diff_vs_ours']:11.2e} {cert}"
        )
    ours = res["rows"][0]["median_s"]
    coarse = next((r for r in res["rows"][1:] if r["solver"].startswith("ours")), None)
    if res["nashopt_error"]:
        lines.append(f"\nNashOpt unavailable: {res['nashopt_error']}")
    for r in res["rows"][1:]:
        if r["solver"].startswith("ours"):
            continue
        lines.append("")
        lines.append(f"ours / {r['solver']} (uncertified answer): {ours / r['median_s']:.3f}")
        if r["certified_s"] is not None:
            lines.append(
                f"ours / {r['solver']} + our certificate (time to certified): {ours / r['certified_s']:.3f}"
            )
        if coarse is not None:
            lines.append(
                f"{coarse['solver']} / {r['solver']} (uncertified answer): "
                f"{coarse['median_s'] / r['median_s']:.3f}"
            )
        if "jit_seconds" in r["info"]:
            lines.append(f"  ({r['solver']} spends {r['info']['jit_seconds']:.2f} s per call compiling)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=4, choices=(3, 4))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--coarse-grid", type=int, default=1025, help="diagnostic row; 0 to skip")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    res = run(args.players, args.repeats, args.coarse_grid)
    print(format_report(res))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=2, default=float)
        print(f"\nwrote {args.json}")
    return res


if __name__ == "__main__":
    main()
