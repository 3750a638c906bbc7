"""Equilibrium solvers against QuantEcon, pygambit and nashpy (where it finishes), in one process.

Issue 8 / DESIGN.md ("Performance — measured, as ratios in one run") targets, calls from PEERS.md:

* ``10x10 all NE``: :func:`solvers.two_player_equilibria` on random 10x10 games vs QuantEcon's numba
  ``vertex_enumeration`` (``NormalFormGame((Player(A), Player(B.T)))``): ``>= 1.5x``, identical
  equilibrium sets (checked before timing: every equilibrium of ours matches exactly one of theirs
  within ``MATCH_ATOL`` and the counts are equal). pygambit ``enummixed_solve(rational=False)`` runs
  on the same games (same sets checked). nashpy ``vertex_enumeration`` is tried in a subprocess
  with a ``NASHPY_TIMEOUT_S`` limit and reported as skipped when it does not finish.
* ``degenerate 10x10``: the same on games with integer payoffs in ``0..3`` (many ties).
* ``batched 6x6``: :func:`solvers.two_player_equilibria_batched` on ``10^4`` random 6x6 games in one
  call vs a Python loop of QuantEcon ``vertex_enumeration`` over the first ``--qe-loop`` games, scaled
  to the whole batch (the loop's cost is linear in the number of games); agreement checked on 100
  games. Target ``>= 30x``.
* ``pure NE 6x6^6``: :func:`solvers.pure_nash` on 6 players x 6 actions vs QuantEcon
  ``pure_nash_brute`` (cyclic own-first axes) and pygambit ``enumpure_solve`` (building the
  pygambit game is not timed; its time is reported); same set of profiles. Target ``>= 10x``
  pygambit.
* ``mixed N-player``: :func:`solvers.mixed_nash` vs pygambit ``gnm_solve``, ``ipa_solve`` and
  ``logit_solve`` on the same random games (3x3x3, 4 players x 3, 3 players x 5, 5 players x 3,
  6 players x 2): median wall time per game and how many answers are certified, i.e. have our
  NashConv ``<= 1e-8``. Target: ours median faster than gnm and ipa, ours certified on every game.

Every profile returned by any solver (ours and peers) is scored with our own
:func:`solvers.nash_conv` on the original payoffs. Timings are warm medians, interleaved round-robin
between ours and the peers; the first call (numba / JAX compilation + one run) is reported apart.
"speedup" is ``peer median / ours median`` (``> 1``: ours faster).

Run: ``python -m benchmarks.bench_equilibria [--quick] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence

import numpy as np

import solvers
from benchmarks._mixed_peers import GAMBIT_MIXED, MIXED_SHAPES, bench_mixed  # noqa: F401 (re-exported)
from benchmarks._peers import (  # noqa: F401  (re-exported for the smoke tests)
    GAMBIT_ERROR,
    GAMBIT_TIMEOUT_S,
    MATCH_ATOL,
    NASHCONV_TOL,
    _flat_unique,
    _ms,
    _row,
    gambit_profiles,
    gbt,
    gt,
    interleave,
    match_sets,
    max_conv,
    qe_bimatrix,
    qe_nplayer,
    timed,
)
from benchmarks.bench_oracle import machine_info

#: nashpy is run only if it finishes one 10x10 game within this wall time (subprocess, killed after).
NASHPY_TIMEOUT_S = 10.0
#: Issue 8 targets (speedups ours vs peer).
TARGET_10X10 = 1.5
TARGET_BATCHED = 30.0
TARGET_PURE_VS_GAMBIT = 10.0


@dataclasses.dataclass(frozen=True)
class Config:
    seeds: int = 5
    repeats: int = 7
    batch: int = 10_000
    qe_loop: int = 1_000
    batch_repeats: int = 5
    qe_loop_repeats: int = 3
    agree_games: int = 100
    pure_seeds: int = 3
    pure_qe_repeats: int = 3
    mixed_games: int = 10
    mixed_repeats: int = 3
    nashpy: bool = True
    seed: int = 0


QUICK = dict(
    seeds=2,
    repeats=3,
    qe_loop=200,
    batch_repeats=3,
    qe_loop_repeats=1,
    pure_seeds=1,
    pure_qe_repeats=1,
    mixed_games=4,
    mixed_repeats=1,
    nashpy=False,
)

# ---------------------------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------------------------
_NASHPY_SCRIPT = """
import sys, time, warnings, numpy as np, nashpy
warnings.filterwarnings("ignore")
rng = np.random.default_rng(int(sys.argv[1]))
A, B = rng.random((10, 10)), rng.random((10, 10))
t0 = time.perf_counter()
eqs = list(nashpy.Game(A, B).vertex_enumeration())
print(time.perf_counter() - t0, len(eqs))
"""


def nashpy_10x10(seed: int) -> dict:
    """nashpy ``vertex_enumeration`` on the seed's game in a subprocess killed after the limit."""
    try:
        out = subprocess.run(
            [sys.executable, "-c", _NASHPY_SCRIPT, str(seed)],
            capture_output=True,
            text=True,
            timeout=NASHPY_TIMEOUT_S + 5.0,  # + interpreter and import start-up
        )
    except subprocess.TimeoutExpired:
        return {"status": "timeout"}
    try:
        secs, n = out.stdout.split()
    except ValueError:
        return {"status": "error", "stderr": out.stderr[-500:]}
    if float(secs) > NASHPY_TIMEOUT_S:
        return {"status": "timeout", "seconds": float(secs)}
    return {"status": "ok", "seconds": float(secs), "n_equilibria": int(n)}


