"""Tables for people and JSON for scripts: what each collective of a scenario can expect.

:func:`single_collective_report` evaluates every collective of a scenario
(:class:`~aca_games.app.scenario.Scenario`) *acting alone* (THEORY §3.1): its exact success (the
oracle of §2), the population bounds (closed form [HMMZ23], staircase [GBJ25]), the finite-sample
bound [GBJ25] with the population plugged in, and its critical mass under each; plus its exact
success when *all* collectives act together (§3.3), so interactions show up next to the
single-collective numbers.

One row is a plain dict (JSON-ready)::

    {"name": "Riverside tenants", "size": 0.06, "signal": "stillair_tag",
     "strategy": "feature_label", "noise": 0.0,
     "success": 1.0,                 # exact, acting alone
     "success_together": 1.0,        # exact, all collectives of the scenario together
     "meets_target": True,           # success >= analysis.target_success
     "bounds": {"closed_form": 0.62, "staircase": 1.0, "finite_sample": 0.97},
     "critical_mass": {"exact": 0.0257, "staircase": 0.0257, "closed_form": 0.195},
     "notes": []}                    # why a value is missing

Missing values are ``None``: the closed form does not cover ``unplant``/``erase``, the
finite-sample bound needs ``analysis.N`` (and, for erasing, a label margin). A critical mass of
``inf`` means no size in ``[0, 1)`` reaches the target. In :func:`to_json` floats are rounded to
:data:`DIGITS` decimals, ``inf`` becomes the string ``"unreachable"`` and ``None`` becomes ``null``.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

import numpy as np
from rich.markup import escape
from rich.table import Table

from aca_games import bounds, critical_mass, externalities, success
from aca_games._errors import ACAInputError
from aca_games.bounds import finite_sample as _finite_sample_api
from aca_games.critical import TARGET_TOL, critical_masses
from aca_games.interaction import pairwise_success, success_alone
from aca_games.planting import sizes_of

if TYPE_CHECKING:
    from aca_games.app.scenario import Scenario

#: Decimals kept in JSON output (success values are sums of masses given to ~4 decimals).
DIGITS = 6
#: How ``inf`` (an unreachable critical mass) is written in JSON.
UNREACHABLE = "unreachable"

#: Past these sizes the world is shown one row per signal instead of one row per point.
WORLD_POINTS, WORLD_SIGNALS = 30, 8
#: Past this many collectives the externality matrix is shown as its strongest entries.
MATRIX_MAX = 10
#: Externality entries listed for a large scenario (the JSON report has the whole matrix).
EXTERNALITIES_SHOWN = 20

BOUNDS = ("closed_form", "staircase", "finite_sample")
CRITICAL = ("exact", "staircase", "closed_form")
TOGETHER = ("per_point", "multi_closed_form", "bloc")
#: Strategies the closed form [HMMZ23] covers (the others get ``None`` and a note).
CLOSED_FORM_STRATEGIES = ("feature_label", "feature_only")


#: Up to this many collectives, success alone is read off :func:`~aca_games.interaction.pairwise_success`
#: (which :func:`together_report` evaluates for the externalities): ``(1 + K) 2K`` oracle evaluations
#: instead of ``2K``, a few milliseconds, but one compiled program instead of two, ~0.3 s of the start-up
#: of ``aca-games run``. Both evaluate the same game at the same profile (tests/test_fast_paths.py).
SHARED_PAIRWISE_MAX = 16


def single_collective_report(scenario: Scenario) -> list[dict]:
    """One row per collective (see the module docstring for the keys).

    Example:
        >>> from aca_games.app.scenario import load_scenario, default_scenario_path
        >>> rows = single_collective_report(load_scenario(default_scenario_path()))
        >>> for r in rows:
        ...     alpha = round(r["critical_mass"]["exact"], 4)
        ...     print(r["name"], r["size"], r["success"], r["success_together"], alpha)
        Riverside tenants 0.06 1.0 1.0 0.0257
        Hillside seniors 0.035 0.8 1.0 0.0359
        Market street shops 0.01 0.0 0.2 0.0447
    """
    world, collectives, a = scenario.world, list(scenario.collectives), scenario.analysis
    learner = {"eps": a.eps, "reading": a.reading}
    together = np.asarray(success(world, collectives, **learner)).tolist()
    if len(collectives) <= SHARED_PAIRWISE_MAX:  # the evaluation together_report compiles anyway
        alone = pairwise_success(world, collectives, **learner)[0]
    else:
        alone = success_alone(world, collectives, **learner)
    each_alone = np.diag(np.asarray(sizes_of(collectives)))  # row k: only collective k acts
    staircase = np.diag(np.asarray(bounds.per_point(world, collectives, sizes=each_alone, **learner)))
    covered = [c.strategy in CLOSED_FORM_STRATEGIES for c in collectives]
    closed = np.diag(np.asarray(bounds.multi_closed_form(world, collectives, sizes=each_alone, **learner)))
    notes: list[list[str]] = [[] for _ in collectives]
    for k, c in enumerate(collectives):
        if not covered[k]:  # the closed form's own message says why it does not apply
            _attempt(notes[k], "closed_form", bounds.closed_form, world, c, **learner)
            _attempt(notes[k], "critical_mass[closed_form]", critical_mass, world, c, a.target_success,
                     bound="closed_form", **learner)
    masses = {kind: _critical_masses(notes, scenario, kind, covered if kind == "closed_form" else None)
              for kind in CRITICAL}
    rows = []
    for k, c in enumerate(collectives):
        values = {
            "closed_form": float(closed[k]) if covered[k] else None,
            "staircase": float(staircase[k]),
            "finite_sample": _finite_sample(notes[k], world, c, a, learner),
        }
        rows.append(
            {
                "name": c.name,
                "size": float(c.size),
                "signal": c.signal,
                "strategy": c.strategy,
                "noise": float(c.noise),
                "success": float(alone[k]),
                "success_together": together[k],
                "meets_target": meets(float(alone[k]), a.target_success),
                "bounds": values,
                "critical_mass": {kind: None if np.isnan(masses[kind][k]) else float(masses[kind][k])
                                  for kind in CRITICAL},
                "notes": notes[k],
            }
        )
    return rows


def _critical_masses(notes, scenario: Scenario, kind: str, members=None) -> np.ndarray:
    """Critical masses of the collectives (``members``: a mask, default all), ``nan`` elsewhere; all
    at once (:func:`aca_games.critical_masses`), or one at a time with a note for
    each collective whose method does not apply (e.g. too many flippable points at ``ε > 0``)."""
    cs, a = list(scenario.collectives), scenario.analysis
    learner = {"eps": a.eps, "reading": a.reading}
    index = [k for k in range(len(cs)) if members is None or members[k]]
    out = np.full(len(cs), np.nan)
    if not index:
        return out
    try:
        chosen = [cs[k] for k in index]
        out[index] = critical_masses(scenario.world, chosen, a.target_success, kind, **learner)
    except ACAInputError:
        for k in index:
            value = _attempt(notes[k], f"critical_mass[{kind}]", critical_mass, scenario.world, cs[k],
                             a.target_success, bound=kind, **learner)
            out[k] = np.nan if value is None else value
    return out


def together_report(scenario: Scenario) -> dict:
    """All collectives of the scenario acting at once (THEORY §3.3).

    Returns ``{"rows": [...], "externalities": K x K list}``: per collective its exact success,
    the per-point bound, the aggregative closed form (B1) and the bloc form (B2); and
    ``X[i][j] = S_i({i, j}) - S_i({i})``, the change in ``i``'s exact success when ``j`` joins.

    >>> from aca_games.app.scenario import load_scenario, default_scenario_path
    >>> rep = together_report(load_scenario(default_scenario_path()))
    >>> [(r["name"], round(r["success"], 3)) for r in rep["rows"]][:2]
    [('Riverside tenants', 1.0), ('Hillside seniors', 1.0)]
    """
    world, cs, a = scenario.world, list(scenario.collectives), scenario.analysis
    learner = dict(eps=a.eps, reading=a.reading)
    exact = success(world, cs, **learner)
    values = {
        "per_point": bounds.per_point(world, cs, **learner),
        "multi_closed_form": bounds.multi_closed_form(world, cs, **learner),
        "bloc": bounds.bloc(world, cs, **learner),
    }
    exact, values = np.asarray(exact), {k: np.asarray(v) for k, v in values.items()}  # no device indexing
    rows = [
        {"name": c.name, "success": float(exact[i]), **{k: float(v[i]) for k, v in values.items()}}
        for i, c in enumerate(cs)
    ]
    return {"rows": rows, "externalities": externalities(world, cs, **learner).tolist()}


def render_together(report: dict, names: list[str]) -> list[Table]:
    """Two rich tables: bounds with everyone acting, and the externality matrix."""
    table = Table(title="All collectives acting together (exact oracle and multi-collective bounds)",
                  title_justify="left", header_style="bold")
    for header in ("collective", "success", "per-point", "closed form\n(B1)", "bloc\n(B2)"):
        table.add_column(header, justify="left" if header == "collective" else "right")
    for r in report["rows"]:
        table.add_row(escape(r["name"]), *(_fmt(r[k]) for k in ("success", *TOGETHER)))
    return [table, externality_table(report["externalities"], names)]


def externality_table(matrix, names: list[str]) -> Table:
    """The externality matrix ``X[i][j]``; with more than :data:`MATRIX_MAX` collectives, its
    :data:`EXTERNALITIES_SHOWN` largest entries in absolute value, one row per pair."""
    cell = lambda x: "" if abs(x) < 1e-12 else (f"[green]+{x:.3f}[/]" if x > 0 else f"[red]{x:.3f}[/]")  # noqa: E731
    if len(names) <= MATRIX_MAX:
        table = Table(title="Externalities: change in the row's exact success when the column joins it",
                      caption="blank: no effect (a change below 1e-12), or the collective itself",
                      title_justify="left", caption_justify="left", header_style="bold")
        table.add_column("")
        for n in names:
            table.add_column(escape(n), justify="right")
        for n, row in zip(names, matrix, strict=True):
            table.add_row(escape(n), *(cell(x) for x in row))
        return table
    X = np.asarray(matrix, dtype=float)
    nonzero = int((np.abs(X) >= 1e-12).sum())
    order = np.argsort(-np.abs(X), axis=None, kind="stable")[: min(EXTERNALITIES_SHOWN, nonzero)]
    table = Table(title=f"Externalities: the {len(order)} largest of {nonzero} nonzero changes in a "
                  "collective's exact success when another joins it (all pairs in the JSON report)",
                  title_justify="left", header_style="bold")
    for header in ("collective", "when joined by", "change"):
        table.add_column(header, justify="right" if header == "change" else "left")
    for i, j in zip(*np.unravel_index(order, X.shape), strict=True):
        table.add_row(escape(names[i]), escape(names[j]), cell(float(X[i, j])))
    return table


def meets(success_value: float, target_success: float) -> bool:
    """``S >= S*`` up to :data:`aca_games.critical.TARGET_TOL` (sums of float masses)."""
    return success_value >= target_success - TARGET_TOL


def _attempt(notes: list[str], what: str, fn, *args, **kwargs) -> float | None:
    """``float(fn(...))``, or ``None`` with a note when the quantity does not apply."""
    try:
        return float(fn(*args, **kwargs))
    except ACAInputError as err:
        notes.append(f"{what}: {err}")
        return None


def _finite_sample(notes, world, c, analysis, learner) -> float | None:
    if analysis.N is None:
        return None
    # ``aca_games.bounds.finite_sample`` is the function once re-exported, else its module
    fn = getattr(_finite_sample_api, "finite_sample", _finite_sample_api)
    return _attempt(
        notes,
        "finite_sample",
        fn,
        world,
        c,
        n=round(c.size * analysis.N),
        N=analysis.N,
        n_test=analysis.n_test,
        delta=analysis.delta,
        **learner,
    )


# -- output ---------------------------------------------------------------------------------------
def _fmt(x, *, mass: bool = False) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float) and math.isinf(x):
        return "unreachable"
    return f"{x:.4f}" if mass else f"{x:.3f}"


def render_table(rows: list[dict], target_success: float | None = None) -> Table:
    """A rich table: one line per collective; success in green if it meets ``target_success``."""
    title = "Each collective acting alone (exact oracle, lower bounds, critical mass)"
    if target_success is not None:
        title += f"; target success {target_success:g}"
    caption = ("n/a: the bound does not cover this strategy, or the finite-sample bound has no N "
               "(the JSON notes say which); unreachable: no size below 1 reaches the target")
    table = Table(title=title, caption=caption, title_justify="left", caption_justify="left",
                  header_style="bold")
    for header in (
        "collective",
        "size",
        "success\nalone",
        "success\ntogether",
        "closed\nform",
        "stair-\ncase",
        "finite\nsample",
        "α* exact",
        "α* stair-\ncase",
        "α* closed\nform",
    ):
        table.add_column(header, justify="left" if header == "collective" else "right")
    for r in rows:
        s = _fmt(r["success"])
        if target_success is not None:
            s = f"[green]{s}[/]" if meets(r["success"], target_success) else f"[red]{s}[/]"
        table.add_row(
            escape(r["name"]),
            _fmt(r["size"], mass=True),
            s,
            _fmt(r["success_together"]),
            *(_fmt(r["bounds"][k]) for k in BOUNDS),
            *(_fmt(r["critical_mass"][k], mass=True) for k in CRITICAL),
        )
    return table


def world_table(scenario: Scenario) -> Table:
    """The world at a glance: base mass per label and landing mass per signal at every point; for a
    large world (more than :data:`WORLD_POINTS` points or :data:`WORLD_SIGNALS` signals) one row per
    signal instead (:func:`signal_table`)."""
    world = scenario.world
    if len(world.points) > WORLD_POINTS or len(world.signals) > WORLD_SIGNALS:
        return signal_table(scenario)
    table = Table(
        title=f"World: {len(world.points)} points, {len(world.labels)} labels, {len(world.signals)} signals",
        caption="P0: base mass per label; m: where each signal lands (blank: never at this point)",
        title_justify="left",
        caption_justify="left",
        header_style="bold",
    )
    table.add_column("point")
    for y in world.labels:
        table.add_column(escape(f"P0 {y}"), justify="right")
    for g in world.signals:
        table.add_column(escape(f"m {g}"), justify="right", style="cyan")
    base = np.asarray(world.base)
    landing = {g: np.asarray(world.landing_mass(g)) for g in world.signals}
    for i, point in enumerate(world.points):
        table.add_row(
            escape(point),
            *(f"{x:.4f}" for x in base[i]),
            *(f"{landing[g][i]:.2f}" if landing[g][i] else "" for g in world.signals),
        )
    return table


def signal_table(scenario: Scenario) -> Table:
    """One row per signal: its points, the base mass already there (``ξ``) and its label mix, the
    landing label mix, and how many of the scenario's collectives plant on it."""
    world = scenario.world
    base = np.asarray(world.base)
    table = Table(
        title=f"World: {len(world.points)} points, {len(world.labels)} labels, {len(world.signals)} "
        "signals (one row per signal)",
        title_justify="left",
        header_style="bold",
    )
    for header in ("signal", "points", "ξ (base mass)", "base labels", "landing labels", "collectives"):
        table.add_column(header, justify="left" if header == "signal" else "right")
    mix = lambda v: " / ".join(f"{x:.2f}" for x in v / max(v.sum(), 1e-300))  # noqa: E731
    for g in world.signals:
        land = np.asarray(world.landing_table(g))
        inside = land.sum(axis=1) > 0
        users = sum(c.signal == g for c in scenario.collectives)
        table.add_row(escape(g), str(int(inside.sum())), f"{base[inside].sum():.4f}",
                      mix(base[inside].sum(axis=0)), mix(land.sum(axis=0)), str(users))
    table.caption = "label mixes in the order " + " / ".join(escape(y) for y in world.labels)
    table.caption_justify = "left"
    return table


def _clean(x):
    if isinstance(x, dict):
        return {k: _clean(val) for k, val in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(val) for val in x]
    if isinstance(x, float):
        if math.isinf(x):
            return UNREACHABLE
        if math.isnan(x):
            return None
        return round(x, DIGITS)
    return x


def to_json(rows: list[dict], scenario: Scenario | None = None, **sections) -> str:
    """Rows as JSON (floats rounded to :data:`DIGITS` decimals, ``inf`` -> ``"unreachable"``,
    ``None`` -> ``null``).

    Without ``scenario`` the document is the list of rows. With it, an object
    ``{"scenario": name, "source": file, "analysis": {...}, "collectives": rows, **sections}``.

    >>> to_json([{"name": "a", "x": 1 / 3, "m": float("inf"), "b": None}])
    '[{"name": "a", "x": 0.333333, "m": "unreachable", "b": null}]'
    """
    if scenario is None:
        return json.dumps(_clean(rows), ensure_ascii=False)
    doc = {
        "scenario": scenario.name,
        "source": scenario.source,
        "analysis": scenario.analysis.model_dump(),
        "collectives": rows,
        **sections,
    }
    return json.dumps(_clean(doc), ensure_ascii=False, indent=2)
