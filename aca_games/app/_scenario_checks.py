"""Semantic checks of a parsed scenario, each problem as ``(field path, problem, fix)``.

The schema in :mod:`aca_games.app._scenario_schema` checks types and ranges; these functions check
what a schema cannot: table shapes and totals, names that must exist in the world, and consistency
between fields.
They run before any model object is built, so every message can name the exact field.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence

from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games.collective import NOISE_MODES, STRATEGIES, VARIANTS
from aca_games.learner import READINGS, check_eps
from aca_games.world import World

Issue = tuple[str, str, str]


def field_path(loc) -> str:
    """``("collectives", 1, "size")`` -> ``"collectives[1].size"`` (odd keys quoted)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            part = str(part)
            name = part if part.replace("_", "a").replace("-", "a").isalnum() else repr(part)
            out += ("." if out else "") + name
    return out or "(top level)"


# -- checks ------------------------------------------------------------------------------------------
def _shape_issues(path: str, table, rows: int, cols: int, rows_what: str) -> list:
    if len(table) != rows:
        return [(path, f"has {len(table)} rows, expected {rows}", f"one row per {rows_what}")]
    for i, row in enumerate(table):
        if len(row) != cols:
            return [
                (
                    f"{path}[{i}]",
                    f"has {len(row)} entries, expected {cols}",
                    "one column per label, in the order of world.labels",
                )
            ]
    return []


def _total_issue(path: str, table, *, at_most: bool = False) -> list:
    total = math.fsum(x for row in table for x in row)
    if at_most and total > 1 + v.SUM_TOL:
        return [
            (
                path,
                f"total mass is {total!r} > 1",
                "masses are shares of the population; scale the table down",
            )
        ]
    if not at_most and abs(total - 1) > v.SUM_TOL:
        return [
            (
                path,
                f"total mass is {total!r}, must be exactly 1 (within {v.SUM_TOL:g})",
                f"normalise the table (divide every entry by {total!r})"
                if total > 0
                else "give the signal some landing mass",
            )
        ]
    return []


def duplicate_issues(path: str, names: Sequence[str]) -> list[Issue]:
    """``path: duplicate names [...]`` if a name repeats."""
    names = list(names)
    seen = {n for n in names if names.count(n) > 1}
    return [(path, f"duplicate names {sorted(seen)}", "make every name unique")] if seen else []


def check_world(w) -> list[Issue]:
    """Shapes, totals and names of a parsed ``[world]`` table."""
    issues = []
    n_labels = len(w.labels)
    if n_labels < 2:
        issues.append(("world.labels", f"{n_labels} label(s)", "name at least 2 labels"))
    issues += duplicate_issues("world.labels", w.labels)
    if not w.signals:
        issues.append(("world.signals", "no signals", "add a [world.signals.<name>] table"))
    compact = w.table is None
    if compact:
        for key in ("feature_names",):
            if getattr(w, key) is not None:
                issues.append(
                    (
                        f"world.{key}",
                        "only used with a full `table`",
                        "remove it, or describe the world with `table` instead",
                    )
                )
        for key in ("points", "base"):
            if getattr(w, key) is None:
                issues.append(
                    (
                        f"world.{key}",
                        "missing required key",
                        "give points, base and a landing table per signal (or a full "
                        "`table` with a `map` per signal)",
                    )
                )
        if issues:
            return issues
        if not w.points:
            issues.append(("world.points", "empty", "name at least one relevant point"))
        issues += duplicate_issues("world.points", w.points)
        issues += _shape_issues("world.base", w.base, len(w.points), n_labels, "point")
        if not issues:
            issues += _total_issue("world.base", w.base, at_most=True)
        for name, sig in w.signals.items():
            path = f"world.signals.{field_path([name])}"
            if sig.map is not None:
                issues.append(
                    (
                        f"{path}.map",
                        "maps belong to full-table worlds",
                        "give a `landing` table (or describe the world with `table`)",
                    )
                )
            if sig.landing is None:
                issues.append(
                    (
                        f"{path}.landing",
                        "missing required key",
                        "add landing = [[...], ...] (one row per point, total 1)",
                    )
                )
                continue
            shape = _shape_issues(f"{path}.landing", sig.landing, len(w.points), n_labels, "point")
            issues += shape or _total_issue(f"{path}.landing", sig.landing)
        unknown = sorted(set(w.idempotent or ()) - set(w.signals))
        if unknown:
            issues.append(
                (
                    "world.idempotent",
                    f"unknown signals {unknown}",
                    f"use names from world.signals: {sorted(w.signals)}",
                )
            )
        if w.n_features is not None and w.n_features < len(w.points):
            issues.append(
                (
                    "world.n_features",
                    f"{w.n_features} is fewer than the {len(w.points)} points",
                    "|X| counts every feature",
                )
            )
        return issues
    for key in ("points", "base", "n_features", "idempotent"):
        if getattr(w, key) is not None:
            issues.append((f"world.{key}", "not used with a full `table` (it is derived)", "remove it"))
    n_rows = len(w.table)
    if n_rows == 0:
        return issues + [("world.table", "empty", "one row per feature")]
    issues += _shape_issues("world.table", w.table, n_rows, n_labels, "feature")
    if not issues:
        issues += _total_issue("world.table", w.table)
    if w.feature_names is not None:
        if len(w.feature_names) != n_rows:
            issues.append(
                (
                    "world.feature_names",
                    f"{len(w.feature_names)} names for {n_rows} rows",
                    "one name per row of `table`",
                )
            )
        issues += duplicate_issues("world.feature_names", w.feature_names)
    for name, sig in w.signals.items():
        path = f"world.signals.{field_path([name])}"
        if sig.landing is not None:
            issues.append(
                (
                    f"{path}.landing",
                    "landing tables belong to compact worlds",
                    "give a `map` (landing is derived from `table`)",
                )
            )
        if sig.map is None:
            issues.append(
                (
                    f"{path}.map",
                    "missing required key",
                    f"add map = [...] ({n_rows} row indices, 0-based)",
                )
            )
        elif len(sig.map) != n_rows:
            issues.append(
                (
                    f"{path}.map",
                    f"{len(sig.map)} entries for {n_rows} features",
                    "one 0-based row index per row of `table`",
                )
            )
        elif any(not 0 <= g < n_rows for g in sig.map):
            issues.append(
                (
                    f"{path}.map",
                    f"entries must lie in 0..{n_rows - 1}",
                    "use 0-based row indices of `table`",
                )
            )
    return issues


