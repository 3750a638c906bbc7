"""Test configuration: float64 everywhere, hypothesis profiles.

The default profile runs 20 examples per property; ``--hypothesis-profile=thorough`` (used by
``make test-all``) runs 300, 15 times more. Tests do not hard-code ``max_examples``, so the profile
decides for every one of them (an expensive test is made cheaper or marked ``slow``, not capped).
"""

import jax
from hypothesis import HealthCheck, settings

import aca_games  # noqa: F401  (enables jax_enable_x64)

jax.config.update("jax_numpy_rank_promotion", "raise")

settings.register_profile(
    "default", max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("default")
