"""The noise-vs-size trade-off as a figure: exact success over (size, noise) per noise mode.

Under ``drop`` the platform sees the effective size ``α(1 - σ)``, so "twice the size with four
times the noise" does better exactly while ``σ < 1/7`` where success grows with size (THEORY §3.3);
:func:`noise_tradeoff` draws that comparison for every mode next to the success maps.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np

from aca_games._errors import ACAInputError
from aca_games.app._figure import (
    MAP_POINTS,
    ORACLE_LABEL,
    SIZE_LABEL,
    SUCCESS_LABEL,
    critical_or_inf,
    learner_label,
    mark,
    new_figure,
    plot_top,
    size_grid,
    suptitle,
)
from aca_games.collective import NOISE_MODES, Collective
from aca_games.oracle import success
from aca_games.world import World

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: "Twice the size, four times the noise" (THEORY §3.3): the comparison drawn by :func:`noise_tradeoff`.
SIZE_FACTOR, NOISE_FACTOR = 2.0, 4.0


def noise_surface(
    world: World, collective: Collective, sizes, noises, *, eps=0.0, reading="huber", mode: str = "drop"
) -> np.ndarray:
    """Success of ``collective`` acting alone with noise mode ``mode``: shape ``(len(noises),
    len(sizes))``, one ``jax.vmap`` over noise levels of one ``success(..., sizes=grid)`` call."""
    c = collective.replace(noise_mode=mode)
    grid = jnp.asarray(sizes, dtype=jnp.float64)[:, None]
    at = lambda s: success(world, c.replace(noise=s), eps, reading, sizes=grid)[:, 0]  # noqa: E731
    return np.asarray(jax.vmap(at)(jnp.asarray(noises, dtype=jnp.float64)))


def noise_tradeoff(
    world: World,
    collective: Collective,
    *,
    eps=0.0,
    reading: str = "huber",
    size: float | None = None,
    sizes=None,
    noises=None,
    points: int = MAP_POINTS,
    scenario_name: str | None = None,
) -> Figure:
    """Success over (size, noise) for each noise mode, and "twice the size, four times the noise".

    Top row: exact success of the collective acting alone over size α and noise σ, one map per
    mode (drop, scatter, misfire). Bottom row: success at ``(α0, σ)`` against success at
    ``(2 α0, 4 σ)`` for σ up to 1/4. Under drop the effective size is ``α(1-σ)``, so the larger,
    noisier collective does better exactly while ``2(1 - 4σ) > 1 - σ``, i.e. ``σ < 1/7`` (marked);
    scatter and misfire have no such formula (THEORY §3.3), and at ``ε > 0`` success need not grow
    with size, so the crossing can move.

    Args:
        size: ``α0 < 1/2`` (default: the collective's size if it succeeds there without noise, else
            1.3 times its noiseless exact critical mass for S* = 0.9; at most 0.45).
        sizes, noises: the grids of the maps (default ``points`` each; the curves below have
            ``points // 2 + 1`` noise levels).
    """
    method = ORACLE_LABEL
    quiet = collective.replace(noise=0.0)
    alpha_star = critical_or_inf(world, quiet, 0.9, "exact", eps, reading)
    if size is None:
        size = min(float(collective.size), 0.45)
        if float(success(world, quiet.with_size(size), eps, reading)[0]) == 0.0:
            size = min(1.3 * alpha_star, 0.45) if math.isfinite(alpha_star) else (size or 0.1)
    if not 0 < size * SIZE_FACTOR < 1:
        raise ACAInputError(f"size: α0 = {size!r}; twice it must lie in (0, 1), so pick 0 < α0 < 1/2")
    grid = size_grid(sizes, plot_top(SIZE_FACTOR * size, alpha_star), points)
    sigma = np.linspace(0.0, 1.0, points) if noises is None else np.asarray(noises, dtype=np.float64)
    small = np.linspace(0.0, 1.0 / NOISE_FACTOR, points // 2 + 1)

    fig = new_figure(14.0, 8.0)
    top_axes = fig.subplots(2, 3, height_ratios=[1.25, 1.0])
    meshes = []
    for col, mode in enumerate(NOISE_MODES):
        top, bottom = top_axes[0, col], top_axes[1, col]
        top.set_xlabel(SIZE_LABEL)
        bottom.set_xlabel("noise σ of the smaller collective")
        try:
            surface = noise_surface(world, collective, grid, sigma, eps=eps, reading=reading, mode=mode)
        except ACAInputError as err:  # e.g. misfire needs a wrong label, which erasing does not have
            for ax in (top, bottom):
                ax.text(
                    0.5,
                    0.5,
                    f"{mode}: not applicable\n{err}",
                    ha="center",
                    va="center",
                    wrap=True,
                    fontsize=8,
                    transform=ax.transAxes,
                )
                ax.set_xticks([])
                ax.set_yticks([])
            top.set_title(f"noise mode: {mode}", fontsize=10)
            continue
        meshes.append(_noise_map(top, collective, mode, grid, sigma, surface, size))
        base = noise_surface(world, collective, [size], small, eps=eps, reading=reading, mode=mode)[:, 0]
        bigger = noise_surface(
            world, collective, [SIZE_FACTOR * size], NOISE_FACTOR * small, eps=eps, reading=reading, mode=mode
        )[:, 0]
        _comparison(bottom, mode, small, base, bigger, size)
    top_axes[0, 0].set_ylabel("noise σ (share of members who deviate)")
    top_axes[1, 0].set_ylabel(SUCCESS_LABEL)
    fig.colorbar(
        meshes[0], ax=top_axes[0, :], label=f"{method}: share of signalled\ninputs classified into the target"
    )
    suptitle(
        fig,
        scenario_name,
        f"{collective.name} acting alone: size against coordination noise [KKVS25]",
        f"{method}, {learner_label(eps, reading)}",
    )
    return fig


def _noise_map(ax, collective, mode, grid, sigma, surface, size):
    """One mode's success map over (size, noise), α0 and 2·α0 marked, the configured point starred."""
    mesh = ax.pcolormesh(
        grid,
        sigma,
        surface,
        shading="nearest",
        rasterized=True,
        cmap="viridis",
        vmin=0,
        vmax=1,
        gid=f"noise mode {mode}",
    )
    for a, name in ((size, "α0"), (SIZE_FACTOR * size, f"{SIZE_FACTOR:g}·α0")):
        ax.axvline(a, color="white", lw=1.2, ls="--")
        ax.text(a, 0.98, f" {name}", color="white", va="top", fontsize=9)
    configured = mode == collective.noise_mode and float(collective.noise) > 0
    if configured:
        mark(ax, float(collective.size), float(collective.noise))
    ax.set_title(
        f"noise mode: {mode}" + (" (★ configured size and noise)" if configured else ""), fontsize=10
    )
    return mesh


def _comparison(ax, mode, small, base, bigger, size):
    """Success at (α0, σ) against (2·α0, 4·σ), with the drop crossover σ = 1/7 marked."""
    ax.plot(small, base, color="black", lw=2, drawstyle="steps-post", label=f"size α0 = {size:.4f}, noise σ")
    ax.plot(
        small,
        bigger,
        color="tab:orange",
        lw=2,
        ls="--",
        drawstyle="steps-post",
        label=f"size {SIZE_FACTOR:g}·α0, noise {NOISE_FACTOR:g}·σ",
    )
    if mode == "drop":
        ax.axvline(1 / 7, color="tab:red", lw=1, ls=":", label="σ = 1/7: equal effective size")
    ax.set_xlim(0, 1 / NOISE_FACTOR)
    ax.set_ylim(-0.03, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
