"""Reproductions on trained classification platforms: [HMMZ23], [KKVS25], [KVKS25], [SBAC25].

**The world** (:func:`resume_world`, the analogue of the papers' resume classifiers). Three labels
``other``, ``rival``, ``target`` with marginal ``(0.5, 0.3, 0.2)``. Each signal lands uniformly on
its own block of ``POINTS`` relevant points (a planted token in the papers); the base mass at a
block's points (the signal's uniqueness ``ξ``) is split over them geometrically and favours
``rival`` (label split ``0.25/0.55/0.20``). Signals: ``unique`` (``ξ = 0.0005``), ``common``
(``ξ = 0.01``, the less unique signal) and ``other_token`` (``ξ = 0.0005``, a second collective's
distinct token). Everything else is the off cell of :mod:`aca_games.simulate.platform`.

Platforms are sampled and trained with :mod:`aca_games.simulate` (logistic regression on one-hot
features, or its DP-SGD version), vmapped over seeds and grid cells (:func:`~aca_games.simulate.
runs.run_cells`); the measured success is the mean over seeds of the fraction of signalled test
inputs classified into the target.
"""

from __future__ import annotations

import numpy as np

import aca_games as ag
from aca_games import bounds
from aca_games.app._figure import SIZE_LABEL, new_figure
from aca_games.app.reproduce import Reproduction, headline
from aca_games.simulate import make_learner, platform_spec, seed_keys
from aca_games.simulate.runs import run_cells

LABELS = ["other", "rival", "target"]
MARGINAL = np.array([0.5, 0.3, 0.2])
BASE_SPLIT = np.array([0.25, 0.55, 0.20])
POINTS = 8
#: Uniqueness ``ξ`` (base mass at the signal's points) of each signal.
SIGNALS = {"unique": 0.0005, "common": 0.01, "other_token": 0.0005}
N_TEST = 2000


def resume_world() -> ag.World:
    """The three-label world of the module docstring (``3 × POINTS`` relevant points)."""
    weights = 0.5 ** np.arange(POINTS)
    weights /= weights.sum()
    base, landing, points = [], {}, []
    for block, (signal, xi) in enumerate(SIGNALS.items()):
        points += [f"{signal} #{i}" for i in range(POINTS)]
        base.append(xi * weights[:, None] * BASE_SPLIT[None, :])
        table = np.zeros((len(SIGNALS) * POINTS, len(LABELS)))
        table[block * POINTS : (block + 1) * POINTS] = MARGINAL / POINTS
        landing[signal] = table
    return ag.World(points=points, labels=LABELS, base=np.concatenate(base), landing=landing)


def _measured(world, groups, N, learner, seeds) -> np.ndarray:
    """Mean measured success ``(cells, K)`` over ``seeds`` seeds; ``groups`` is a list of cells,
    each a list of collectives acting together (all cells with the same ``K``)."""
    specs = [platform_spec(world, cs, N=N, n_test=N_TEST) for cs in groups]
    runs = run_cells(specs, learner, seed_keys(0, seeds))
    return np.stack([np.asarray(r.success).mean(axis=0) for r in runs])


def _first_reaching(grid, values, level=0.9):
    hit = np.nonzero(np.asarray(values) >= level)[0]
    return float(grid[hit[0]]) if hit.size else None


def _size(quick, quick_value, full_value):
    return quick_value if quick else full_value


