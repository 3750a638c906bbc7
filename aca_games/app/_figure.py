"""Shared pieces of the figures (:mod:`aca_games.app.plots`): labels, grids, an Agg canvas.

matplotlib is imported inside :func:`new_figure`, so importing this module does not load it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from aca_games._errors import ACAInputError
from aca_games.critical import critical_mass

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SIZE_LABEL = "size α (share of the population)"
SUCCESS_LABEL = "success (share of the collective's signalled\ninputs classified into its target)"
#: Grid points of a curve and per axis of a map; tests pass smaller grids.
CURVE_POINTS = 401
MAP_POINTS = 81


# -- labels ---------------------------------------------------------------------------------------
#: What the oracle's curve is: exact at every size (:func:`aca_games.success`, ``method="exact"``).
ORACLE_LABEL = "exact oracle"


def learner_label(eps, reading: str) -> str:
    """``"Bayes-optimal learner"`` or ``"learner ε-suboptimal (ε = 0.001, huber reading)"``."""
    if float(eps) == 0.0:
        return "Bayes-optimal learner"
    return f"ε-suboptimal learner (ε = {float(eps):g}, {reading} reading)"


def suptitle(fig, scenario_name: str | None, what: str, learner: str) -> None:
    head = f"{scenario_name} — {what}" if scenario_name else what
    fig.suptitle(f"{head}\n{learner}", fontsize=11)


def size_label(name: str) -> str:
    """Axis label for the size of a named collective."""
    return f"size α of {name}\n(share of the population)"


def mark(ax, x: float, y: float, label: str | None = None) -> None:
    """A white star with a black edge at ``(x, y)``: the configured point on a map."""
    ax.plot([x], [y], marker="*", ms=14, color="white", mec="black", ls="none", label=label)


def new_figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def size_grid(sizes, default_top: float, points: int = CURVE_POINTS) -> np.ndarray:
    if sizes is None:
        return np.linspace(0.0, default_top, points)
    grid = np.asarray(sizes, dtype=np.float64)
    if grid.ndim != 1 or grid.size < 2 or not np.isfinite(grid).all():
        raise ACAInputError("sizes: expected a 1-D array of at least 2 finite sizes")
    if grid.min() < 0 or grid.max() >= 1:
        raise ACAInputError(f"sizes: every size must lie in [0, 1), got [{grid.min():g}, {grid.max():g}]")
    return grid


def plot_top(*candidates: float, floor: float = 0.02, cap: float = 0.95) -> float:
    """A plot range that shows every finite candidate size (critical masses, configured sizes)."""
    finite = [x for x in candidates if x is not None and math.isfinite(x) and x > 0]
    return float(min(cap, max([floor, *(1.3 * x for x in finite)])))


def fit_tops(tops, others: float, cap: float = 0.95) -> list[float]:
    """Scale the axis ends of two sizes down so that every cell leaves bystanders:
    ``sum(tops) + others <= cap``."""
    room = cap - others
    if room <= 0:
        raise ACAInputError(
            f"collectives: the others' sizes already sum to {others:.3g}; nothing left to vary"
        )
    scale = min(1.0, room / sum(tops))
    return [t * scale for t in tops]


def check_cells(tops, others: float) -> None:
    """Every cell of a two-size grid must leave bystanders (sizes summing below 1)."""
    total = float(sum(tops) + others)
    if total >= 1:
        raise ACAInputError(
            f"axes: the largest sizes and the others' sum to {total:.3g} >= 1; every cell must leave "
            "bystanders (Σ α < 1): shorten the axes"
        )


def critical_or_inf(world, c, target, bound, eps, reading) -> float:
    try:
        return float(critical_mass(world, c, target, bound=bound, eps=eps, reading=reading))
    except ACAInputError:  # the closed form does not cover unplant/erase
        return math.inf


def check_pair(cs: Sequence, pair) -> tuple[int, int]:
    i, j = (int(k) for k in pair)
    if len(cs) < 2 or not (0 <= i < len(cs) and 0 <= j < len(cs)) or i == j:
        raise ACAInputError(
            f"pair: need two different indices among {len(cs)} collectives/players, got {pair}"
        )
    return i, j
