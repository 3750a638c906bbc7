"""Best responses (THEORY §5; §3.4 for beliefs): each check can fail.

* against a pure profile: the ranking is the argmax (and order) of the payoff tensor slice, by brute
  force, for bare tensors and for ``ACAGame`` (whose ``success`` column must be the success tensor's);
* against a mixed profile or a Bayesian distribution: expected payoffs equal a manual numpy
  contraction;
* robust: the pure max-min equals brute force; the mixed LP value is >= the pure max-min, equals
  ``scipy.optimize.linprog``, and its numpy re-check and dual bound close the duality gap;
* invariance: rankings (and the LP strategy) are unchanged under positive affine payoff transforms;
* beliefs: the promised (robust) success of every option never exceeds the exact oracle in worlds
  drawn from inside the beliefs; full knowledge reproduces the per-point game; exact vs Monte Carlo
  Bayesian expectations agree;
* bad input raises ``ACAInputError`` with a message naming the problem.
"""

from __future__ import annotations

import itertools

import jax
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from references import certificates as ref
from scipy.optimize import linprog

from aca_games import ACAGame, ACAInputError, Collective, Player, World, success, testing
from aca_games.beliefs import Beliefs
from solvers import Solution
from solvers.best_response import best_response

SHAPES = [(2, 3), (3, 2), (2, 2, 3), (3, 2, 2)]


def _tensor(seed: int, shape) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(len(shape), *shape))


def _order(sol: Solution) -> list[int]:
    rows = sol.value["ranking"] if isinstance(sol.value, dict) else sol.value
    return [r["option"] for r in rows]


def _slice(P, player, profile):
    idx = list(profile)
    idx[player] = slice(None)
    return P[(player, *idx)]


# ------------------------------------------------------------------------------ pure profiles
@given(st.integers(0, 2**31), st.sampled_from(SHAPES), st.data())
def test_pure_profile_is_the_argmax_of_the_tensor_slice(seed, shape, data):
    P = np.round(_tensor(seed, shape), 1)  # coarse: ties occur
    player = data.draw(st.integers(0, len(shape) - 1))
    profile = tuple(data.draw(st.integers(0, m - 1)) for m in shape)
    sol = best_response(P, player, profile)
    col = _slice(P, player, profile)
    best = sol.value[0]["option"]
    assert sol.status == "optimal"
    assert sol.certificate == ref.best_response_gap(P, player, profile, best) == 0.0  # by loops
    # brute force: the best option has the largest payoff and the ranking is sorted
    assert sol.value[0]["payoff"] == col.max()
    assert sol.value[0]["option"] == int(np.argmax(col))  # first maximiser on ties
    assert [r["payoff"] for r in sol.value] == sorted(col.tolist(), reverse=True)
    assert sorted(_order(sol)) == list(range(shape[player]))
    assert sol.stats["ties"] == [int(o) for o in np.flatnonzero(col == col.max())]
    second = np.sort(col)[-2]
    assert sol.stats["second_gap"] == pytest.approx(col.max() - second, abs=0)


def _small_game(bound="exact"):
    w = World(
        points=["a", "b", "c"],
        labels=["n", "y"],
        base=[[0.2, 0.1], [0.15, 0.15], [0.1, 0.2]],
        landing={
            "g": [[0.25, 0.25], [0.25, 0.25], [0.0, 0.0]],
            "h": [[0.0, 0.0], [0.3, 0.3], [0.2, 0.2]],
            "k": [[0.2, 0.2], [0.0, 0.0], [0.3, 0.3]],
        },
    )
    i = Player(
        "i",
        [Collective("i", a, s, target="y") for s, a in (("g", 0.2), ("h", 0.1), ("k", 0.3))],
        value=2.0,
        costs=[0.0, 0.1, 0.05],
        size_cost=0.5,
    )
    j = Player(
        "j", [Collective("j", a, s, target="n") for s, a in (("g", 0.1), ("h", 0.25))], costs=[0.0, 0.05]
    )
    return w, ACAGame(w, [i, j], bound=bound)


GAME = _small_game()


