"""Certified equilibria of large exact-oracle games (issue 9): time vs number of collectives.

DESIGN.md target: "a certified equilibrium of a 100-collective exact-oracle game in < 10 s on 2
cores; scaling table for 10/30/100/300 collectives".

Workload: the world of the bundled city scenario (108 relevant points, 3 labels, 24 signals,
``aca_games/scenarios/city.toml``) and ``n`` collectives drawn from its generator's mix (tenants and
families plant ``cooling``, seniors ``check_in``; a third with coordination noise), sizes scaled so
that they sum to :data:`TOTAL_SIZE`. Each collective's menu: its own signal, two other signals of
its district or a neighbour's, and abstaining (4 options). Payoff: exact success (the oracle;
``ε = 0``, Bayes-optimal learner) minus size.

For each ``n``: the time to build the game (plant every option), the first
:func:`solvers.find_equilibrium` call (trace + compile + solve) and warm medians of
``--repeats`` calls (new random orders each time: ``key`` varies), the number of sweeps, the status
and the certificate (largest unilateral gain, from ``Σ m_i`` fresh deviation payoffs). Every
returned equilibrium is also re-checked here from full-profile evaluations (``game.payoffs`` at each
of the ``Σ m_i`` deviated profiles). Where the payoff table fits (``n · 4^n`` entries within
``aca_games.game.MAX_TABLE_ENTRIES``) the full-tensor path is timed as well (``payoff_tensor`` +
``pure_nash``), and the equilibrium found must be one of ``pure_nash``'s.

Run: ``python -m benchmarks.bench_large_games [--quick] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import time

import numpy as np

import solvers
from aca_games import ACAGame, Collective, Player
from aca_games.app.scenario import bundled_scenarios, load_scenario
from aca_games.game import MAX_TABLE_ENTRIES, format_count
from benchmarks.bench_oracle import machine_info

SIZES = (10, 30, 100, 300)
QUICK_SIZES = (6, 30)
#: Sum of the collectives' sizes (each ~TOTAL_SIZE / n).
TOTAL_SIZE = 0.4
OPTIONS = 4
TARGET_100_S = 10.0
SEED = 0


def make_game(n: int, seed: int = SEED) -> ACAGame:
    """``n`` collectives on the city world, 3 signals + abstain each (module docstring)."""
    scenario = load_scenario(bundled_scenarios()["city"])
    world, templates = scenario.world, scenario.collectives
    rng = np.random.default_rng(seed + n)
    signals = list(world.signals)
    sizes = rng.dirichlet(np.full(n, 4.0)) * TOTAL_SIZE
    players = []
    for i in range(n):
        t = templates[i % len(templates)]
        home = signals.index(t.signal)
        others = rng.choice([k for k in range(len(signals)) if k != home], size=OPTIONS - 2, replace=False)
        c = Collective(
            f"c{i}",
            float(sizes[i]),
            t.signal,
            target=t.target,
            label=t.label,
            strategy=t.strategy,
            variant=t.variant,
            noise=t.noise,
            noise_mode=t.noise_mode,
        )
        options = [c] + [c.replace(signal=signals[k]) for k in others] + [c.with_size(0.0)]
        names = [f"signal {o.signal}" for o in options[:-1]] + ["abstain"]
        players.append(Player(c.name, options, size_cost=1.0, option_names=names))
    return ACAGame(world, players, bound="exact", eps=0.0)


def reference_gain(game: ACAGame, profile) -> float:
    """Largest unilateral gain from full-profile evaluations (independent of the deviation kernel)."""
    own = np.asarray(game.payoffs(profile))
    worst = 0.0
    for p, m in enumerate(game.shape):
        for b in range(m):
            deviated = list(profile)
            deviated[p] = b
            worst = max(worst, float(game.payoffs(tuple(deviated))[p]) - own[p])
    return worst


def run_one(n: int, repeats: int) -> dict:
    t0 = time.perf_counter()
    game = make_game(n)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    first = solvers.find_equilibrium(game)
    cold = time.perf_counter() - t0
    warm, sweeps = [], []
    for r in range(repeats):
        t0 = time.perf_counter()
        sol = solvers.find_equilibrium(game, key=r + 1)
        warm.append(time.perf_counter() - t0)
        sweeps.append(sol.stats["sweeps"])
    row = {
        "n": n,
        "options": OPTIONS,
        "deviations": int(sum(game.shape)),
        "profiles": format_count(game.n_profiles),
        "build_s": build,
        "first_call_s": cold,
        "warm_median_s": float(np.median(warm)),
        "sweeps": sweeps,
        "kind": first.stats["kind"],
        "status": first.status,
        "certificate": first.certificate,
    }
    if first.stats["kind"] == "pure":
        row["reference_gain"] = reference_gain(game, first.value)
        assert abs(row["reference_gain"] - max(first.certificate, 0.0)) <= 1e-12, row
    if len(game.players) * game.n_profiles <= MAX_TABLE_ENTRIES:
        t0 = time.perf_counter()
        table = solvers.pure_nash(game.payoff_tensor(), tol=first.stats["tol"])
        row["tensor_s"] = time.perf_counter() - t0
        row["tensor_equilibria"] = len(table.value)
        row["found_among_tensor"] = first.value in table.value
        assert first.stats["kind"] != "pure" or row["found_among_tensor"], row
    return row


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 6 and 30, one warm repeat")
    parser.add_argument("--sizes", type=int, nargs="*", help="numbers of collectives")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    repeats = 1 if args.quick else args.repeats
    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = [run_one(n, repeats) for n in sizes]
    header = (
        "n",
        "Σ m_i",
        "profiles",
        "build s",
        "first call s",
        "warm s",
        "sweeps",
        "status",
        "gain",
        "tensor path s",
    )
    print(" | ".join(header))
    for r in rows:
        tensor = f"{r['tensor_s']:.3g} ({r['tensor_equilibria']} eq)" if "tensor_s" in r else "does not fit"
        print(
            " | ".join(
                str(x)
                for x in (
                    r["n"],
                    r["deviations"],
                    r["profiles"],
                    f"{r['build_s']:.3g}",
                    f"{r['first_call_s']:.3g}",
                    f"{r['warm_median_s']:.3g}",
                    r["sweeps"],
                    f"{r['kind']} {r['status']}",
                    f"{r['certificate']:.3g}",
                    tensor,
                )
            )
        )
    hundred = next((r for r in rows if r["n"] == 100), None)
    if hundred is not None:
        met = hundred["first_call_s"] < TARGET_100_S and hundred["status"] == "converged"
        print(
            f"100 collectives: first call {hundred['first_call_s']:.3g} s (target < {TARGET_100_S:g} s): "
            f"{'met' if met else 'NOT met'}"
        )
    results = {"started": started, "machine": machine_info(), "rows": rows}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
