"""Partial-information bounds (THEORY §3.4): beliefs, robust tiers, Bayesian estimates, finite sample.

What is checked, each able to fail:

* soundness: the robust bound is below the exact oracle in many worlds drawn from inside the
  beliefs (sizes uniform in the intervals and at their vertices, options from the menus);
* full knowledge reproduces ``bounds.per_point``; nested beliefs give ordered bounds; tier ordering
  full knowledge >= intervals >= total mass on the same instance;
* tier 2 (aggregate conflict) is sound and equals ``multi_closed_form`` when ``R`` is exact;
* the Monte Carlo mean is within 4 standard errors of the exact expectation of a finite prior;
* the finite-sample certificate equals ``finite_sample`` without others, stays below the robust
  bound, tends to it as ``N -> ∞``, and holds against simulated platforms (slow);
* bad input raises ``ACAInputError`` naming the field.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from aca_games import ACAInputError, Collective, World, bounds, success, testing
from aca_games.beliefs import Beliefs
from aca_games.bounds.finite_partial import worst_extras
from aca_games.bounds.finite_sample import finite_sample
from aca_games.bounds.partial import bayes, bayes_exact, finite_sample_multi, robust

ALL = ("feature_label", "feature_only", "unplant", "erase")
EPS = st.sampled_from([0.0, 0.0, 0.01, 0.04])
READING = st.sampled_from(["huber", "tv"])
DRAWS = 12  # size vectors per option profile; two profiles per example
MENU = 2  # options per menu: fixed shapes keep JIT recompilation (one per shape) bounded


@st.composite
def options(draw, world, name, of, strategies=ALL, hardt=True):
    """An option of another collective: a rival of ``of`` (overlapping signal, conflicting label)."""
    c = draw(testing.rivals(world, of, name, strategies))
    return c.replace(variant="gbj") if not hardt and c.strategy == "feature_only" else c


@st.composite
def belief_cases(draw, k=2, strategies=ALL, hardt=True):
    """``(world, i, beliefs, lo, hi)``: self ``i`` and interval beliefs about ``k`` others
    (``Σ hi + α_i < 1``), each with a menu of ``MENU`` options."""
    world = draw(testing.worlds())
    alpha = draw(st.floats(0.05, 0.5))
    i = draw(testing.collectives(world, "i", strategies, size=alpha))
    weights = np.array(draw(st.lists(st.floats(0.05, 1.0), min_size=k + 1, max_size=k + 1)))
    hi = weights[:k] / weights.sum() * (0.97 - alpha)
    lo = hi * np.array(draw(st.lists(st.one_of(st.just(0.0), st.floats(0.0, 1.0)), min_size=k, max_size=k)))
    menus = {f"j{j}": [draw(options(world, f"j{j}", i, strategies, hardt)) for _ in range(MENU)]
             for j in range(k)}
    others = {f"j{j}": (float(lo[j]), float(hi[j])) for j in range(k)}
    return world, i, Beliefs.intervals(others, menus), lo, hi


def _draw_sizes(data, lo, hi, alpha):
    """Sizes inside the box: half uniform, half at drawn vertices, plus both corners."""
    u = data.draw(hnp.arrays(np.float64, (DRAWS, len(lo)), elements=st.floats(0.0, 1.0)))
    u[DRAWS // 2 :] = u[DRAWS // 2 :] < 0.5
    u[0], u[1] = 0.0, 1.0
    return np.column_stack([np.full(DRAWS, alpha), lo + u * (hi - lo)])


@given(belief_cases(), EPS, READING, st.data())
def test_robust_is_below_the_oracle_in_every_world_inside_the_beliefs(case, eps, reading, data):
    world, i, beliefs, lo, hi = case
    bound = float(robust(world, i, beliefs, eps, reading))
    menus = [o.menu for o in beliefs.others]
    for _ in range(2):
        profile = [data.draw(st.sampled_from(menu)) for menu in menus]
        sizes = _draw_sizes(data, lo, hi, i.size)
        exact = np.asarray(success(world, [i, *profile], eps, reading, sizes=sizes))[:, 0]
        assert bound <= exact.min() + 1e-12


@given(testing.instances(n_collectives=(1, 3)))
def test_full_knowledge_reproduces_per_point(inst):
    world, cs, eps, reading = inst
    expected = float(bounds.per_point(world, cs, eps, reading)[0])
    assert float(robust(world, cs[0], Beliefs.known(cs[1:]), eps, reading)) == pytest.approx(
        expected, abs=1e-12
    )


def test_full_knowledge_reproduces_per_point_across_the_crack_levels():
    """A rival planting the label that leads in the base: every size of i from 0.05 to 0.9, so the
    rival's term in each margin decides which points are won."""
    world = World(points=["a", "b"], labels=["n", "y"], base=[[0.3, 0.1], [0.2, 0.2]],
                  landing={"g": [[0.5, 0.0], [0.2, 0.3]], "h": [[0.4, 0.1], [0.3, 0.2]]})
    i, j = Collective("i", 0.1, "g", target="y"), Collective("j", 0.2, "h", target="n")
    values = []
    for alpha in np.linspace(0.05, 0.75, 15):
        expected = float(bounds.per_point(world, [i.with_size(alpha), j])[0])
        got = float(robust(world, i.with_size(alpha), Beliefs.known([j])))
        assert got == pytest.approx(expected, abs=1e-12)
        values.append(expected)
    assert len(set(values)) >= 3