# ---------------------------------------------------------------------------------------- HMMZ23
def hmmz23(quick: bool) -> Reproduction:
    """Success vs size of a trained logistic regression, unique vs less unique signal [HMMZ23]."""
    N, seeds = 30_000, _size(quick, 8, 32)
    grid = np.geomspace(2e-4, 0.08, _size(quick, 10, 20))
    world, learner = resume_world(), make_learner("logistic")
    curves, exact, closed = {}, {}, {}
    for signal in ("unique", "common"):
        c = ag.Collective(signal, 0.01, signal, target="target")
        curves[signal] = _measured(world, [[c.with_size(a)] for a in grid], N, learner, seeds)[:, 0]
        exact[signal] = np.asarray(ag.success(world, [c], sizes=grid[:, None]))[:, 0]
        closed[signal] = np.array([float(bounds.closed_form(world, c.with_size(a))) for a in grid])
    fig = new_figure(7.5, 4.2)
    ax = fig.add_subplot()
    for signal, color in (("unique", "C0"), ("common", "C3")):
        xi = SIGNALS[signal]
        ax.plot(grid, curves[signal], "o-", color=color, label=f"{signal} signal (ξ = {xi:g}): trained")
        ax.plot(grid, exact[signal], "--", color=color, lw=1, label=f"{signal}: exact oracle (Bayes)")
        ax.plot(grid, closed[signal], ":", color=color, lw=1, label=f"{signal}: closed-form bound")
    ax.set(xscale="log", xlabel=SIZE_LABEL, ylabel="success (trained: mean over seeds)", ylim=(-0.03, 1.03))
    ax.axvline(0.005, color="grey", lw=0.8)
    ax.text(0.005, 0.02, " HMMZ23: >90% at 0.5%", color="grey", fontsize=8)
    ax.legend(fontsize=7, loc="center right")
    fig.suptitle(f"HMMZ23 analogue: logistic regression, N = {N:,}, {seeds} seeds", fontsize=10)
    value = _first_reaching(grid, curves["unique"])
    notes = (
        "Synthetic 3-label world, a token landing on 8 feature cells, one-hot logistic regression "
        f"(not BERT on resumes); N = {N} users, {seeds} seeds, size grid of {grid.size} points "
        f"(the value is the first grid size reaching 0.9). The less unique signal (ξ = "
        f"{SIGNALS['common']}) needs a larger collective: first size reaching 0.9 = "
        f"{_first_reaching(grid, curves['common'])}."
    )
    return Reproduction(
        {
            "size": f"N = {N}, {seeds} seeds, {grid.size} sizes",
            "headline": headline("smallest α with success >= 0.9, unique signal", value, 0.005, notes),
            "sizes": grid.tolist(),
            "trained": {k: v.tolist() for k, v in curves.items()},
            "exact_oracle": {k: v.tolist() for k, v in exact.items()},
            "closed_form_bound": {k: v.tolist() for k, v in closed.items()},
        },
        fig,
    )


