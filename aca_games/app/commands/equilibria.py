"""``aca-games equilibria SCENARIO``: which profiles is nobody willing to leave?

On the scenario's game (version 2: the file's menus, values and costs; version 1: the default game
"every signal or abstain", see :mod:`aca_games.app.game_report`):

* every pure Nash equilibrium, by checking all ``Π m_i`` profiles (:func:`solvers.pure_nash`);
* mixed equilibria: all extreme equilibria of a two-player game with at most
  :data:`VERTEX_MAX_OPTIONS` options each (vertex enumeration, :func:`solvers.two_player_equilibria`),
  otherwise one mixed equilibrium with its NashConv certificate when the game has at most
  :data:`MIXED_MAX_PROFILES` profiles (:func:`solvers.mixed_nash`);
* whether the configured profile (what the file says each collective plays) is an equilibrium, and
  each player's largest gain from deviating;
* the price of anarchy and of stability (:func:`solvers.price_of_anarchy`).

Games with more than :data:`EXHAUSTIVE_MAX_PROFILES` profiles are not enumerated: they go to
:func:`large_game_equilibrium`, the one place where the large-game solver is called.
"""

from __future__ import annotations

import math

import numpy as np
from rich.markup import escape
from rich.table import Table

from aca_games.app.commands._common import (
    EpsOpt,
    JsonOpt,
    OutOpt,
    ReadingOpt,
    ScenarioArg,
    answer,
    fail_on_errors,
    game_of,
    header,
    measured,
    named_profile,
    payoff_method,
    per_player,
)

NAME = "equilibria"
#: Larger games (pure profiles) are not enumerated; see :func:`large_game_equilibrium`.
EXHAUSTIVE_MAX_PROFILES = 200_000
#: Every extreme equilibrium of a two-player game is enumerated up to this many options per player
#: (vertex enumeration grows exponentially); larger games get one mixed equilibrium.
VERTEX_MAX_OPTIONS = 20
#: One mixed equilibrium is searched up to this many profiles.
MIXED_MAX_PROFILES = 20_000
#: Strategies with smaller probabilities are left out of the report.
SUPPORT_TOL = 1e-9
NASH_CONV = "NashConv: the sum over players of the best deviation gain"
#: Equilibria listed in the tables (the JSON document has all of them).
SHOWN = 12


@fail_on_errors
def command(
    scenario: ScenarioArg = None,
    eps: EpsOpt = None,
    reading: ReadingOpt = None,
    json_: JsonOpt = False,
    out_dir: OutOpt = None,
):
    """Pure and mixed Nash equilibria of the scenario's game, and the price of anarchy."""
    answer(
        NAME,
        scenario,
        compute,
        render,
        as_json=json_,
        out_dir=out_dir,
        eps=eps,
        reading=reading,
        status="solving the game...",
    )


def compute(s) -> dict:
    """The equilibria as a JSON-ready document (see the module docstring)."""
    import solvers

    game, configured = game_of(s)
    n_profiles = math.prod(game.shape)
    payoffs = payoff_method(s, game)
    doc = header(NAME, s) | {
        "players": [
            {"name": p.name, "options": list(p.option_names), "plays": p.option_names[k]}
            for p, k in zip(game.players, configured, strict=True)
        ],
        "profiles": n_profiles,
    }
    if n_profiles > EXHAUSTIVE_MAX_PROFILES:
        doc["equilibrium"] = large_game_equilibrium(game, payoffs, configured)
        return doc
    tensor = game.payoff_tensor()
    pure = solvers.pure_nash(tensor)
    doc["pure_equilibria"] = measured(
        [_pure(game, tensor, eq) for eq in pure.value],
        f"all {n_profiles} pure profiles checked for a profitable deviation; payoffs: {payoffs}",
    )
    gains = solvers.regrets(tensor, _one_hot(game.shape, configured))
    doc["configured"] = {
        "profile": named_profile(game, configured),
        "payoffs": measured(per_player(game, tensor[(slice(None), *configured)]), payoffs),
        "is_equilibrium": tuple(configured) in pure.value,
        "largest_gain": measured(per_player(game, gains), "best unilateral deviation - current payoff"),
    }
    mixed = None
    two_player = len(game.players) == 2 and max(game.shape) <= VERTEX_MAX_OPTIONS
    if two_player:
        mixed = solvers.two_player_equilibria(tensor)
        doc["mixed_equilibria"] = measured(
            [_mixed(game, tensor, x) for x in mixed.value],
            "vertex enumeration: every extreme equilibrium of the two-player game",
        ) | {"status": mixed.status, "largest_nash_conv": measured(mixed.certificate, NASH_CONV)}
    elif n_profiles <= MIXED_MAX_PROFILES:
        mixed = solvers.mixed_nash(tensor)
        dynamics = _listed(mixed.stats.get("dynamics", "no-regret"))
        doc["mixed_equilibria"] = measured(
            [_mixed(game, tensor, mixed.value)],
            f"one equilibrium by {dynamics} dynamics with a support-Newton polish (solvers.mixed_nash); "
            "certified by its NashConv",
        ) | {"status": mixed.status, "largest_nash_conv": measured(mixed.certificate, NASH_CONV)}
    else:
        doc["mixed_equilibria"] = {
            "value": None,
            "method": f"not searched: more than {MIXED_MAX_PROFILES} profiles",
        }
    # two players: every extreme equilibrium; else the pure ones, or the mixed one if there are none
    use = mixed if two_player or not (pure.value or mixed is None or not mixed.ok) else pure
    doc["price_of_anarchy"] = _anarchy(game, solvers.price_of_anarchy(tensor, use))
    return doc