@given(belief_cases(), EPS, st.data())
def test_nested_beliefs_give_ordered_bounds(case, eps, data):
    world, i, narrow, lo, hi = case
    k = len(lo)
    room = 0.98 - i.size - hi.sum()
    spread = np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=k, max_size=k)))
    wider_hi = hi + spread / max(spread.sum(), 1.0) * room
    wider_lo = lo * np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=k, max_size=k)))
    menus = {o.name: [*o.menu, data.draw(options(world, o.name, i))] for o in narrow.others}
    wide = Beliefs.intervals({o.name: (wider_lo[j], wider_hi[j]) for j, o in enumerate(narrow.others)}, menus)
    assert float(robust(world, i, wide, eps)) <= float(robust(world, i, narrow, eps))


@given(belief_cases(hardt=False), EPS, READING, st.data())
def test_tiers_are_ordered_full_intervals_total_mass(case, eps, reading, data):
    """Tier 1 covers every strategy but feature-only "hardt", so the menus avoid it."""
    world, i, beliefs, lo, hi = case
    truth = [
        data.draw(st.sampled_from(o.menu)).replace(size=o.lo + data.draw(st.floats(0, 1)) * (o.hi - o.lo))
        for o in beliefs.others
    ]
    full = float(robust(world, i, Beliefs.known(truth), eps, reading))
    middle = float(robust(world, i, beliefs, eps, reading))
    coarse = float(robust(world, i, Beliefs.total_mass(lo.sum(), hi.sum()), eps, reading))
    assert full >= middle >= coarse


@given(belief_cases(strategies=("feature_label", "feature_only")), EPS, READING, st.data())
def test_aggregate_conflict_tier_is_sound_and_exact_when_r_is(case, eps, reading, data):
    world, i, beliefs, lo, hi = case
    profile = [o.menu[0] for o in beliefs.others]
    sizes = _draw_sizes(data, lo, hi, i.size)
    rho = np.asarray(bounds.conflict_mass(world, [i, *profile]))[0]
    R = float((sizes @ rho).max())
    tier2 = Beliefs.aggregate_conflict(lo.sum(), hi.sum(), R)
    bound = float(robust(world, i, tier2, eps, reading))
    exact = np.asarray(success(world, [i, *profile], eps, reading, sizes=sizes))[:, 0]
    assert bound <= exact.min() + 1e-12
    row = sizes[0]  # the lower corner: total = Σ lo; R exact for it
    known = Beliefs.aggregate_conflict(row[1:].sum(), hi.sum(), float(row @ rho))
    closed = bounds.multi_closed_form(world, [i, *profile], eps, reading, sizes=row)[0]
    assert float(robust(world, i, known, eps, reading)) == pytest.approx(float(closed), abs=1e-12)


