"""Sweep grids over scenario fields: ``--grid PATH=VALUES``, parsed and checked before any work.

``PATH`` is a field path in the scenario file, with ``.`` between keys and ``[i]`` for list
entries (0-based): ``collectives[0].size``, ``analysis.eps``, ``collectives[1].noise``,
``world.base[0][1]``. ``VALUES`` is either a list ``a,b,c`` (numbers, or words such as
``drop,scatter``; ``true``/``false`` are booleans) or ``start:stop:num``, ``num`` evenly spaced
values from ``start`` to ``stop`` inclusive (integers when both ends are integers and every value
is whole, e.g. ``analysis.N=1000:100000:4``).

The grid is the Cartesian product of its axes, in the order given (the last axis varies fastest).
:func:`plan_cells` applies every cell to the parsed scenario file and validates the result with
the scenario schema, so an empty grid, an unknown path, an index past the end of a list or a value
out of range fails before anything runs, with an :class:`~aca_games.ACAInputError` naming the
``--grid`` path and the fix.
"""

from __future__ import annotations

import copy
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aca_games._errors import ACAInputError

__all__ = ["Axis", "apply_params", "parse_axis", "parse_path", "parse_values", "plan_cells"]

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_INDEX = re.compile(r"\[(\d+)\]")
EXAMPLE = "--grid collectives[0].size=0.01:0.1:10"


@dataclass(frozen=True)
class Axis:
    """One axis of a grid: a field path and its values."""

    path: str
    parts: tuple[str | int, ...]
    values: tuple


def parse_path(path: str) -> tuple[str | int, ...]:
    """``"collectives[1].noise"`` -> ``("collectives", 1, "noise")``.

    >>> parse_path("world.base[0][1]")
    ('world', 'base', 0, 1)
    """
    parts: list[str | int] = []
    rest = path.strip()
    while rest:
        if parts and rest.startswith("."):
            rest = rest[1:]
        key = _KEY.match(rest)
        if not key:
            raise ACAInputError(
                f"--grid {path}: cannot read the field path at {rest!r}; write keys separated by "
                "'.' with [i] for list entries, e.g. collectives[0].size or analysis.eps"
            )
        parts.append(key.group())
        rest = rest[key.end() :]
        while index := _INDEX.match(rest):
            parts.append(int(index.group(1)))
            rest = rest[index.end() :]
        if rest and not rest.startswith("."):
            raise ACAInputError(f"--grid {path}: unexpected {rest!r}; list indices are written [0], [1], ...")
    if not parts:
        raise ACAInputError(f"--grid: empty field path; write PATH=VALUES, e.g. {EXAMPLE}")
    return tuple(parts)


def _scalar(text: str):
    word = text.strip()
    if word.lower() in ("true", "false"):
        return word.lower() == "true"
    for kind in (int, float):
        try:
            value = kind(word)
        except ValueError:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise ACAInputError(f"value {word!r} is not finite; give finite numbers")
        return value
    return word


def parse_values(text: str) -> tuple:
    """``"a,b,c"`` or ``"start:stop:num"`` -> a tuple of values (module docstring).

    >>> parse_values("0.01,0.02"), parse_values("drop, scatter"), parse_values("0:1:3")
    ((0.01, 0.02), ('drop', 'scatter'), (0.0, 0.5, 1.0))
    >>> parse_values("1000:4000:4")
    (1000, 2000, 3000, 4000)
    """
    text = text.strip()
    if not text:
        raise ACAInputError("no values; give a,b,c or start:stop:num")
    if ":" in text:
        pieces = text.split(":")
        if len(pieces) != 3:
            raise ACAInputError(f"{text!r}: a range is start:stop:num, e.g. 0.01:0.1:10")
        start, stop, num = (_scalar(p) for p in pieces)
        if isinstance(start, (str, bool)) or isinstance(stop, (str, bool)):
            raise ACAInputError(f"{text!r}: start and stop must be numbers")
        if not isinstance(num, int) or isinstance(num, bool) or num < 1:
            raise ACAInputError(f"{text!r}: num must be an integer >= 1 (the number of values)")
        step = (stop - start) / max(num - 1, 1)
        values = [start + step * i for i in range(num)]
        if isinstance(start, int) and isinstance(stop, int) and all(float(x).is_integer() for x in values):
            return tuple(int(x) for x in values)
        return tuple(float(f"{x:.12g}") for x in values)  # 0.055, not 0.05500000000000001
    items = [p for p in text.split(",")]
    if any(not p.strip() for p in items):
        raise ACAInputError(f"{text!r}: an empty entry; separate values by single commas")
    return tuple(_scalar(p) for p in items)


