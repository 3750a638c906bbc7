"""Equilibrium maps over a grid of world parameters (THEORY §5).

**Equilibrium map** (:func:`equilibrium_map`): "the equilibrium map researchers plot". For a grid of
world parameters (e.g. a 100x100 grid of the two collectives' sizes) all 2-player payoff tensors are
built in one jitted ``vmap`` (over cells and profiles) and all games are solved by one call of
:func:`~solvers.equilibrium.two_player.two_player_equilibria_batched`. Per cell: the number of
extreme equilibria, their payoffs, the pure equilibria, the worst/best equilibrium welfare and the
welfare optimum. :func:`plot_equilibrium_map` draws heat maps (matplotlib, Agg canvas: no display).
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import ACAGame, ACAInputError
from solvers._solution import Solution
from solvers.equilibrium.two_player import two_player_equilibria_batched

#: An extreme equilibrium counts as pure when each strategy puts at least ``1 - PURE_TOL`` on one option.
PURE_TOL = 1e-9


# ------------------------------------------------------------------------------- equilibrium map
class EquilibriumMap(NamedTuple):
    """Equilibria over a grid of ``cells`` (any shape, e.g. ``(100, 100)``), for ``m x n`` games.

    Attributes:
        grid: the parameters of each cell, ``(*cells, d)``.
        payoffs: the payoff tensors, ``(*cells, 2, m, n)``.
        count: number of extreme equilibria per cell, ``(*cells,)``.
        x, y: the equilibria, padded with NaN, ``(*cells, E, m)`` and ``(*cells, E, n)``.
        values: equilibrium payoffs ``(x·A·y, x·B·y)``, NaN-padded, ``(*cells, E, 2)``.
        pure: ``pure[c, a, b]`` is True iff ``(a, b)`` is a pure equilibrium of cell ``c``,
            ``(*cells, m, n)``.
        worst_welfare, best_welfare: welfare of the worst / best equilibrium, ``(*cells,)``.
        optimum: the welfare optimum over pure profiles, ``(*cells,)``.
        axes: the 1-D axes when the grid was given as a tuple of axes (else ``None``).
        param_names: a name per parameter (``"size of <player>"`` for a game, else ``"theta[k]"``).
    """

    grid: np.ndarray
    payoffs: np.ndarray
    count: np.ndarray
    x: np.ndarray
    y: np.ndarray
    values: np.ndarray
    pure: np.ndarray
    worst_welfare: np.ndarray
    best_welfare: np.ndarray
    optimum: np.ndarray
    axes: tuple[np.ndarray, ...] | None = None
    param_names: tuple[str, ...] | None = None

    def pure_profiles(self, cell) -> list[tuple[int, int]]:
        """The pure equilibria of one cell (an index tuple into the grid), lexicographic."""
        return [tuple(int(i) for i in r) for r in np.argwhere(self.pure[cell])]

    def equilibria(self, cell) -> list[tuple[np.ndarray, np.ndarray]]:
        """The extreme equilibria of one cell, as :func:`two_player_equilibria` lists them."""
        return [(self.x[cell][e].copy(), self.y[cell][e].copy()) for e in range(int(self.count[cell]))]


def _grid(grid) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
    if isinstance(grid, tuple):
        axes = []
        for k, ax in enumerate(grid):
            a = np.asarray(ax, dtype=np.float64)
            if a.ndim != 1 or a.size == 0:
                raise ACAInputError(
                    f"grid[{k}]: each axis of a grid given as a tuple must be a non-empty 1-D array"
                )
            axes.append(a)
        if not axes:
            raise ACAInputError("grid: the tuple of axes is empty")
        points = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
    else:
        try:
            points = np.asarray(grid, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ACAInputError(
                f"grid: expected an array of parameters (*cells, d), cannot convert ({exc})"
            ) from exc
        axes = None
        if points.ndim < 2 or 0 in points.shape:
            raise ACAInputError(
                f"grid: expected a non-empty array of shape (*cells, d) (one parameter vector per cell) "
                f"or a tuple of 1-D axes, got shape {points.shape}"
            )
    if not np.isfinite(points).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(points))[0])
        raise ACAInputError(f"grid: non-finite parameter at index {bad}")
    return points, None if axes is None else tuple(axes)


def _in_chunks(fn: Callable, flat: np.ndarray, chunk: int | None):
    """``jit(vmap(fn))`` over the rows of ``flat``: one call, or calls of ``chunk`` rows (the last one
    padded by repeating a row, so every call has the same shape and compiles once)."""
    batched = jax.jit(jax.vmap(fn))
    if chunk is None or chunk >= len(flat):
        return batched(jnp.asarray(flat))
    parts = []
    for s in range(0, len(flat), chunk):
        block = flat[s : s + chunk]
        pad = chunk - len(block)
        if pad:
            block = np.concatenate([block, np.repeat(block[:1], pad, axis=0)])
        out = batched(jnp.asarray(block))
        parts.append(jax.tree_util.tree_map(lambda a, k=chunk - pad: np.asarray(a)[:k], out))
    return jax.tree_util.tree_map(lambda *a: np.concatenate(a), *parts)


def _check_chunk(chunk) -> int | None:
    if chunk is None:
        return None
    if isinstance(chunk, bool) or not isinstance(chunk, numbers.Integral) or chunk < 1:
        raise ACAInputError(
            f"chunk: expected None or an integer >= 1 (cells per vmapped call), got {chunk!r}"
        )
    return int(chunk)


def _game_tensors(game: ACAGame, flat: np.ndarray, chunk: int | None) -> np.ndarray:
    """Payoff tensors ``(G, 2, m, n)`` of a 2-player game with both players' sizes set per cell."""
    if len(game.players) != 2:
        raise ACAInputError(
            f"game: an equilibrium map needs a 2-player game, got {len(game.players)} players"
        )
    if flat.shape[1] != 2:
        raise ACAInputError(
            f"grid: with an ACAGame each cell gives the two players' sizes (d = 2), got d = {flat.shape[1]}"
        )
    bad = np.argwhere((flat < 0) | (flat >= 1))
    if bad.size:
        raise ACAInputError(
            f"grid: size {float(flat[tuple(bad[0])])!r} outside [0, 1) in cell {int(bad[0][0])} (flat index)"
        )
    total = flat.sum(axis=1)
    if (total >= 1).any():
        c = int(np.argmax(total >= 1))
        raise ACAInputError(
            f"grid: sizes {flat[c].tolist()} in cell {c} (flat index) sum to {float(total[c])!r} >= 1; "
            "leave bystanders"
        )
    m, n = game.shape
    profiles = jnp.asarray(game.profiles())

    def cell(sizes):
        return jax.vmap(lambda prof: game.payoffs_at(prof, sizes))(profiles)  # (m*n, 2)

    table = _in_chunks(cell, flat, chunk)  # (G, m*n, 2)
    return np.asarray(table).transpose(0, 2, 1).reshape(len(flat), 2, m, n)


