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

    def to_frame(self, game=None):
        """The answer as a pandas DataFrame; its layout follows the solver that produced it.

        ============================================  ===================================================
        solver (``value``)                            rows, columns
        ============================================  ===================================================
        ``pure_nash`` (list of profiles)              one per equilibrium: ``equilibrium``, one column per
                                                      player holding its option
        a single pure profile (tuple of indices)      one row, one column per player
        ``two_player_equilibria`` (list of ``(x,y)``)  one per (equilibrium, player, option):
                                                      ``equilibrium, player, option, probability``
        ``two_player_equilibria_batched``             ``game, equilibrium, player, option, probability``
        ``mixed_nash`` (tuple of strategies)          one per (player, option): ``player, option,
                                                      probability``
        weighted profiles ``[(weight, profile)]``     one per profile: ``weight`` and one column per player
        ``continuous_nash`` (sizes)                   one per player: ``player, size``
        ``best_response`` (ranking)                   one per option, best first: ``rank, option, name,
                                                      payoff, success`` and the method's extra columns
                                                      (``guarantee``, ``expected``, ``stderr``, ...)
        ``best_response(..., robust_mixed=True)``     the ranking plus ``probability`` of the robust
                                                      mixed strategy
        ``critical_mass`` (a size)                    one row: ``critical_mass, bound``
        ``min_joint_sizes``, ``form_coalition``       one per collective: ``collective, size`` (and
                                                      ``selected`` for a coalition)
        ``price_of_anarchy`` (dict)                   one row: every number of the dict
        ``equilibrium_map`` (EquilibriumMap)          one per grid cell: the parameters, ``count``,
                                                      ``n_pure``, ``worst_welfare``, ``best_welfare``,
                                                      ``optimum``
        no answer (``value is None``)                 an empty frame
        ============================================  ===================================================

        Args:
            game: the :class:`aca_games.ACAGame` the solver was given: players and options are then
                named (``Player.name``, ``Player.option_names``) instead of numbered.

        >>> Solution(value=[(0, 1), (1, 0)], status="optimal").to_frame()
           equilibrium  player 0  player 1
        0            0         0         1
        1            1         1         0
        """
        from solvers._frames import solution_frame

        return solution_frame(self.value, self.stats, game)

    def _repr_html_(self) -> str:
        from solvers._frames import solution_html

        return solution_html(self)