def test_aca_game_pure_profile_matches_the_payoff_and_success_tensors():
    _, game = GAME
    P, S = game.payoff_tensor(), game.success_tensor()
    for player, profile in itertools.product((0, 1), itertools.product(range(3), range(2))):
        sol = best_response(game, player, profile)
        col, succ = _slice(P, player, profile), _slice(S, player, profile)
        assert sol.value[0]["option"] == int(np.argmax(col))
        for r in sol.value:
            assert r["payoff"] == pytest.approx(col[r["option"]], abs=1e-12)
            assert r["success"] == pytest.approx(succ[r["option"]], abs=1e-12)
            assert r["name"] == game.players[player].option_names[r["option"]]
        assert sol.stats["recheck_error"] <= 1e-12
    by_name = best_response(game, "j", (2, None))
    assert _order(by_name) == _order(best_response(game, 1, (2, 0)))


# ------------------------------------------------------------------- mixed and Bayesian beliefs
@given(st.integers(0, 2**31), st.sampled_from(SHAPES), st.data())
def test_mixed_and_bayesian_expected_payoffs_equal_a_manual_contraction(seed, shape, data):
    P = _tensor(seed, shape)
    rng = np.random.default_rng(seed + 1)
    player = data.draw(st.integers(0, len(shape) - 1))
    xs = [rng.dirichlet(np.ones(m)) * (rng.random(m) < 0.8) for m in shape]
    xs = [x / x.sum() if x.sum() > 0 else np.eye(len(x))[0] for x in xs]
    against = tuple(None if j == player else xs[j] for j in range(len(shape)))
    sol = best_response(P, player, against)
    expected = ref.option_scores(P, player, against)  # explicit sums over pure profiles
    got = {r["option"]: r["payoff"] for r in sol.value}
    np.testing.assert_allclose([got[o] for o in range(shape[player])], expected, atol=1e-12)
    assert sol.value[0]["payoff"] == pytest.approx(expected.max(), abs=1e-12)

    # Bayesian: an arbitrary (correlated) distribution over the others' joint options
    others = [m for j, m in enumerate(shape) if j != player]
    joint = rng.dirichlet(np.ones(int(np.prod(others)))).reshape(others)
    dense = best_response(P, player, joint)
    manual = np.tensordot(np.moveaxis(P[player], player, 0), joint, axes=len(others))
    got = {r["option"]: r["payoff"] for r in dense.value}
    np.testing.assert_allclose([got[o] for o in range(shape[player])], manual, atol=1e-12)
    # the same distribution as a dict keyed by the others' profiles
    as_dict = {k: float(joint[k]) for k in itertools.product(*(range(m) for m in others))}
    assert [r["payoff"] for r in best_response(P, player, as_dict).value] == pytest.approx(
        [r["payoff"] for r in dense.value], abs=1e-12
    )


def test_aca_game_bayesian_success_is_the_expected_success():
    _, game = GAME
    S, P = game.success_tensor(), game.payoff_tensor()
    prior = {(0,): 0.25, (1,): 0.75}
    sol = best_response(game, 0, prior)
    for r in sol.value:
        assert r["success"] == pytest.approx(S[0, r["option"]] @ np.array([0.25, 0.75]), abs=1e-12)
        assert r["payoff"] == pytest.approx(P[0, r["option"]] @ np.array([0.25, 0.75]), abs=1e-12)
    mixed = best_response(game, 0, (None, [0.25, 0.75]))
    assert [r["payoff"] for r in mixed.value] == pytest.approx([r["payoff"] for r in sol.value], abs=1e-12)


# ----------------------------------------------------------------------------------- robust
def _robust_set(rng, P, player):
    others = [range(m) for j, m in enumerate(P.shape[1:]) if j != player]
    all_ = list(itertools.product(*others))
    k = int(rng.integers(1, len(all_) + 1))
    return {all_[i] for i in rng.choice(len(all_), size=k, replace=False)}


def _brute_maxmin(P, player, S):
    n = P.shape[0]
    worst = []
    for o in range(P.shape[1 + player]):
        vals = []
        for s in S:
            prof = list(s)
            prof.insert(player, o)
            vals.append(P[(player, *prof)])
        worst.append(min(vals))
    del n
    return np.array(worst)


def _linprog_value(U):
    m, K = U.shape
    c = np.zeros(m + 1)
    c[-1] = -1.0
    A_ub = np.hstack([-U.T, np.ones((K, 1))])
    res = linprog(
        c,
        A_ub=A_ub,
        b_ub=np.zeros(K),
        A_eq=[[1.0] * m + [0.0]],
        b_eq=[1.0],
        bounds=[(0, None)] * m + [(None, None)],
        method="highs",
    )
    assert res.status == 0
    return -res.fun