def test_total_mass_tier_covers_inert_mass():
    """The rival label leads at a by more than any signal lands there; mass that stays inert (drop
    noise) displaces nobody, so counting on the pooled mass to displace rivals there would be unsound."""
    world = World(
        points=["a", "b"],
        labels=["n", "y"],
        base=[[0.2, 0.0], [0.0, 0.0]],
        landing={"g": [[0.1, 0.0], [0.9, 0.0]]},
    )
    i = Collective("i", 0.6, "g", target="y")
    inert = Collective("j", 0.3, "g", target="n", noise=1.0, noise_mode="drop")
    truth = float(success(world, [i, inert])[0])
    assert truth == pytest.approx(0.9)
    assert float(robust(world, i, Beliefs.total_mass(0.3, 0.35))) == pytest.approx(0.9)


def test_tier2_does_not_cover_per_point_strategies():
    world = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.2]], landing={"g": [[0.5, 0.5]]})
    i = Collective("i", 0.5, "g", target=["y"], strategy="unplant")
    assert float(robust(world, i, Beliefs.aggregate_conflict(0.0, 0.1, 0.0))) == 0.0


# -- Bayesian ---------------------------------------------------------------------------------------
@st.composite
def priors(draw, world, i, n_scen=3, k=2):
    """A finite prior: ``n_scen`` scenarios of ``k`` other collectives (sizes below 0.5 in total,
    a scenario member absent a fifth of the time)."""
    weights = np.array(draw(st.lists(st.floats(0.1, 1.0), min_size=n_scen, max_size=n_scen)))
    probs = weights / weights.sum()
    out = []
    for s in range(n_scen):
        shares = np.array(draw(st.lists(st.floats(0.05, 1.0), min_size=k + 1, max_size=k + 1)))
        present = draw(st.lists(st.sampled_from([True, True, True, True, False]), min_size=k, max_size=k))
        sizes = shares[:k] / shares.sum() * 0.5 * np.array(present)
        out.append((float(probs[s]), [draw(testing.rivals(world, i, f"j{j}", size=float(sizes[j])))
                                      for j in range(k)]))
    out[-1] = (1.0 - sum(p for p, _ in out[:-1]), out[-1][1])
    return Beliefs.prior(out)


@given(testing.worlds(shapes=testing.SHAPES[:2]), st.data())  # 300 knapsacks per example
def test_bayes_mean_is_within_four_standard_errors_of_the_exact_expectation(world, data):
    i = data.draw(testing.collectives(world, "i", size=data.draw(st.floats(0.05, 0.45))))
    prior = data.draw(priors(world, i))
    key = jax.random.key(data.draw(st.integers(0, 2**31 - 1)))
    est = bayes(world, i, prior, key, 300, 0.02)  # the oracle's knapsack path
    exact = float(bayes_exact(world, i, prior, 0.02))
    assert abs(float(est.mean) - exact) <= 4 * float(est.stderr) + 1e-12
    staircases = [float(bounds.per_point(world, [i, *cs], 0.02)[0]) for _, cs in prior.scenarios()]
    # a finite prior: the worst scenario (sums of landing masses in another order: rounding)
    assert float(robust(world, i, prior, 0.02)) == pytest.approx(min(staircases), abs=1e-12)
    # a discrete product prior enumerates into scenarios
    menus = {name: [data.draw(options(world, name, i)) for _ in range(m)] for name, m in (("a", 2), ("b", 1))}
    product = Beliefs.product_prior(
        {"a": {0.1: 0.3, 0.2: 0.7}, "b": {0.0: 0.5, 0.15: 0.5}}, menus, {"a": [0.4, 0.6]}
    )
    est = bayes(world, i, product, key, 300, payoff="per_point")
    exact = float(bayes_exact(world, i, product, payoff="per_point"))
    assert abs(float(est.mean) - exact) <= 4 * float(est.stderr) + 1e-12


@given(belief_cases())
def test_every_prior_draw_is_above_the_robust_bound_on_its_support(case):
    world, i, beliefs, lo, hi = case
    prior = Beliefs.product_prior(
        {o.name: (o.lo, o.hi) for o in beliefs.others}, {o.name: list(o.menu) for o in beliefs.others}
    )
    est = bayes(world, i, prior, jax.random.key(1), 300, 0.02)  # shapes shared with the test above
    floor = float(robust(world, i, prior, 0.02))
    assert floor == float(robust(world, i, beliefs, 0.02))
    assert float(est.mean) >= floor - 1e-12


