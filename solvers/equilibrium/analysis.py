"""Game-level analyses: price of anarchy / stability and equilibrium maps (THEORY §5).

**Price of anarchy.** With welfare ``W(a) = Σ_i u_i(a)`` (expected welfare for mixed profiles), the
optimum ``W* = max_a W(a)`` over pure profiles (no mixed profile does better: ``W`` is multilinear, so
its expectation is an average of pure welfares), and the welfare of the worst and best equilibria:

    PoA = W* / min_{eq} W(eq),        PoS = W* / max_{eq} W(eq).

Convention when welfare can be ``<= 0`` (ACA payoffs subtract costs): the ratio is reported only when
both numbers are positive; otherwise the *difference* ``W* - W(eq)`` is reported instead and
``value["convention"]`` says which was used. The differences (``anarchy_gap``, ``stability_gap``)
are always reported. Both measures are ``>= 1`` resp. ``>= 0``, with equality when the equilibrium
is efficient.

Default equilibria: for two players all *extreme* equilibria from
:func:`~solvers.equilibrium.two_player.two_player_equilibria` (mixed included). Welfare is bilinear
and every maximal Nash subset of a bimatrix game is a product of polytopes whose vertex pairs are
extreme equilibria, so the worst and best welfare over the *whole* (possibly infinite) equilibrium
set are attained at extreme equilibria: the numbers are exact. For three or more players: all pure
equilibria (:func:`~solvers.equilibrium.pure.pure_nash`); a game without one gives status
``"infeasible"`` — pass ``equilibria=mixed_nash(...)`` (any :class:`~solvers.Solution` of an equilibrium
solver, or a list of pure/mixed profiles). The certificate holds the optimal profile, the equilibria
used, their welfare and their largest NashConv (:func:`~solvers.equilibrium._regret.nash_conv`), so
every number can be re-checked.

**Equilibrium map** (:func:`equilibrium_map`): "the equilibrium map researchers plot". For a grid of
world parameters (e.g. a 100x100 grid of the two collectives' sizes) all 2-player payoff tensors are
built in one jitted ``vmap`` (over cells and profiles) and all games are solved by one call of
:func:`~solvers.equilibrium.two_player.two_player_equilibria_batched`. Per cell: the number of
extreme equilibria, their payoffs, the pure equilibria, the worst/best equilibrium welfare and the
welfare optimum. :func:`plot_equilibrium_map` draws heat maps (matplotlib, Agg canvas: no display).

>>> import numpy as np
>>> dilemma = np.array([[[3.0, 0.0], [5.0, 1.0]], [[3.0, 5.0], [0.0, 1.0]]])
>>> sol = price_of_anarchy(dilemma)                # optimum (C, C) = 6, unique equilibrium (D, D) = 2
>>> sol.value["optimum"], sol.value["worst_equilibrium"], sol.value["price_of_anarchy"]
(6.0, 2.0, 3.0)
>>> sol.certificate["optimal_profile"], sol.certificate["nash_conv"]
((0, 0), 0.0)
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
from solvers._payoffs import payoff_tensor
from solvers._solution import Solution
from solvers.equilibrium._regret import expected_payoffs, nash_conv
from solvers.equilibrium.pure import pure_nash
from solvers.equilibrium.two_player import two_player_equilibria, two_player_equilibria_batched

__all__ = ["EquilibriumMap", "PURE_TOL", "equilibrium_map", "plot_equilibrium_map", "price_of_anarchy"]

#: An extreme equilibrium counts as pure when each strategy puts at least ``1 - PURE_TOL`` on one option.
PURE_TOL = 1e-9


# ------------------------------------------------------------------------------- price of anarchy
def _measure(opt: float, eq: float) -> tuple[float, str]:
    if opt > 0 and eq > 0:
        return opt / eq, "ratio"
    return opt - eq, "difference"


def _profiles_of(equilibria, P: np.ndarray) -> list:
    """Normalise equilibria (a Solution's value or a list) into a list of profiles."""
    n = P.shape[0]
    value = equilibria.value if isinstance(equilibria, Solution) else equilibria
    if hasattr(value, "to_lists"):  # an EquilibriumBatch holding one game
        if len(value.count) != 1:
            raise ACAInputError("equilibria: got a batch of several games; pass one game's equilibria")
        value = value.game(0)
    if (
        isinstance(value, tuple)
        and len(value) == n
        and all(isinstance(x, np.ndarray) and x.ndim == 1 for x in value)
    ):
        value = [value]  # one mixed profile (as mixed_nash returns)
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ACAInputError(
            f"equilibria: expected a list of profiles or a Solution, got {type(value).__name__}"
        )
    out = []
    for e, prof in enumerate(value):
        if not isinstance(prof, Sequence | np.ndarray) or len(prof) != n:
            raise ACAInputError(f"equilibria[{e}]: expected a profile with {n} entries (one per player)")
        xs = []
        for p, a in enumerate(prof):
            m = P.shape[1 + p]
            if isinstance(a, numbers.Integral) and not isinstance(a, bool):
                if not 0 <= int(a) < m:
                    raise ACAInputError(
                        f"equilibria[{e}][{p}]: option {int(a)} out of range (player {p} has {m})"
                    )
                x = np.zeros(m)
                x[int(a)] = 1.0
            else:
                x = np.asarray(a, dtype=np.float64).reshape(-1)
                if (
                    x.shape != (m,)
                    or not np.isfinite(x).all()
                    or (x < -PURE_TOL).any()
                    or abs(x.sum() - 1) > 1e-6
                ):
                    raise ACAInputError(
                        f"equilibria[{e}][{p}]: expected an option index or {m} probabilities summing to 1"
                    )
            xs.append(x)
        out.append(tuple(xs))
    return out


def _as_pure(profile) -> tuple[int, ...] | None:
    idx = []
    for x in profile:
        k = int(np.argmax(x))
        if x[k] < 1 - PURE_TOL:
            return None
        idx.append(k)
    return tuple(idx)


def price_of_anarchy(game_or_payoffs, equilibria=None) -> Solution:
    """Price of anarchy and of stability against the welfare optimum (see the module docstring).

    Args:
        game_or_payoffs: an :class:`aca_games.ACAGame` or a payoff tensor ``(n_players, m_1, ..., m_n)``.
        equilibria: ``None`` (default: all extreme equilibria for 2 players, all pure equilibria
            otherwise), a :class:`~solvers.Solution` of an equilibrium solver, or a list of profiles
            (each a tuple of option indices or of probability vectors).

    Returns:
        :class:`~solvers.Solution` with ``value`` a dict: ``optimum``, ``worst_equilibrium``,
        ``best_equilibrium``, ``price_of_anarchy``, ``price_of_stability``, ``convention`` (``{"anarchy":
        "ratio" | "difference", "stability": ...}``), ``anarchy_gap``, ``stability_gap``;
        ``certificate`` a dict: ``optimal_profile``, ``equilibria`` (the profiles used, pure ones as
        index tuples), ``welfare`` (of each), ``worst``/``best`` (indices into ``equilibria``),
        ``nash_conv`` (largest over the equilibria used); status ``"optimal"``, or the equilibrium
        solver's status if it was not ok, or ``"infeasible"`` when there is no equilibrium to use.
    """
    t0 = time.perf_counter()
    P = payoff_tensor(game_or_payoffs)
    n = P.shape[0]
    welfare = P.sum(axis=0)
    opt_idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(welfare)), welfare.shape))
    optimum = float(welfare[opt_idx])
    status = "optimal"
    if equilibria is None:
        if n == 2:
            equilibria = two_player_equilibria(P[0], P[1])
            source = "two_player_equilibria"
        else:
            equilibria = pure_nash(P)
            source = "pure_nash"
    else:
        source = "given"
    if isinstance(equilibria, Solution) and not equilibria.ok:
        status = equilibria.status
    profiles = _profiles_of(equilibria, P)
    stats = {"n_players": n, "shape": P.shape[1:], "source": source, "n_equilibria": len(profiles)}
    cert = {"optimal_profile": opt_idx}
    if not profiles:
        stats.update(
            seconds=time.perf_counter() - t0,
            message="no equilibrium to compare with; pass equilibria=mixed_nash(game) for mixed ones",
        )
        value = {
            "optimum": optimum,
            "worst_equilibrium": None,
            "best_equilibrium": None,
            "price_of_anarchy": None,
            "price_of_stability": None,
            "convention": None,
            "anarchy_gap": None,
            "stability_gap": None,
        }
        cert.update(equilibria=[], welfare=[], nash_conv=None)
        return Solution(value=value, status="infeasible", certificate=cert, stats=stats)
    eq_welfare = np.array([float(expected_payoffs(P, prof).sum()) for prof in profiles])
    worst, best = int(np.argmin(eq_welfare)), int(np.argmax(eq_welfare))
    poa, poa_kind = _measure(optimum, float(eq_welfare[worst]))
    pos, pos_kind = _measure(optimum, float(eq_welfare[best]))
    value = {
        "optimum": optimum,
        "worst_equilibrium": float(eq_welfare[worst]),
        "best_equilibrium": float(eq_welfare[best]),
        "price_of_anarchy": poa,
        "price_of_stability": pos,
        "convention": {"anarchy": poa_kind, "stability": pos_kind},
        "anarchy_gap": optimum - float(eq_welfare[worst]),
        "stability_gap": optimum - float(eq_welfare[best]),
    }
    cert.update(
        equilibria=[_as_pure(p) or p for p in profiles],
        welfare=eq_welfare.tolist(),
        worst=worst,
        best=best,
        nash_conv=max(nash_conv(P, prof) for prof in profiles),
    )
    stats["seconds"] = time.perf_counter() - t0
    return Solution(value=value, status=status, certificate=cert, stats=stats)


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
