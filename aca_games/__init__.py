"""aca-games: algorithmic collective action as games.

Guarantees need float64, so importing the package enables JAX's 64-bit mode: at once if JAX is
already imported, otherwise through ``JAX_ENABLE_X64``, which JAX reads when it is first imported.
The public names are loaded on first use (PEP 562), so ``import aca_games`` does not import JAX and
``aca-games --help`` starts in a fraction of a second.
"""

from __future__ import annotations

import os
import sys

if "jax" in sys.modules:
    sys.modules["jax"].config.update("jax_enable_x64", True)
else:
    os.environ["JAX_ENABLE_X64"] = "1"

from aca_games._lazy import lazy_exports  # noqa: E402  (after the float64 switch)

#: public name -> (module, attribute); attribute ``None`` means the module itself.
_EXPORTS = {
    "ACAGame": ("aca_games.game", "ACAGame"),
    "Player": ("aca_games.game", "Player"),
    "ACAInputError": ("aca_games._errors", "ACAInputError"),
    "Alignment": ("aca_games.interaction", "Alignment"),
    "Beliefs": ("aca_games.beliefs", "Beliefs"),
    "Collective": ("aca_games.collective", "Collective"),
    "Planting": ("aca_games.planting", "Planting"),
    "World": ("aca_games.world", "World"),
    "alignment": ("aca_games.interaction", "alignment"),
    "bounds": ("aca_games.bounds", None),
    "CriticalMass": ("aca_games.critical", "CriticalMass"),
    "critical_mass": ("aca_games.critical", "critical_mass"),
    "critical_mass_result": ("aca_games.critical", "critical_mass_result"),
    "critical_masses": ("aca_games.critical", "critical_masses"),
    "decisions": ("aca_games.oracle", "decisions"),
    "externalities": ("aca_games.interaction", "externalities"),
    "pairwise_success": ("aca_games.interaction", "pairwise_success"),
    "plant": ("aca_games.planting", "plant"),
    "plant_all": ("aca_games.planting", "plant_all"),
    "slack": ("aca_games.learner", "slack"),
    "success": ("aca_games.oracle", "success"),
    "success_alone": ("aca_games.interaction", "success_alone"),
}

__all__ = list(_EXPORTS)


__getattr__, __dir__ = lazy_exports("aca_games", _EXPORTS, globals())