@pytest.mark.parametrize(("lo", "hi"), [(0.0, 4 / 90), (0.5 / 90, 2.5 / 90)])
def test_uniform_size_prior_matches_its_mean_on_a_threshold(lo, hi):
    """One rival on i's only point, size ~ U(lo, hi); i wins iff α_j < 1/90: probability 1/4."""
    world = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.2]], landing={"g": [[0.5, 0.5]]})
    i = Collective("i", 0.1, "g", target="y")  # wins iff (0.9 - α_j)0.2 + 0.1 > (0.9 - α_j)0.3 + α_j
    prior = Beliefs.product_prior({"j": (lo, hi)}, {"j": [Collective("j", 0, "g", target="n")]})
    est = bayes(world, i, prior, jax.random.key(3), 2000)
    assert abs(float(est.mean) - 0.25 * 1.0) <= 4 * float(est.stderr)
    assert 0.0 < float(est.stderr) < 0.02


# -- finite sample ----------------------------------------------------------------------------------
@given(testing.worlds(), st.data())
def test_finite_sample_multi_without_others_is_finite_sample(world, data):
    i = data.draw(testing.collectives(world, "i", ("feature_label", "feature_only", "unplant"), size=0.3))
    strategy = i.strategy
    kw = dict(n=3000, N=10_000, n_test=5000, delta=0.05, n_estimate=500 if strategy == "unplant" else None)
    alone = float(finite_sample(world, i, **kw))
    assert float(finite_sample_multi(world, i, Beliefs.intervals({}, {}), **kw)) == pytest.approx(
        alone, abs=1e-12
    )


@given(belief_cases(strategies=("feature_label", "feature_only", "unplant")), st.sampled_from([0.0, 0.02]))
def test_finite_sample_multi_stays_below_the_robust_bound(case, eps):
    world, i, beliefs, lo, hi = case
    N = 1_000_000
    n = int(round(i.size * N))
    i = i.with_size(n / N)
    est = 50 if i.strategy == "unplant" else None
    fs = float(
        finite_sample_multi(world, i, beliefs, n=n, N=N, n_test=10**6, delta=0.05, eps=eps, n_estimate=est)
    )
    assert fs <= float(robust(world, i, beliefs, eps)) + 1e-12
    tier1 = Beliefs.total_mass(lo.sum(), hi.sum())
    fs1 = float(
        finite_sample_multi(world, i, tier1, n=n, N=N, n_test=10**6, delta=0.05, eps=eps, n_estimate=est)
    )
    assert fs1 <= float(robust(world, i, tier1, eps)) + 1e-12


def _two_point_world():
    return World(
        points=["a", "b"],
        labels=["n", "y"],
        base=[[0.3, 0.1], [0.2, 0.2]],
        landing={"g": [[0.5, 0.0], [0.2, 0.3]], "h": [[0.0, 0.0], [0.7, 0.3]]},
    )