def large_game_equilibrium(game, payoffs: str, start) -> dict:
    """An equilibrium of a game too large to enumerate: :func:`solvers.find_equilibrium` from the
    configured profile ``start``, a pure profile or a coarse correlated equilibrium
    (``[(weight, profile), ...]``), certified by the largest unilateral gain."""
    import solvers

    sol = solvers.find_equilibrium(game, start=start)
    if sol.stats["kind"] == "pure":
        value = {"profile": named_profile(game, sol.value)}
        method = "best-response dynamics (solvers.find_equilibrium): a pure equilibrium"
    else:
        value = [{"weight": float(w), "profile": named_profile(game, prof)} for w, prof in sol.value]
        method = "no-regret dynamics (solvers.find_equilibrium): a coarse correlated equilibrium"
    return measured(value, f"{method}; payoffs: {payoffs}") | {
        "status": sol.status,
        "largest_gain": measured(float(sol.certificate), "largest unilateral gain, every deviation checked"),
    }


def _listed(x) -> str:
    return ", ".join(map(str, x)) if isinstance(x, (list, tuple)) else str(x)


def _one_hot(shape, profile) -> list[np.ndarray]:
    return [np.eye(m)[k] for m, k in zip(shape, profile, strict=True)]


def _pure(game, tensor, profile) -> dict:
    return {
        "profile": named_profile(game, profile),
        "payoffs": per_player(game, tensor[(slice(None), *profile)]),
    }


def _mixed(game, tensor, strategies) -> dict:
    from solvers.equilibrium._regret import expected_payoffs

    return {
        "strategies": {
            p.name: {n: float(x) for n, x in zip(p.option_names, xs, strict=True) if x > SUPPORT_TOL}
            for p, xs in zip(game.players, strategies, strict=True)
        },
        "payoffs": per_player(game, expected_payoffs(tensor, strategies)),
    }


def _anarchy(game, sol) -> dict:
    v = sol.value
    method = (
        "welfare (sum of payoffs) of the worst and best equilibria against the best profile; "
        f"a ratio when the optimum is positive, else a difference ({v['convention']})"
    )
    value = {k: v[k] for k in ("price_of_anarchy", "price_of_stability", "optimum", "worst_equilibrium")}
    return measured(value, method) | {
        "optimal_profile": named_profile(game, sol.certificate["optimal_profile"]),
        "status": sol.status,
    }


def render(doc: dict) -> list:
    """Tables: pure equilibria and the configured profile, mixed equilibria, price of anarchy."""
    names = [p["name"] for p in doc["players"]]
    out = []
    if "equilibrium" in doc:
        e = doc["equilibrium"]
        table = _profile_table(f"An equilibrium of a large game ({doc['profiles']:.3g} profiles)", names)
        rows = e["value"] if isinstance(e["value"], list) else [e["value"] | {"weight": 1.0}]
        for r in rows[:SHOWN]:
            table.add_row(f"{r['weight']:.3f}", *(escape(r["profile"][n]) for n in names))
        return [
            table,
            f"[dim]{escape(e['method'])}; largest gain {e['largest_gain']['value']:.2e} ({e['status']})[/]",
        ]
    pure = doc["pure_equilibria"]["value"]
    title = f"Pure Nash equilibria: {len(pure)} of {doc['profiles']} profiles" + (
        f", first {SHOWN}" if len(pure) > SHOWN else ""
    )
    table = _profile_table(title, names)
    for k, e in enumerate(pure[:SHOWN], 1):
        table.add_row(str(k), *(_cell(e["profile"][n], e["payoffs"][n]) for n in names))
    c = doc["configured"]
    verdict = "an equilibrium" if c["is_equilibrium"] else "not an equilibrium"
    now = c["payoffs"]["value"]
    table.add_row(f"now ({verdict})", *(_cell(c["profile"][n], now[n]) for n in names), style="dim")
    out += [
        table,
        f"[dim]each cell: the option, then the payoff ({escape(doc['pure_equilibria']['method'])})[/]",
    ]
    gains = {n: g for n, g in c["largest_gain"]["value"].items() if g > 1e-12}
    if gains:
        out.append("gain from deviating now: " + ", ".join(f"{escape(n)} +{g:.4f}" for n, g in gains.items()))
    mixed = doc.get("mixed_equilibria")
    if mixed and mixed["value"]:
        table = _profile_table(f"Mixed equilibria ({len(mixed['value'])}, {mixed['method']})", names)
        for k, e in enumerate(mixed["value"][:SHOWN], 1):
            cells = (
                " + ".join(f"{x:.3f} {escape(o)}" for o, x in e["strategies"][n].items())
                + f" · {e['payoffs'][n]:.3f}"
                for n in names
            )
            table.add_row(str(k), *cells)
        out.append(table)
    elif mixed:
        out.append(f"[dim]mixed equilibria {escape(mixed['method'])}[/]")
    poa = doc["price_of_anarchy"]
    if poa["value"]["price_of_anarchy"] is not None:
        v = poa["value"]
        out.append(
            f"price of anarchy {v['price_of_anarchy']:.4f}, of stability {v['price_of_stability']:.4f} "
            f"(best welfare {v['optimum']:.4f} at "
            + ", ".join(f"{escape(n)}: {escape(o)}" for n, o in poa["optimal_profile"].items())
            + ")"
        )
    return out


def _profile_table(title: str, names: list[str]) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("#", justify="right")
    for n in names:
        table.add_column(escape(n))
    return table


def _cell(option: str, payoff: float) -> str:
    return f"{escape(option)} · {payoff:.3f}"
