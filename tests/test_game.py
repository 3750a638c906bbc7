"""ACAGame: the vmapped normal form equals independent per-profile evaluations (THEORY §5)."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given

from aca_games import ACAGame, ACAInputError, Collective, Player, World, bounds, success, testing
from aca_games.bounds import smooth

REFERENCE = {
    "exact": lambda w, cs, eps, reading, tau: success(w, cs, eps, reading),
    "per_point": lambda w, cs, eps, reading, tau: bounds.per_point(w, cs, eps, reading),
    "closed_form": lambda w, cs, eps, reading, tau: bounds.multi_closed_form(w, cs, eps, reading),
    "smooth": lambda w, cs, eps, reading, tau: smooth.smooth_success(w, cs, tau, eps, reading),
}


@given(testing.games(strategies=("feature_label", "feature_only", "unplant"), eps=(0.0, 0.02)))
def test_payoff_tensor_matches_independent_evaluation(game):
    tensor = game.payoff_tensor()
    players = game.players
    assert tensor.shape == (len(players), *game.shape)
    for profile in itertools.product(*(range(m) for m in game.shape)):
        chosen = [p.options[a] for p, a in zip(players, profile, strict=True)]
        b = np.asarray(REFERENCE[game.bound](game.world, chosen, game.eps, game.reading, game.tau))
        expected = [
            p.value * b[i] - p.costs[a] - p.size_cost * float(chosen[i].size)
            for i, (p, a) in enumerate(zip(players, profile, strict=True))
        ]
        np.testing.assert_allclose(tensor[(slice(None), *profile)], expected, atol=1e-12)
    assert eval(repr(game), {"ACAGame": ACAGame, "Player": Player, "Collective": Collective,
                             "World": World}).payoff_tensor() == pytest.approx(tensor, abs=0)


def test_payoffs_at_sizes_are_differentiable():
    world = World(
        points=["a", "b"],
        labels=["n", "y"],
        base=[[0.3, 0.1], [0.2, 0.2]],
        landing={"g": [[0.5, 0.0], [0.2, 0.3]], "h": [[0.0, 0.0], [0.7, 0.3]]},
    )
    players = [
        Player("i", [Collective("i", 0.3, "g", target="y")], size_cost=0.2),
        Player("j", [Collective("j", 0.1, "h", target="n")], size_cost=0.1),
    ]
    for bound in ("closed_form", "smooth"):
        game = ACAGame(world, players, bound=bound)
        f = lambda a, game=game: game.payoffs_at((0, 0), a)  # noqa: E731
        sizes = jnp.asarray([0.4, 0.1])
        jac = np.asarray(jax.jacfwd(f)(sizes))
        fd = np.stack(
            [(np.asarray(f(sizes + 1e-6 * e)) - np.asarray(f(sizes - 1e-6 * e))) / 2e-6 for e in np.eye(2)],
            axis=1,
        )
        np.testing.assert_allclose(jac, fd, rtol=1e-5, atol=1e-8)
        assert abs(jac[0, 0]) > 0


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda c: ACAGame(WORLD, []), "at least one player"),
        (lambda c: ACAGame(WORLD, [Player("i", [c]), Player("i", [c])]), "names must be unique"),
        (
            lambda c: ACAGame(WORLD, [Player("i", [c.with_size(0.6)]), Player("j", [c.with_size(0.5)])]),
            "sizes sum to 1.1",
        ),
        (lambda c: ACAGame(WORLD, [Player("i", [c])], bound="nash"), "bound: unknown value 'nash'"),
        (lambda c: Player("i", [c], costs=[0.1, 0.2]), "2 costs for 1 options"),
        (lambda c: Player("i", []), "non-empty list of Collective"),
        (lambda c: Player("i", [c], value=float("inf")), "value: NaN or inf"),
    ],
)
def test_bad_input(make, match):
    with pytest.raises(ACAInputError, match=match):
        make(Collective("c", 0.2, "g", target="y"))


WORLD = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.1]], landing={"g": [[0.5, 0.5]]})