@given(st.integers(0, 2**31), st.sampled_from(SHAPES), st.data())
def test_robust_maxmin_equals_brute_force_and_the_lp_equals_linprog(seed, shape, data):
    P = _tensor(seed, shape)
    rng = np.random.default_rng(seed)
    player = data.draw(st.integers(0, len(shape) - 1))
    S = _robust_set(rng, P, player)
    pure = best_response(P, player, S)
    worst = _brute_maxmin(P, player, S)
    assert pure.value[0]["payoff"] == worst.max()
    assert [r["payoff"] for r in pure.value] == sorted(worst.tolist(), reverse=True)
    for r in pure.value:  # the reported worst profile attains the worst case
        prof = list(r["worst_profile"])
        prof.insert(player, r["option"])
        assert P[(player, *prof)] == r["payoff"]

    sol = best_response(P, player, S, robust_mixed=True)
    cert = sol.certificate
    assert sol.status == "optimal" and cert["lp_status"] == "optimal"
    x = sol.value["strategy"]
    assert x.min() >= 0 and x.sum() == pytest.approx(1.0, abs=1e-12)
    assert sol.value["worst_case"] >= worst.max() - 1e-9  # mixing never hurts the guarantee
    # the guarantee is re-evaluated in numpy from x and the set, and matches linprog
    U = np.stack(
        [
            [P[(player, *(list(s[:player]) + [o] + list(s[player:])))] for s in sorted(S)]
            for o in range(shape[player])
        ]
    )
    assert cert["worst_case"] == pytest.approx(float((x @ U).min()), abs=1e-12)
    assert cert["worst_case"] == pytest.approx(_linprog_value(U), abs=1e-8)
    assert abs(cert["duality_gap"]) <= 1e-8 and cert["upper_bound"] >= cert["worst_case"] - 1e-9
    assert sol.value["ranking"] == pure.value


def test_robust_mixed_beats_pure_on_matching_pennies():
    pennies = np.array([[[1.0, -1.0], [-1.0, 1.0]], [[-1.0, 1.0], [1.0, -1.0]]])
    sol = best_response(pennies, 0, {(0,), (1,)}, robust_mixed=True)
    np.testing.assert_allclose(sol.value["strategy"], [0.5, 0.5], atol=1e-9)
    assert sol.value["worst_case"] == pytest.approx(0.0, abs=1e-9)
    assert sol.certificate["gain_over_pure"] == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(sol.certificate["adversary"], [0.5, 0.5], atol=1e-9)


def test_aca_game_robust_success_is_the_worst_case_over_the_set():
    _, game = GAME
    S, P = game.success_tensor(), game.payoff_tensor()
    sol = best_response(game, 1, {(0,), (2,)})
    for r in sol.value:
        assert r["payoff"] == pytest.approx(min(P[1, 0, r["option"]], P[1, 2, r["option"]]), abs=1e-12)
        assert r["success"] == pytest.approx(min(S[1, 0, r["option"]], S[1, 2, r["option"]]), abs=1e-12)


# ------------------------------------------------------------------------------- invariance
@given(
    st.integers(0, 2**31), st.sampled_from(SHAPES), st.floats(0.01, 100.0), st.floats(-50.0, 50.0), st.data()
)
def test_best_responses_are_invariant_under_positive_affine_transforms(seed, shape, a, b, data):
    P = _tensor(seed, shape)
    rng = np.random.default_rng(seed)
    player = data.draw(st.integers(0, len(shape) - 1))
    Q = P.copy()
    Q[player] = a * P[player] + b
    profile = tuple(int(rng.integers(m)) for m in shape)
    mixed = tuple(rng.dirichlet(np.ones(m)) for m in shape)
    S = _robust_set(rng, P, player)
    for against in (profile, mixed, S):
        one, two = best_response(P, player, against), best_response(Q, player, against)
        assert _order(one) == _order(two)
        np.testing.assert_allclose(
            [a * r["payoff"] + b for r in one.value],
            [r["payoff"] for r in two.value],
            rtol=1e-9,
            atol=1e-9 * max(1.0, abs(b)),
        )
    one = best_response(P, player, S, robust_mixed=True)
    two = best_response(Q, player, S, robust_mixed=True)
    assert two.value["worst_case"] == pytest.approx(a * one.value["worst_case"] + b, rel=1e-7, abs=1e-7)
    if one.stats["second_gap"] > 1e-6:  # generic: the optimal strategy is unique
        np.testing.assert_allclose(one.value["strategy"], two.value["strategy"], atol=1e-6)


