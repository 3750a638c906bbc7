"""The strategic part of ``aca-games run``: the scenario as a game, its equilibria, best responses.

A scenario lists collectives, not menus. Its *default game* gives every collective the menu
"plant my label on signal g" for each signal ``g`` of the world (its own signal first, same size,
label, strategy and noise) plus "abstain" (size 0). A player values success at 1 and pays its recruited size:
``u_i = S_i - α_i`` with ``S_i`` the exact oracle under the scenario's learner. Signal choice is where
collectives collide, and abstaining while others plant on your signal is free-riding.

The report also sizes the minimum joint coalition: the smallest total size at which every
collective of the scenario meets ``analysis.target_success`` together (per-point MILP and B1 LP,
:func:`solvers.coalition.min_joint_sizes`, each re-checked with the exact oracle).

The report holds all pure Nash equilibria (exact enumeration), the best response of each collective
to the scenario's own profile (everyone on its configured signal), the price of anarchy of the pure
equilibria, and, for two players, every extreme mixed equilibrium.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from rich.markup import escape
from rich.table import Table

from aca_games import ACAGame, Player
from solvers.best_response import best_response
from solvers.coalition import min_joint_sizes
from solvers.equilibrium.analysis import price_of_anarchy
from solvers.equilibrium.pure import pure_nash
from solvers.equilibrium.two_player import two_player_equilibria

if TYPE_CHECKING:
    from aca_games.app.scenario import Scenario

ABSTAIN = "abstain"
GAME_V1 = "Default game (menu: every signal, or abstain; payoff = exact success - size)"
GAME_V2 = "The scenario's game (its menus; payoff = value × success - costs)"
#: Reported coalition sizes are rounded up to this step (JSON keeps 6 decimals).
SIZE_STEP = 1e-6
#: Equilibria listed in the table (the JSON report has all of them).
SHOWN = 8


def default_game(scenario: Scenario) -> ACAGame:
    """The scenario's default game (see the module docstring); option 0 is the configured one.

    A version-2 file states its own game (menus, values, costs): that game is returned instead, and
    ``scenario.configured`` holds its configured profile.
    """
    world, a = scenario.world, scenario.analysis
    if scenario.players:
        return ACAGame(world, scenario.players, bound=scenario.payoff, eps=a.eps, reading=a.reading)
    players = []
    for c in scenario.collectives:
        signals = [c.signal] + [g for g in world.signals if g != c.signal]
        options = [c.replace(signal=g) for g in signals] + [c.with_size(0.0)]
        names = [f"signal {g}" for g in signals] + [ABSTAIN]
        players.append(Player(c.name, options, value=1.0, size_cost=1.0, option_names=names))
    return ACAGame(world, players, bound="exact", eps=a.eps, reading=a.reading)


def game_report(scenario: Scenario) -> dict:
    """Equilibria, best responses and price of anarchy of the scenario's default game.

    >>> from aca_games.app.scenario import load_scenario, default_scenario_path
    >>> rep = game_report(load_scenario(default_scenario_path()))
    >>> rep["configured_is_equilibrium"], rep["best_responses"][2]["best"]   # the shops should switch
    (False, 'signal stillair_tag')
    """
    game = default_game(scenario)
    tensor = game.payoff_tensor()
    names = [p.option_names for p in game.players]
    configured = scenario.configured or (0,) * len(game.players)
    pure = pure_nash(tensor)
    responses = []
    for i, p in enumerate(game.players):
        ranking = best_response(tensor, i, configured).value
        responses.append({"collective": p.name, "best": names[i][ranking[0]["option"]],
                          "payoff": ranking[0]["payoff"],
                          "configured_payoff": float(tensor[(i, *configured)])})
    report = {
        "game": GAME_V2 if scenario.players else GAME_V1,
        "menus": [list(n) for n in names],
        "pure_equilibria": [
            {"profile": [names[i][a] for i, a in enumerate(eq)],
             "payoff": [float(tensor[(i, *eq)]) for i in range(len(eq))]}
            for eq in pure.value
        ],
        "configured_is_equilibrium": configured in pure.value,
        "best_responses": responses,
    }
    if pure.value:
        poa = price_of_anarchy(tensor, pure.value).value
        report["price_of_anarchy"] = {k: poa[k] for k in ("optimum", "worst_equilibrium", "poa")
                                      if k in poa and not isinstance(poa[k], (dict, list))}
    report["min_coalition"] = coalition_report(scenario)
    if len(game.players) == 2:
        mixed = two_player_equilibria(tensor)
        report["mixed_equilibria"] = [[np.round(x, 6).tolist(), np.round(y, 6).tolist()]
                                      for x, y in mixed.value]
    return report


def coalition_report(scenario: Scenario) -> dict:
    """Minimum joint sizes meeting the scenario's target for every collective, per bound."""
    a, cs = scenario.analysis, list(scenario.collectives)
    targets = [a.target_success] * len(cs)
    bounds = ["staircase"]
    if all(c.strategy in ("feature_label", "feature_only") for c in cs):
        bounds.append("closed_form")  # B1 covers planting strategies only
    out = {}
    for bound in bounds:
        sol = min_joint_sizes(scenario.world, cs, targets, bound=bound, eps=a.eps, reading=a.reading)
        sizes = (sol.value or {}).get("sizes")
        if sizes is not None:  # round *up*: a size rounded down can fall just below a crack level
            sizes = {k: math.ceil(x / SIZE_STEP) * SIZE_STEP for k, x in sizes.items()}
        out[bound] = {"status": sol.status, "sizes": sizes,
                      "total": None if sizes is None else sum(sizes.values()),
                      "reason": sol.stats.get("reason")}
    return out


def render_game(report: dict) -> list[Table]:
    """Rich tables: pure equilibria and best responses to the configured profile."""
    found = report["pure_equilibria"]
    eq = Table(title=f"{report['game']}: "
               f"{len(found)} pure Nash equilibria" + (f", first {SHOWN}" if len(found) > SHOWN else ""),
               title_justify="left", header_style="bold")
    eq.add_column("#", justify="right")
    eq.add_column("profile")
    eq.add_column("payoffs", justify="right")
    for k, e in enumerate(found[:SHOWN], 1):
        eq.add_row(str(k), escape(", ".join(e["profile"])), ", ".join(f"{s:.3f}" for s in e["payoff"]))
    if not report["pure_equilibria"]:
        eq.add_row("-", "no pure equilibrium", "")
    br = Table(title="Best response of each collective to the configured profile",
               title_justify="left", header_style="bold")
    for header in ("collective", "best option", "payoff", "configured"):
        br.add_column(header, justify="left" if header in ("collective", "best option") else "right")
    for r in report["best_responses"]:
        br.add_row(escape(r["collective"]), escape(r["best"]), f"{r['payoff']:.3f}",
                   f"{r['configured_payoff']:.3f}")
    co = Table(title="Minimum joint coalition: every collective meets the target together "
               "(sizes re-checked with the exact oracle)", title_justify="left", header_style="bold")
    co.add_column("bound")
    co.add_column("status")
    co.add_column("total", justify="right")
    co.add_column("sizes")
    for bound, r in report["min_coalition"].items():
        sizes = ", ".join(f"{escape(k)} {x:.6f}" for k, x in (r["sizes"] or {}).items())
        sizes = sizes or (r["reason"] or "")
        total = f"{r['total']:.4f}" if r["total"] is not None else "-"
        co.add_row(bound.replace("_", " "), r["status"], total, sizes)
    return [eq, br, co]


__all__ = ["ABSTAIN", "default_game", "game_report", "render_game"]
