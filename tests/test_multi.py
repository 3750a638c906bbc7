"""Multi-collective bounds (THEORY §3.3): soundness, reductions, true signs, invariances."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from worlds import random_collective, random_sizes, worlds

from aca_games import Collective, World, alignment, bounds, externalities, success

ALL = ("feature_label", "feature_only", "unplant", "erase")
EPS = st.sampled_from([0.0, 0.0, 0.01, 0.04])
READING = st.sampled_from(["huber", "tv"])


def _collectives(rng, world, k, strategies=ALL, shared=False):
    sizes = random_sizes(rng, k)
    cs = [random_collective(rng, world, f"c{i}", sizes[i], strategies, noise=True) for i in range(k)]
    if shared:
        cs = [c.replace(signal=cs[0].signal) for c in cs]
    return cs


@given(worlds(max_points=8, max_labels=4), st.integers(1, 4), EPS, READING, st.booleans())
def test_every_multi_bound_is_sound(rw, k, eps, reading, shared):
    rng, world = rw
    cs = _collectives(rng, world, k, shared=shared)
    exact = np.asarray(success(world, cs, eps, reading))
    for bound in (bounds.multi_closed_form, bounds.bloc, bounds.per_point):
        assert np.all(np.asarray(bound(world, cs, eps, reading)) <= exact + 1e-12), bound.__name__


@given(worlds(max_points=8), EPS, READING, st.sampled_from(["feature_label", "feature_only"]))
def test_one_collective_reduces_to_single_forms(rw, eps, reading, strategy):
    rng, world = rw
    c = random_collective(rng, world, "c", float(rng.random() * 0.9), (strategy,), noise=True)
    single = float(bounds.closed_form(world, c, eps, reading))
    assert float(bounds.multi_closed_form(world, [c], eps, reading)[0]) == pytest.approx(single, abs=1e-12)
    assert float(bounds.per_point(world, [c], eps, reading)[0]) == float(
        bounds.staircase(world, c, eps, reading)
    )
    if strategy == "feature_label":
        assert float(bounds.bloc(world, [c], eps, reading)[0]) == pytest.approx(single, abs=1e-12)


@given(worlds(max_points=8), st.integers(2, 4), EPS)
def test_permuting_collectives_permutes_results(rw, k, eps):
    rng, world = rw
    cs = _collectives(rng, world, k)
    perm = rng.permutation(k)
    for f in (success, bounds.multi_closed_form, bounds.bloc, bounds.per_point):
        np.testing.assert_allclose(
            np.asarray(f(world, [cs[i] for i in perm], eps))[np.argsort(perm)],
            np.asarray(f(world, cs, eps)),
            atol=1e-12,
            err_msg=f.__name__,
        )


@given(worlds(max_points=8), st.integers(2, 4), st.one_of(st.just(0.0), st.floats(1e-4, 0.05)))
def test_closed_form_signs_in_other_sizes(rw, k, eps):
    """THEORY §4: ∂S_i/∂α_j has the sign of Δ_i ξ_i - ρ_ij (supporters: ρ = 0, so ↑ weakly)."""
    rng, world = rw
    cs = _collectives(rng, world, k, ("feature_label", "feature_only"))
    sizes = jnp.asarray([c.size for c in cs])
    value = np.asarray(bounds.multi_closed_form(world, cs, eps))
    jac = np.asarray(jax.jacfwd(lambda a: bounds.multi_closed_form(world, cs, eps, sizes=a))(sizes))
    rho = np.asarray(bounds.conflict_mass(world, cs))
    for i, c in enumerate(cs):
        if not 1e-9 < value[i] < 1 - 1e-9:
            continue  # clipped: zero gradient
        t = bounds.closed_form_terms(world, c)
        dxi = float(t.delta * t.xi)
        for j in range(k):
            if j != i:
                assert (
                    np.sign(jac[i, j]) == pytest.approx(np.sign(dxi - rho[i, j]))
                    or abs(dxi - rho[i, j]) < 1e-12
                )
        if dxi + eps > 0:  # strictly increasing in own size unless Δξ + κ = 0
            assert jac[i, i] > 0


def test_a_rival_that_misses_my_signal_set_helps():
    """The counter-intuitive sign: j plants a conflicting label elsewhere; it displaces bystanders
    who resisted i, so i's closed-form bound rises with α_j."""
    world = World(
        points=["a", "b", "z"],
        labels=["n", "y"],
        base=[[0.3, 0.1], [0.2, 0.2], [0.1, 0.0]],
        landing={"g": [[0.5, 0.0], [0.3, 0.2], [0.0, 0.0]], "h": [[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]]},
    )
    i = Collective("i", 0.7, "g", target="y")
    j = Collective("j", 0.0, "h", target="n")
    assert float(bounds.conflict_mass(world, [i, j])[0, 1]) == 0.0
    values = [float(bounds.multi_closed_form(world, [i, j.with_size(a)])[0]) for a in (0.0, 0.1, 0.2)]
    assert values[0] < values[1] < values[2]
    assert alignment(world, [i, j]).relation(0, 1) == "independent"