# ----------------------------------------------------------------------------------- beliefs
MENU = 2


@st.composite
def belief_instances(draw):
    """A one-player game (three feature-label options) and interval beliefs about one or two
    rivals, plus the worlds inside the beliefs to check: size shares ``u`` and menu choices."""
    world = draw(testing.worlds(shapes=testing.SHAPES[:2]))
    eps = draw(st.sampled_from([0.0, 0.0, 0.02]))
    k = draw(st.sampled_from([1, 2]))
    size = st.floats(0.05, 0.45)
    options = [draw(testing.collectives(world, "i", ("feature_label",), noise=False, size=draw(size)))
               for _ in range(3)]
    weights = np.array(draw(st.lists(st.floats(0.05, 1.0), min_size=k + 2, max_size=k + 2)))
    hi = weights[:k] / weights.sum() * 0.5
    lo = hi * np.array(draw(st.lists(st.one_of(st.just(0.0), st.floats(0.0, 1.0)), min_size=k, max_size=k)))
    menus = {f"j{j}": [draw(testing.rivals(world, options[0], f"j{j}", ("feature_label",), noise=False))
                       for _ in range(MENU)] for j in range(k)}
    beliefs = Beliefs.intervals({f"j{j}": (float(lo[j]), float(hi[j])) for j in range(k)}, menus)
    costs = draw(st.lists(st.floats(0.0, 0.3), min_size=3, max_size=3))
    player = Player("i", options, value=draw(st.floats(0.5, 2.0)), costs=costs, size_cost=0.2)
    u = draw(hnp.arrays(np.float64, (6, k), elements=st.floats(0.0, 1.0)))
    choice = st.lists(st.integers(0, MENU - 1), min_size=k, max_size=k)
    choices = draw(st.lists(choice, min_size=2, max_size=2))
    return world, ACAGame(world, [player], eps=eps), beliefs, lo, hi, u, choices


@given(belief_instances())
def test_robust_promise_never_exceeds_the_oracle_in_worlds_inside_the_beliefs(inst):
    world, game, beliefs, lo, hi, u, choices = inst
    sol = best_response(game, 0, beliefs)
    p = game.players[0]
    assert sol.status == "optimal" and sol.certificate == 0.0
    for r in sol.value:
        o = r["option"]
        assert r["payoff"] == pytest.approx(
            p.value * r["guarantee"] - p.costs[o] - p.size_cost * float(p.options[o].size), abs=1e-12
        )
    assert [r["payoff"] for r in sol.value] == sorted((r["payoff"] for r in sol.value), reverse=True)
    # worlds inside the beliefs: two menu choices of the others, each with sizes drawn uniformly in the
    # box, at drawn vertices and at both corners (one batched oracle call per option and choice)
    menus = [o.menu for o in beliefs.others]
    u[3:] = u[3:] < 0.5
    u[0], u[1] = 0.0, 1.0
    sizes = lo + u * (hi - lo)
    for choice in choices:
        others = [menu[c] for menu, c in zip(menus, choice, strict=True)]
        for r in sol.value:
            own = p.options[r["option"]]
            batch = np.column_stack([np.full(len(sizes), float(own.size)), sizes])
            truth = np.asarray(success(world, [own, *others], game.eps, game.reading, sizes=batch))[:, 0]
            assert r["guarantee"] <= truth.min() + 1e-12, (r, truth)


def test_full_knowledge_beliefs_reproduce_the_per_point_game():
    world, game = _small_game(bound="per_point")
    S = game.success_tensor()
    alone = ACAGame(world, [game.players[0]], bound="per_point")
    for a in range(2):
        known = Beliefs.known([game.players[1].options[a]])
        sol = best_response(alone, 0, known)
        for r in sol.value:
            assert r["guarantee"] == pytest.approx(S[0, r["option"], a], abs=1e-12)
        assert _order(sol) == _order(best_response(game, 0, (None, a)))


