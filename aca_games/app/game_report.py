"""The strategic part of ``aca-games run``: the scenario as a game, its equilibria, best responses.

A scenario lists collectives, not menus. Its *default game* gives every collective the menu
"plant my label on signal g" for each signal ``g`` of the world (its own signal first, same size,
label, strategy and noise) plus "abstain" (size 0). A player values success at 1 and pays its recruited size:
``u_i = S_i - α_i`` with ``S_i`` the exact oracle under the scenario's learner. Signal choice is where
collectives collide, and abstaining while others plant on your signal is free-riding.

The report also sizes the minimum joint coalition: the smallest total size at which every
collective of the scenario meets ``analysis.target_success`` together (per-point MILP and B1 LP,
:func:`solvers.coalition.min_joint_sizes`, each re-checked with the exact oracle).

**Which method.** A game with at most :data:`ENUMERATE_MAX_PROFILES` pure profiles is enumerated:
all pure Nash equilibria (:func:`solvers.pure_nash` on the payoff tensor), the price of anarchy of
the pure equilibria and, for two players, every extreme mixed equilibrium. A larger game (a city
of 100 collectives has ``25^100`` profiles) is never tabulated: :func:`solvers.find_equilibrium`
runs best-response dynamics from the configured profile and returns one certified equilibrium
(or a coarse correlated equilibrium), the price of anarchy is reported as not computable, and the
JSON says which method ran (``"method"``). Either way an equilibrium means every player's largest
unilateral gain is at most :data:`~solvers.equilibrium.large.EQUILIBRIUM_TOL` (rounding), and the
best response of each collective to the configured profile comes from the ``Σ m_i`` deviation
payoffs: read off the payoff tensor of an enumerated game, else
:meth:`aca_games.ACAGame.all_deviation_payoffs`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from rich.markup import escape
from rich.table import Table

from aca_games import ACAGame, Player
from aca_games.game import format_count
from solvers.coalition import min_joint_sizes
from solvers.equilibrium.analysis import price_of_anarchy
from solvers.equilibrium.large import EQUILIBRIUM_TOL, find_equilibrium
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
#: Past this many players the best-response table lists only the collectives that would switch.
MANY_PLAYERS = 20
#: What the report keeps of :func:`solvers.price_of_anarchy`.
POA_KEYS = ("optimum", "worst_equilibrium", "best_equilibrium", "price_of_anarchy", "price_of_stability",
            "convention")
#: Games with at most this many pure profiles are enumerated (all pure equilibria, price of
#: anarchy); larger ones are solved by :func:`solvers.find_equilibrium` without a payoff table.
ENUMERATE_MAX_PROFILES = 200_000


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


def game_report(scenario: Scenario, progress: Callable[[str], None] | None = None) -> dict:
    """Equilibria, best responses and price of anarchy of the scenario's default game.

    ``progress`` (optional) receives one-line messages while a large game is solved.

    >>> from aca_games.app.scenario import load_scenario, default_scenario_path
    >>> rep = game_report(load_scenario(default_scenario_path()))
    >>> rep["method"], rep["configured_is_equilibrium"], rep["best_responses"][2]["best"]
    ('enumeration', False, 'signal stillair_tag')
    """
    say = progress or (lambda message: None)
    say("building the default game (every signal, or abstain)...")
    game = default_game(scenario)
    names = [p.option_names for p in game.players]
    configured = tuple(scenario.configured or (0,) * len(game.players))
    enumerate_all = game.n_profiles <= ENUMERATE_MAX_PROFILES
    tensor = game.payoff_tensor() if enumerate_all else None
    deviations = _deviations(game, tensor, configured)
    now = deviations[np.arange(len(configured)), configured]
    gains = deviations.max(axis=1) - now
    report = {
        "game": GAME_V2 if scenario.players else GAME_V1,
        "players": [p.name for p in game.players],
        "menus": [list(n) for n in names],
        "n_profiles": format_count(game.n_profiles),
        "configured_is_equilibrium": bool(gains.max() <= EQUILIBRIUM_TOL),
        "configured_gain": float(max(gains.max(), 0.0)),
        "best_responses": _best_responses(game, deviations, configured),
        "tol": EQUILIBRIUM_TOL,
    }
    if enumerate_all:
        say(f"enumerating all {format_count(game.n_profiles)} profiles...")
        report.update(_enumerated(game, names, tensor))
    else:
        say(f"{format_count(game.n_profiles)} profiles: best-response dynamics (find_equilibrium)...")
        report.update(_searched(game, names, configured, say))
    say("sizing the minimum joint coalition (MILP)...")
    report["min_coalition"] = coalition_report(scenario)
    return report


def _labelled(game: ACAGame, names, profile) -> dict:
    payoff = np.asarray(game.payoffs(profile))
    return {"profile": [names[i][a] for i, a in enumerate(profile)], "payoff": payoff.tolist()}


def _best_responses(game: ACAGame, deviations: np.ndarray, configured) -> list[dict]:
    """Each player's best option against the configured profile (first in menu order on ties)."""
    out = []
    for i, p in enumerate(game.players):
        row = deviations[i, : len(p.options)]
        best = int(np.argmax(row))
        out.append({"collective": p.name, "best": p.option_names[best], "payoff": float(row[best]),
                    "configured": p.option_names[configured[i]],
                    "configured_payoff": float(row[configured[i]])})
    return out


