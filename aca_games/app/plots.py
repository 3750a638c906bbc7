"""Figures for people: success against size, two-collective heat maps, equilibrium maps, noise.

This module draws success against size and the two-collective heat map, and writes a scenario's
figures; :mod:`~aca_games.app.equilibrium_plot` and :mod:`~aca_games.app.noise_plot` hold the
equilibrium map and the noise trade-off (re-exported here). Every function takes model objects (a
world, collectives, the learner's ``eps`` and ``reading``, or a game) and returns a
:class:`matplotlib.figure.Figure` drawn on an Agg canvas (no display, no ``pyplot`` state);
:func:`write_figures` draws them for a scenario and saves each as PNG and SVG.
matplotlib is imported only when a figure is drawn.

Conventions on every figure: sizes are the share of the population ``α``; success is the share of
the collective's signalled inputs that the platform classifies into its target set (THEORY §1);
titles name the scenario and the learner; legends name the method behind each curve. The oracle's
curve is the exact worst case over ε-suboptimal learners at every size ("exact oracle").

Each curve or map is evaluated in one vectorised call: the oracle with ``success(..., sizes=grid)``,
the bounds with ``jax.vmap`` over sizes, the noise maps with ``jax.vmap`` over noise levels of one
``success`` call over sizes, the equilibrium map with one :func:`solvers.equilibrium_map` call.

Example:
    >>> from aca_games.app.scenario import load_scenario, default_scenario_path
    >>> s = load_scenario(default_scenario_path())
    >>> fig = success_vs_size(s.world, s.collectives[0], eps=s.analysis.eps, target_success=0.9,
    ...                       sizes=np.linspace(0.0, 0.1, 11))
    >>> [line.get_gid() for line in fig.axes[0].get_lines()][:3]
    ['exact oracle', 'closed form [HMMZ23]', 'staircase [GBJ25]']
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import bounds
from aca_games._errors import ACAInputError
from aca_games.app._figure import (
    CURVE_POINTS,
    MAP_POINTS,
    ORACLE_LABEL,
    SIZE_LABEL,
    SUCCESS_LABEL,
    check_cells,
    check_pair,
    critical_or_inf,
    fit_tops,
    learner_label,
    mark,
    new_figure,
    plot_top,
    size_grid,
    size_label,
    suptitle,
)
from aca_games.app.equilibrium_plot import EQUILIBRIUM_POINTS, equilibrium_map_figure, game_equilibrium_map
from aca_games.app.noise_plot import noise_surface, noise_tradeoff
from aca_games.collective import Collective
from aca_games.game import ACAGame
from aca_games.oracle import success
from aca_games.world import World

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from aca_games.app.scenario import Scenario

#: Figures per collective are drawn for at most this many collectives by :func:`write_figures`.
MAX_COLLECTIVES = 6
#: The equilibrium map is drawn only when its payoff evaluations hold at most this many cells
#: (grid cells x the pair's profiles x collectives x points x labels, one vmap): a two-player map
#: inside a 100-collective city would hold billions.
EQUILIBRIUM_MAP_CELLS = 2**27
FORMATS = ("png", "svg")
DPI = 130


# -- success against size -------------------------------------------------------------------------
def success_curves(
    world: World,
    collective: Collective,
    sizes,
    *,
    eps=0.0,
    reading: str = "huber",
    N: int | None = None,
    n_test: int = 2000,
    delta: float = 0.05,
) -> dict[str, np.ndarray]:
    """Success of ``collective`` acting alone at every size of ``sizes``, per method.

    Keys: :data:`ORACLE_LABEL` (the oracle, one ``success(..., sizes=grid)`` call), ``"closed form
    [HMMZ23]"`` (planting strategies only), ``"staircase [GBJ25]"`` and, with ``N``, ``"finite
    sample [GBJ25]"`` (``n = round(α N)`` members; erasing needs a label margin and is left out);
    each bound is one ``jax.vmap`` over sizes.
    """
    grid = jnp.asarray(sizes, dtype=jnp.float64)

    def alone(fn, **kw):  # one compiled program per bound: cheaper than eager vmapped ops on a cold start
        return jax.jit(jax.vmap(lambda a: fn(world, collective.with_size(a), **kw)))(grid)

    learner = {"eps": eps, "reading": reading}
    curves = {ORACLE_LABEL: success(world, collective, sizes=grid[:, None], **learner)[:, 0]}
    if collective.strategy in ("feature_label", "feature_only"):
        curves["closed form [HMMZ23]"] = alone(bounds.closed_form, **learner)
    curves["staircase [GBJ25]"] = alone(bounds.staircase, **learner)
    if N is not None and collective.strategy != "erase":
        finite = lambda w, c, **kw: bounds.finite_sample(w, c, n=jnp.round(c.size * N), **kw)  # noqa: E731
        curves["finite sample [GBJ25]"] = alone(finite, N=N, n_test=n_test, delta=delta, **learner)
    return {k: np.asarray(v) for k, v in curves.items()}


def success_vs_size(
    world: World,
    collective: Collective,
    *,
    eps=0.0,
    reading: str = "huber",
    target_success: float = 0.9,
    N: int | None = None,
    n_test: int = 2000,
    delta: float = 0.05,
    sizes=None,
    points: int = CURVE_POINTS,
    scenario_name: str | None = None,
) -> Figure:
    """Success of one collective acting alone against its size: the oracle, every bound, the
    critical mass (smallest size reaching ``target_success`` by the oracle) and the target line.

    Args:
        world, collective: the model; the collective's own size is marked on the curve.
        eps, reading: the learner.
        target_success: ``S*`` for the critical mass and the target line.
        N, n_test, delta: the platform's sample sizes; with ``N`` the finite-sample bound is drawn.
        sizes: the size grid (default: ``points`` sizes from 0 past the critical masses).
        scenario_name: for the title.
    """
    method = ORACLE_LABEL
    stars = {  # critical mass of each method, shown in the legend
        method: critical_or_inf(world, collective, target_success, "exact", eps, reading),
        "closed form [HMMZ23]": critical_or_inf(
            world, collective, target_success, "closed_form", eps, reading
        ),
        "staircase [GBJ25]": critical_or_inf(world, collective, target_success, "staircase", eps, reading),
    }
    alpha_star, own = stars[method], float(collective.size)
    if math.isfinite(alpha_star):  # past the oracle's critical mass, the closed form's if it is near
        top = plot_top(alpha_star, own, min(stars["closed form [HMMZ23]"], 3 * max(alpha_star, own)))
    else:
        top = 0.95  # the target is out of reach: show every size
    grid = size_grid(sizes, top, points)
    curves = success_curves(
        world, collective, grid, eps=eps, reading=reading, N=N, n_test=n_test, delta=delta
    )

    fig = new_figure(8.0, 5.0)
    ax = fig.add_subplot()
    styles = {
        method: dict(color="black", lw=2.2, drawstyle="steps-post", zorder=3),
        "closed form [HMMZ23]": dict(color="tab:blue", lw=1.6),
        # wide and under the oracle: where the staircase equals the oracle it shows as a halo
        "staircase [GBJ25]": dict(color="tab:orange", lw=5, alpha=0.55, drawstyle="steps-post", zorder=2),
        "finite sample [GBJ25]": dict(color="tab:green", lw=1.6, ls="-.", drawstyle="steps-post"),
    }
    for name, values in curves.items():
        star = stars.get(name)
        reach = (
            ""
            if star is None
            else (f", reaches S* at α = {star:.4f}" if math.isfinite(star) else ", never reaches S*")
        )
        ax.plot(grid, values, label=name + reach, gid=name, **styles[name])
    ax.axhline(target_success, color="tab:red", lw=1.0, ls=":", label=f"target S* = {target_success:g}")
    if math.isfinite(alpha_star) and grid[0] <= alpha_star <= grid[-1]:
        ax.axvline(alpha_star, color="tab:purple", lw=1.2, ls="--", label=f"critical mass α* ({method})")
    if grid[0] <= own <= grid[-1]:
        at = float(success(world, collective, eps, reading)[0])
        ax.plot(
            [own],
            [at],
            "o",
            color="black",
            ms=7,
            mfc="white",
            zorder=4,
            label=f"configured size {own:g}: success {at:.3f}",
        )
    ax.set_xlim(grid[0], grid[-1])
    ax.set_ylim(-0.03, 1.05)
    ax.set_xlabel(SIZE_LABEL)
    ax.set_ylabel(SUCCESS_LABEL)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8.5, framealpha=0.92)
    suptitle(fig, scenario_name, f"{collective.name} acting alone", learner_label(eps, reading))
    return fig


# -- two collectives: exact success over both sizes ----------------------------------------------
def success_heatmap(
    world: World,
    collectives: Sequence[Collective],
    pair: tuple[int, int] = (0, 1),
    *,
    eps=0.0,
    reading: str = "huber",
    axes: tuple | None = None,
    points: int = MAP_POINTS,
    scenario_name: str | None = None,
) -> Figure:
    """Success of two collectives acting together, over both their sizes (side by side).

    The other collectives of ``collectives`` keep their sizes. One ``success(..., sizes=grid)`` call
    over the whole grid; the configured sizes are marked.

    Args:
        pair: indices of the two collectives whose sizes vary.
        axes: ``(sizes of the first, sizes of the second)`` (default ``points`` sizes each,
            from 0 past their critical masses).
    """
    cs = list(collectives)
    i, j = check_pair(cs, pair)
    fixed = np.asarray([float(c.size) for c in cs])
    others = float(fixed.sum() - fixed[i] - fixed[j])
    if axes is None:  # from 0 past each one's critical mass alone (S* = 0.9) and configured size
        tops = [plot_top(critical_or_inf(world, cs[k], 0.9, "exact", eps, reading), fixed[k]) for k in (i, j)]
        axes = tuple(np.linspace(0.0, top, points) for top in fit_tops(tops, others))
    xs, ys = (size_grid(a, 0.0) for a in axes)
    check_cells((xs.max(), ys.max()), others)
    sizes = np.broadcast_to(fixed, (len(xs), len(ys), len(cs))).copy()
    sizes[..., i], sizes[..., j] = xs[:, None], ys[None, :]
    values = np.asarray(success(world, cs, eps, reading, sizes=sizes))  # (len(xs), len(ys), K)
    method = ORACLE_LABEL

    fig = new_figure(11.0, 4.8)
    panels = fig.subplots(1, 2, sharey=True)
    for ax, k in zip(panels, (i, j), strict=True):
        mesh = ax.pcolormesh(
            xs,
            ys,
            values[..., k].T,
            shading="nearest",
            rasterized=True,
            cmap="viridis",
            vmin=0,
            vmax=1,
            gid=f"success of {cs[k].name}",
        )
        mark(ax, fixed[i], fixed[j], "configured sizes")
        ax.set_title(f"success of {cs[k].name}", fontsize=10)
        ax.set_xlabel(size_label(cs[i].name))
    panels[0].legend(loc="upper right", fontsize=8)
    panels[0].set_ylabel(size_label(cs[j].name))
    fig.colorbar(mesh, ax=panels, label=f"{method}: share of signalled inputs\nclassified into the target")
    others = [c.name for k, c in enumerate(cs) if k not in (i, j)]
    note = f"; {', '.join(others)} at the configured size" if others else ""
    suptitle(
        fig,
        scenario_name,
        f"{cs[i].name} and {cs[j].name} acting together{note}",
        f"{method}, {learner_label(eps, reading)}",
    )
    return fig


# -- a scenario's figures -------------------------------------------------------------------------
def slug(name: str) -> str:
    """A file-name-safe version of ``name``: ``"Riverside tenants" -> "riverside_tenants"``."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "collective"


