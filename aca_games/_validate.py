"""Shared input checks. They run only on concrete values, so traced values pass through ``jit``."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import jax
import numpy as np

from aca_games._errors import ACAInputError

#: Tolerance for "sums to one": tables built from decimal inputs sum to 1 within this.
SUM_TOL = 1e-9


def is_concrete(value) -> bool:
    """True unless ``value`` (or a leaf of it) is a JAX tracer, i.e. we are inside ``jit``/``vmap``."""
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(value))


def finite_array(name: str, value, *, ndim: int | None = None) -> np.ndarray:
    """Convert to a float64 array, rejecting NaN/inf and a wrong number of dimensions."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ACAInputError(f"{name}: expected numbers, got {value!r}") from err
    if ndim is not None and arr.ndim != ndim:
        raise ACAInputError(f"{name}: expected a {ndim}-d array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        where = np.argwhere(~np.isfinite(arr))[0].tolist()
        raise ACAInputError(f"{name}: NaN or inf at index {where}; every entry must be finite")
    return arr


def probabilities(name: str, value, *, ndim: int | None = None) -> np.ndarray:
    """A finite array with every entry in [0, 1]."""
    arr = finite_array(name, value, ndim=ndim)
    bad = np.argwhere((arr < 0) | (arr > 1))
    if bad.size:
        idx = bad[0].tolist()
        raise ACAInputError(
            f"{name}: entry {idx} is {arr[tuple(idx)]!r}, outside [0, 1]; masses are probabilities"
        )
    return arr


def sums_to_one(name: str, total: float, *, at_most: bool = False) -> None:
    """Check a total mass is 1 (or at most 1) within :data:`SUM_TOL`."""
    if at_most and total > 1 + SUM_TOL:
        raise ACAInputError(f"{name}: total mass {total!r} exceeds 1 (tolerance {SUM_TOL:g})")
    if not at_most and abs(total - 1) > SUM_TOL:
        raise ACAInputError(
            f"{name}: total mass is {total!r}, must be 1 within {SUM_TOL:g}; normalise the table"
        )


def unit_interval(name: str, value, *, upper_open: bool = False) -> float:
    """A finite scalar in [0, 1] (or [0, 1) when ``upper_open``)."""
    x = float(finite_array(name, value, ndim=0))
    if x < 0 or x > 1 or (upper_open and x >= 1):
        interval = "[0, 1)" if upper_open else "[0, 1]"
        raise ACAInputError(f"{name}: {x!r} is outside {interval}")
    return x


def positive_int(name: str, value, *, minimum: int = 1) -> int:
    """An integer >= ``minimum``."""
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ACAInputError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def choice(name: str, value: str, options: Iterable[str]) -> str:
    """``value`` must be one of ``options``; suggests the closest one otherwise."""
    options = list(options)
    if value in options:
        return value
    close = difflib.get_close_matches(str(value), options, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ACAInputError(f"{name}: unknown value {value!r}, expected one of {options}{hint}")
