"""``aca-games best-response SCENARIO --player NAME``: what should *we* do?

Ranks every option of the player's menu (:func:`solvers.best_response`) against one of:

* ``--against configured`` (default): the others play what the file says they play now;
* ``--against "NAME=OPTION; NAME=P*OPTION + P*OPTION"``: a profile of the others, pure or mixed
  (a distribution over each one's options, independent across players); players left out play
  their configured option;
* ``--against beliefs``: the player's ``[collectives.beliefs]`` (version 2): robust beliefs rank by
  the payoff *guaranteed* in every world consistent with them (robust bounds [BGR+26], lower bounds
  on success), priors by the *expected* payoff (exact expectation over the prior's scenarios);
  ``--criterion`` picks the other one where both exist.

Against a profile the success is the game's payoff measure (the exact oracle by default).
"""

from __future__ import annotations

import re
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from aca_games._errors import ACAInputError
from aca_games.app.commands._common import (
    PAYOFF_BOUNDS,
    EpsOpt,
    JsonOpt,
    OutOpt,
    ReadingOpt,
    ScenarioArg,
    answer,
    fail_on_errors,
    finite_or_none,
    game_of,
    header,
    measured,
    payoff_method,
    pick,
    success_method,
)

NAME = "best-response"
#: Sizes compared within a size range ``[lo, hi]`` against a pure profile.
RANGE_GRID = 2001
#: :attr:`aca_games.Beliefs.kind` -> the ``kind`` a scenario file writes.
BELIEF_KINDS = {"scenarios": "prior", "product": "product_prior"}
#: ``P*OPTION`` terms of a mixed entry are split at a ``+`` followed by a number and ``*``.
_TERM = re.compile(r"\+(?=\s*[0-9.]+(?:[eE][-+]?[0-9]+)?\s*\*)")
_WEIGHTED = re.compile(r"^\s*([0-9.]+(?:[eE][-+]?[0-9]+)?)\s*\*\s*(.+?)\s*$")


@fail_on_errors
def command(
    player: Annotated[str, typer.Option("--player", metavar="NAME", help="The collective that decides.")],
    scenario: ScenarioArg = None,
    against: Annotated[
        str,
        typer.Option(
            "--against",
            metavar="WHAT",
            help='"configured" (the others\' options in the file), "beliefs" (the player\'s beliefs in '
            'the file), or a profile "NAME=OPTION; NAME=0.5*OPTION + 0.5*OPTION".',
        ),
    ] = "configured",
    criterion: Annotated[
        str | None,
        typer.Option(
            "--criterion", metavar="robust|bayes", help="With beliefs: rank by guarantee or expectation."
        ),
    ] = None,
    eps: EpsOpt = None,
    reading: ReadingOpt = None,
    json_: JsonOpt = False,
    out_dir: OutOpt = None,
):
    """The best option of one collective against the others' options, a distribution or its beliefs."""
    answer(
        NAME,
        scenario,
        lambda s: compute(s, player, against, criterion),
        render,
        as_json=json_,
        out_dir=out_dir,
        eps=eps,
        reading=reading,
        status=f"ranking the options of {player}...",
    )


def compute(s, player: str, against: str = "configured", criterion: str | None = None) -> dict:
    """The ranking as a JSON-ready document (see the module docstring)."""
    import solvers

    game, configured = game_of(s)
    names = [p.name for p in game.players]
    player = pick(player, names, "--player", "player")
    me = names.index(player)
    if criterion is not None and against.strip() != "beliefs":
        raise ACAInputError("--criterion: only used with --against beliefs")
    doc = header(NAME, s) | {"player": player}
    payoffs = payoff_method(s, game)
    if against.strip() == "beliefs":
        beliefs = s.beliefs.get(player)
        if beliefs is None:
            raise ACAInputError(
                f"--against beliefs: {s.source} gives no beliefs for {player!r}; add a "
                "[collectives.beliefs] table (scenario format version 2) or use --against configured"
            )
        sol = solvers.best_response(game, me, beliefs, criterion=criterion)
        kind = BELIEF_KINDS.get(beliefs.kind, beliefs.kind)
        doc["against"] = {"kind": "beliefs", "beliefs": kind, "criterion": sol.stats["criterion"]}
        rows = [_belief_row(s, game, r, sol.stats["criterion"], kind) for r in sol.value]
    else:
        profile = configured if against.strip() == "configured" else _profile(game, me, against, configured)
        sol = solvers.best_response(game, me, profile)
        doc["against"] = _describe_against(game, me, profile)
        success = PAYOFF_BOUNDS.get(game.bound) or success_method(s.analysis.eps)
        pure = sol.stats["method"] == "profile"
        expectation = "" if pure else "expected "
        rows = [
            {
                "option": r["name"],
                "payoff": measured(r["payoff"], expectation + payoffs),
                "success": measured(r["success"], expectation + success),
            }
            for r in sol.value
        ]
        if pure and s.ranges.get(player):
            doc["size_ranges"] = [
                _best_size(game, me, profile, r, payoffs, success) for r in s.ranges[player]
            ]
    best = rows[0]["option"]
    doc |= {
        "best": best,
        "ties": [game.players[me].option_names[o] for o in sol.stats["ties"]],
        "ranking": rows,
        "status": sol.status,
        "certificate": {
            "best_response_gap": measured(sol.certificate, "best score - score of the returned option"),
            "margin_to_runner_up": measured(
                finite_or_none(sol.stats["second_gap"]), "best score - second score"
            ),
        },
    }
    return doc


