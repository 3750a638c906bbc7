"""A :class:`~solvers.Solution` as a pandas DataFrame, and as HTML in notebooks.

:func:`solution_frame` reads the shape of ``Solution.value`` (each solver's value has its own,
documented in :meth:`solvers.Solution.to_frame`); a game, when given, names players and options.
pandas is imported when a frame is made, not when :mod:`solvers` is imported.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from html import escape

import numpy as np

from aca_games._html import cell, table


def _names(game, n_players: int) -> tuple[list[str], list[list[str]] | None]:
    """Player names and option names from ``game`` (an ``ACAGame``), else ``"player k"`` and None."""
    if game is None:
        return [f"player {k}" for k in range(n_players)], None
    return [p.name for p in game.players], [list(p.option_names) for p in game.players]


def _option(options, player: int, index: int):
    return index if options is None else options[player][index]


def _is_profile(x) -> bool:
    return isinstance(x, tuple) and all(isinstance(a, numbers.Integral) for a in x)


def _is_mixed(x) -> bool:
    """A mixed profile: a tuple/list of 1-D probability arrays, one per player."""
    return (
        isinstance(x, (tuple, list))
        and len(x) > 0
        and all(isinstance(s, np.ndarray) and s.ndim == 1 for s in x)
    )


def _mixed_rows(profile, players, options, **extra) -> list[dict]:
    return [
        {**extra, "player": players[p], "option": _option(options, p, k), "probability": float(q)}
        for p, strategy in enumerate(profile)
        for k, q in enumerate(np.asarray(strategy, dtype=float))
    ]


def solution_frame(value, stats: Mapping, game=None):
    """The rows of :meth:`solvers.Solution.to_frame` (see there), as a DataFrame."""
    import pandas as pd

    from solvers.equilibrium.maps import EquilibriumMap
    from solvers.equilibrium.two_player import EquilibriumBatch

    if value is None:
        return pd.DataFrame()
    if isinstance(value, EquilibriumMap):
        return _map_frame(value)
    if isinstance(value, EquilibriumBatch):
        rows = [
            row
            for g in range(len(value.count))
            for e, eq in enumerate(value.game(g))
            for row in _mixed_rows(eq, *_names(None, 2), game=g, equilibrium=e)
        ]
        return pd.DataFrame(rows, columns=["game", "equilibrium", "player", "option", "probability"])
    if isinstance(value, numbers.Real):  # a critical mass
        return pd.DataFrame([{"critical_mass": float(value), "bound": stats.get("bound")}])
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind == "f":  # sizes
        players, _ = _names(game, len(value))
        return pd.DataFrame({"player": players, "size": value.astype(float)})
    if isinstance(value, Mapping):
        return _mapping_frame(value, game)
    if _is_profile(value):  # one pure profile
        value = [value]
    if isinstance(value, Sequence) and value and all(isinstance(r, Mapping) for r in value):
        return _ranking_frame(value)
    if isinstance(value, Sequence) and all(_is_profile(r) for r in value):  # pure equilibria
        players, options = _names(game, len(value[0]) if value else 0)  # [] -> no player columns
        rows = [
            {"equilibrium": e, **{players[p]: _option(options, p, a) for p, a in enumerate(prof)}}
            for e, prof in enumerate(value)
        ]
        return pd.DataFrame(rows, columns=["equilibrium", *players])
    if isinstance(value, Sequence) and value and all(_is_weighted(r) for r in value):
        players, options = _names(game, len(value[0][1]))
        rows = [
            {"weight": float(w), **{players[p]: _option(options, p, a) for p, a in enumerate(prof)}}
            for w, prof in value
        ]
        return pd.DataFrame(rows)
    if _is_mixed(value):  # one mixed profile
        players, options = _names(game, len(value))
        return pd.DataFrame(_mixed_rows(value, players, options))
    if isinstance(value, Sequence) and all(_is_mixed(eq) for eq in value):  # mixed equilibria
        players, options = _names(game, len(value[0]) if value else 2)
        rows = [r for e, eq in enumerate(value) for r in _mixed_rows(eq, players, options, equilibrium=e)]
        return pd.DataFrame(rows, columns=["equilibrium", "player", "option", "probability"])
    raise TypeError(f"to_frame: no table layout for a value of type {type(value).__name__}")


def _is_weighted(row) -> bool:
    return (
        isinstance(row, tuple) and len(row) == 2 and isinstance(row[0], numbers.Real) and _is_profile(row[1])
    )


def _ranking_frame(rows: Sequence[Mapping], strategy=None):
    import pandas as pd

    frame = pd.DataFrame([dict(r) for r in rows])
    frame.insert(0, "rank", range(1, len(frame) + 1))
    if strategy is not None:
        frame["probability"] = [float(strategy[o]) for o in frame["option"]]
    return frame


def _mapping_frame(value: Mapping, game):
    import pandas as pd

    if "ranking" in value:  # robust mixed best response
        return _ranking_frame(value["ranking"], value.get("strategy"))
    if "sizes" in value:  # coalitions: one row per collective
        sizes = value["sizes"]
        frame = pd.DataFrame({"collective": list(sizes), "size": [float(x) for x in sizes.values()]})
        if "selected" in value:
            frame["selected"] = [n in value["selected"] for n in sizes]
        return frame
    flat = {k: v for k, v in value.items() if not isinstance(v, (Mapping, list, tuple, np.ndarray))}
    for k, v in value.items():  # one level of nesting, e.g. price of anarchy's convention
        if isinstance(v, Mapping):
            flat.update({f"{k}.{kk}": vv for kk, vv in v.items()})
    return pd.DataFrame([flat])


def _map_frame(emap):
    import pandas as pd

    cells = emap.count.shape
    grid = emap.grid.reshape(-1, emap.grid.shape[-1])
    names = emap.param_names or tuple(f"theta[{k}]" for k in range(grid.shape[1]))
    frame = pd.DataFrame(grid, columns=list(names))
    frame["count"] = emap.count.reshape(-1)
    frame["n_pure"] = emap.pure.reshape(int(np.prod(cells)), -1).sum(axis=1)
    for key in ("worst_welfare", "best_welfare", "optimum"):
        frame[key] = np.asarray(getattr(emap, key)).reshape(-1)
    return frame


def solution_html(sol, max_rows: int = 10) -> str:
    """The status and certificate of a Solution, then the first rows of its frame."""
    certificate = sol.certificate
    if isinstance(certificate, Mapping):
        certificate = "; ".join(
            f"{k} = {cell(v)}" for k, v in certificate.items() if isinstance(v, (numbers.Number, str, bool))
        )
    head = table(
        ["status", "certificate", "method", "seconds"],
        [
            [
                sol.status + (" (ok)" if sol.ok else ""),
                certificate,
                sol.stats.get("method"),
                sol.stats.get("seconds"),
            ]
        ],
        caption="Solution",
    )
    try:
        frame = solution_frame(sol.value, sol.stats)
    except TypeError:
        return head + f"<pre>{escape(repr(sol.value)[:2000])}</pre>"
    more = f"<p>… {len(frame) - max_rows} more rows: Solution.to_frame()</p>" if len(frame) > max_rows else ""
    return head + frame.head(max_rows).to_html(index=False, float_format=lambda x: f"{x:.4g}") + more
