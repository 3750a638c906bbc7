"""The report's legend: every column of ``aca-games run`` in plain words.

Each entry says what a number is, what it assumes and when it is tight, for a reader who has not
read the papers; the source key points to ``docs/theory.md``. :func:`legend_table` renders the
entries a report uses; the JSON report carries the same text under ``"methods"``
(:func:`methods`), so every number in it names the method that produced it.
"""

from __future__ import annotations

from rich.table import Table

#: column key -> (short name, what it is, assumes, tight when)
LEGEND = {
    "success": (
        "success (exact)",
        "the share of the collective's signalled inputs the platform classifies into its target, "
        "computed exactly from the training distribution (the oracle)",
        "the platform learns from the whole population; a learner ε-suboptimal in the stated reading "
        "is taken at its worst for the collective",
        "always: it is the number the bounds estimate",
    ),
    "closed_form": (
        "closed form [HMMZ23]",
        "a one-line formula in the collective's size, the base mass at its points and the rivals' lead",
        "the collective acts alone and plants a label (feature-label or feature-only)",
        "rarely: it counts every point at its worst, so it is far below the exact value unless the "
        "collective dominates every point",
    ),
    "staircase": (
        "staircase [GBJ25]",
        "the landing mass of the points where the planted label already leads by more than the "
        "learner's slack",
        "the collective acts alone; any strategy and noise",
        "at ε = 0 with a single target label it equals the exact value",
    ),
    "finite_sample": (
        "finite sample [GBJ25]",
        "the staircase with every mass replaced by what N users and n_test test points can show, "
        "holding with probability 1 - δ",
        "users are drawn independently from the population; the collective is a uniform share of them",
        "as N and n_test grow it approaches the staircase",
    ),
    "critical_mass": (
        "α* (critical mass)",
        "the smallest size at which the collective, acting alone, reaches the target success under "
        "the named method (exact, staircase or closed form); 'unreachable' if no size below 1 does",
        "as for the method named in the column",
        "α* exact is the true threshold; the bounds' α* are sizes that provably suffice (never smaller)",
    ),
    "per_point": (
        "per-point (multi-collective staircase)",
        "the staircase with every collective of the scenario planting at once",
        "all collectives act together at their stated sizes",
        "at ε = 0 with single target labels it equals the exact value",
    ),
    "multi_closed_form": (
        "closed form B1 (aggregative)",
        "the closed form minus the mass the others plant against this collective's label",
        "all collectives act together; planting strategies",
        "when the others' conflicting mass is small",
    ),
    "bloc": (
        "bloc B2",
        "the closed form for collectives that share a signal and a label, pooling their sizes",
        "feature-label collectives on the same signal act as one",
        "when the bloc acts alone on its signal",
    ),
    "externality": (
        "externality",
        "the change in a collective's exact success when another collective joins it",
        "everything else as configured",
        "always (exact); blank means no effect",
    ),
}


def methods(keys) -> dict[str, dict[str, str]]:
    """The legend entries for ``keys`` as JSON: ``{key: {"name", "what", "assumes", "tight"}}``."""
    return {k: dict(zip(("name", "what", "assumes", "tight"), LEGEND[k], strict=True)) for k in keys}


def legend_table(keys) -> Table:
    """A rich table explaining the columns ``keys`` (keys of :data:`LEGEND`).

    >>> legend_table(["success", "staircase"]).row_count
    2
    """
    table = Table(title="What the columns mean (lower bounds never exceed the exact success)",
                  title_justify="left", header_style="bold", show_lines=False)
    for header in ("column", "what it is", "assumes", "tight when"):
        table.add_column(header, overflow="fold")
    for k in keys:
        table.add_row(*LEGEND[k])
    return table


__all__ = ["LEGEND", "legend_table", "methods"]
