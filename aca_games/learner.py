"""The platform's learner: Bayes-optimal or ε-suboptimal under two readings (THEORY §1).

* ``"tv"``: ``f`` is Bayes-optimal for some ``P̃`` with ``TV(P, P̃) <= ε``; requires ``ε < 1/2``.
  Slack ``κ = 2ε``: moving TV mass ``t`` from the leading target label to the leading rival lowers
  the margin by ``2t``.
* ``"huber"`` (the constant used in [GBJ25]): ``f`` is Bayes-optimal for ``(1-ε)P + εQ`` for some
  distribution ``Q``; requires ``ε < 1``. Slack ``κ = ε/(1-ε)``: flipping a point of margin ``c``
  needs ``Q``-mass ``(1-ε)c/ε`` out of a budget of 1.

In both readings a point whose margin exceeds ``κ`` cannot be flipped, so the per-point slack of the
staircase bound is ``κ_pt = κ`` (THEORY §3.1).
"""

from __future__ import annotations

import jax.numpy as jnp

from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games._pytree import to_device

READINGS = ("tv", "huber")


def check_eps(eps, reading: str):
    """Validate ``(eps, reading)``; returns ``eps`` unchanged (traced values pass through)."""
    v.choice("reading", reading, READINGS)
    if v.is_concrete(eps):
        x = float(v.finite_array("eps", eps, ndim=0))
        upper = 0.5 if reading == "tv" else 1.0
        if not 0 <= x < upper:
            raise ACAInputError(
                f"eps: {x!r} is outside [0, {upper:g}) for reading {reading!r}"
                + (
                    "; with eps >= 1/2 a TV-close learner can output anything"
                    if reading == "tv"
                    else "; the huber reading needs eps < 1"
                )
            )
    return eps


def slack(eps, reading: str = "huber"):
    """The learner's slack ``κ``: ``2ε`` (tv) or ``ε/(1-ε)`` (huber).

    >>> float(slack(0.1, "tv")), round(float(slack(0.2, "huber")), 6)
    (0.2, 0.25)
    """
    check_eps(eps, reading)
    if v.is_concrete(eps):  # host arithmetic (the same IEEE operations): nothing to compile
        x = float(eps)
        return to_device(2.0 * x if reading == "tv" else x / (1.0 - x), dtype=jnp.float64)
    eps = jnp.asarray(eps, dtype=jnp.float64)
    return 2.0 * eps if reading == "tv" else eps / (1.0 - eps)