# ---------------------------------------------------------------------------------------- KKVS25
def kkvs25(quick: bool) -> Reproduction:
    """Success under coordination noise, three modes; 2x size with 4x noise [KKVS25]."""
    N, seeds, alpha = 30_000, _size(quick, 8, 32), 0.02
    noise = np.linspace(0.0, 0.8, _size(quick, 5, 9))
    world, learner = resume_world(), make_learner("logistic")
    c = ag.Collective("collective", alpha, "common", target="target")
    modes = ("drop", "scatter", "misfire")
    cells = [[c.replace(noise=float(s), noise_mode=m)] for m in modes for s in noise]
    sigma0 = 0.2
    cells += [[c.replace(noise=sigma0)], [c.replace(size=2 * alpha, noise=4 * sigma0)]]
    measured = _measured(world, cells, N, learner, seeds)[:, 0]
    curves = {m: measured[i * noise.size : (i + 1) * noise.size] for i, m in enumerate(modes)}
    single, double = measured[-2:]
    fig = new_figure(8.5, 3.8)
    ax, bx = fig.subplots(1, 2, width_ratios=[2, 1])
    for m in modes:
        ax.plot(noise, curves[m], "o-", label=f"{m}")
    ax.set(xlabel="coordination noise σ (fraction of members deviating)", ylabel="success (trained)")
    ax.set_ylim(-0.03, 1.03)
    ax.axhline(0.6, color="grey", lw=0.8)
    ax.text(0.0, 0.62, "KKVS25: under 60%", color="grey", fontsize=8)
    ax.legend(title=f"mode (α = {alpha})", fontsize=8)
    bx.bar([f"α = {alpha}\nσ = {sigma0}", f"α = {2 * alpha}\nσ = {4 * sigma0}"], [single, double])
    bx.set(ylabel="success (trained, drop)", ylim=(0, 1.05), title="2× size, 4× noise")
    fig.suptitle(f"KKVS25 analogue: logistic regression, N = {N:,}, {seeds} seeds", fontsize=10)
    value = float(curves["drop"][-1])
    notes = (
        f"Synthetic world, less unique signal (ξ = {SIGNALS['common']}), α = {alpha}, one-hot "
        f"logistic regression, N = {N}, {seeds} seeds. Value: drop mode at σ = {noise[-1]:g} "
        f"(success at σ = 0: {curves['drop'][0]:.3g}; scatter: {curves['scatter'][-1]:.3g}, misfire: "
        f"{curves['misfire'][-1]:.3g}). Twice the size with four times the noise (drop, σ0 = "
        f"{sigma0}): {double:.3g} vs {single:.3g}; THEORY §3.3 predicts worse once σ0 > 1/7."
    )
    return Reproduction(
        {
            "size": f"N = {N}, {seeds} seeds, {noise.size} noise levels per mode",
            "headline": headline(
                f"success at the largest noise (σ = {noise[-1]:g}, drop)", value, 0.6, notes
            ),
            "noise": noise.tolist(),
            "trained": {m: v.tolist() for m, v in curves.items()},
            "double_size_quadruple_noise": {
                "single": float(single),
                "double": float(double),
                "sigma0": sigma0,
            },
        },
        fig,
    )


# ---------------------------------------------------------------------------------------- KVKS25
def kvks25(quick: bool) -> Reproduction:
    """A's efficacy alone vs with a second collective, colliding vs distinct tokens [KVKS25]."""
    N, seeds, alpha_a = 30_000, _size(quick, 8, 32), 0.01
    others = np.linspace(0.0, 2 * alpha_a, _size(quick, 5, 11))
    world, learner = resume_world(), make_learner("logistic")
    a = ag.Collective("A", alpha_a, "unique", target="target")
    cells = []
    for signal in ("unique", "other_token"):  # colliding (same token), distinct token
        b = ag.Collective("B", 0.0, signal, target="rival")
        cells += [[a, b.with_size(float(s))] for s in others]
    measured = _measured(world, cells, N, learner, seeds)[:, 0]
    colliding, distinct = measured[: others.size], measured[others.size :]
    alone = float(colliding[0])  # B has no members in the first cell
    drop = 1.0 - colliding / alone if alone > 0 else np.full(others.shape, np.nan)
    equal = int(np.argmin(np.abs(others - alpha_a)))
    fig = new_figure(7.0, 4.0)
    ax = fig.add_subplot()
    ax.plot(others, colliding, "o-", color="C3", label="B plants the same token (collision)")
    ax.plot(others, distinct, "s-", color="C0", label="B plants a distinct token")
    ax.axvline(alpha_a, color="grey", lw=0.8)
    ax.text(alpha_a, 0.5, " equal participation", color="grey", fontsize=8)
    ax.set(
        xlabel="size of collective B", ylabel=f"efficacy of A (α_A = {alpha_a}, trained)", ylim=(-0.03, 1.03)
    )
    ax.legend(fontsize=8)
    fig.suptitle(f"KVKS25 analogue: logistic regression, N = {N:,}, {seeds} seeds", fontsize=10)
    value = float(drop[equal])
    notes = (
        "Synthetic world: two collectives with different targets (target vs rival); colliding = the "
        "same feature token (the paper's tokenizer collision), distinct = separate tokens; one-hot "
        f"logistic regression, N = {N}, {seeds} seeds. Value: 1 - efficacy(both)/efficacy(alone) for A "
        f"at equal participation (α_B = {others[equal]:g}); efficacy alone {alone:.3g}, with the "
        f"distinct token {distinct[equal]:.3g}. CT externality is not reported: A's efficacy with "
        "nobody acting is 0 in this world (the ratio is undefined)."
    )
    return Reproduction(
        {
            "size": f"N = {N}, {seeds} seeds, {others.size} sizes of B",
            "headline": headline("relative drop in A's efficacy when B collides", value, 0.75, notes),
            "sizes_of_B": others.tolist(),
            "efficacy_A": {"colliding": colliding.tolist(), "distinct": distinct.tolist()},
        },
        fig,
    )