def test_bayesian_prior_exact_and_monte_carlo_agree():
    world, game = _small_game()
    alone = ACAGame(world, [game.players[0]])
    opts = game.players[1].options
    prior = Beliefs.prior([(0.4, [opts[0]]), (0.6, [opts[1]])])
    exact = best_response(alone, 0, prior)
    assert exact.stats["criterion"] == "bayes" and exact.status == "optimal"
    # exact expectation == the game's Bayesian best response against the same distribution
    via_game = best_response(game, 0, {(0,): 0.4, (1,): 0.6})
    expected = [r["success"] for r in via_game.value]
    assert [r["expected"] for r in exact.value] == pytest.approx(expected, abs=1e-12)
    mc = best_response(alone, 0, prior, key=jax.random.key(1), n_samples=256)
    assert mc.status == "converged"
    for r_mc in mc.value:
        r = next(r for r in exact.value if r["option"] == r_mc["option"])
        assert abs(r_mc["expected"] - r["expected"]) <= 4 * r_mc["stderr"] + 1e-12
        assert r_mc["guarantee"] <= r["expected"] + 1e-12  # the robust guarantee is below the mean
    robust = best_response(alone, 0, prior, criterion="robust")
    assert [r["payoff"] for r in robust.value] == sorted(r["guaranteed_payoff"] for r in robust.value)[::-1]


# ----------------------------------------------------------------------------------- bad input
P2 = _tensor(0, (2, 3))


@pytest.mark.parametrize(
    ("game", "player", "against", "kwargs", "match"),
    [
        (P2, 2, (0, 0), {}, r"player: index 2 out of range for a 2-player game \(0..1\)"),
        (P2, -1, (0, 0), {}, "player: index -1 out of range"),
        (P2, 0.5, (0, 0), {}, "player: expected a player index"),
        (P2, 0, (0, 0, 1), {}, "against: profile has 3 entries, expected 2"),
        (P2, 0, (0, 3), {}, r"against\[1\]: option 3 out of range, player 1 has 3 options"),
        (P2, 0, (None, [0.5, 0.4, 0.0]), {}, r"against\[1\]: probabilities sum to 0.9"),
        (P2, 0, (None, [0.5, 0.5]), {}, r"against\[1\]: expected 3 probabilities"),
        (P2, 0, (None, [1.5, -0.5, 0.0]), {}, "probabilities must be >= 0"),
        (P2, 0, {(0,): 0.5, (1,): 0.6}, {}, "probabilities sum to 1.1"),
        (P2, 0, {(0, 1, 2): 1.0}, {}, r"has 3 entries, expected 1 .* or 2"),
        (P2, 0, np.ones(2) / 2, {}, r"against: a distribution over the others' joint options has shape"),
        (P2, 0, set(), {}, "against: the uncertainty set is empty"),
        (P2, 0, {(5,)}, {}, "option 5 out of range"),
        (P2, 0, (0, 1), {"robust_mixed": True}, "robust_mixed: the mixed robust strategy needs an"),
        (P2, 0, "ab", {}, "against: expected a profile"),
        (np.zeros((3, 2, 2)), 0, (0, 0), {}, r"game: shape \(3, 2, 2\) has 2 action axes but 3 players"),
        (np.full((2, 2, 2), np.nan), 0, (0, 0), {}, "game: non-finite value nan"),
        (P2, 0, Beliefs.total_mass(0.0, 0.1), {}, "game: Beliefs need an ACAGame"),
    ],
)
def test_bad_input_raises_with_a_clear_message(game, player, against, kwargs, match):
    with pytest.raises(ACAInputError, match=match):
        best_response(game, player, against, **kwargs)


def test_bad_input_on_games_and_beliefs():
    world, game = GAME
    with pytest.raises(ACAInputError, match="player: no player named 'k'"):
        best_response(game, "k", (0, 0))
    with pytest.raises(ACAInputError, match="criterion: 'bayes' needs a prior"):
        best_response(game, 0, Beliefs.total_mass(0.0, 0.1), criterion="bayes")
    with pytest.raises(ACAInputError, match="criterion: only used with Beliefs"):
        best_response(game, 0, (0, 0), criterion="robust")
    continuous = Beliefs.product_prior({"j": (0.0, 0.2)}, {"j": [Collective("j", 0, "h", target="n")]})
    with pytest.raises(ACAInputError, match="key: this prior is not finite"):
        best_response(ACAGame(world, [game.players[0]]), 0, continuous)
    with pytest.raises(ACAInputError, match="beliefs: 'i' is the collective itself"):
        best_response(game, 0, Beliefs.intervals({"i": (0.0, 0.1)}, {"i": [game.players[1].options[0]]}))
