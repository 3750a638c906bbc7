"""Start-up fast paths give the answers of the code they replace.

``stack_trees`` stacks concrete leaves with numpy (no XLA program per shape) and must equal
``jnp.stack`` leaf by leaf, in values, dtypes and shapes, and keep working under ``jit``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from aca_games import success
from aca_games._pytree import stack_trees, to_device
from aca_games.app import report
from aca_games.app.report import single_collective_report
from aca_games.app.scenario import bundled_scenarios, default_scenario_path, load_scenario
from aca_games.interaction import success_alone
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



@pytest.mark.parametrize("name", ["smart_city", "noisy_drivers"])
def test_report_reads_success_alone_off_the_pairwise_evaluation(name):
    """Small scenarios take success alone from ``pairwise_success`` (one compiled program less):
    the same numbers as ``success_alone`` and as the oracle of each collective on its own."""
    s = load_scenario(bundled_scenarios()[name])
    learner = {"eps": s.analysis.eps, "reading": s.analysis.reading}
    rows = single_collective_report(s)
    assert len(s.collectives) <= report.SHARED_PAIRWISE_MAX
    alone = success_alone(s.world, s.collectives, **learner)
    one_by_one = [float(success(s.world, [c], **learner)[0]) for c in s.collectives]
    assert [r["success"] for r in rows] == alone.tolist() == one_by_one


def _valid_sizes(arr) -> bool:
    """THEORY §1 from the definition: finite sizes in [0, 1) whose rows sum below 1."""
    arr = np.asarray(arr, dtype=float)
    return bool(np.all(np.isfinite(arr)) and np.all((arr >= 0) & (arr < 1)) and np.all(arr.sum(axis=-1) < 1))


def _size_batches():
    rng = np.random.default_rng(0)
    base = rng.dirichlet(np.ones(4), size=50)[:, :3] * 0.99  # rows sum below 0.99
    yield base
    for value in (np.nan, np.inf, -np.inf, -1e-300, 1.0, 0.999999):
        bad = base.copy()
        bad[17, 1] = value
        yield bad
    for total in (1.0, 1.0 - 1e-13, 1.0 - 1e-16, 1.0 + 1e-16, 1.0 - 1e-11):  # row sums at the edge
        edge = base.copy()
        edge[3] = [0.5, 0.25, total - 0.75]
        yield edge
    yield base[:, :1]
    yield base[7]


def test_check_sizes_fast_path_accepts_exactly_the_valid_batches():
    from aca_games._errors import ACAInputError
    from aca_games.planting import check_sizes

    for batch in _size_batches():
        if _valid_sizes(batch):
            check_sizes(batch)
            check_sizes(jnp.asarray(batch))
        else:
            with pytest.raises(ACAInputError, match="sizes: "):
                check_sizes(batch)


@pytest.mark.parametrize("value, dtype", [
    ([0.1, 0.2], None), ([[1, 2], [3, 4]], None), ([True, False], bool), (0.3, jnp.float64), ([1, 2], float),
    (np.arange(6.0).reshape(2, 3), None), (jnp.arange(3), jnp.float64), (7, None),
])
def test_to_device_equals_jnp_asarray(value, dtype):
    ours, plain = to_device(value, dtype), jnp.asarray(value, dtype=dtype)
    assert isinstance(ours, jax.Array) and not ours.weak_type
    assert ours.shape == plain.shape and ours.dtype == plain.dtype
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(plain))
    traced = jax.jit(lambda x: to_device([x, 2 * x], dtype=jnp.float64))(1.5)
    np.testing.assert_array_equal(np.asarray(traced), [1.5, 3.0])