def test_a_rival_on_my_signal_set_hurts():
    world = World(
        points=["a", "b"],
        labels=["n", "y"],
        base=[[0.3, 0.1], [0.2, 0.2]],
        landing={"g": [[0.5, 0.0], [0.3, 0.2]], "h": [[0.0, 0.0], [1.0, 0.0]]},
    )
    i = Collective("i", 0.7, "g", target="y")
    j = Collective("j", 0.0, "h", target="n")
    values = [float(bounds.multi_closed_form(world, [i, j.with_size(a)])[0]) for a in (0.0, 0.1, 0.2)]
    assert values[0] > values[1] > values[2]
    assert alignment(world, [i, j]).relation(0, 1) == "conflicts"


@given(worlds(max_points=8), st.integers(2, 4), EPS, st.sampled_from(["drop", "scatter", "misfire"]))
def test_splitting_a_bloc_leaves_every_part_unchanged(rw, parts, eps, mode):
    rng, world = rw
    c = random_collective(rng, world, "bloc", 0.6, ("feature_label",)).replace(noise=0.2, noise_mode=mode)
    other = random_collective(rng, world, "other", 0.2, ("feature_label",))
    shares = rng.dirichlet(np.ones(parts)) * c.size
    split = [c.replace(name=f"part{p}", size=float(s)) for p, s in enumerate(shares)]
    whole = np.asarray(bounds.bloc(world, [c, other], eps))
    pieces = np.asarray(bounds.bloc(world, [*split, other], eps))
    np.testing.assert_allclose(pieces[:parts], whole[0], atol=1e-12)
    np.testing.assert_allclose(pieces[parts], whole[1], atol=1e-12)


@given(worlds(max_points=6), st.integers(2, 4))
def test_externalities_match_separate_oracle_calls(rw, k):
    rng, world = rw
    cs = _collectives(rng, world, k)
    x = externalities(world, cs)
    for i in range(k):
        alone = float(success(world, [cs[i]])[0])
        for j in range(k):
            expected = 0.0 if i == j else float(success(world, [cs[i], cs[j]])[0]) - alone
            assert x[i, j] == pytest.approx(expected, abs=1e-12)


def test_alignment_is_asymmetric():
    """j plants 'y' (in i's target {y, m}); i plants 'm', which is outside j's target {y}."""
    world = World(
        points=["a"], labels=["n", "y", "m"], base=[[0.3, 0.2, 0.1]], landing={"g": [[0.4, 0.3, 0.3]]}
    )
    i = Collective("i", 0.1, "g", target=["y", "m"], label="m")
    j = Collective("j", 0.1, "g", target="y")
    al = alignment(world, [i, j])
    assert al.relation(0, 1) == "supports" and al.relation(1, 0) == "conflicts"


def test_bundled_noisy_example_sinks_from_full_to_about_sixty_percent():
    """THEORY §3.3 / [KKVS25]: heavy coordination noise (σ = 0.3) takes the bundled drivers'
    groups from full success to about 60% or less, with everyone acting."""
    from importlib.resources import files

    from aca_games.app.scenario import load_scenario

    s = load_scenario(files("aca_games") / "scenarios" / "noisy_drivers.toml")
    noisy = np.asarray(success(s.world, list(s.collectives), s.analysis.eps))
    quiet = np.asarray(success(s.world, [c.replace(noise=0.0) for c in s.collectives], s.analysis.eps))
    heavy = np.array([c.noise >= 0.3 for c in s.collectives])
    assert heavy.any()
    assert np.all(quiet[heavy] >= 0.99) and np.all(noisy[heavy] <= 0.62)