def _agreement(ours: int, peer: int) -> str:
    if ours == peer:
        return f"same sets ({ours} NE)"
    return f"peer's {peer} NE are among ours ({ours}): peer incomplete"


def _two_player_games(cfg: Config, degenerate: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    games = []
    for s in range(cfg.seeds):
        rng = np.random.default_rng(cfg.seed + s + (50 if degenerate else 0))
        if degenerate:  # integer payoffs 0..3: many ties, degenerate best-response polytopes
            games.append(tuple(rng.integers(0, 4, (10, 10)).astype(float) for _ in range(2)))
        else:
            games.append((rng.random((10, 10)), rng.random((10, 10))))
    return games


def bench_10x10(cfg: Config, degenerate: bool = False) -> list[dict]:
    """All equilibria of 10x10 games: ours vs QuantEcon vertex enumeration (and pygambit enummixed)."""
    kind = "degenerate (integer payoffs 0..3)" if degenerate else "random"
    peers = {"quantecon": "QuantEcon vertex_enumeration"}
    if gbt is not None:
        peers["gambit"] = "pygambit enummixed_solve(rational=False)"
    first: dict = {}
    per_seed = []
    worst_match, worst_conv = 0.0, {k: 0.0 for k in ["ours", *peers]}
    found = dict.fromkeys(peers, 0)
    for s, (A, B) in enumerate(_two_player_games(cfg, degenerate)):
        P = np.stack([A, B])
        qg = qe_bimatrix(A, B)
        impls = {
            "ours": lambda A=A, B=B: solvers.two_player_equilibria(A, B).value,
            "quantecon": lambda qg=qg: gt.vertex_enumeration(qg),
        }
        if gbt is not None:
            gg = gbt.Game.from_arrays(A, B)
            impls["gambit"] = lambda gg=gg: gambit_profiles(gbt.nash.enummixed_solve(gg, rational=False), gg)
        answers = {}
        for name, fn in impls.items():
            answers[name], t = timed(fn)
            if s == 0:
                first[name] = t
            worst_conv[name] = max(worst_conv[name], max_conv(P, answers[name]))
        for name in peers:  # QuantEcon's vertex enumeration is incomplete on degenerate games
            subset = degenerate and name == "quantecon"
            worst_match = max(worst_match, match_sets(answers["ours"], answers[name], peer_subset=subset))
            found[name] += len(_flat_unique(answers[name]))
        times = interleave(impls, dict.fromkeys(impls, cfg.repeats))
        per_seed.append(
            {"seed": cfg.seed + s, "n_equilibria": len(answers["ours"])}
            | {f"{name}_s": float(np.median(t)) for name, t in times.items()}
        )
    ours = float(np.median([r["ours_s"] for r in per_seed]))
    rows = []
    for name, label in peers.items():
        peer = float(np.median([r[f"{name}_s"] for r in per_seed]))
        target = name == "quantecon"
        rows.append(
            _row(
                f"all NE, {kind} 10x10 ({cfg.seeds} seeds)",
                label,
                ours,
                peer,
                {"ours": first["ours"], "peer": first[name]},
                _agreement(sum(r["n_equilibria"] for r in per_seed), found[name]),
                worst_conv["ours"],
                target=f">= {TARGET_10X10:g}x" if target else None,
                met=peer / ours >= TARGET_10X10 if target else None,
                per_seed=per_seed,
                max_match_diff=worst_match,
                max_nash_conv_peer=worst_conv[name],
            )
        )
    if cfg.nashpy and not degenerate:
        rows[0]["nashpy"] = nashpy_10x10(cfg.seed) | {"seed": cfg.seed}
    return rows


def bench_batched(cfg: Config) -> dict:
    rng = np.random.default_rng(cfg.seed + 100)
    A, B = rng.random((cfg.batch, 6, 6)), rng.random((cfg.batch, 6, 6))
    sol, t_first = timed(lambda: solvers.two_player_equilibria_batched(A, B))
    eb = sol.value
    n_loop = min(cfg.qe_loop, cfg.batch)
    games = [qe_bimatrix(A[g], B[g]) for g in range(max(n_loop, cfg.agree_games))]
    _, t_qe_first = timed(lambda: gt.vertex_enumeration(games[0]))
    worst_match = 0.0
    for g in range(cfg.agree_games):
        worst_match = max(worst_match, match_sets(eb.game(g), gt.vertex_enumeration(games[g])))
    # every returned profile of the batch, scored with our nash_conv
    worst_conv = 0.0
    for g in range(cfg.batch):
        worst_conv = max(worst_conv, max_conv(np.stack([A[g], B[g]]), eb.game(g)))
    worst_conv_qe = 0.0
    for g in range(cfg.agree_games):
        worst_conv_qe = max(worst_conv_qe, max_conv(np.stack([A[g], B[g]]), gt.vertex_enumeration(games[g])))

    def qe_loop():
        return [gt.vertex_enumeration(games[g]) for g in range(n_loop)]

    times = interleave(
        {"ours": lambda: solvers.two_player_equilibria_batched(A, B), "quantecon": qe_loop},
        {"ours": cfg.batch_repeats, "quantecon": cfg.qe_loop_repeats},
    )
    ours = float(np.median(times["ours"]))
    loop = float(np.median(times["quantecon"]))
    peer = loop * cfg.batch / n_loop
    return _row(
        f"batched: all NE of {cfg.batch} random 6x6 games",
        f"QuantEcon vertex_enumeration, loop over {n_loop} games x{cfg.batch / n_loop:g}",
        ours,
        peer,
        {"ours": t_first, "peer": t_qe_first},
        f"same sets on {cfg.agree_games} games; {int(eb.count.sum())} NE in the batch",
        worst_conv,
        target=f">= {TARGET_BATCHED:g}x",
        met=peer / ours >= TARGET_BATCHED,
        peer_loop_measured_s=loop,
        max_match_diff=worst_match,
        max_nash_conv_peer=worst_conv_qe,
    )


def bench_pure(cfg: Config) -> list[dict]:
    """Pure equilibria, 6 players x 6 actions: ours vs QuantEcon ``pure_nash_brute`` and pygambit
    ``enumpure_solve`` (the pygambit game is built outside the timing; its build time is kept)."""
    peers = {"quantecon": "QuantEcon pure_nash_brute"}
    if gbt is not None:
        peers["gambit"] = "pygambit enumpure_solve"
    per_seed, first = [], {}
    worst = 0.0
    for s in range(cfg.pure_seeds):
        rng = np.random.default_rng(cfg.seed + 200 + s)
        P = rng.random((6,) + (6,) * 6)
        qg = qe_nplayer(P)
        impls = {
            "ours": lambda P=P: sorted(tuple(int(a) for a in p) for p in solvers.pure_nash(P).value),
            "quantecon": lambda qg=qg: sorted(tuple(int(a) for a in p) for p in gt.pure_nash_brute(qg)),
        }
        build = None
        if gbt is not None:
            gg, build = timed(lambda P=P: gbt.Game.from_arrays(*P))
            impls["gambit"] = lambda gg=gg: sorted(
                tuple(int(np.argmax(x)) for x in prof)
                for prof in gambit_profiles(gbt.nash.enumpure_solve(gg), gg)
            )
        answers = {}
        for name, fn in impls.items():
            answers[name], t = timed(fn)
            if s == 0:
                first[name] = t
        for name in peers:
            assert answers["ours"] == answers[name], f"pure NE: {answers['ours']} vs {name} {answers[name]}"
        for prof in answers["ours"]:
            worst = max(worst, solvers.nash_conv(P, [np.eye(6)[a] for a in prof]))
        reps = {"ours": cfg.repeats, "quantecon": cfg.pure_qe_repeats, "gambit": cfg.repeats}
        times = interleave(impls, {name: reps[name] for name in impls})
        per_seed.append(
            {"seed": cfg.seed + 200 + s, "n_equilibria": len(answers["ours"]), "gambit_build_s": build}
            | {f"{name}_s": float(np.median(t)) for name, t in times.items()}
        )
    ours = float(np.median([r["ours_s"] for r in per_seed]))
    rows = []
    for name, label in peers.items():
        peer = float(np.median([r[f"{name}_s"] for r in per_seed]))
        targeted = name == "gambit"
        rows.append(
            _row(
                f"pure NE, 6 players x 6 actions ({cfg.pure_seeds} seeds)",
                label,
                ours,
                peer,
                {"ours": first["ours"], "peer": first[name]},
                f"same sets ({sum(r['n_equilibria'] for r in per_seed)} NE)",
                worst,
                target=f">= {TARGET_PURE_VS_GAMBIT:g}x" if targeted else None,
                met=peer / ours >= TARGET_PURE_VS_GAMBIT if targeted else None,
                per_seed=per_seed,
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
def format_table(rows: list[dict]) -> str:
    head = (
        "| workload | peer | ours (median) | peer (median) | speedup peer/ours | first call ours / peer "
        "| answers | max NashConv ours | target | met |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        fc = r["first_call_s"]
        speed = "-" if r["speedup"] is None else f"{r['speedup']:.3g}"
        met = "-" if r["met"] is None else ("yes" if r["met"] else "**no**")
        lines.append(
            f"| {r['workload']} | {r['peer']} | {_ms(r['ours_s'])} | {_ms(r['peer_s'])} | {speed} "
            f"| {_ms(fc.get('ours'))} / {_ms(fc.get('peer'))} | {r['answers']} "
            f"| {r['max_nash_conv_ours']:.1e} | {r['target'] or '-'} | {met} |"
        )
    return "\n".join(lines)


def versions() -> dict:
    import nashpy
    import numba
    import quantecon
    import scipy

    return {
        "quantecon": quantecon.__version__,
        "numba": numba.__version__,
        "nashpy": nashpy.__version__,
        "scipy": scipy.__version__,
        "pygambit": gbt.__version__ if gbt is not None else GAMBIT_ERROR,
    }


def run(cfg: Config) -> dict:
    started = datetime.datetime.now(datetime.UTC)
    load_before = list(os.getloadavg())
    t0 = time.perf_counter()
    rows = [
        *bench_10x10(cfg),
        *bench_10x10(cfg, degenerate=True),
        bench_batched(cfg),
        *bench_pure(cfg),
        *bench_mixed(cfg),
    ]
    machine = machine_info()
    machine["loadavg_before"] = load_before
    machine.update(versions())
    return {
        "date_utc": started.isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks.bench_equilibria", *sys.argv[1:]]),
        "config": dataclasses.asdict(cfg),
        "machine": machine,
        "wall_s": time.perf_counter() - t0,
        "rows": rows,
    }


def parse_args(argv: Sequence[str] | None) -> tuple[Config, argparse.Namespace]:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_equilibria", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--quick", action="store_true", help="fewer seeds and repeats (< 60 s)")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON")
    ap.add_argument("--repeats", type=int, help="warm repeats per game (median)")
    ap.add_argument("--qe-loop", type=int, help="games in the QuantEcon loop of the batched workload")
    ap.add_argument("--mixed-games", type=int, help="random games per N-player shape")
    ap.add_argument("--seeds", type=int, help="10x10 games of each kind")
    ap.add_argument("--batch", type=int, help="games in the batched 6x6 workload")
    ap.add_argument("--agree-games", type=int, help="batched games checked against QuantEcon")
    ap.add_argument("--pure-seeds", type=int, help="6 x 6^6 pure games")
    ap.add_argument("--no-nashpy", action="store_true", help="do not try nashpy on 10x10")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    fields = dict(QUICK) if args.quick else {}
    for key in ("repeats", "qe_loop", "mixed_games", "seeds", "batch", "agree_games", "pure_seeds"):
        val = getattr(args, key)
        if val is not None:
            if val < 1:
                ap.error(f"--{key.replace('_', '-')}: expected an integer >= 1")
            fields[key] = val
    if args.no_nashpy:
        fields["nashpy"] = False
    return Config(seed=args.seed, **fields), args


def main(argv: Sequence[str] | None = None) -> dict:
    cfg, args = parse_args(argv)
    results = run(cfg)
    m = results["machine"]
    print(f"aca_games equilibrium benchmark  {results['date_utc']}")
    print(
        f"machine: {m['platform']}  cpus={m['cpu_count']}  python {m['python']}  numpy {m['numpy']}  "
        f"jax {m['jax']}  quantecon {m['quantecon']}  numba {m['numba']}  nashpy {m['nashpy']}  "
        f"pygambit {m['pygambit']}"
    )
    print(f"aca_games at git {m['git_commit']}")
    print(f"load average (1, 5, 15 min) before: {m['loadavg_before']}  after: {m['loadavg']}")
    print(f"warm medians ({cfg.repeats} runs per game, interleaved); wall {results['wall_s']:.1f} s\n")
    print(format_table(results["rows"]))
    ny = results["rows"][0].get("nashpy")
    if ny is None:
        print("\nnashpy: not run (--quick or --no-nashpy)")
    elif ny["status"] == "ok":
        print(f"\nnashpy vertex_enumeration (seed {ny['seed']}): "
              f"{ny['seconds']:.2f} s, {ny['n_equilibria']} NE")
    else:
        print(
            f"\nnashpy vertex_enumeration (seed {ny['seed']}): {ny['status']} (> {NASHPY_TIMEOUT_S:g} s "
            "limit, subprocess killed); skipped on the other seeds"
        )
    if gbt is None:
        print(f"pygambit not installed ({GAMBIT_ERROR}): its rows are missing")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2, default=float)
        print(f"\nwrote {args.json}")
    return results


if __name__ == "__main__":
    main()
