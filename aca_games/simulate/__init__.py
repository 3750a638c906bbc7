"""Simulation: sampling a collective's own data and running the platform end to end.

:func:`sample_counts` draws what a collective observes of its members' data (the input of the
finite-sample bound, :func:`aca_games.bounds.finite_sample.finite_sample`); :func:`simulate` trains
the Bayes classifier on a sampled platform and measures the collective's test success, returning
the counts it used so the bound can be checked draw by draw.
"""

from aca_games.bounds.finite_sample import Counts, population_counts
from aca_games.simulate.sampling import (
    Simulation,
    sample_counts,
    simulate,
    simulate_batch,
    simulate_many,
    simulate_success,
)

__all__ = [
    "Counts",
    "Simulation",
    "population_counts",
    "sample_counts",
    "simulate",
    "simulate_batch",
    "simulate_many",
    "simulate_success",
]
