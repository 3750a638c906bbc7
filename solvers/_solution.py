"""One result type for every solver (DESIGN.md convention 3).

A :class:`Solution` carries the answer (``value``), a ``status`` from :data:`STATUSES`, an
independently checkable ``certificate`` (NashConv / max regret for equilibria, best-response gap,
LP/MILP status with residuals and an oracle re-check for coalitions) and ``stats`` (iterations,
timings, solver names). "Iterates stopped moving" is never reported as ``"optimal"``/``"converged"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: ``optimal``: exact answer (enumeration, LP optimum); ``converged``: iterative method reached its
#: certified tolerance; ``max_iter``: stopped without the certificate meeting the tolerance;
#: ``infeasible``/``unbounded``: as reported by an LP/MILP solver; ``error``: the solver failed.
STATUSES = ("optimal", "converged", "max_iter", "infeasible", "unbounded", "error")


@dataclass(frozen=True)
class Solution:
    """Result of a solver.

    Attributes:
        value: the answer (e.g. a list of equilibria, a mixed profile, sizes).
        status: one of :data:`STATUSES`.
        certificate: a number or mapping a user can re-check independently (e.g. NashConv).
        stats: free-form diagnostics (iterations, seconds, method).

    >>> s = Solution(value=[(0, 1)], status="optimal", certificate=0.0)
    >>> s.ok
    True
    """

    value: Any
    status: str
    certificate: Any = None
    stats: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status: unknown {self.status!r}, expected one of {STATUSES}")

    @property
    def ok(self) -> bool:
        """True when the status is ``optimal`` or ``converged``."""
        return self.status in ("optimal", "converged")
