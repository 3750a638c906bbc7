"""[GBJ25]: the finite-sample bound tightens as the platform grows at fixed ``n/N``.

The world is :func:`~aca_games.app.reproduce.platforms.resume_world` with its less unique signal
(``ξ = 0.01``). For each platform size ``N`` the finite-sample bound
(:func:`aca_games.bounds.finite_sample`, Thm 3.3, the collective's counts at their population
values) is evaluated on a grid of fractions ``α = n/N``; the *critical fraction* is the first grid
fraction where the bound reaches :data:`TARGET`. Simulated platforms (Bayes classifier on counts,
vmapped over seeds and fractions) give the measured critical fraction on the same grid.
"""

from __future__ import annotations

import numpy as np

import aca_games as ag
from aca_games import bounds
from aca_games.app._figure import critical_or_inf, new_figure
from aca_games.app.reproduce import Reproduction, headline
from aca_games.app.reproduce.platforms import SIGNALS, _first_reaching, _measured, _size, resume_world
from aca_games.simulate import make_learner

TARGET = 0.9
DELTA = 0.05
N_TEST = 100_000


def gbj25(quick: bool) -> Reproduction:
    """Critical fraction of the finite-sample bound and of simulated platforms vs ``N``."""
    platforms = [100_000, 500_000, 1_000_000, 2_000_000] + ([] if quick else [10_000_000])
    grid = np.linspace(0.01, 0.6, _size(quick, 60, 119))
    seeds = _size(quick, 8, 32)
    world = resume_world()
    c = ag.Collective("collective", 0.1, "common", target="target")
    bound = {
        N: np.array(
            [
                float(bounds.finite_sample(world, c, n=round(a * N), N=N, n_test=N_TEST, delta=DELTA))
                for a in grid
            ]
        )
        for N in platforms
    }
    critical = {N: _first_reaching(grid, b, TARGET) for N, b in bound.items()}
    learner = make_learner("bayes")
    coarse = grid[::4]
    measured = {
        N: _measured(world, [[c.with_size(a)] for a in coarse], N, learner, seeds)[:, 0] for N in platforms
    }
    measured_critical = {N: _first_reaching(coarse, m, TARGET) for N, m in measured.items()}
    staircase = critical_or_inf(world, c, TARGET, "staircase", 0.0, "huber")

    fig = _figure(platforms, grid, bound, coarse, measured, critical, staircase, seeds)
    value = critical.get(1_000_000)
    notes = (
        "Synthetic 3-label world (less unique signal, ξ = "
        f"{SIGNALS['common']}), not the car-evaluation data; finite-sample bound [GBJ25 Thm 3.3] with the "
        f"collective's counts at their population values, δ = {DELTA}, n_test = {N_TEST}; critical fraction "
        f"= first grid fraction (step {grid[1] - grid[0]:.3g}) where the bound reaches {TARGET}. "
        f"Population limit (staircase critical mass): {float(staircase):.3g}. Measured critical fraction "
        f"(Bayes on counts, {seeds} seeds, every 4th grid fraction): "
        + ", ".join(f"N = {N:,}: {m}" for N, m in measured_critical.items())
        + "."
    )
    return Reproduction(
        {
            "size": f"N in {platforms}, {grid.size} fractions, {seeds} seeds",
            "headline": headline(
                "critical fraction of the finite-sample bound at N = 1M", value, 0.115, notes
            ),
            "fractions": grid.tolist(),
            "critical_fraction": {str(N): v for N, v in critical.items()},
            "measured_critical_fraction": {str(N): v for N, v in measured_critical.items()},
            "staircase_critical_mass": float(staircase),
            "bound": {str(N): b.tolist() for N, b in bound.items()},
        },
        fig,
    )


def _figure(platforms, grid, bound, coarse, measured, critical, staircase, seeds):
    fig = new_figure(8.5, 3.8)
    ax, bx = fig.subplots(1, 2)
    for i, N in enumerate(platforms):
        ax.plot(grid, bound[N], color=f"C{i}", label=f"bound, N = {N:,}")
        ax.plot(coarse, measured[N], "o", ms=3, color=f"C{i}")
    ax.axhline(TARGET, color="grey", lw=0.8)
    ax.set(xlabel="fraction n/N", ylabel=f"success (dots: measured, {seeds} seeds)", ylim=(-0.03, 1.03))
    ax.legend(fontsize=7)
    shown = [(N, v) for N, v in critical.items() if v is not None]
    bx.plot([N for N, _ in shown], [v for _, v in shown], "o-", label="finite-sample bound")
    bx.axhline(float(staircase), color="C2", ls="--", label="population limit (staircase)")
    bx.plot([1_000_000], [0.115], "k*", ms=10, label="GBJ25 car evaluation (11.5%)")
    bx.set(xscale="log", xlabel="platform size N", ylabel=f"critical fraction (success ≥ {TARGET})")
    bx.legend(fontsize=7)
    fig.suptitle("GBJ25 analogue: finite-sample bound vs platform size", fontsize=10)
    return fig
