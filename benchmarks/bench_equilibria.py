"""Equilibrium solvers against QuantEcon (and nashpy where it finishes), in one process.

DESIGN.md ("Performance — measured, as ratios in one run") targets, with calls from PEERS.md:

* ``10x10 all NE``: :func:`solvers.two_player_equilibria` on random 10x10 games vs QuantEcon's numba
  ``vertex_enumeration`` (``NormalFormGame((Player(A), Player(B.T)))``): at least as fast, identical
  equilibrium sets (checked before timing: every equilibrium of ours matches exactly one of theirs
  within ``MATCH_ATOL`` and the counts are equal). nashpy ``vertex_enumeration`` is tried in a
  subprocess with a ``NASHPY_TIMEOUT_S`` limit and reported as skipped when it does not finish.
* ``batched 6x6``: :func:`solvers.two_player_equilibria_batched` on ``10^4`` random 6x6 games in one
  call vs a Python loop of QuantEcon ``vertex_enumeration`` over the first ``--qe-loop`` games, scaled
  to the whole batch (the loop's cost is linear in the number of games); agreement checked on 100
  games. Target ``>= 20x``.
* ``pure NE 6x6^6``: :func:`solvers.pure_nash` on 6 players x 6 actions vs QuantEcon
  ``pure_nash_brute`` (cyclic own-first axes); same set of profiles. DESIGN's target is against
  pygambit ``enumpure_solve`` (not installed here): its number in PEERS.md (90 ms, plus 5.2 s to build
  the game) was measured elsewhere and is printed as a reference only.
* ``mixed N-player``: :func:`solvers.mixed_nash` on 3x3x3, 4 players x 3 actions and 3 players x 5
  actions (random games): median wall time per game to NashConv ``<= 1e-8`` and the number
  certified. No peer runs here; PEERS.md's pygambit ``logit_solve`` times (22-146 ms, measured on
  another run, not this one) are printed as the reference.

Every profile returned by any solver (ours and peers) is scored with our own
:func:`solvers.nash_conv` on the original payoffs. Timings are warm medians, interleaved round-robin
between ours and the peer; the first call (numba / JAX compilation + one run) is reported apart.
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
import warnings
from collections.abc import Callable, Sequence

import numpy as np

import solvers
from benchmarks.bench_oracle import machine_info

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=FutureWarning)

import quantecon.game_theory as gt  # noqa: E402  (after the warning filters: numba deprecations)

#: An equilibrium of ours matches one of the peer's when every probability differs by at most this.
MATCH_ATOL = 1e-6
#: NashConv accepted for a returned profile (payoffs are uniform on [0, 1]).
NASHCONV_TOL = 1e-8
#: nashpy is run only if it finishes one 10x10 game within this wall time (subprocess, killed after).
NASHPY_TIMEOUT_S = 10.0
#: DESIGN targets (speedups ours vs peer).
TARGET_10X10 = 1.0
TARGET_BATCHED = 20.0
TARGET_PURE_VS_GAMBIT = 10.0
#: PEERS.md numbers measured elsewhere (not in this run): pygambit, seconds.
GAMBIT_ENUMMIXED_10X10_S = 0.41
GAMBIT_ENUMPURE_6X6_S = 0.090
GAMBIT_LOGIT_RANGE_S = (0.022, 0.146)


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
    mixed_games: int = 20
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
    mixed_games=5,
    nashpy=False,
)

MIXED_SHAPES = {"3x3x3": (3, 3, 3, 3), "4 players x 3": (4, 3, 3, 3, 3), "3 players x 5": (3, 5, 5, 5)}


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
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


def match_sets(ours: Sequence, theirs: Sequence) -> float:
    """Largest probability difference in a one-to-one matching of two equilibrium lists.

    Raises ``AssertionError`` if the counts differ or some equilibrium of ours has no partner.
    """
    assert len(ours) == len(theirs), f"ours {len(ours)} equilibria, peer {len(theirs)}"
    flat_t = [np.concatenate([np.asarray(x, float), np.asarray(y, float)]) for x, y in theirs]
    free = list(range(len(flat_t)))
    worst = 0.0
    for x, y in ours:
        v = np.concatenate([x, y])
        dists = [float(np.max(np.abs(v - flat_t[j]))) for j in free]
        k = int(np.argmin(dists)) if dists else -1
        assert k >= 0 and dists[k] <= MATCH_ATOL, f"no peer equilibrium within {MATCH_ATOL} of {v}"
        worst = max(worst, dists[k])
        free.pop(k)
    return worst


def max_conv(P: np.ndarray, profiles: Sequence) -> float:
    return max((solvers.nash_conv(P, list(p)) for p in profiles), default=0.0)


def _ms(s: float | None) -> str:
    return "-" if s is None else f"{s * 1e3:.3g} ms"


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


def bench_10x10(cfg: Config) -> dict:
    games = []
    for s in range(cfg.seeds):
        rng = np.random.default_rng(cfg.seed + s)
        games.append((rng.random((10, 10)), rng.random((10, 10))))
    first = {}
    per_seed = []
    worst_match, worst_conv_ours, worst_conv_qe = 0.0, 0.0, 0.0
    for s, (A, B) in enumerate(games):
        P = np.stack([A, B])
        g = qe_bimatrix(A, B)
        sol, t_ours = timed(lambda A=A, B=B: solvers.two_player_equilibria(A, B))
        qe, t_qe = timed(lambda g=g: gt.vertex_enumeration(g))
        if s == 0:
            first = {"ours": t_ours, "quantecon": t_qe}
        worst_match = max(worst_match, match_sets(sol.value, qe))
        worst_conv_ours = max(worst_conv_ours, max_conv(P, sol.value))
        worst_conv_qe = max(worst_conv_qe, max_conv(P, qe))
        times = interleave(
            {
                "ours": lambda A=A, B=B: solvers.two_player_equilibria(A, B),
                "quantecon": lambda g=g: gt.vertex_enumeration(g),
            },
            {"ours": cfg.repeats, "quantecon": cfg.repeats},
        )
        per_seed.append(
            {
                "seed": cfg.seed + s,
                "n_equilibria": len(sol.value),
                "ours_s": float(np.median(times["ours"])),
                "quantecon_s": float(np.median(times["quantecon"])),
            }
        )
    ours = float(np.median([r["ours_s"] for r in per_seed]))
    peer = float(np.median([r["quantecon_s"] for r in per_seed]))
    nashpy = None
    if cfg.nashpy:
        nashpy = nashpy_10x10(cfg.seed)
        nashpy["seed"] = cfg.seed
    return {
        "workload": f"all NE, random 10x10 ({cfg.seeds} seeds)",
        "peer": "QuantEcon vertex_enumeration",
        "ours_s": ours,
        "peer_s": peer,
        "first_call_s": first,
        "speedup": peer / ours,
        "target": f">= {TARGET_10X10:g}x",
        "met": peer / ours >= TARGET_10X10,
        "per_seed": per_seed,
        "equilibria": [r["n_equilibria"] for r in per_seed],
        "same_sets": True,
        "max_match_diff": worst_match,
        "max_nash_conv": {"ours": worst_conv_ours, "quantecon": worst_conv_qe},
        "nashpy": nashpy,
        "gambit_reference_s": GAMBIT_ENUMMIXED_10X10_S,
    }


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
    return {
        "workload": f"batched: all NE of {cfg.batch} random 6x6 games",
        "peer": f"QuantEcon vertex_enumeration, loop over {n_loop} games x{cfg.batch / n_loop:g}",
        "ours_s": ours,
        "peer_s": peer,
        "peer_loop_measured_s": loop,
        "first_call_s": {"ours": t_first, "quantecon": t_qe_first},
        "speedup": peer / ours,
        "target": f">= {TARGET_BATCHED:g}x",
        "met": peer / ours >= TARGET_BATCHED,
        "agree_games": cfg.agree_games,
        "same_sets": True,
        "max_match_diff": worst_match,
        "total_equilibria": int(eb.count.sum()),
        "max_nash_conv": {"ours": worst_conv, "quantecon": worst_conv_qe},
    }


def bench_pure(cfg: Config) -> dict:
    per_seed, first = [], {}
    worst = 0.0
    for s in range(cfg.pure_seeds):
        rng = np.random.default_rng(cfg.seed + 200 + s)
        P = rng.random((6,) + (6,) * 6)
        g = qe_nplayer(P)
        sol, t_ours = timed(lambda P=P: solvers.pure_nash(P))
        qe, t_qe = timed(lambda g=g: gt.pure_nash_brute(g))
        if s == 0:
            first = {"ours": t_ours, "quantecon": t_qe}
        ours_set = sorted(tuple(int(a) for a in p) for p in sol.value)
        qe_set = sorted(tuple(int(a) for a in p) for p in qe)
        assert ours_set == qe_set, f"pure NE differ: ours {ours_set}, QuantEcon {qe_set}"
        for prof in ours_set:
            worst = max(worst, solvers.nash_conv(P, [np.eye(6)[a] for a in prof]))
        times = interleave(
            {"ours": lambda P=P: solvers.pure_nash(P), "quantecon": lambda g=g: gt.pure_nash_brute(g)},
            {"ours": cfg.repeats, "quantecon": cfg.pure_qe_repeats},
        )
        per_seed.append(
            {
                "seed": cfg.seed + 200 + s,
                "n_equilibria": len(ours_set),
                "ours_s": float(np.median(times["ours"])),
                "quantecon_s": float(np.median(times["quantecon"])),
            }
        )
    ours = float(np.median([r["ours_s"] for r in per_seed]))
    peer = float(np.median([r["quantecon_s"] for r in per_seed]))
    vs_gambit = GAMBIT_ENUMPURE_6X6_S / ours
    return {
        "workload": f"pure NE, 6 players x 6 actions ({cfg.pure_seeds} seeds)",
        "peer": "QuantEcon pure_nash_brute",
        "ours_s": ours,
        "peer_s": peer,
        "first_call_s": first,
        "speedup": peer / ours,
        "target": f">= {TARGET_PURE_VS_GAMBIT:g}x pygambit enumpure (90 ms, measured elsewhere)",
        "met": vs_gambit >= TARGET_PURE_VS_GAMBIT,
        "speedup_vs_gambit_reference": vs_gambit,
        "equilibria": [r["n_equilibria"] for r in per_seed],
        "same_sets": True,
        "max_nash_conv": {"ours": worst},
        "per_seed": per_seed,
    }


def bench_mixed(cfg: Config) -> list[dict]:
    rows = []
    for k, (label, shape) in enumerate(MIXED_SHAPES.items()):
        rng = np.random.default_rng(cfg.seed + 300 + k)
        warm = rng.random(shape)
        _, t_first = timed(lambda warm=warm: solvers.mixed_nash(warm))
        times, convs, certified = [], [], 0
        for _ in range(cfg.mixed_games):
            P = rng.random(shape)
            sol, t = timed(lambda P=P: solvers.mixed_nash(P))
            conv = solvers.nash_conv(P, list(sol.value))
            times.append(t)
            convs.append(conv)
            certified += int(sol.status == "converged" and conv <= NASHCONV_TOL)
        ours = float(np.median(times))
        lo, hi = GAMBIT_LOGIT_RANGE_S
        rows.append(
            {
                "workload": f"mixed NE {label} ({cfg.mixed_games} games), to NashConv <= 1e-8",
                "peer": "pygambit logit_solve (22-146 ms, PEERS.md, measured elsewhere)",
                "ours_s": ours,
                "ours_max_s": float(np.max(times)),
                "peer_s": None,
                "first_call_s": {"ours": t_first},
                "speedup": None,
                "target": "faster than pygambit logit",
                "met": ours < lo and certified == cfg.mixed_games,
                "certified": certified,
                "games": cfg.mixed_games,
                "max_nash_conv": {"ours": float(np.max(convs))},
                "speedup_vs_gambit_reference": (lo / ours, hi / ours),
            }
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
def format_table(rows: list[dict]) -> str:
    head = (
        "| workload | peer | ours (median) | peer (median) | speedup peer/ours | first call ours / peer "
        "| same answers | max NashConv ours | target | met |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        fc = r["first_call_s"]
        if "certified" in r:
            same = f"{r['certified']}/{r['games']} certified"
            lo, hi = r["speedup_vs_gambit_reference"]
            speed = f"({lo:.3g}-{hi:.3g} vs ref.)"
        else:
            same = "yes" if r["same_sets"] else "no"
            speed = f"{r['speedup']:.3g}"
            if "speedup_vs_gambit_reference" in r:
                speed += f" ({r['speedup_vs_gambit_reference']:.3g} vs gambit ref.)"
        lines.append(
            "| {} | {} | {} | {} | {} | {} / {} | {} | {:.1e} | {} | {} |".format(
                r["workload"],
                r["peer"],
                _ms(r["ours_s"]),
                _ms(r["peer_s"]),
                speed,
                _ms(fc.get("ours")),
                _ms(fc.get("quantecon")),
                same,
                r["max_nash_conv"]["ours"],
                r["target"],
                "yes" if r["met"] else "no",
            )
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
    }


def run(cfg: Config) -> dict:
    started = datetime.datetime.now(datetime.UTC)
    load_before = list(os.getloadavg())
    t0 = time.perf_counter()
    rows = [bench_10x10(cfg), bench_batched(cfg), bench_pure(cfg), *bench_mixed(cfg)]
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
    ap.add_argument("--no-nashpy", action="store_true", help="do not try nashpy on 10x10")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    fields = dict(QUICK) if args.quick else {}
    for key in ("repeats", "qe_loop", "mixed_games"):
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
        f"jax {m['jax']}  quantecon {m['quantecon']}  numba {m['numba']}  nashpy {m['nashpy']}"
    )
    print(f"aca_games at git {m['git_commit']}")
    print(f"load average (1, 5, 15 min) before: {m['loadavg_before']}  after: {m['loadavg']}")
    print(f"warm medians ({cfg.repeats} runs per game, interleaved); wall {results['wall_s']:.1f} s\n")
    print(format_table(results["rows"]))
    r10, rb = results["rows"][0], results["rows"][1]
    print(
        f"\n10x10: equilibria per seed {r10['equilibria']}; sets identical to QuantEcon (max diff "
        f"{r10['max_match_diff']:.1e}); QuantEcon max NashConv {r10['max_nash_conv']['quantecon']:.1e}; "
        f"pygambit enummixed reference {GAMBIT_ENUMMIXED_10X10_S * 1e3:.0f} ms (PEERS.md, measured "
        f"elsewhere) -> {GAMBIT_ENUMMIXED_10X10_S / r10['ours_s']:.0f}x (target 20x)"
    )
    ny = r10["nashpy"]
    if ny is None:
        print("nashpy: not run (--quick or --no-nashpy)")
    elif ny["status"] == "ok":
        print(
            f"nashpy vertex_enumeration (seed {ny['seed']}): {ny['seconds']:.2f} s, {ny['n_equilibria']} NE"
        )
    else:
        print(
            f"nashpy vertex_enumeration (seed {ny['seed']}): {ny['status']} (> {NASHPY_TIMEOUT_S:g} s "
            "limit, subprocess killed); skipped on the other seeds"
        )
    print(
        f"batched: QuantEcon loop measured over {cfg.qe_loop} games ({_ms(rb['peer_loop_measured_s'])}) "
        f"and scaled x{cfg.batch / cfg.qe_loop:g}; agreement checked on {rb['agree_games']} games "
        f"(max diff {rb['max_match_diff']:.1e}); {rb['total_equilibria']} equilibria in the batch"
    )
    print(
        "pure / mixed: pygambit is not installed; its PEERS.md numbers were measured elsewhere and "
        "are references only"
    )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2, default=float)
        print(f"\nwrote {args.json}")
    return results


if __name__ == "__main__":
    main()
