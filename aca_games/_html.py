"""Small HTML tables for notebooks: the ``_repr_html_`` of worlds, collectives and games.

Plain strings built with :func:`html.escape` (no template engine, no pandas): Jupyter shows them
when an object is the last expression of a cell. Long tables are cut after :data:`MAX_ROWS` rows,
with a last row saying how many were left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from aca_games.collective import Collective
    from aca_games.game import ACAGame
    from aca_games.world import World

#: Rows shown before a table is cut.
MAX_ROWS = 30


def table(headers: Sequence[str], rows: Sequence[Sequence], caption: str = "") -> str:
    """An HTML table; every cell is escaped, numbers are written by :func:`cell`.

    >>> table(["a", "b"], [[1, "<x>"]], caption="T")
    '<table><caption>T</caption><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>&lt;x&gt;</td></tr></tbody></table>'
    """
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    shown = list(rows[:MAX_ROWS])
    body = "".join("<tr>" + "".join(f"<td>{escape(cell(x))}</td>" for x in r) + "</tr>" for r in shown)
    if len(rows) > MAX_ROWS:
        body += f'<tr><td colspan="{len(headers)}">… {len(rows) - MAX_ROWS} more rows</td></tr>'
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def cell(x) -> str:
    """Floats with 4 significant digits, ``None`` as an empty cell, the rest as ``str``."""
    if x is None:
        return ""
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.4g}"
    return str(x)


def world_html(world: World) -> str:
    """One row per relevant point: the base mass per label and the landing mass per signal."""
    base = np.asarray(world.base)
    landing = {g: np.asarray(world.landing_mass(g)) for g in world.signals}
    headers = ["point", *(f"P0(x̃, {y})" for y in world.labels), *(f"m_{g}(x̃)" for g in world.signals)]
    rows = [
        [p, *base[i], *(landing[g][i] if landing[g][i] else None for g in world.signals)]
        for i, p in enumerate(world.points)
    ]
    caption = (
        f"World: {len(world.points)} relevant points, {len(world.labels)} labels, "
        f"{len(world.signals)} signals; base mass {base.sum():.4g}"
    )
    return table(headers, rows, caption)


def collective_row(c: Collective) -> list:
    """The fields of a collective as table cells (see :data:`COLLECTIVE_HEADERS`)."""
    strategy = c.strategy + (f" ({c.variant})" if c.variant else "")
    noise = f"{float(c.noise):.4g} ({c.noise_mode})" if float(c.noise) > 0 else "0"
    return [c.name, float(c.size), c.signal, ", ".join(c.target), c.label, strategy, noise]


COLLECTIVE_HEADERS = ("collective", "size α", "signal", "target", "planted label", "strategy", "noise σ")


def collective_html(c: Collective) -> str:
    return table(COLLECTIVE_HEADERS, [collective_row(c)], caption="Collective")


#: How each payoff bound of :data:`aca_games.game.GAME_BOUNDS` is named to people.
GAME_BOUND_NAMES = {
    "exact": "exact oracle",
    "per_point": "per-point bound",
    "closed_form": "closed form (B1)",
    "smooth": "smooth surrogate",
}


def game_html(game: ACAGame) -> str:
    """One row per option of every player: its name, the collective it plants, its cost."""
    headers = ["player", "value", "size cost", "option", *COLLECTIVE_HEADERS[1:], "cost"]
    rows = []
    for p in game.players:
        for k, (o, name, cost) in enumerate(zip(p.options, p.option_names, p.costs, strict=True)):
            first = k == 0
            rows.append(
                [
                    p.name if first else "",
                    p.value if first else None,
                    p.size_cost if first else None,
                    name,
                    *collective_row(o)[1:],
                    cost,
                ]
            )
    shape = " × ".join(str(m) for m in game.shape)
    bound = "greedy lower bound" if game._method == "greedy" else GAME_BOUND_NAMES.get(game.bound, game.bound)
    learner = "Bayes-optimal" if float(game.eps) == 0 else f"ε = {float(game.eps):g} ({game.reading})"
    caption = (
        f"ACAGame: {len(game.players)} players with {shape} options; payoff = value · success − cost − "
        f"size cost · α, success by the {bound}; learner {learner}"
    )
    return table(headers, rows, caption)
