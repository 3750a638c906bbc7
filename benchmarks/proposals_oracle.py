"""One-off measurement of proposed aca_games speed-ups, applied to local copies only.

Nothing under ``aca_games/`` is edited: each variant re-jits the library's own kernels with a
monkeypatched helper (restored right after tracing) and/or an XLA compiler option, then all variants
are timed round-robin in one process and checked against the library as it is. See
benchmarks/RESULTS.md ("Proposed fixes"). Delete this file once the fixes are applied.

    python -m benchmarks.proposals_oracle [--batch 200000] [--batch-worst 2000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import contextlib
import functools

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import _knapsack as ks
from aca_games import oracle, plant_all
from aca_games.bounds import staircase
from aca_games.learner import slack
from benchmarks.bench_oracle import NO_YNN, Config, _check, first_call, make_sizes, make_world
from benchmarks.bench_oracle import time_all as _time_all


# -- proposed replacements ----------------------------------------------------------------------
def training_mass_unrolled(base, sizes, planted):
    """planting.training_mass with the K-sum unrolled (K is static) instead of an einsum."""
    P = (1.0 - sizes.sum()) * base
    for k in range(planted.shape[0]):
        P = P + sizes[k] * planted[k]
    return P


def max_flipped_exact_one_dot(value, costs, budget):
    """_knapsack.max_flipped_exact with costs and values in one product with the subsets."""
    subsets = jnp.asarray(ks._subsets(value.shape[0]))
    costs = jnp.where(value[:, None] > 0, costs, 0.0)
    both = subsets @ jnp.concatenate([costs, value[:, None]], axis=1)  # (2^P, C+1)
    feasible = jnp.all(both[:, :-1] <= budget + ks.TIE_TOL, axis=-1)
    return jnp.max(jnp.where(feasible, both[:, -1], 0.0))


def fractional_pairwise(value, cost, budget):
    """_knapsack._fractional without argsort: the mass spent before each item is a masked sum.

    Item ``j`` precedes ``i`` iff its cost/value ratio is smaller, ties broken by index (the order
    of a stable argsort), so the answer equals the sorted version up to rounding.
    """
    flippable = value > 0
    cost = jnp.where(flippable, jnp.maximum(cost, 0.0), jnp.inf)
    ratio = cost / jnp.where(flippable, value, 1.0)
    idx = jnp.arange(value.shape[0])
    earlier = (ratio[None, :] < ratio[:, None]) | (
        (ratio[None, :] == ratio[:, None]) & (idx[None, :] < idx[:, None])
    )
    spent_before = jnp.sum(jnp.where(earlier, cost[None, :], 0.0), axis=1)
    room = budget + ks.TIE_TOL - spent_before
    share = jnp.clip(jnp.where(cost > 0, room / jnp.where(cost > 0, cost, 1.0), 1.0), 0.0, 1.0)
    share = jnp.where((room > 0) & jnp.isfinite(cost), share, 0.0)
    return jnp.sum(value * share)


@contextlib.contextmanager
def patched(training_mass=None, exact=None, fractional=None):
    saved = oracle.training_mass, ks.max_flipped_exact, ks._fractional
    try:
        if training_mass is not None:
            oracle.training_mass = training_mass
        if exact is not None:
            ks.max_flipped_exact = exact
        if fractional is not None:
            ks._fractional = fractional
        yield
    finally:
        oracle.training_mass, ks.max_flipped_exact, ks._fractional = saved


def batch_kernel(
    static, *, options=None, chunk=None, training_mass=None, exact=None, fractional=None
):
    """A jitted copy of ``oracle._success_batch`` (vmap, or ``lax.map`` in chunks of rows)."""
    kernel = functools.partial(oracle.success_kernel, **static)

    def body(base, planting, sizes, kappa):
        if chunk is None:
            return jax.vmap(kernel, in_axes=(None, None, 0, None))(base, planting, sizes, kappa)
        return jax.lax.map(lambda s: kernel(base, planting, s, kappa), sizes, batch_size=chunk)

    jitted = jax.jit(body, compiler_options=options)

    def call(*args):
        with patched(training_mass, exact, fractional):  # only the first (tracing) call
            return jitted(*args)

    return call


def time_all(impls, repeats):
    answers, first = {}, {}
    for name, fn in impls.items():
        answers[name], first[name] = first_call(fn)
        _check(answers[name], answers["library"])
    return _time_all(impls, repeats, first)


def report(title, n_evals, timings):
    print(f"\n{title}")
    base = timings["library"]["median_s"]
    for name, rec in timings.items():
        t = rec["median_s"]
        print(f"  {name:45s} {t * 1e3:9.1f} ms  {n_evals / t:10.3g} evals/s  x{base / t:5.1f}")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.proposals_oracle")
    ap.add_argument("--batch", type=int, default=200_000)
    ap.add_argument("--batch-worst", type=int, default=2_000)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args(argv)
    cfg = Config(batch=args.batch, batch_worst=args.batch_worst, repeats=args.repeats)
    world, cols = make_world(cfg)
    planting = plant_all(world, cols)

    # eps = 0 oracle -------------------------------------------------------------------------
    sizes = jnp.asarray(make_sizes(cfg, cfg.batch))
    kappa = slack(0.0)
    static = dict(reading="huber", method="exact", bayes=True)
    args0 = (world.base, planting, sizes, kappa)
    impls = {
        "library": functools.partial(oracle._success_batch, *args0, **static),
        "1: ynn off": functools.partial(batch_kernel(static, options=NO_YNN), *args0),
        "2: unrolled training_mass": functools.partial(
            batch_kernel(static, training_mass=training_mass_unrolled), *args0
        ),
        "1+2: ynn off + unrolled training_mass": functools.partial(
            batch_kernel(static, options=NO_YNN, training_mass=training_mass_unrolled), *args0
        ),
        "public success() on the same batch (library)": functools.partial(
            oracle.success, world, cols, sizes=sizes
        ),
    }
    report(f"oracle eps=0, B={cfg.batch}, K={len(cols)}", sizes.size, time_all(impls, cfg.repeats))

    # fixed cost of the public call: one size vector ------------------------------------------
    one_row = np.asarray(make_sizes(cfg, 1))
    impls = {
        "library": functools.partial(
            oracle._success_batch, world.base, planting, jnp.asarray(one_row), kappa, **static
        ),
        "public success(), same kernel": functools.partial(
            oracle.success, world, cols, sizes=one_row
        ),
        "  of which plant_all()": functools.partial(plant_all, world, cols),
    }
    for fn in impls.values():
        jax.block_until_ready(fn())
    timings = _time_all(impls, max(cfg.repeats, 20), {})
    report("fixed cost per call, B=1 (x = kernel time / time)", 1, timings)

    # eps > 0, exact knapsack ----------------------------------------------------------------
    sizes_w = jnp.asarray(make_sizes(cfg, cfg.batch_worst, seed_offset=2))
    for reading in ("huber", "tv"):
        kappa_w = slack(cfg.eps, reading)
        static_w = dict(reading=reading, method="exact", bayes=False)
        args_w = (world.base, planting, sizes_w, kappa_w)
        impls = {
            "library": functools.partial(oracle._success_batch, *args_w, **static_w),
            "3: lax.map, 16 rows per chunk": functools.partial(
                batch_kernel(static_w, chunk=16), *args_w
            ),
            "3+4: chunks + one product": functools.partial(
                batch_kernel(static_w, chunk=16, exact=max_flipped_exact_one_dot), *args_w
            ),
            "1+3+4: ynn off + chunks + one product": functools.partial(
                batch_kernel(
                    static_w, options=NO_YNN, chunk=16, exact=max_flipped_exact_one_dot
                ),
                *args_w,
            ),
        }
        report(
            f"worst case eps={cfg.eps} {reading} exact, B={cfg.batch_worst}",
            sizes_w.size,
            time_all(impls, cfg.repeats),
        )

    # eps > 0, greedy relaxation ---------------------------------------------------------------
    for reading in ("huber", "tv"):
        kappa_w = slack(cfg.eps, reading)
        static_w = dict(reading=reading, method="greedy", bayes=False)
        args_w = (world.base, planting, sizes_w, kappa_w)
        impls = {
            "library": functools.partial(oracle._success_batch, *args_w, **static_w),
            "1: ynn off": functools.partial(batch_kernel(static_w, options=NO_YNN), *args_w),
            "5: sort-free greedy": functools.partial(
                batch_kernel(static_w, fractional=fractional_pairwise), *args_w
            ),
            "1+5: ynn off + sort-free greedy": functools.partial(
                batch_kernel(static_w, options=NO_YNN, fractional=fractional_pairwise), *args_w
            ),
        }
        report(
            f"worst case eps={cfg.eps} {reading} greedy, B={cfg.batch_worst}",
            sizes_w.size,
            time_all(impls, cfg.repeats),
        )

    # staircase bound ------------------------------------------------------------------------
    c = cols[0]
    alpha = jnp.asarray(np.asarray(sizes[:, 0]))

    def one(a):
        return staircase(world, c.with_size(a))

    impls = {
        "library": functools.partial(jax.jit(jax.vmap(one)), alpha),
        "1: ynn off": functools.partial(jax.jit(jax.vmap(one), compiler_options=NO_YNN), alpha),
    }
    report(f"bounds.staircase, B={cfg.batch}", alpha.size, time_all(impls, cfg.repeats))


if __name__ == "__main__":
    main()
