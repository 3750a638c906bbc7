"""Algorithms acting on games: equilibria, best responses, coalitions.

Imports :mod:`aca_games`, never the reverse. Every solver returns a :class:`Solution` with an
independently checkable certificate.
"""

from solvers import statics
from solvers._solution import STATUSES, Solution
from solvers.best_response import best_response
from solvers.coalition import critical_mass, form_coalition, min_joint_sizes
from solvers.equilibrium._regret import nash_conv, regrets
from solvers.equilibrium.analysis import equilibrium_map, plot_equilibrium_map, price_of_anarchy
from solvers.equilibrium.continuous import best_response_gap, continuous_nash
from solvers.equilibrium.large import find_equilibrium
from solvers.equilibrium.mixed import mixed_nash
from solvers.equilibrium.pure import pure_nash
from solvers.equilibrium.two_player import two_player_equilibria, two_player_equilibria_batched

__all__ = [
    "STATUSES",
    "Solution",
    "best_response",
    "best_response_gap",
    "continuous_nash",
    "critical_mass",
    "equilibrium_map",
    "find_equilibrium",
    "form_coalition",
    "min_joint_sizes",
    "mixed_nash",
    "nash_conv",
    "plot_equilibrium_map",
    "price_of_anarchy",
    "pure_nash",
    "regrets",
    "statics",
    "two_player_equilibria",
    "two_player_equilibria_batched",
]