def _deviations(game: ACAGame, tensor, configured) -> np.ndarray:
    """``D[p, b] = u_p(b, a_{-p})`` at the configured profile ``a``, ``(n, max m)`` with ``-inf``
    padding: read off the payoff tensor when the game is tabulated (no second program to trace),
    else :meth:`~aca_games.ACAGame.all_deviation_payoffs`."""
    if tensor is None:
        return np.asarray(game.all_deviation_payoffs(configured))
    out = np.full((len(game.players), max(game.shape)), -np.inf)
    for p, m in enumerate(game.shape):
        at = list(configured)
        at[p] = slice(None)
        out[p, :m] = tensor[(p, *at)]
    return out


def _enumerated(game: ACAGame, names, tensor) -> dict:
    """All pure equilibria from the payoff tensor, the price of anarchy, 2-player mixed equilibria."""
    pure = pure_nash(tensor, tol=EQUILIBRIUM_TOL)
    out = {
        "method": "enumeration",
        "method_note": f"all {format_count(game.n_profiles)} pure profiles enumerated (pure_nash)",
        "pure_equilibria": [
            {"profile": [names[i][a] for i, a in enumerate(eq)],
             "payoff": [float(tensor[(i, *eq)]) for i in range(len(eq))]}
            for eq in pure.value
        ],
    }
    if pure.value:
        poa = price_of_anarchy(tensor, pure.value).value
        out["price_of_anarchy"] = {k: poa[k] for k in POA_KEYS} | {
            "method": "welfare (sum of payoffs) of the worst and best pure equilibria against the best "
            "profile; a ratio when the optimum is positive, else a difference (convention)"}
    else:
        out["price_of_anarchy"] = {"reason": "no pure equilibrium to compare with"}
    if len(game.players) == 2:
        mixed = two_player_equilibria(tensor)
        out["mixed_equilibria"] = [[np.round(x, 6).tolist(), np.round(y, 6).tolist()]
                                   for x, y in mixed.value]
    return out


