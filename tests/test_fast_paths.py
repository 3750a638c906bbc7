"""Start-up fast paths give the answers of the plain JAX code they replace.

``stack_trees`` stacks concrete leaves with numpy (no XLA program per shape) and must equal
``jnp.stack`` leaf by leaf, in values, dtypes and shapes, and keep working under ``jit``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from aca_games._pytree import stack_trees
from aca_games.app.scenario import default_scenario_path, load_scenario
from aca_games.planting import plant

SCENARIO = load_scenario(default_scenario_path())
W = SCENARIO.world
NOISY = SCENARIO.collectives[0].replace(name="noisy", noise=0.3, noise_mode="scatter")
COLLECTIVES = [*SCENARIO.collectives, NOISY]


def _jnp_stack(items):
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *items)


def test_stack_trees_equals_jnp_stack_on_plantings():
    items = [plant(W, c) for c in COLLECTIVES]
    ours, plain = stack_trees(items), _jnp_stack(items)
    assert jax.tree_util.tree_structure(ours) == jax.tree_util.tree_structure(plain)
    for a, b in zip(jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(plain), strict=True):
        assert isinstance(a, jax.Array)
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_stack_trees_under_jit_and_vmap():
    items = [plant(W, c) for c in COLLECTIVES]

    @jax.jit
    def scaled(factor):
        return stack_trees([jax.tree_util.tree_map(lambda x: x * factor, p) for p in items]).planted

    np.testing.assert_array_equal(np.asarray(scaled(2.0)), 2.0 * np.asarray(_jnp_stack(items).planted))
    sizes = jax.vmap(lambda s: stack_trees([s, 2 * s]))(jnp.arange(3.0))
    np.testing.assert_array_equal(np.asarray(sizes), [[0.0, 0.0], [1.0, 2.0], [2.0, 4.0]])