# ---------------------------------------------------------------------------------------- SBAC25
def sbac25(quick: bool) -> Reproduction:
    """Critical mass of a DP-SGD-trained logistic regression vs the privacy budget [SBAC25]."""
    N, seeds, steps = 30_000, _size(quick, 4, 24), _size(quick, 100, 200)
    budgets = [0.25, 4.0] if quick else [0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
    grid = np.geomspace(5e-4, 0.2, _size(quick, 8, 17))
    world = resume_world()
    c = ag.Collective("collective", 0.01, "unique", target="target")
    cells = [[c.with_size(a)] for a in grid]
    curves = {}
    for eps in budgets:
        learner = make_learner("dp-sgd", epsilon=eps, steps=steps)
        curves[eps] = _measured(world, cells, N, learner, seeds)[:, 0]
    curves[np.inf] = _measured(world, cells, N, make_learner("logistic", steps=steps), seeds)[:, 0]
    critical = {eps: _first_reaching(grid, v) for eps, v in curves.items()}
    fig = new_figure(8.5, 3.8)
    ax, bx = fig.subplots(1, 2)
    for eps, v in curves.items():
        ax.plot(grid, v, "o-", ms=3, label="non-private" if eps == np.inf else f"ε_DP = {eps:g}")
    ax.set(xscale="log", xlabel=SIZE_LABEL, ylabel="success (trained)", ylim=(-0.03, 1.03))
    ax.legend(fontsize=7)
    shown = [(e, m) for e, m in critical.items() if m is not None and e != np.inf]
    bx.plot([e for e, _ in shown], [m for _, m in shown], "o-")
    bx.set(
        xscale="log",
        yscale="log",
        xlabel="privacy budget ε_DP (δ = 1e-5)",
        ylabel="critical mass (success ≥ 0.9)",
    )
    fig.suptitle(f"SBAC25 analogue: DP-SGD logistic regression, N = {N:,}, {seeds} seeds", fontsize=10)
    finite = [critical[e] for e in budgets]
    grows = all(x is not None for x in finite) and all(
        x >= y for x, y in zip(finite, finite[1:], strict=False)
    )
    notes = (
        f"Synthetic world (unique signal), logistic regression trained with full-batch DP-SGD ({steps} "
        f"steps, clip 1, Gaussian-DP accounting), N = {N}, {seeds} seeds; critical mass = first grid "
        f"size with mean success >= 0.9, or null if none on the grid (up to {grid[-1]:g}). Direction "
        "checked: the critical mass grows as privacy tightens (ε_DP falls): "
        f"{'held' if grows else 'did not hold'}. "
        "No published number could be read, so published is null. The library's derived DP-SGD bound "
        "(bounds.parametric.dp_sgd) is on parameter distance and is not drawn here."
    )
    value = critical[budgets[0]]
    return Reproduction(
        {
            "size": f"N = {N}, {seeds} seeds, {grid.size} sizes, budgets {budgets}",
            "headline": headline(f"critical mass at ε_DP = {budgets[0]:g}", value, None, notes),
            "direction_held": bool(grows),
            "sizes": grid.tolist(),
            "critical_mass": {("inf" if e == np.inf else str(e)): m for e, m in critical.items()},
            "trained": {("inf" if e == np.inf else str(e)): v.tolist() for e, v in curves.items()},
        },
        fig,
    )
