"""Shared by the coalition solvers (:mod:`solvers.coalition`, :mod:`solvers.joint_sizes`,
:mod:`solvers.coalition_formation`): the re-check that turns a solver's answer into a status (never
a silently wrong answer), the local-minimality probe, and the input checks.
"""

from __future__ import annotations

import time

import jax.numpy as jnp
import numpy as np

from aca_games import ACAInputError, Collective
from aca_games import _validate as v
from aca_games._pytree import to_device
from aca_games.bounds.multi import b1_kernel, per_point_kernel
from aca_games.bounds.population import clip01
from aca_games.planting import check_collectives
from solvers._solution import Solution

#: A re-checked success may fall short of its target by at most this (float sums of masses).
CHECK_TOL = 1e-12
#: Relative shrink used by the local-minimality probe recorded in the certificates.
SHRINK_REL = 1e-6
#: Largest size used for "at size -> 1" (sizes must stay below 1).
NEAR_ONE = 1.0 - 1e-12
_LABELLED = ("feature_label", "feature_only")


def _shrink_probe(base, p, alpha, targets, kappa, terms, covered) -> list:
    """For each positive size: does shrinking it by ``SHRINK_REL`` (relative) break some target?
    ``None`` for zero sizes. Uses the library kernels (``b1_kernel`` / ``per_point_kernel``)."""
    out = []
    kappa = to_device(kappa, dtype=jnp.float64)  # the dtype of the re-check's call: no retrace
    for i in range(alpha.size):  # a loop reuses the ops the re-check just compiled for this shape
        if alpha[i] <= 0:
            out.append(None)
            continue
        sizes = alpha.copy()
        sizes[i] *= 1.0 - SHRINK_REL
        sizes = to_device(sizes)
        if terms is None:
            vals = per_point_kernel(base, p, sizes, kappa)
        else:
            vals = b1_kernel(p, terms, covered, sizes, kappa, clip01)  # as multi_closed_form passes it
        out.append(bool(np.any(np.asarray(vals) < targets - CHECK_TOL)))
    return out


def _finish(value, status, cert, stats, names, targets, bound_values, oracle_values, start) -> Solution:
    """Turn the re-check into a status: ``error`` (value ``None``) if the bound or the exact oracle
    misses a target by more than :data:`CHECK_TOL`."""
    problems = []
    for name, t, b, o in zip(names, targets, bound_values, oracle_values, strict=True):
        if b < t - CHECK_TOL:
            problems.append(f"{name!r}: bound {b!r} < target {t!r}")
        if o < t - CHECK_TOL:
            problems.append(f"{name!r}: exact oracle {o!r} < target {t!r} (bound {b!r})")
    cert["recheck_passed"] = not problems
    stats["seconds"] = time.perf_counter() - start
    if problems:
        stats["reason"] = "re-check failed: " + "; ".join(problems)
        return Solution(None, "error", cert | {"candidate": value}, stats)
    return Solution(value, status, cert, stats)


# ------------------------------------------------------------------------------------------------
# input checks
# ------------------------------------------------------------------------------------------------
def _collectives(name: str, collectives) -> list[Collective]:
    if isinstance(collectives, Collective):
        collectives = [collectives]
    return check_collectives(collectives, name)


def _per_item(name: str, value, n: int, check) -> np.ndarray:
    arr = v.finite_array(name, value)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ACAInputError(f"{name}: expected one number or {n} (one per collective), got shape {arr.shape}")
    for i, x in enumerate(arr):
        check(f"{name}[{i}]", float(x))
    return arr.astype(float)


def _check_target(name, x):
    if not 0 < x <= 1:
        raise ACAInputError(f"{name}: {x!r} is outside (0, 1]; a success target is a probability")


def _check_cap(name, x):
    if not 0 <= x < 1:
        raise ACAInputError(f"{name}: {x!r} is outside [0, 1); a cap is a population share below 1")


def _check_weight(name, x):
    if x < 0:
        raise ACAInputError(f"{name}: {x!r} is negative; weights must be >= 0")
