"""One collective's simulated platform, with the Bayes classifier on counts (THEORY §3.2).

The single-collective face of :mod:`aca_games.simulate.platform` (where the sampling, the
submission rules and the coupling are documented) and :mod:`aca_games.simulate.runs`:

* :func:`sample_counts` draws what a collective observes of its members' data (the input of the
  finite-sample bound, :func:`aca_games.bounds.finite_sample.finite_sample`);
* :func:`simulate` draws ``N`` users of whom ``n`` are the collective's members, trains the Bayes
  classifier on the pooled counts (argmax per point, a tie is a failure) and measures the fraction
  of ``n_test`` fresh signalled points classified into the target set, returning the counts it used
  so the bound can be checked draw by draw; :func:`simulate_batch` vmaps it over keys.

Unlike :func:`~aca_games.simulate.platform.platform_spec`, these take the member count ``n``
directly and require ``n_estimate`` for unplanting (the finite-sample bound's convention).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games.bounds.finite_sample import Counts, member_sizes
from aca_games.collective import Collective
from aca_games.simulate.classifiers import BayesCounts
from aca_games.simulate.platform import _platform, platform_spec
from aca_games.simulate.runs import _run
from aca_games.world import World


class Simulation(NamedTuple):
    """One simulated platform: the collective's own counts and its measured test success."""

    counts: Counts
    success: jax.Array


def _one(spec, key) -> Simulation:
    runs = _run(spec, BayesCounts(), key)
    return Simulation(jax.tree.map(lambda x: x[0], runs.counts), runs.success[0])


_simulate_one = jax.jit(_one)
_simulate_keys = jax.jit(jax.vmap(_one, in_axes=(None, 0)))


def _spec(world, c, n, N, n_test, n_estimate):
    member_sizes(c, n, n_estimate)  # validates n, and n_estimate for unplanting
    N = v.positive_int("N", N)
    if n >= N:
        raise ACAInputError(
            f"N: the platform has N = {N} users but the collective has n = {n} members; "
            "N counts everyone (collective and bystanders), so N > n"
        )
    return platform_spec(world, [c], N=N, n_test=n_test, members=[n], n_estimate=[n_estimate])


def sample_counts(world: World, collective: Collective, n, key, n_estimate=None) -> Counts:
    """Draw what the collective observes of its own data (see the module docstring).

    Drawn by the platform kernel, so they have the distribution of a simulated platform's member
    counts (not the same draw: use :func:`simulate` for that). ``n_estimate`` applies to
    unplanting only (members who estimate; the other ``n - n_estimate`` act). Vectorise with
    ``jax.vmap(lambda k: sample_counts(world, c, n, k))(keys)``.

    >>> w = World(points=["a"], labels=["no", "yes"], base=[[0.5, 0.2]],
    ...           landing={"g": [[0.7, 0.3]]})
    >>> cnt = sample_counts(w, Collective("c", 0.1, "g", target="yes"), 100, jax.random.key(0))
    >>> float(cnt.landing.sum()), bool(cnt.base.sum() <= 100)
    (100.0, True)
    """
    n_est, n_act = member_sizes(collective, n, n_estimate)
    spec = _spec(world, collective, n, n + 1, 1, n_estimate)
    counts = jax.tree.map(lambda x: x[0], _platform(spec, key).counts)
    return counts._replace(n_estimate=n_est, n_act=n_act)


def simulate(world: World, collective: Collective, *, n, N, n_test, key, n_estimate=None) -> Simulation:
    """Simulate one platform (see the module docstring) and return the collective's counts with
    its test success, so the finite-sample bound can be evaluated on the same draw.

    Args:
        world, collective: the world and the collective (``collective.size`` is ignored).
        n: members; N: platform users (``N > n``); n_test: test points; key: a JAX PRNG key.
        n_estimate: unplanting only: members who estimate (``1 <= n_estimate < n``).

    >>> w = World(points=["a"], labels=["no", "yes"], base=[[0.5, 0.2]],
    ...           landing={"g": [[0.7, 0.3]]})
    >>> sim = simulate(w, Collective("c", 0.1, "g", target="yes"), n=400, N=1000, n_test=100,
    ...                key=jax.random.key(0))
    >>> float(sim.success)   # 0.4·1 planted vs 0.6·0.5 bystanders at 'no': the collective wins
    1.0
    """
    return _simulate_one(_spec(world, collective, n, N, n_test, n_estimate), key)


def simulate_batch(
    world: World, collective: Collective, *, n, N, n_test, keys, n_estimate=None
) -> Simulation:
    """:func:`simulate` for a batch of keys (one vmapped call); every field gains a leading axis."""
    return _simulate_keys(_spec(world, collective, n, N, n_test, n_estimate), jnp.asarray(keys))


def simulate_many(world: World, collective: Collective, *, n, N, n_test, keys, n_estimate=None) -> jax.Array:
    """Simulated test successes for a batch of keys, shape ``(len(keys),)``."""
    return simulate_batch(
        world, collective, n=n, N=N, n_test=n_test, keys=keys, n_estimate=n_estimate
    ).success


def simulate_success(world: World, collective: Collective, *, n, N, n_test, key, n_estimate=None) -> float:
    """The test success of one simulated platform, as a Python float."""
    sim = simulate(world, collective, n=n, N=N, n_test=n_test, key=key, n_estimate=n_estimate)
    return float(sim.success)


__all__ = [
    "Simulation",
    "sample_counts",
    "simulate",
    "simulate_batch",
    "simulate_many",
    "simulate_success",
]