def _best_size(game, me: int, profile, size_range, payoffs: str, success: str) -> dict:
    """The best size in a range ``[lo, hi]`` against a pure profile, on :data:`RANGE_GRID` sizes."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    grid = np.linspace(size_range.lo, size_range.hi, RANGE_GRID)
    chosen = (
        tuple(int(k) for k in profile[:me])
        + (size_range.options[0],)
        + tuple(int(k) for k in profile[me + 1 :])
    )
    sizes = np.tile(
        [float(p.options[k].size) for p, k in zip(game.players, chosen, strict=True)], (len(grid), 1)
    )
    sizes[:, me] = grid

    def both(a):
        return game.payoffs_at(chosen, a)[me], game.success_at(chosen, a)[me]

    pay, won = (np.asarray(x) for x in jax.jit(jax.vmap(both))(jnp.asarray(sizes)))
    k = int(np.argmax(pay))  # the smallest size among equal payoffs
    how = f"the best of {RANGE_GRID} evenly spaced sizes in [lo, hi] (the supremum may lie between two)"
    return {
        "option": size_range.name,
        "range": [size_range.lo, size_range.hi],
        "best_size": measured(float(grid[k]), how),
        "payoff": measured(float(pay[k]), payoffs),
        "success": measured(float(won[k]), success),
    }


def _belief_row(s, game, r: dict, criterion: str, kind: str) -> dict:
    robust = f"robust guarantee [BGR+26] ({kind} beliefs): a lower bound on success in every consistent world"
    row = {
        "option": r["name"],
        "guaranteed_success": measured(r["guarantee"], robust),
        "guaranteed_payoff": measured(r["guaranteed_payoff"], payoff_method(s, game, robust)),
    }
    if "expected" in r:
        measure = "per-point lower bound" if game.bound == "per_point" else "exact success"
        prior = f"expected {measure} over the prior's scenarios (exact sum)"
        row["expected_success"] = measured(r["expected"], prior)
        row["expected_payoff"] = measured(r["expected_payoff"], payoff_method(s, game, prior))
    row["ranked_by"] = "guaranteed_payoff" if criterion == "robust" else "expected_payoff"
    return row


def _profile(game, me: int, text: str, configured) -> tuple:
    """``"NAME=OPTION; NAME=P*OPTION + P*OPTION"`` -> a profile (index or probability vector per player)."""
    names = [p.name for p in game.players]
    profile: list = list(configured)
    for entry in (e for e in text.split(";") if e.strip()):
        who, sep, what = entry.partition("=")
        if not sep:
            raise ACAInputError(f"--against: {entry.strip()!r} is not NAME=OPTION; separate players with ';'")
        who = pick(who.strip(), names, "--against", "player")
        j = names.index(who)
        if j == me:
            raise ACAInputError(f"--against: {who!r} is the player itself; give the others' options")
        options = game.players[j].option_names
        terms = _TERM.split(what)
        if len(terms) == 1 and not _WEIGHTED.match(terms[0]):
            profile[j] = options.index(pick(what.strip(), options, f"--against {who}", "option"))
            continue
        x = [0.0] * len(options)
        for term in terms:
            match = _WEIGHTED.match(term)
            if match is None:
                raise ACAInputError(
                    f"--against {who}: {term.strip()!r} is not P*OPTION (e.g. 0.5*{options[0]})"
                )
            option = pick(match.group(2), options, f"--against {who}", "option")
            x[options.index(option)] += float(match.group(1))
        profile[j] = x
    return tuple(profile)


def _describe_against(game, me: int, profile) -> dict:
    others = {}
    mixed = False
    for j, (p, a) in enumerate(zip(game.players, profile, strict=True)):
        if j == me:
            continue
        if isinstance(a, list):
            mixed = True
            others[p.name] = {n: x for n, x in zip(p.option_names, a, strict=True) if x > 0}
        else:
            others[p.name] = p.option_names[int(a)]
    if not mixed:
        return {"kind": "profile", "profile": others}
    full = {k: ({v: 1.0} if isinstance(v, str) else v) for k, v in others.items()}
    return {"kind": "distribution", "distribution": full}


def render(doc: dict) -> list:
    """A table of the ranking, best first."""
    against = doc["against"]
    if against["kind"] == "beliefs":
        what = f"its {against['beliefs']} beliefs, ranked by the {against['criterion']} criterion"
    elif against["kind"] == "profile":
        what = "; ".join(f"{k} plays {v}" for k, v in against["profile"].items())
    else:
        what = "; ".join(
            f"{k} plays " + " + ".join(f"{x:g}×{o}" for o, x in v.items())
            for k, v in against["distribution"].items()
        )
    heading = f"[bold]Best response of {escape(doc['player'])}[/] against {escape(what)}"
    table = Table(header_style="bold")
    rows = doc["ranking"]
    columns = [k for k in rows[0] if k not in ("option", "ranked_by")]
    table.add_column("#", justify="right")
    table.add_column("option")
    for key in columns:
        table.add_column(key.replace("_", " "), justify="right")
    for rank, r in enumerate(rows, 1):
        table.add_row(str(rank), escape(r["option"]), *(f"{r[k]['value']:.4f}" for k in columns))
    ties = f" (ties: {escape(', '.join(doc['ties']))})" if len(doc["ties"]) > 1 else ""
    notes = [f"[bold]best: {escape(doc['best'])}[/]{ties}"]
    for r in doc.get("size_ranges", ()):
        lo, hi = r["range"]
        notes.append(
            f"within {escape(r['option'])} [{lo:g}, {hi:g}] the best size is {r['best_size']['value']:.4f}: "
            f"payoff {r['payoff']['value']:.4f}, success {r['success']['value']:.3f}"
        )
    notes += [f"[dim]{escape(k.replace('_', ' '))}: {escape(rows[0][k]['method'])}[/]" for k in columns]
    return [heading, table, *notes]