def parse_axis(spec: str) -> Axis:
    """``"PATH=VALUES"`` -> :class:`Axis`."""
    path, sep, values = spec.partition("=")
    if not sep:
        raise ACAInputError(f"--grid {spec!r}: expected PATH=VALUES, e.g. {EXAMPLE}")
    parts = parse_path(path)
    try:
        parsed = parse_values(values)
    except ACAInputError as err:
        raise ACAInputError(f"--grid {path.strip()}: {err}") from None
    return Axis(path.strip(), parts, parsed)


def apply_params(data: Mapping, params: Mapping[str, object]) -> dict:
    """A deep copy of the parsed scenario ``data`` with every ``path: value`` of ``params`` set.

    >>> apply_params({"analysis": {"eps": 0.0}}, {"analysis.eps": 0.1, "analysis.N": 10})
    {'analysis': {'eps': 0.1, 'N': 10}}
    """
    out = copy.deepcopy(dict(data))
    for path, value in params.items():
        _set(out, path, parse_path(path), value)
    return out


def _set(data, path, parts, value) -> None:
    node = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts[:depth]).lstrip(".")
        if isinstance(part, int):
            if not isinstance(node, list):
                raise ACAInputError(f"--grid {path}: {here} is not a list; remove [{part}]")
            if part >= len(node):
                raise ACAInputError(
                    f"--grid {path}: {here} has {len(node)} entries (indices 0..{len(node) - 1}); "
                    "use an existing index"
                )
        else:
            if not isinstance(node, dict):
                where = here or "the top level"
                raise ACAInputError(f"--grid {path}: {where} is a value, not a table; shorten the path")
            if not last and part not in node:
                node[part] = {}  # a missing table: the schema says whether the key exists
        if last:
            node[part] = value
        else:
            node = node[part]


def plan_cells(data: Mapping, axes: Sequence[Axis], source: str) -> list[dict]:
    """Every cell's ``{path: value}`` (the product of the axes), each validated against the
    scenario schema by building its scenario. Raises :class:`ACAInputError` on the first bad axis
    or cell, naming the ``--grid`` path."""
    from aca_games.app.scenario import ScenarioError, scenario_from_dict

    if not axes:
        raise ACAInputError(f"--grid: no axis given; add at least one --grid PATH=VALUES, e.g. {EXAMPLE}")
    seen = [a.path for a in axes]
    repeated = sorted({p for p in seen if seen.count(p) > 1})
    if repeated:
        raise ACAInputError(f"--grid: {repeated} given more than once; give each path one --grid")
    cells = [dict(zip(seen, combo, strict=True)) for combo in itertools.product(*(a.values for a in axes))]

    def check(params: dict, what: str) -> None:
        try:
            scenario_from_dict(apply_params(data, params), source=source)
        except ScenarioError as err:
            lines = [f"{p}: {problem}" + (f" -> fix: {fix}" if fix else "") for p, problem, fix in err.issues]
            raise ACAInputError(f"--grid {what}: " + "; ".join(lines)) from None

    for axis in axes:  # one value at a time first: the message names the axis
        for value in axis.values:
            check({axis.path: value}, f"{axis.path}={value!r}")
    if len(axes) > 1:
        for params in cells:
            check(params, ", ".join(f"{k}={val!r}" for k, val in params.items()))
    return cells
