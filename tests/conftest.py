"""Test configuration: float64 everywhere, hypothesis profiles, a printed seed.

Hypothesis profiles (``--hypothesis-profile=NAME``):

* ``default``: 25 examples per property test; failures are saved in the local example database
  and replayed first on the next run.
* ``ci`` (``make test``, hence ``.ci/run``): the same examples, no example database (a CI machine
  starts clean), and every failure prints its ``@reproduce_failure`` blob next to the shrunk
  counterexample.
* ``thorough`` (``make test-all``): ten times the examples.

Every run draws one seed for all property tests and prints it at the end
(``hypothesis seed N``); ``pytest --hypothesis-seed=N`` with the same profile replays the run
exactly. Test data come from :mod:`aca_games.testing`, whose worlds have a few fixed shapes so
JAX compiles each kernel a few times only.
"""

import os
import random
from pathlib import Path

import jax
import pytest
from hypothesis import HealthCheck, settings

import aca_games  # noqa: F401  (enables jax_enable_x64)

jax.config.update("jax_numpy_rank_promotion", "raise")

#: JAX's persistent compilation cache: the xdist workers share what either compiled, and later runs
#: start warm. ``ACA_JAX_CACHE=""`` turns it off.
CACHE = os.environ.get("ACA_JAX_CACHE", str(Path(__file__).resolve().parents[1] / ".jax_cache"))
if CACHE:
    jax.config.update("jax_compilation_cache_dir", CACHE)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)

EXAMPLES = 25
_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("default", max_examples=EXAMPLES, **_common)
settings.register_profile("ci", max_examples=EXAMPLES, database=None, print_blob=True, **_common)
settings.register_profile("thorough", max_examples=10 * EXAMPLES, **_common)
settings.load_profile("default")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """Draw the run's seed before the hypothesis plugin reads ``--hypothesis-seed`` (xdist workers
    receive the controller's seed through ``workerinput``)."""
    if config.getoption("--hypothesis-seed", None) is None:
        inherited = getattr(config, "workerinput", {}).get("hypothesis_seed")
        config.option.hypothesis_seed = inherited or str(random.getrandbits(32))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    node.workerinput["hypothesis_seed"] = node.config.option.hypothesis_seed


def pytest_terminal_summary(terminalreporter, config):
    seed = config.option.hypothesis_seed
    terminalreporter.write_line(
        f"hypothesis seed {seed}: replay this run with --hypothesis-seed={seed} "
        f"--hypothesis-profile={settings.get_current_profile_name()}"
    )