def _fn_tensors(fn: Callable, flat: np.ndarray, chunk: int | None) -> np.ndarray:
    try:
        out = _in_chunks(fn, flat, chunk)
    except ACAInputError:
        raise
    except Exception as exc:
        raise ACAInputError(
            f"game_or_payoffs: the payoff function must be jittable, theta (d,) -> array (2, m, n); "
            f"calling it under jit/vmap failed: {type(exc).__name__}: {exc}"
        ) from exc
    T = np.asarray(out, dtype=np.float64)
    if T.ndim != 4 or T.shape[1] != 2 or 0 in T.shape:
        raise ACAInputError(
            f"game_or_payoffs: the payoff function must return shape (2, m, n), got {T.shape[1:]} per cell"
        )
    if not np.isfinite(T).all():
        c = int(np.argwhere(~np.isfinite(T))[0][0])
        raise ACAInputError(
            f"game_or_payoffs: non-finite payoff in cell {c} (flat index), theta = {flat[c].tolist()}"
        )
    return T


def equilibrium_map(game_or_payoffs, grid, *, tol: float = 1e-9, chunk: int | None = None) -> Solution:
    """All extreme equilibria of a 2-player game at every cell of a parameter grid.

    Args:
        game_or_payoffs: either a 2-player :class:`aca_games.ACAGame` — each cell of ``grid`` then
            gives the two players' sizes ``(α_0, α_1)``, overriding every option's size
            (:meth:`ACAGame.payoffs_at`, vmapped over profiles and cells) — or a jittable function
            ``payoffs(theta) -> (2, m, n)`` of the cell's parameters ``theta`` (shape ``(d,)``).
        grid: an array ``(*cells, d)`` of parameters, or a tuple of ``d`` 1-D axes (the product grid,
            ``indexing="ij"``: cell ``(i, j)`` has parameters ``(axes[0][i], axes[1][j])``).
        tol: label tolerance of :func:`two_player_equilibria_batched`.
        chunk: ``None`` (default) builds every cell's tensor in one vmapped call; an integer bounds the
            cells per call (memory: the exact oracle with ``ε > 0`` enumerates flip sets per profile).

    Returns:
        :class:`~solvers.Solution` with ``value`` an :class:`EquilibriumMap`, ``status`` that of the
        batched solver, ``certificate`` the largest NashConv over all cells' equilibria, ``stats`` with
        ``n_cells``, ``shape``, ``build_seconds``, ``solve_seconds``, ``seconds``.

    Example:
        >>> import jax.numpy as jnp
        >>> def coordination(theta):     # matching pays theta[0] on option 0, 1 on option 1
        ...     A = jnp.array([[theta[0], 0.0], [0.0, 1.0]])
        ...     return jnp.stack([A, A])
        >>> sol = equilibrium_map(coordination, (jnp.array([-1.0, 2.0]),))
        >>> sol.value.count.tolist()                  # one equilibrium, then two pure + one mixed
        [1, 3]
        >>> sol.value.pure_profiles(1)
        [(0, 0), (1, 1)]
    """
    t0 = time.perf_counter()
    points, axes = _grid(grid)
    cells = points.shape[:-1]
    flat = points.reshape(-1, points.shape[-1])
    chunk = _check_chunk(chunk)
    if isinstance(game_or_payoffs, ACAGame):
        T = _game_tensors(game_or_payoffs, flat, chunk)
        names = tuple(f"size of {p.name}" for p in game_or_payoffs.players)
    elif callable(game_or_payoffs):
        T = _fn_tensors(game_or_payoffs, flat, chunk)
        names = tuple(f"theta[{k}]" for k in range(flat.shape[1]))
    else:
        raise ACAInputError(
            f"game_or_payoffs: expected a 2-player ACAGame or a function theta -> (2, m, n), "
            f"got {type(game_or_payoffs).__name__}"
        )
    t1 = time.perf_counter()
    G, _, m, n = T.shape
    sol = two_player_equilibria_batched(T[:, 0], T[:, 1], tol=tol)
    t2 = time.perf_counter()
    batch = sol.value
    A, B = T[:, 0], T[:, 1]
    values = np.stack(
        [
            np.einsum("gei,gij,gej->ge", batch.x, A, batch.y),
            np.einsum("gei,gij,gej->ge", batch.x, B, batch.y),
        ],
        axis=-1,
    )  # NaN on padding
    welfare = values.sum(axis=-1)
    has = batch.count > 0
    worst = np.where(has, np.nanmin(np.where(np.isnan(welfare), np.inf, welfare), axis=1), np.nan)
    best = np.where(has, np.nanmax(np.where(np.isnan(welfare), -np.inf, welfare), axis=1), np.nan)
    pure = np.zeros((G, m, n), dtype=bool)
    xs, ys = np.nan_to_num(batch.x), np.nan_to_num(batch.y)
    is_pure = (xs.max(axis=-1) >= 1 - PURE_TOL) & (ys.max(axis=-1) >= 1 - PURE_TOL)
    g, e = np.nonzero(is_pure)
    pure[g, xs[g, e].argmax(axis=-1), ys[g, e].argmax(axis=-1)] = True
    E = batch.x.shape[1]
    result = EquilibriumMap(
        grid=points,
        payoffs=T.reshape(*cells, 2, m, n),
        count=np.asarray(batch.count).reshape(cells),
        x=batch.x.reshape(*cells, E, m),
        y=batch.y.reshape(*cells, E, n),
        values=values.reshape(*cells, E, 2),
        pure=pure.reshape(*cells, m, n),
        worst_welfare=worst.reshape(cells),
        best_welfare=best.reshape(cells),
        optimum=(A + B).reshape(G, -1).max(axis=1).reshape(cells),
        axes=axes,
        param_names=names,
    )
    stats = {
        "n_cells": G,
        "cells": cells,
        "shape": (m, n),
        "method": sol.stats.get("method"),
        "build_seconds": t1 - t0,
        "solve_seconds": t2 - t1,
        "seconds": time.perf_counter() - t0,
    }
    return Solution(value=result, status=sol.status, certificate=sol.certificate, stats=stats)


