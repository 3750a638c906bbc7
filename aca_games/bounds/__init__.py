"""Success bounds: pure JAX functions, float64, jit/vmap/grad-able (THEORY §3).

Single collective, population level (:mod:`.population`): :func:`closed_form` [HMMZ23 Thm 1] and
:func:`staircase` [GBJ25, population limit]; finite sample (:mod:`.finite_sample`) [GBJ25 Thms
3.3, 3.5, 3.7, 3.9]. Each bound is a lower bound on the exact oracle of :mod:`aca_games.oracle`
within its assumptions, verified by property tests.
"""

from aca_games.bounds import parametric, smooth
from aca_games.bounds.finite_sample import Counts, finite_sample, radius, union_delta
from aca_games.bounds.multi import bloc, conflict_mass, multi_closed_form, per_point
from aca_games.bounds.partial import Estimate, bayes, bayes_exact, finite_sample_multi, robust
from aca_games.bounds.population import (
    ClosedFormTerms,
    closed_form,
    closed_form_terms,
    crack_intervals,
    staircase,
)

__all__ = [
    "Estimate",
    "Counts",
    "ClosedFormTerms",
    "bayes",
    "bayes_exact",
    "bloc",
    "closed_form",
    "closed_form_terms",
    "conflict_mass",
    "crack_intervals",
    "finite_sample",
    "finite_sample_multi",
    "multi_closed_form",
    "parametric",
    "per_point",
    "radius",
    "robust",
    "smooth",
    "staircase",
    "union_delta",
]