def _searched(game: ACAGame, names, configured, say) -> dict:
    """One certified equilibrium by :func:`solvers.find_equilibrium`, from the configured profile."""
    sol = find_equilibrium(game, start=configured, progress=say)
    st = sol.stats
    found = {"kind": st["kind"], "status": sol.status, "certificate": sol.certificate, "tol": st["tol"],
             "method": st["method"], "sweeps": st["sweeps"], "restarts": st["restarts"],
             "deviations_checked": st["deviations_per_profile"], "seconds": st["seconds"]}
    if st["kind"] == "pure":
        found.update(_labelled(game, names, sol.value))
    else:
        found["distribution"] = [{"weight": w, "profile": [names[i][a] for i, a in enumerate(prof)]}
                                 for w, prof in sol.value]
    pure = st["kind"] == "pure" and sol.ok
    return {
        "method": "find_equilibrium",
        "method_note": f"{format_count(game.n_profiles)} pure profiles, too many to enumerate: "
        f"{st['method'].replace('_', ' ')} from the configured profile (solvers.find_equilibrium), "
        f"certified by {st['deviations_per_profile']:,} deviation payoffs",
        "equilibrium": found,
        "pure_equilibria": [_labelled(game, names, sol.value)] if pure else [],
        "price_of_anarchy": {"reason": f"not computed: the welfare optimum is a maximum over all "
                             f"{format_count(game.n_profiles)} profiles (enumerated only up to "
                             f"{ENUMERATE_MAX_PROFILES:,})"},
    }


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
    """Rich tables: equilibria (and how they were found), best responses, the joint coalition."""
    found = report["pure_equilibria"]
    title = f"{report['game']}: "
    if report["method"] == "enumeration":
        title += f"{len(found)} pure Nash equilibria" + (f", first {SHOWN}" if len(found) > SHOWN else "")
    else:
        eq = report["equilibrium"]
        kind = "pure Nash equilibrium" if eq["kind"] == "pure" else "coarse correlated equilibrium"
        verdict = "certified" if eq["status"] == "converged" else "NOT certified"
        title += (f"one {kind}, {verdict}: largest unilateral gain {eq['certificate']:.3g} "
                  f"(tolerance {eq['tol']:g})")
    caption = " ".join(filter(None, [report.get("method_note"), _anarchy_text(report["price_of_anarchy"])]))
    eq_table = Table(title=title, caption=caption, title_justify="left", caption_justify="left",
                     header_style="bold")
    eq_table.add_column("#", justify="right")
    eq_table.add_column("profile")
    eq_table.add_column("payoffs", justify="right")
    rows = [(str(k), e["profile"], _payoff_text(e["payoff"])) for k, e in enumerate(found[:SHOWN], 1)]
    if report["method"] != "enumeration" and report["equilibrium"]["kind"] != "pure":
        distribution = report["equilibrium"]["distribution"][:SHOWN]
        eq_table.columns[0].header = "weight"
        rows = [(f"{d['weight']:.3f}", d["profile"], "") for d in distribution]
    for first, profile, payoffs in rows:
        eq_table.add_row(first, escape(_profile_text(profile, report["players"])), payoffs)
    if not rows:
        eq_table.add_row("-", "no pure equilibrium", "")
    responses = report["best_responses"]
    title = "Best response of each collective to the configured profile"
    if len(responses) > MANY_PLAYERS:  # list only the collectives that would switch
        responses = [r for r in responses if r["payoff"] > r["configured_payoff"] + report["tol"]]
        title += (f": {len(responses)} of {len(report['best_responses'])} collectives would switch "
                  "(the others' configured option is a best response)")
    br = Table(title=title, title_justify="left", header_style="bold")
    for header in ("collective", "best option", "payoff", "configured"):
        br.add_column(header, justify="left" if header in ("collective", "best option") else "right")
    for r in responses:
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
    return [eq_table, br, co]


def _anarchy_text(poa: dict) -> str:
    """The price of anarchy in words: ``"Price of anarchy 1.06 (optimum welfare 2.94, worst
    equilibrium 2.77; ratio); of stability 1.00."``, or why it is missing."""
    if "reason" in poa:
        return f"Price of anarchy: {poa['reason']}."
    kind = poa["convention"]["anarchy"]
    return (f"Price of anarchy {poa['price_of_anarchy']:.3f} ({kind}: optimum welfare {poa['optimum']:.3f}, "
            f"worst equilibrium {poa['worst_equilibrium']:.3f}); price of stability "
            f"{poa['price_of_stability']:.3f} (best equilibrium {poa['best_equilibrium']:.3f}).")


def _payoff_text(payoffs: list[float]) -> str:
    if len(payoffs) <= SHOWN:
        return ", ".join(f"{x:.3f}" for x in payoffs)
    return f"total {sum(payoffs):.3f}; min {min(payoffs):.3f}, max {max(payoffs):.3f}"


def _profile_text(profile: list[str], players: list[str]) -> str:
    """A profile for people: each player's option when few players, else the options' counts."""
    if len(profile) <= SHOWN:
        return "; ".join(f"{name}: {option}" for name, option in zip(players, profile, strict=True))
    counts: dict[str, int] = {}
    for option in profile:
        counts[option] = counts.get(option, 0) + 1
    return "; ".join(f"{k} x{c}" for k, c in sorted(counts.items(), key=lambda kv: -kv[1]))


__all__ = ["ABSTAIN", "ENUMERATE_MAX_PROFILES", "default_game", "game_report", "render_game"]
