"""Random consistent finite worlds from a numpy seed, for tests that draw many worlds from one
seed (reference comparisons, game tests). Property tests draw from :mod:`aca_games.testing`
instead, whose strategies shrink.

Masses are drawn on a coarse grid half of the time so that ties (failures) actually occur. Landing
tables are re-split over labels (:func:`aca_games.world.split_landing`) so that every signal has the
same label marginal, at least the base label mass at the relevant points (THEORY §1 consistency).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from aca_games import Collective, World
from aca_games.world import split_landing


def random_world(rng: np.random.Generator, n_points: int, n_labels: int, n_signals: int) -> World:
    coarse = rng.random() < 0.5
    base = rng.dirichlet(np.full(n_points * n_labels + 1, 0.7))[:-1].reshape(n_points, n_labels)
    if coarse:
        base = np.floor(base * 40) / 40
    marginal = base.sum(axis=0) + (1.0 - base.sum()) * rng.dirichlet(np.ones(n_labels))
    marginal = marginal / marginal.sum()
    landing = {}
    for s in range(n_signals):
        support = rng.random(n_points) < 0.6
        support[rng.integers(n_points)] = True
        masses = rng.dirichlet(np.full(n_points, 0.8)) * support
        if coarse:
            masses = np.floor(masses * 40) + support * (rng.random(n_points) < 0.3)
        if masses.sum() == 0:
            masses[np.flatnonzero(support)[0]] = 1.0
        landing[f"g{s}"] = split_landing(masses / masses.sum(), marginal)
    return World(
        points=[f"p{i}" for i in range(n_points)],
        labels=[f"y{j}" for j in range(n_labels)],
        base=base,
        landing=landing,
    )


def random_collective(
    rng: np.random.Generator,
    world: World,
    name: str,
    size: float,
    strategies=("feature_label",),
    noise: bool = False,
    singleton: bool = False,
) -> Collective:
    labels = world.labels
    strategy = strategies[rng.integers(len(strategies))]
    signal = world.signals[rng.integers(len(world.signals))]
    variant = None
    if strategy == "unplant":
        avoid = rng.integers(len(labels))
        target = [y for j, y in enumerate(labels) if j != avoid]
        label = None
    elif strategy == "erase":
        target, label = [], None
    else:
        k = 1 if singleton else int(rng.integers(1, len(labels)))
        target = list(rng.choice(labels, size=k, replace=False))
        label = target[rng.integers(k)]
        if strategy == "feature_only":
            variant = ("hardt", "gbj")[rng.integers(2)]
    sigma, mode = 0.0, "drop"
    if noise:
        sigma = float(rng.choice([0.0, rng.random() * 0.45]))
        mode = ("drop", "scatter", "misfire")[rng.integers(3)]
        if mode == "misfire" and strategy == "erase":
            mode = "scatter"
    return Collective(
        name, size, signal, target=target, label=label, strategy=strategy, variant=variant,
        noise=sigma, noise_mode=mode,
    )


@st.composite
def worlds(draw, max_points=8, max_labels=4, max_signals=3):
    """A (rng, world) pair; the rng then draws collectives consistent with the world."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # A few shape buckets keep JIT recompilation (one per shape) bounded.
    n_points = draw(st.sampled_from(sorted({1, 3, min(6, max_points), max_points})))
    n_labels = draw(st.sampled_from(sorted({2, 3, max_labels})))
    n_signals = draw(st.sampled_from(sorted({1, max_signals})))
    return rng, random_world(rng, n_points, n_labels, n_signals)


def random_sizes(rng: np.random.Generator, k: int, total: float = 0.9) -> np.ndarray:
    """``k`` sizes with sum below ``total``."""
    return rng.dirichlet(np.ones(k + 1))[:k] * total
