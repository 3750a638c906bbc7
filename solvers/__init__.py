"""Algorithms acting on games: equilibria, best responses, coalitions.

Imports :mod:`aca_games`, never the reverse. Every solver returns a :class:`Solution` with an
independently checkable certificate.

The public names are loaded on first use (PEP 562, as in :mod:`aca_games`): ``import solvers``
imports neither JAX nor cvxpy; ``solvers.best_response`` imports what best responses need.
"""

from __future__ import annotations

import sys
import types

import aca_games  # noqa: F401  (float64 before JAX is imported)
from aca_games._lazy import lazy_exports

#: public name -> (module, attribute); attribute ``None`` means the module itself.
_EXPORTS = {
    "STATUSES": ("solvers._solution", "STATUSES"),
    "Solution": ("solvers._solution", "Solution"),
    "best_response": ("solvers.best_response", "best_response"),
    "best_response_gap": ("solvers.equilibrium.continuous", "best_response_gap"),
    "continuous_nash": ("solvers.equilibrium.continuous", "continuous_nash"),
    "critical_mass": ("solvers.coalition", "critical_mass"),
    "equilibrium_map": ("solvers.equilibrium.analysis", "equilibrium_map"),
    "find_equilibrium": ("solvers.equilibrium.large", "find_equilibrium"),
    "form_coalition": ("solvers.coalition", "form_coalition"),
    "min_joint_sizes": ("solvers.coalition", "min_joint_sizes"),
    "mixed_nash": ("solvers.equilibrium.mixed", "mixed_nash"),
    "nash_conv": ("solvers.equilibrium._regret", "nash_conv"),
    "plot_equilibrium_map": ("solvers.equilibrium.analysis", "plot_equilibrium_map"),
    "price_of_anarchy": ("solvers.equilibrium.analysis", "price_of_anarchy"),
    "pure_nash": ("solvers.equilibrium.pure", "pure_nash"),
    "regrets": ("solvers.equilibrium._regret", "regrets"),
    "statics": ("solvers.statics", None),
    "two_player_equilibria": ("solvers.equilibrium.two_player", "two_player_equilibria"),
    "two_player_equilibria_batched": ("solvers.equilibrium.two_player", "two_player_equilibria_batched"),
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports("solvers", _EXPORTS, globals())


class _Package(types.ModuleType):
    """``solvers.best_response`` is both a submodule and the public function: importing the
    submodule (``import solvers.best_response``) makes the import system set the package attribute
    to the module; keep the function there instead."""

    def __setattr__(self, name, value):
        module, attribute = _EXPORTS.get(name, (None, None))
        if isinstance(value, types.ModuleType) and value.__name__ == module and attribute is not None:
            value = getattr(value, attribute)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