# ------------------------------------------------------------------------------------------- plot
PLOT_QUANTITIES = ("count", "worst_welfare", "best_welfare", "anarchy_gap", "n_pure")


def _quantity(result: EquilibriumMap, name: str) -> np.ndarray:
    if name == "count":
        return result.count.astype(float)
    if name == "n_pure":
        return result.pure.sum(axis=(-2, -1)).astype(float)
    if name == "anarchy_gap":
        return result.optimum - result.worst_welfare
    return np.asarray(getattr(result, name), dtype=float)


def plot_equilibrium_map(
    result,
    path,
    *,
    quantities: Sequence[str] = ("count", "worst_welfare"),
    labels: tuple[str, str] | None = None,
    title: str | None = None,
    dpi: int = 120,
):
    """Save heat maps of an equilibrium map over a 2-D grid as an image (PNG by the file suffix).

    Args:
        result: an :class:`EquilibriumMap` or the :class:`~solvers.Solution` holding one.
        path: output file (``.png``, ``.svg``, ``.pdf``).
        quantities: panels, from :data:`PLOT_QUANTITIES`: ``count`` (number of extreme equilibria),
            ``worst_welfare``/``best_welfare`` (welfare of the worst / best equilibrium),
            ``anarchy_gap`` (optimum minus worst equilibrium welfare), ``n_pure``.
        labels: axis labels (default: the map's parameter names); the grid's first axis is
            horizontal, its second vertical.
        title: figure title.

    Returns:
        The path written (a :class:`pathlib.Path`).
    """
    from pathlib import Path

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import BoundaryNorm
    from matplotlib.figure import Figure

    if isinstance(result, Solution):
        result = result.value
    if not isinstance(result, EquilibriumMap):
        raise ACAInputError(
            f"result: expected an EquilibriumMap (or its Solution), got {type(result).__name__}"
        )
    if result.count.ndim != 2:
        raise ACAInputError(
            f"result: a heat map needs a 2-D grid of cells, got cells of shape {result.count.shape}"
        )
    if isinstance(quantities, str):
        quantities = (quantities,)
    for q in quantities:
        if q not in PLOT_QUANTITIES:
            raise ACAInputError(f"quantities: unknown {q!r}, expected some of {list(PLOT_QUANTITIES)}")
    if not quantities:
        raise ACAInputError("quantities: name at least one panel")
    path = Path(path)
    product = result.axes is not None and len(result.axes) == 2
    if labels is None:
        labels = result.param_names if product and result.param_names else ("cell index 0", "cell index 1")
    n0, n1 = result.count.shape
    if product:
        ax0, ax1 = result.axes
    else:
        ax0, ax1 = np.arange(n0, dtype=float), np.arange(n1, dtype=float)
    fig = Figure(figsize=(4.6 * len(quantities), 4.0), layout="constrained")
    FigureCanvasAgg(fig)
    for k, q in enumerate(quantities):
        ax = fig.add_subplot(1, len(quantities), k + 1)
        data = _quantity(result, q)
        if q in ("count", "n_pure"):
            top = max(int(np.nanmax(data)) if np.isfinite(data).any() else 1, 1)
            cmap = _cmap("viridis", top + 1)
            norm = BoundaryNorm(np.arange(-0.5, top + 1.5), cmap.N)
            im = ax.pcolormesh(ax0, ax1, data.T, shading="nearest", cmap=cmap, norm=norm)
            fig.colorbar(im, ax=ax, ticks=range(top + 1), label=q.replace("_", " "))
        else:
            im = ax.pcolormesh(ax0, ax1, data.T, shading="nearest", cmap="magma")
            fig.colorbar(im, ax=ax, label=q.replace("_", " "))
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
        ax.set_title(q.replace("_", " "))
    if title:
        fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path


def _cmap(name: str, n: int):
    from matplotlib import colormaps

    return colormaps[name].resampled(n)