def scenario_game(scenario: Scenario) -> ACAGame:
    """The game drawn by :func:`write_figures`: the scenario's default game (every signal, or
    abstain; payoff = exact success − size, :func:`aca_games.app.game_report.default_game`)."""
    from aca_games.app.game_report import default_game

    return default_game(scenario)


def scenario_figures(
    scenario: Scenario, *, max_collectives: int = MAX_COLLECTIVES, points: int | None = None
) -> dict[str, Figure]:
    """Every figure of a scenario, by file stem (without suffix).

    For each of the first ``max_collectives`` collectives: success against size and the noise
    trade-off; with two collectives or more, the heat map and the equilibrium map of the first two
    (:func:`scenario_game`; only up to :data:`EQUILIBRIUM_MAP_CELLS`). ``points`` overrides the grid
    resolution of every figure.
    """
    world, cs, a = scenario.world, list(scenario.collectives), scenario.analysis
    learner = {"eps": a.eps, "reading": a.reading, "scenario_name": scenario.name}
    grid = {} if points is None else {"points": points}
    figures = {}
    for c in cs[:max_collectives]:
        figures[f"success_vs_size_{slug(c.name)}"] = success_vs_size(
            world,
            c,
            target_success=a.target_success,
            N=a.N,
            n_test=a.n_test or 2000,
            delta=a.delta or 0.05,
            **learner,
            **grid,
        )
    for c in cs[:max_collectives]:
        figures[f"noise_tradeoff_{slug(c.name)}"] = noise_tradeoff(world, c, **learner, **grid)
    if len(cs) < 2:
        return figures
    figures["success_heatmap"] = success_heatmap(world, cs, **learner, **grid)
    game = scenario_game(scenario)
    side = EQUILIBRIUM_POINTS if points is None else points
    cells = side**2 * game.shape[0] * game.shape[1] * len(cs) * world.base.size
    if cells <= EQUILIBRIUM_MAP_CELLS:
        figures["equilibrium_map"] = equilibrium_map_figure(
            game,
            marked=(float(cs[0].size), float(cs[1].size)),
            payoff="success − size",
            scenario_name=scenario.name,
            **grid,
        )
    return figures


def write_figures(
    scenario: Scenario, out_dir, *, max_collectives: int = MAX_COLLECTIVES, points: int | None = None
) -> list[Path]:
    """Draw :func:`scenario_figures` and save each as PNG and SVG in ``out_dir``; the paths written.

    Raises:
        ACAInputError: ``out_dir`` cannot be created or written.
    """
    out = Path(out_dir)
    written = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for stem, fig in scenario_figures(scenario, max_collectives=max_collectives, points=points).items():
            for suffix in FORMATS:
                path = out / f"{stem}.{suffix}"
                fig.savefig(path, dpi=DPI)
                written.append(path)
    except OSError as e:
        raise ACAInputError(
            f"--out: cannot write figures to {out} ({e.strerror}); pick a writable folder"
        ) from None
    return written


__all__ = [
    "CURVE_POINTS",
    "MAP_POINTS",
    "equilibrium_map_figure",
    "game_equilibrium_map",
    "learner_label",
    "noise_surface",
    "noise_tradeoff",
    "ORACLE_LABEL",
    "scenario_figures",
    "success_curves",
    "success_heatmap",
    "success_vs_size",
    "write_figures",
]
