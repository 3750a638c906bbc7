"""The equilibrium map as a figure: equilibria of two players over a grid of their sizes.

:func:`game_equilibrium_map` computes it with one :func:`solvers.equilibrium_map` call;
:func:`equilibrium_map_figure` draws the number of pure equilibria, the welfare of the worst
equilibrium and the welfare lost to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np

from aca_games.app._figure import (
    MAP_POINTS,
    ORACLE_LABEL,
    check_cells,
    check_pair,
    fit_tops,
    learner_label,
    mark,
    new_figure,
    size_grid,
    size_label,
    suptitle,
)
from aca_games.game import ACAGame

if TYPE_CHECKING:
    from matplotlib.figure import Figure


#: Default grid points per axis of the equilibrium map (one vertex enumeration per cell).
EQUILIBRIUM_POINTS = MAP_POINTS // 2


def game_equilibrium_map(
    game: ACAGame, pair: tuple[int, int] = (0, 1), axes: tuple | None = None, points: int = EQUILIBRIUM_POINTS
):
    """All equilibria of the two-player game between ``game.players[pair]`` over a grid of their sizes.

    At each cell the two players' options take the cell's sizes, except options of size 0, which
    stay at 0 (abstaining stays abstaining); the other players play their option 0 at its size.
    Built as one :func:`solvers.equilibrium_map` call (payoff tensors by one vmap over cells and
    profiles, all games solved in one batched vertex enumeration). Default axes: ``points`` sizes
    per player, from one step above 0 (at size 0 every option ties) to 2.5 times its largest option.

    Returns:
        The :class:`~solvers.Solution` of :func:`solvers.equilibrium_map` (``value`` an
        :class:`~solvers.equilibrium.maps.EquilibriumMap`, certificate the largest NashConv).
    """
    from solvers.equilibrium.maps import equilibrium_map

    i, j = check_pair(game.players, pair)
    m, n, K = game.shape[i], game.shape[j], len(game.players)
    profiles = np.zeros((m * n, K), dtype=np.int32)
    profiles[:, i], profiles[:, j] = np.repeat(np.arange(m), n), np.tile(np.arange(n), m)
    option_sizes = [np.asarray([float(o.size) for o in p.options]) for p in game.players]
    fixed = np.stack([option_sizes[k][profiles[:, k]] for k in range(K)], axis=1)  # (m*n, K)
    acting = jnp.asarray(fixed[:, [i, j]] > 0)
    fixed, profiles = jnp.asarray(fixed), jnp.asarray(profiles)

    def tensors(theta):
        sizes = fixed.at[:, jnp.asarray([i, j])].set(jnp.where(acting, theta, 0.0))
        payoffs = jax.vmap(game.payoffs_at)(profiles, sizes)  # (m*n, K)
        return payoffs[:, jnp.asarray([i, j])].T.reshape(2, m, n)

    others = float(sum(option_sizes[k][0] for k in range(K) if k not in (i, j)))
    if axes is None:
        tops = fit_tops([2.5 * max(option_sizes[k].max(), 0.01) for k in (i, j)], others)
        axes = tuple(np.linspace(t / (2 * points), t, points) for t in tops)
    axes = tuple(size_grid(a, 0.0) for a in axes)
    check_cells([a.max() for a in axes], others)
    return equilibrium_map(tensors, axes)


def equilibrium_map_figure(
    game: ACAGame,
    pair: tuple[int, int] = (0, 1),
    *,
    axes: tuple | None = None,
    points: int = EQUILIBRIUM_POINTS,
    marked: tuple[float, float] | None = None,
    scenario_name: str | None = None,
    payoff: str = "the game's payoff",
) -> Figure:
    """Three maps over the two players' sizes (:func:`game_equilibrium_map`): the number of pure
    equilibria, the welfare (sum of the two payoffs) of the worst equilibrium, pure or mixed, and
    the welfare lost to it, optimum minus worst equilibrium (the price of anarchy as a difference).

    Args:
        marked: sizes to mark (e.g. the scenario's configured ones).
        payoff: how the payoff is defined, for the colour bars and the title.
    """
    from matplotlib import colormaps
    from matplotlib.colors import BoundaryNorm

    i, j = check_pair(game.players, pair)
    sol = game_equilibrium_map(game, (i, j), axes, points)
    emap = sol.value
    xs, ys = emap.axes
    n_pure = emap.pure.sum(axis=(-2, -1))
    panels = [
        ("pure equilibria", n_pure, "number of pure equilibria"),
        ("welfare of the worst equilibrium", emap.worst_welfare, "sum of the two players' payoffs"),
        (
            "welfare lost to the worst equilibrium",
            emap.optimum - emap.worst_welfare,
            "best welfare − worst equilibrium's",
        ),
    ]
    fig = new_figure(15.0, 4.9)
    axs = fig.subplots(1, 3, sharey=True)
    for ax, (title, data, bar) in zip(axs, panels, strict=True):
        if data is n_pure:
            top = max(int(data.max()), 1)
            cmap = colormaps["viridis"].resampled(top + 1)
            norm = BoundaryNorm(np.arange(-0.5, top + 1.5), cmap.N)
            mesh = ax.pcolormesh(
                xs, ys, data.T, shading="nearest", rasterized=True, cmap=cmap, norm=norm, gid=title
            )
            fig.colorbar(mesh, ax=ax, ticks=range(top + 1), label=bar)
        else:
            mesh = ax.pcolormesh(xs, ys, data.T, shading="nearest", rasterized=True, cmap="magma", gid=title)
            fig.colorbar(mesh, ax=ax, label=bar)
        if marked is not None:
            mark(ax, marked[0], marked[1], "configured sizes")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(size_label(game.players[i].name))
    if marked is not None:
        axs[0].legend(loc="upper right", fontsize=8)
    axs[0].set_ylabel(size_label(game.players[j].name))
    others = [f"{p.name} on “{p.option_names[0]}”" for k, p in enumerate(game.players) if k not in (i, j)]
    fixed = f"; {', '.join(others)}" if others else ""
    what = f"equilibria of {game.players[i].name} vs {game.players[j].name}{fixed}"
    bound = {"exact": ORACLE_LABEL}.get(game.bound, game.bound)
    suptitle(
        fig,
        scenario_name,
        what,
        f"payoff: {payoff}, success by the {bound}; {learner_label(game.eps, game.reading)}; "
        f"largest NashConv {sol.certificate:.1e}",
    )
    return fig