def test_finite_sample_multi_tends_to_the_robust_bound():
    world = _two_point_world()
    menu = [Collective("j", 0, "h", target="n"), Collective("j", 0, "g", target="y")]
    for hi, expected in ((0.05, 1.0), (0.3, 0.5)):
        beliefs = Beliefs.intervals({"j": (0.02, hi)}, {"j": menu})
        i = Collective("i", 0.4, "g", target="y")
        assert float(robust(world, i, beliefs)) == expected
        values = [
            float(finite_sample_multi(world, i, beliefs, n=4 * N // 10, N=N, n_test=N, delta=0.05))
            for N in (10**4, 10**6, 10**12)
        ]
        assert values[0] <= values[1] <= values[2] <= expected
        assert values[2] == pytest.approx(expected, abs=1e-4)


def _simulate_platform(rng, world, n, n_j, option_label, n_test, N):
    """One platform: i plants 'y' on g (feature-label), j plants its label on h, the rest are
    bystanders; returns i's counts (base, landing) and its test success."""
    base = np.asarray(world.base)
    cells = np.append(base.ravel(), 1 - base.sum())
    land_g = np.asarray(world.landing["g"])
    m_g = land_g.sum(axis=1)
    land_h = np.asarray(world.landing["h"]).sum(axis=1)
    own = rng.multinomial(n, cells)[:-1].reshape(base.shape)  # i's original data (what it observes)
    signalled = rng.multinomial(n, land_g.ravel()).reshape(base.shape)
    counts = rng.multinomial(N - n - n_j, cells)[:-1].reshape(base.shape).astype(float)
    counts[:, 1] += signalled.sum(axis=1)
    counts[:, option_label] += rng.multinomial(n_j, land_h)
    won = counts[:, 1] > counts[:, 0]
    test = rng.multinomial(n_test, m_g)
    return own, signalled, float(test[won].sum() / n_test)


@pytest.mark.slow
def test_finite_sample_multi_holds_against_simulated_platforms():
    from aca_games.bounds.finite_sample import Counts

    world = _two_point_world()
    i = Collective("i", 0.4, "g", target="y")
    beliefs = Beliefs.intervals({"j": (0.01, 0.05)}, {"j": [Collective("j", 0, "h", target="n")]})
    N, n, n_test, delta = 20_000, 8000, 2000, 0.1
    rng = np.random.default_rng(0)
    held = []
    for _ in range(40):
        n_j = int(rng.integers(200, 1001))
        own, signalled, measured = _simulate_platform(rng, world, n, n_j, 0, n_test, N)
        counts = Counts(own.astype(float), signalled.astype(float), n, n)
        bound = float(
            finite_sample_multi(world, i, beliefs, n=n, N=N, n_test=n_test, delta=delta, counts=counts)
        )
        held.append(bound <= measured)
    assert np.mean(held) >= 1 - delta
    assert bound > 0  # not vacuous


# -- input errors -----------------------------------------------------------------------------------
def test_bad_beliefs_raise_naming_the_field():
    j = Collective("j", 0, "h", target="n")
    cases = [
        (lambda: Beliefs.intervals({"j": (0.3, 0.2)}, {"j": [j]}), r"others\['j'\]: empty interval"),
        (
            lambda: Beliefs.intervals({"j": (0.1, 0.6), "k": (0.0, 0.5)}, {"j": [j], "k": [j]}),
            "exceeds the population",
        ),
        (lambda: Beliefs.intervals({"j": (0.1, 0.2)}, {"j": [j], "x": [j]}), "menus: unknown collective 'x'"),
        (lambda: Beliefs.intervals({"j": (0.1, 0.2)}, {}), "menus: no menu for 'j'"),
        (lambda: Beliefs.intervals({"j": (0.1, 0.2)}, {"j": []}), r"menus\['j'\]: the menu is empty"),
        (lambda: Beliefs.intervals({"j": (-0.1, 0.2)}, {"j": [j]}), r"must lie in \[0, 1\)"),
        (lambda: Beliefs.total_mass(0.5, 0.4), "total: empty interval"),
        (lambda: Beliefs.aggregate_conflict(0.0, 0.2, -1.0), "conflict: .* must be >= 0"),
        (
            lambda: Beliefs.prior([(0.5, [j.with_size(0.1)]), (0.4, [])]),
            "scenarios: probabilities sum to 0.9",
        ),
        (lambda: Beliefs.prior([(1.2, [j.with_size(0.1)]), (-0.2, [])]), "probabilities must be >= 0"),
        (lambda: Beliefs.prior([(1.0, [j.with_size(0.6), j.with_size(0.5)])]), r"scenarios\[0\]: sizes sum"),
        (
            lambda: Beliefs.product_prior({"j": (0.0, 0.1)}, {"j": [j]}, {"j": [0.5, 0.5]}),
            "one probability per",
        ),
        (lambda: Beliefs.product_prior({"j": {0.1: 0.5}}, {"j": [j]}), r"sizes\['j'\]: probabilities sum"),
        (
            lambda: Beliefs.product_prior({"j": (0.0, 0.1)}, {"j": [j]}, {"x": [1.0]}),
            "weights: unknown collective",
        ),
    ]
    for make, message in cases:
        with pytest.raises(ACAInputError, match=message):
            make()


def test_bad_use_of_beliefs_raises():
    world = _two_point_world()
    i = Collective("i", 0.6, "g", target="y")
    j = Collective("j", 0, "h", target="n")
    with pytest.raises(ACAInputError, match="reaches 1"):
        robust(world, i, Beliefs.intervals({"j": (0.1, 0.45)}, {"j": [j]}))
    with pytest.raises(ACAInputError, match="is the collective itself"):
        robust(world, i.with_size(0.1), Beliefs.intervals({"i": (0.1, 0.2)}, {"i": [j]}))
    with pytest.raises(ACAInputError, match="unknown value 'nope'"):
        robust(
            world, i.with_size(0.1), Beliefs.intervals({"j": (0.1, 0.2)}, {"j": [j.replace(signal="nope")]})
        )
    with pytest.raises(ACAInputError, match="bayes needs a prior"):
        bayes(world, i.with_size(0.1), Beliefs.total_mass(0.0, 0.2), jax.random.key(0), 10)
    with pytest.raises(ACAInputError, match="not a finite prior"):
        bayes_exact(world, i.with_size(0.1), Beliefs.product_prior({"j": (0.0, 0.1)}, {"j": [j]}))
    with pytest.raises(ACAInputError, match="payoff"):
        bayes(world, i.with_size(0.1), Beliefs.prior([(1.0, [])]), jax.random.key(0), 10, payoff="nope")
    with pytest.raises(ACAInputError, match="per-point bounds need"):
        finite_sample_multi(
            world,
            i.with_size(0.1),
            Beliefs.aggregate_conflict(0, 0.1, 0.1),
            n=10,
            N=100,
            n_test=10,
            delta=0.1,
        )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"N": 0}, r"N: expected an integer >= 1, got 0"), ({"delta": float("nan")}, "delta: NaN or inf"),
     ({"delta": 1.0}, r"delta: 1.0 is outside \(0, 1\)")],
)
def test_finite_sample_multi_bad_input_names_the_argument(kwargs, match):
    world = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.2]], landing={"g": [[0.5, 0.5]]})
    args = {"n": 1_000, "N": 10_000, "n_test": 1_000, "delta": 0.05} | kwargs
    with pytest.raises(ACAInputError, match=match):
        finite_sample_multi(world, Collective("i", 0.1, "g", target="y"), Beliefs.intervals({}, {}), **args)


