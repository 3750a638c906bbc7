"""Multi-collective bounds (THEORY §3.3): soundness, reductions, true signs, invariances."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from references import bounds as ref

from aca_games import Collective, World, alignment, bounds, externalities, success, testing
from aca_games.bounds.multi import conflict_pair
from aca_games.planting import plant

PLANTING = ("feature_label", "feature_only")
NONZERO_EPS = (0.0, 0.0, 1e-4, 0.01, 0.05)  # 0 or >= 1e-4: a tinier slack underflows derivatives


@given(testing.instances(n_collectives=(1, 2, 3, 4)), st.booleans())
def test_every_multi_bound_is_sound(inst, shared):
    world, cs, eps, reading = inst
    if shared:
        cs = [c.replace(signal=cs[0].signal) for c in cs]
    for bound in (bounds.multi_closed_form, bounds.bloc, bounds.per_point):
        testing.assert_sound(bound, world, cs, eps, reading)


@given(testing.instances(strategies=PLANTING))
def test_one_collective_reduces_to_single_forms(inst):
    world, c, eps, reading = inst.alone
    single = float(bounds.closed_form(world, c, eps, reading))
    assert float(bounds.multi_closed_form(world, [c], eps, reading)[0]) == pytest.approx(single, abs=1e-12)
    assert float(bounds.per_point(world, [c], eps, reading)[0]) == float(
        bounds.staircase(world, c, eps, reading)
    )
    if c.strategy == "feature_label":
        assert float(bounds.bloc(world, [c], eps, reading)[0]) == pytest.approx(single, abs=1e-12)


@given(testing.instances(n_collectives=(2, 3, 4)), st.permutations(range(4)))
def test_permuting_collectives_permutes_results(inst, order):
    world, cs, eps, reading = inst
    perm = [i for i in order if i < len(cs)]
    for f in (success, bounds.multi_closed_form, bounds.bloc, bounds.per_point):
        np.testing.assert_allclose(
            np.asarray(f(world, [cs[i] for i in perm], eps, reading))[np.argsort(perm)],
            np.asarray(f(world, cs, eps, reading)),
            atol=1e-12,
            err_msg=f.__name__,
        )


@given(testing.instances(n_collectives=(2, 3, 4), strategies=PLANTING, eps=NONZERO_EPS))
def test_closed_form_signs_in_other_sizes(inst):
    """THEORY §4: ∂S_i/∂α_j has the sign of Δ_i ξ_i - ρ_ij (supporters: ρ = 0, so ↑ weakly)."""
    world, cs, eps, reading = inst
    k = len(cs)
    sizes = jnp.asarray([c.size for c in cs])
    value = np.asarray(bounds.multi_closed_form(world, cs, eps, reading))
    jac = np.asarray(jax.jacfwd(lambda a: bounds.multi_closed_form(world, cs, eps, reading, sizes=a))(sizes))
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


@pytest.mark.parametrize("name", ["per_point", "multi_closed_form", "bloc"])
def test_a_batch_of_any_shape_equals_calls_one_size_vector_at_a_time(name):
    world = World(points=["a", "b"], labels=["n", "y"], base=[[0.3, 0.1], [0.2, 0.2]],
                  landing={"g": [[0.5, 0.0], [0.2, 0.3]], "h": [[0.4, 0.1], [0.3, 0.2]]})
    cs = [Collective("i", 0.1, "g", target="y"), Collective("j", 0.1, "h", target="n")]
    sizes = np.linspace(0.05, 0.45, 2 * 3 * 2).reshape(2, 3, 2)  # batch shape (2, 3), not (n, K)
    fn = getattr(bounds, name)
    batch = np.asarray(fn(world, cs, 0.01, sizes=sizes))
    assert batch.shape == (2, 3, 2)
    one = [np.asarray(fn(world, [c.with_size(a) for c, a in zip(cs, s, strict=True)], 0.01)) for s in
           sizes.reshape(-1, 2)]
    np.testing.assert_allclose(batch.reshape(-1, 2), one, atol=1e-12)
    assert np.ptp(batch) > 0.1  # the sizes matter here


def test_conflict_pair_subtracts_what_the_rival_plants_on_my_label():
    """ρ_ij counts j's excess on a rival label over j's mass on i's label (the default, used by the
    games' closed-form payoffs); ``relative=False`` counts j's mass on rival labels alone."""
    world = World(points=["a", "b"], labels=["n", "y"], base=[[0.3, 0.1], [0.2, 0.2]],
                  landing={"g": [[0.5, 0.0], [0.2, 0.3]], "h": [[0.4, 0.1], [0.3, 0.2]]})
    i = Collective("i", 0.1, "g", target="y")
    j = Collective("j", 0.1, "h", target="n", noise=0.5, noise_mode="scatter")
    pi, pj = plant(world, i), plant(world, j)
    relative, absolute = float(conflict_pair(pi, pj)), float(conflict_pair(pi, pj, relative=False))
    assert relative == pytest.approx(ref.conflict(world, i, j, relative=True), abs=1e-12)
    assert absolute == pytest.approx(ref.conflict(world, i, j, relative=False), abs=1e-12)
    assert absolute > relative > 0


def test_a_rival_that_misses_my_signal_set_helps():
    """The counter-intuitive sign: j plants a conflicting label elsewhere; it displaces bystanders
    who resisted i, so i's closed-form bound rises with α_j."""
    world = World(
        points=["a", "b", "z"],
        labels=["n", "y"],
        base=[[0.3, 0.1], [0.2, 0.2], [0.1, 0.0]],
        landing={"g": [[0.5, 0.0], [0.2, 0.3], [0.0, 0.0]], "h": [[0.0, 0.0], [0.0, 0.0], [0.7, 0.3]]},
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
        landing={"g": [[0.5, 0.0], [0.2, 0.3]], "h": [[0.0, 0.0], [0.7, 0.3]]},
    )
    i = Collective("i", 0.7, "g", target="y")
    j = Collective("j", 0.0, "h", target="n")
    values = [float(bounds.multi_closed_form(world, [i, j.with_size(a)])[0]) for a in (0.0, 0.1, 0.2)]
    assert values[0] > values[1] > values[2]
    assert alignment(world, [i, j]).relation(0, 1) == "conflicts"


@given(testing.instances(n_collectives=(2,), strategies=("feature_label",)), st.integers(2, 4),
       st.lists(st.floats(0.1, 1.0), min_size=4, max_size=4))
def test_splitting_a_bloc_leaves_every_part_unchanged(inst, parts, weights):
    world, (c, other), eps, reading = inst
    shares = np.array(weights[:parts]) / sum(weights[:parts]) * float(c.size)
    split = [c.replace(name=f"part{p}", size=float(s)) for p, s in enumerate(shares)]
    whole = np.asarray(bounds.bloc(world, [c, other], eps, reading))
    pieces = np.asarray(bounds.bloc(world, [*split, other], eps, reading))
    np.testing.assert_allclose(pieces[:parts], whole[0], atol=1e-12)
    np.testing.assert_allclose(pieces[parts], whole[1], atol=1e-12)


@given(testing.instances(n_collectives=(2, 3, 4), eps=(0.0,)))
def test_externalities_match_separate_oracle_calls(inst):
    world, cs, _, _ = inst
    k = len(cs)
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