def choice_issue(path: str, value: str | None, options: Sequence[str], what: str) -> list[Issue]:
    """``unknown <what> 'x'`` with the closest valid choice, or ``[]`` (also for ``None``)."""
    if value is None or value in options:
        return []
    close = difflib.get_close_matches(value, list(options), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return [(path, f"unknown {what} {value!r}", f"{hint}expected one of {list(options)}")]


def option_name_issues(at: str, c, world: World) -> list[Issue]:
    """Names an option (or a collective) sets, against the world and the model's choices; unset
    (``None``) fields are skipped, so this also checks the defaults a version-2 collective gives."""
    labels = world.labels
    issues = choice_issue(f"{at}.signal", c.signal, world.signals, "signal")
    issues += choice_issue(f"{at}.strategy", c.strategy, STRATEGIES, "strategy")
    issues += choice_issue(f"{at}.noise_mode", c.noise_mode, NOISE_MODES, "noise mode")
    for j, t in enumerate(c.target or ()):
        issues += choice_issue(f"{at}.target[{j}]", t, labels, "label")
    issues += choice_issue(f"{at}.label", c.label, labels, "label")
    issues += choice_issue(f"{at}.misfire_label", c.misfire_label, labels, "label")
    return issues


def option_consistency_issues(at: str, c, labels: Sequence[str]) -> list[Issue]:
    """A complete option: its variant, a non-empty target set, the planted label in it."""
    issues = []
    variants = VARIANTS.get(c.strategy, ())
    if c.variant is not None and variants:
        issues += choice_issue(f"{at}.variant", c.variant, variants, "variant")
    if c.strategy != "erase" and not c.target:
        issues.append(
            (
                f"{at}.target",
                "the target set is empty",
                f"name at least one label, e.g. target = [{labels[-1]!r}]",
            )
        )
    if (
        c.label is not None
        and c.target
        and c.label not in c.target
        and c.strategy in ("feature_label", "feature_only")
    ):
        issues.append(
            (
                f"{at}.label",
                f"planted label {c.label!r} is not in target {c.target}",
                f"add {c.label!r} to target, or plant one of {c.target}",
            )
        )
    return issues


def check_collectives(specs: Sequence, world: World) -> list[Issue]:
    """Names (signal, labels, strategy, noise mode) against the world; label in target; Σ size < 1."""
    issues = duplicate_issues("collectives[*].name", [c.name for c in specs])
    for i, c in enumerate(specs):
        at = f"collectives[{i}]"
        issues += option_name_issues(at, c, world)
        issues += option_consistency_issues(at, c, world.labels)
    total = math.fsum(c.size for c in specs)
    if total >= 1:
        issues.append(
            (
                "collectives[*].size",
                f"sizes sum to {total!r} >= 1",
                "collectives are disjoint shares of one population; keep Σ size < 1",
            )
        )
    return issues


def check_analysis(a, at: str = "analysis") -> list[Issue]:
    """``reading`` and ``eps`` together; ``n_test``/``delta`` only with ``N`` (``at``: the table,
    ``analysis`` in version 1, ``platform`` in version 2)."""
    issues = choice_issue(f"{at}.reading", a.reading, READINGS, "reading")
    if not issues:
        try:
            check_eps(a.eps, a.reading)
        except ACAInputError as err:
            issues.append(
                (
                    f"{at}.eps",
                    str(err).removeprefix("eps: "),
                    "lower eps (tv needs eps < 0.5, huber eps < 1)",
                )
            )
    if a.N is None:
        for key in ("n_test", "delta"):
            if getattr(a, key) is not None:
                issues.append(
                    (
                        f"{at}.{key}",
                        "set without N",
                        f"add N = <platform users> to enable the finite-sample bound, or remove {key}",
                    )
                )
    return issues