@given(st.floats(-2.0, 2.0), st.integers(0, 500).map(float), st.floats(0.01, 20.0))
def test_worst_extras_is_the_minimum_over_every_number_of_extras(c, X, lam):
    """The closed form of the inner minimum against the definition ``k (c - 4 R(k))``,
    ``R(k) = sqrt(λ/(2k))``, on a fine grid of ``k`` in ``[0, X]``: geometric (the minimiser can be
    as small as ``2λ/c²``), plus 0 and ``X`` (``X``, a count of extra members, is an integer)."""
    k = np.concatenate([[0.0], np.geomspace(1e-9, max(X, 1e-9), 400_001), [X]])
    k = k[k <= X]
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(k > 0, k * (c - 4.0 * np.sqrt(lam / (2.0 * k))), 0.0)
    best = values.min()
    got = float(worst_extras(c, X, lam))
    assert got <= best + 1e-9  # a minimum: never above any k
    assert got >= best - 1e-6 * (1.0 + abs(best))  # and attained (the grid is fine enough)


def test_bayes_draws_each_others_option_with_its_menu_weight():
    """Rival a hurts i with its first option (weight 0.9) and helps with its second; b's only option
    is harmless. i wins only when a helps: probability 0.1, within four standard errors."""
    world = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.2]], landing={"g": [[0.5, 0.5]]})
    i = Collective("i", 0.1, "g", target="y")
    hurt, help_ = Collective("a", 0, "g", target="n"), Collective("a", 0, "g", target="y")
    prior = Beliefs.product_prior({"a": {0.2: 1.0}, "b": {0.05: 1.0}},
                                  {"a": [hurt, help_], "b": [Collective("b", 0, "g", target="y")]},
                                  {"a": [0.9, 0.1]})
    assert float(bayes_exact(world, i, prior)) == pytest.approx(0.1, abs=1e-12)
    est = bayes(world, i, prior, jax.random.key(0), 2_000)
    assert abs(float(est.mean) - 0.1) <= 4 * float(est.stderr)
