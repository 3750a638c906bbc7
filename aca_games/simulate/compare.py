"""Measured success of trained platforms beside the exact oracle and every bound for the same world.

:func:`compare_runs` takes the runs of :func:`aca_games.simulate.runs.run_platforms` and, for
every collective, reports

* ``measured``: the mean test success over seeds with a **95% Student-t confidence interval for
  the mean** (``mean ± t_{0.975, S-1} · sd/√S``; ``None`` for a single seed), the standard
  deviation, and every seed's value;
* ``expected``: the mean over seeds of the trained classifier's success on the whole signalled
  population (no test-sampling noise);
* ``oracle``: the exact success of THEORY §2 (ε-worst case) with every collective acting, at the
  simulated shares ``α_j = n_j/N``;
* ``bounds``: every bound that applies, at the same shares and learner slack, each with the share
  of seeds whose measured success reached it (``held_rate``) and whether it ``held``:

  - one collective: the closed form [HMMZ23 Thm 1] and the staircase [GBJ25] (population level),
    and the finite-sample bound [GBJ25 Thms 3.3-3.9] evaluated on each seed's own counts;
  - several: the per-point bound, the aggregative closed form B1 and the bloc form B2 [BGNAD25,
    KKVS25] (population level), and the finite-sample certificate with the others known
    [BGR+26] (:func:`aca_games.bounds.finite_sample_multi`) on each seed's counts.

**When a bound held.** A finite-sample bound promises ``success >= bound`` on a fraction
``1 - δ`` of draws, so it held if ``held_rate >= 1 - δ``. A population bound is a statement about
the population's Bayes learner (the oracle), not about one finite platform; it held if the
measured mean is not significantly below it: the 95% interval's upper end is ``>= bound`` (with
one seed, that seed's success). Values are compared with a ``1e-12`` tolerance.

A bound that does not apply (e.g. the closed form for unplanting, a finite-sample bound for
erasing without a label margin) is ``None`` with the reason in ``note``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import numpy as np
from scipy import stats

from aca_games import bounds
from aca_games._errors import ACAInputError
from aca_games.beliefs import Beliefs
from aca_games.bounds.finite_sample import Counts
from aca_games.collective import Collective
from aca_games.oracle import success as oracle_success
from aca_games.simulate.runs import TrainedRuns
from aca_games.world import World

__all__ = ["CONFIDENCE", "INTERVAL", "compare_runs", "mean_interval"]

#: Confidence level of the interval over seeds.
CONFIDENCE = 0.95
#: How the interval is computed (shown with every result).
INTERVAL = "95% Student-t interval for the mean over seeds"
#: Tolerance when comparing a measured success with a bound.
_TOL = 1e-12

_POPULATION_SINGLE = {"closed_form": "[HMMZ23 Thm 1]", "staircase": "[GBJ25] population limit"}
_POPULATION_MULTI = {
    "per_point": "[BGNAD25] per point",
    "multi_closed_form": "[BGNAD25, KKVS25] B1",
    "bloc": "[BGNAD25] B2 bloc",
}


def mean_interval(values) -> dict:
    """Mean, standard deviation and the 95% Student-t interval of ``values`` (1-d).

    >>> r = mean_interval([0.5, 0.7, 0.6])
    >>> round(r["mean"], 6), round(r["ci_low"], 4), round(r["ci_high"], 4)
    (0.6, 0.3516, 0.8484)
    """
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    if x.size < 2:
        return {"mean": mean, "std": None, "ci_low": None, "ci_high": None, "seeds": int(x.size)}
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, x.size - 1)) * sd / math.sqrt(x.size)
    return {"mean": mean, "std": sd, "ci_low": mean - half, "ci_high": mean + half, "seeds": int(x.size)}


def compare_runs(
    world: World,
    collectives: Sequence[Collective],
    runs: TrainedRuns,
    *,
    N: int,
    n_test: int,
    members: Sequence[int],
    eps=0.0,
    reading: str = "huber",
    delta: float = 0.05,
) -> list[dict]:
    """One dict per collective (module docstring): measured success with its interval, the exact
    oracle and every applicable bound with whether it held.

    Args:
        world, collectives: the simulated world and collectives (their ``size`` is replaced by the
            simulated share ``members[j]/N``).
        runs: :func:`aca_games.simulate.runs.run_platforms` on that platform.
        N, n_test, members: the platform's users, test inputs per collective and members.
        eps, reading: the learner slack the oracle and the bounds assume.
        delta: the finite-sample bounds' failure probability.
    """
    cs = [c.with_size(m / N) for c, m in zip(collectives, members, strict=True)]
    success = np.asarray(runs.success)
    learner = {"eps": eps, "reading": reading}
    oracle = np.asarray(oracle_success(world, cs, **learner))
    rows = []
    for j, c in enumerate(cs):
        measured = mean_interval(success[:, j])
        ceiling = measured["ci_high"] if measured["ci_high"] is not None else measured["mean"]
        found = {}
        population = _POPULATION_SINGLE if len(cs) == 1 else _POPULATION_MULTI
        for name, source in population.items():
            value, note = _population_bound(name, world, cs, j, learner)
            held = value is not None and ceiling >= value - _TOL
            found[name] = _verdict(value, note, source, "population", success[:, j], held)
        per_seed, note = _finite_sample(world, cs, j, runs.counts, N, n_test, members, delta, learner)
        source = "[GBJ25 Thms 3.3-3.9]" if len(cs) == 1 else "[BGR+26] others known"
        if per_seed is None:
            found["finite_sample"] = _verdict(None, note, source, "finite_sample", success[:, j], False)
        else:
            rate = float(np.mean(success[:, j] >= per_seed - _TOL))
            mean = float(per_seed.mean())
            entry = _verdict(mean, None, source, "finite_sample", success[:, j], rate >= 1 - delta)
            entry["per_seed"] = per_seed.tolist()
            found["finite_sample"] = entry
        rows.append(
            {
                "name": c.name,
                "members": int(members[j]),
                "share": members[j] / N,
                "measured": {**measured, "interval": INTERVAL, "per_seed": success[:, j].tolist()},
                "expected": float(np.mean(np.asarray(runs.expected)[:, j])),
                "oracle": float(oracle[j]),
                "bounds": found,
            }
        )
    return rows


def _verdict(value, note, source, kind, success, held) -> dict:
    entry = {"value": value, "source": source, "kind": kind, "note": note}
    if value is None:
        return {**entry, "held_rate": None, "held": None}
    return {**entry, "held_rate": float(np.mean(success >= value - _TOL)), "held": bool(held)}


def _population_bound(name, world, cs, j, learner):
    try:
        if name in _POPULATION_SINGLE:
            return float(getattr(bounds, name)(world, cs[j], **learner)), None
        return float(getattr(bounds, name)(world, cs, **learner)[j]), None
    except ACAInputError as err:
        return None, str(err)


def _finite_sample(world, cs, j, counts: Counts, N, n_test, members, delta, learner):
    """The finite-sample bound on every seed's counts, or ``(None, reason)``."""
    c = cs[j]
    n = int(members[j])
    n_est = int(np.asarray(counts.n_estimate)[0, j])
    extra = {"n_estimate": n_est} if c.strategy == "unplant" else {}
    own = Counts(counts.base[:, j], counts.landing[:, j], n_est, n - n_est if extra else n)
    if len(cs) == 1:

        def bound(cnt):
            return bounds.finite_sample(
                world, c, n=n, N=N, n_test=n_test, delta=delta, counts=cnt, **learner, **extra
            )
    else:
        others = Beliefs.known([o for i, o in enumerate(cs) if i != j])

        def bound(cnt):
            return bounds.finite_sample_multi(
                world, c, others, n=n, N=N, n_test=n_test, delta=delta, counts=cnt, **learner, **extra
            )

    try:
        if n == 0:
            raise ACAInputError(f"{c.name}: no members on this platform (round(α N) = 0)")
        values = jax.vmap(bound, in_axes=(Counts(0, 0, None, None),))(own)
    except ACAInputError as err:
        return None, str(err)
    return np.asarray(values), None
