"""aca-games: algorithmic collective action as games.

Guarantees need float64, so importing the package enables JAX's 64-bit mode.
"""

import jax

jax.config.update("jax_enable_x64", True)

from aca_games import bounds  # noqa: E402
from aca_games._errors import ACAInputError  # noqa: E402
from aca_games.beliefs import Beliefs  # noqa: E402
from aca_games.collective import Collective  # noqa: E402
from aca_games.critical_mass import (  # noqa: E402
    CriticalMass,
    critical_mass,
    critical_mass_result,
    critical_masses,
)
from aca_games.game import ACAGame, Player  # noqa: E402
from aca_games.interaction import (  # noqa: E402
    Alignment,
    alignment,
    externalities,
    pairwise_success,
    success_alone,
)
from aca_games.learner import slack  # noqa: E402
from aca_games.oracle import decisions, success  # noqa: E402
from aca_games.planting import Planting, plant, plant_all  # noqa: E402
from aca_games.world import World  # noqa: E402

__all__ = [
    "ACAGame",
    "Player",
    "ACAInputError",
    "Alignment",
    "Beliefs",
    "Collective",
    "CriticalMass",
    "Planting",
    "World",
    "alignment",
    "bounds",
    "critical_mass",
    "critical_mass_result",
    "critical_masses",
    "decisions",
    "externalities",
    "pairwise_success",
    "plant",
    "plant_all",
    "slack",
    "success",
    "success_alone",
]
