"""Simulation: platforms sampled from a world, trained learners, measured success.

* :mod:`.platform`: :func:`platform_spec` encodes a world and the collectives acting together;
  :func:`sample_platform` draws ``N`` users (the collectives' submissions, the bystanders, an off
  cell for the mass outside the relevant points) and each collective's signalled test inputs.
* :mod:`.classifiers`: learners on categorical data given as a count table, each a frozen
  dataclass with ``fit(counts, key) -> p̂(y|x)``: :class:`BayesCounts`, :class:`LogisticRegression`,
  :class:`MLP` and :class:`DPSGD` (JAX + optax; :func:`make_learner` builds one by name).
* :mod:`.runs`: :func:`run_platforms` samples, fits and measures each collective's success, vmapped
  over seeds (:func:`seed_keys`), bit-for-bit reproducible.
* :mod:`.sampling`: the single-collective platform with the Bayes classifier on counts
  (:func:`simulate`, :func:`sample_counts`), the finite-sample bound's test bed.
* :mod:`.learners`: parametric training runs checking :mod:`aca_games.bounds.parametric`.
* :mod:`.recsys`: next-item recommenders and song promotion by playlist reordering [BMD24]
  (:func:`promotion_runs`: amplification vs collective size per insertion strategy).

Example (the bundled smart-city world, three collectives, 8 seeds, logistic regression)::

    from aca_games.app.scenario import load_scenario, default_scenario_path
    s = load_scenario(default_scenario_path())
    spec = platform_spec(s.world, s.collectives, N=100_000, n_test=2_000)
    runs = run_platforms(spec, make_learner("logistic"), seed_keys(0, 8))
    runs.success.mean(axis=0)   # one measured success per collective
"""

from aca_games.bounds.finite_sample import Counts, population_counts
from aca_games.simulate.classifiers import (
    DPSGD,
    LEARNERS,
    MLP,
    BayesCounts,
    Learner,
    LogisticRegression,
    make_learner,
)
from aca_games.simulate.platform import (
    Platform,
    PlatformSpec,
    members_of,
    platform_spec,
    population_table,
    sample_platform,
    sample_platforms,
)
from aca_games.simulate.runs import TrainedRuns, run_platforms, seed_keys, targets_won
from aca_games.simulate.sampling import (
    Simulation,
    sample_counts,
    simulate,
    simulate_batch,
    simulate_many,
    simulate_success,
)

__all__ = [
    "DPSGD",
    "LEARNERS",
    "MLP",
    "BayesCounts",
    "Counts",
    "Learner",
    "LogisticRegression",
    "Platform",
    "PlatformSpec",
    "Simulation",
    "TrainedRuns",
    "make_learner",
    "members_of",
    "platform_spec",
    "population_counts",
    "population_table",
    "run_platforms",
    "sample_counts",
    "sample_platform",
    "sample_platforms",
    "seed_keys",
    "simulate",
    "simulate_batch",
    "simulate_many",
    "simulate_success",
    "targets_won",
]
