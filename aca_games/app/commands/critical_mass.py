"""``aca-games critical-mass SCENARIO``: how large must each collective be, acting alone?

For each collective (its configured option; its own size is ignored) and each method
(:func:`solvers.critical_mass`, certified just above and below the answer):

* ``exact``: the exact oracle. At ε = 0 the smallest size is found exactly (crack intervals per
  target label). At ε > 0 the oracle is evaluated on a grid of sizes and the first crossing refined
  by bisection: the size returned meets the target and is exact unless the target is met on a
  window narrower than one grid cell below it, so it is labelled a *sufficient size*. With more
  points than the exact oracle enumerates, the oracle is itself a lower bound (named so).
* ``staircase`` [GBJ25] and ``closed_form`` [HMMZ23]: critical masses of lower bounds on success,
  hence *sufficient sizes*: at least the exact critical mass. The staircase equals the exact one
  at ε = 0 for a single target label. The closed form covers planting strategies only.

A critical mass of ``"unreachable"`` means no size in [0, 1) reaches the target with that method.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from aca_games._errors import ACAInputError
from aca_games.app.commands._common import (
    EpsOpt,
    JsonOpt,
    OutOpt,
    ReadingOpt,
    ScenarioArg,
    TargetOpt,
    answer,
    fail_on_errors,
    header,
    measured,
    pick,
    success_method,
)

NAME = "critical-mass"
METHODS = ("exact", "staircase", "closed_form")


@fail_on_errors
def command(
    scenario: ScenarioArg = None,
    collective: Annotated[
        str | None,
        typer.Option("--collective", metavar="NAME", help="Only this collective (default: every one)."),
    ] = None,
    target: TargetOpt = None,
    eps: EpsOpt = None,
    reading: ReadingOpt = None,
    json_: JsonOpt = False,
    out_dir: OutOpt = None,
):
    """The smallest size at which each collective, acting alone, reaches the target: every method."""
    answer(
        NAME,
        scenario,
        lambda s: compute(s, collective),
        render,
        as_json=json_,
        out_dir=out_dir,
        eps=eps,
        reading=reading,
        target=target,
        status="computing critical masses...",
    )


def compute(s, collective: str | None = None) -> dict:
    """Every critical mass as a JSON-ready document (see the module docstring)."""
    from aca_games import success

    a = s.analysis
    chosen = list(s.collectives)
    if collective is not None:
        name = pick(collective, [c.name for c in chosen], "--collective", "collective")
        chosen = [c for c in chosen if c.name == name]
    rows = []
    for c in chosen:
        now = float(success(s.world, [c], eps=a.eps, reading=a.reading)[0])
        estimates = [_estimate(s, c, method) for method in METHODS]
        exact = estimates[0]
        for e in estimates[1:]:
            if exact["kind"] == "exact" and e["value"] is not None and e["value"] == exact["value"]:
                e["note"] = "equal to the exact critical mass here"
        rows.append(
            {
                "collective": c.name,
                "size": float(c.size),
                "success_alone": measured(now, success_method(a.eps)),
                "critical_mass": estimates,
            }
        )
    return header(NAME, s) | {"target_success": a.target_success, "collectives": rows}


def _estimate(s, c, method: str) -> dict:
    import solvers

    a = s.analysis
    label, kind = _label(s, method)
    out = {"bound": method, "value": None, "method": label, "kind": kind}
    try:
        sol = solvers.critical_mass(s.world, c, a.target_success, bound=method, eps=a.eps, reading=a.reading)
    except ACAInputError as err:
        return out | {"status": "not applicable", "reason": str(err)}
    out |= {"value": sol.value, "status": sol.status}
    if sol.status == "infeasible":
        out["value"] = float("inf")
        reach = f"the most success reaches at any size in [0, 1): {label}"
        out["best_reachable"] = measured(sol.certificate["best_reachable"], reach)
    if "reason" in sol.stats:
        out["reason"] = sol.stats["reason"]
    return out


def _label(s, method: str) -> tuple[str, str]:
    """``(method, kind)``: what produced the number and whether it is exact or a sufficient size."""
    eps = float(s.analysis.eps)
    if method == "exact":
        oracle = success_method(eps)
        if not oracle.startswith("exact"):
            return f"{oracle}, grid search + bisection", "sufficient size"
        if eps == 0.0:
            return f"{oracle}: crack intervals per target label", "exact"
        return (
            f"{oracle}, grid search + bisection",
            "sufficient size (exact unless a window below it is missed)",
        )
    if method == "staircase":
        return "staircase lower bound on success [GBJ25]", "sufficient size"
    return "closed-form lower bound on success [HMMZ23]", "sufficient size"


def render(doc: dict) -> list:
    """One row per collective: its size, its success now and every critical mass with its kind."""
    table = Table(
        title=f"Critical mass: smallest size reaching success {doc['target_success']:g} acting alone",
        title_justify="left",
        header_style="bold",
    )
    table.add_column("collective")
    table.add_column("size now", justify="right")
    table.add_column("success alone", justify="right")
    for method in METHODS:
        table.add_column(method.replace("_", " "), justify="right")
    notes: dict[str, str] = {}
    for r in doc["collectives"]:
        cells = []
        for e in r["critical_mass"]:
            notes.setdefault(e["method"], e["kind"])
            cells.append(_cell(e))
        table.add_row(
            escape(r["collective"]), f"{r['size']:.4f}", f"{r['success_alone']['value']:.3f}", *cells
        )
    legend = [f"[dim]{escape(method)}: {escape(kind)}[/]" for method, kind in notes.items()]
    legend.append(
        "[dim](suff.): a sufficient size, at least the exact critical mass (from a lower bound on "
        "success, or a search that could miss a narrow window); (= exact): equal to it here[/]"
    )
    return [table, *legend]


def _cell(e: dict) -> str:
    if e["status"] == "not applicable":
        return "n/a"
    if e["value"] is None:
        return e["status"]
    if e["value"] == float("inf"):
        return "unreachable"
    if e["kind"] == "exact":
        return f"{e['value']:.4f}"
    return f"{e['value']:.4f}" + (" (= exact)" if "note" in e else " (suff.)")
