"""The exact oracle above the enumeration size: jit, vmap, jacfwd, games, and method labels.

Worlds of 20 points run the kernel's reduction and core search (``pure_callback``) whenever a
core is too large to enumerate; everything must still compose with JAX transformations.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_oracle_reference import table_world

from aca_games import ACAGame, ACAInputError, Collective, Player, success
from aca_games import _knapsack as ks
from aca_games import _knapsack_search as search
from aca_games.oracle import METHOD_LABELS, METHODS

N_POINTS = 20


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(5)
    world = table_world(rng, N_POINTS, 3, n_signals=2)
    collectives = [Collective("a", 0.3, "g0", target="y1"),
                   Collective("b", 0.15, "g1", target=["y0", "y2"], label="y2")]
    return world, collectives


def test_jit_vmap_batch_and_jacfwd_agree(case, monkeypatch):
    world, collectives = case
    searched = []
    solve = search.solve
    monkeypatch.setattr(search, "solve", lambda *a: searched.append(len(a[0])) or solve(*a))
    alphas = np.linspace(0.05, 0.6, 6)

    def one(a):
        return success(world, [collectives[0].with_size(a), collectives[1]], 0.03, "tv")

    batched = success(world, collectives, 0.03, "tv", sizes=np.stack([alphas, np.full(6, 0.15)], 1))
    np.testing.assert_allclose(jax.jit(jax.vmap(one))(jnp.asarray(alphas)), batched, atol=1e-12)
    # the worst case is piecewise constant in the sizes: its derivative is zero, not an error
    assert np.all(np.asarray(jax.jacfwd(one)(0.3)) == 0.0)
    assert not np.allclose(batched, batched[0])  # the sizes matter: the test is not vacuous
    assert max(searched) > ks.CORE_MAX  # the numpy search ran, inside jit and vmap


def test_game_payoffs_use_the_exact_oracle_at_any_size(case):
    world, collectives = case
    players = [Player("a", [collectives[0], collectives[0].with_size(0.4)]),
               Player("b", [collectives[1], collectives[1].with_size(0.05)])]
    game = ACAGame(world, players, bound="exact", eps=0.03, reading="huber")
    assert (game.method, game.is_exact, game.oracle_method) == ("exact", True, "exact")
    tensor = game.success_tensor()
    for profile in np.ndindex(*game.shape):
        chosen = [p.options[i] for p, i in zip(players, profile, strict=True)]
        np.testing.assert_allclose(tensor[(slice(None), *profile)], success(world, chosen, 0.03, "huber"),
                                   atol=1e-12)
    greedy = ACAGame(world, players, bound="exact", eps=0.03, reading="huber", oracle_method="greedy")
    assert greedy.method == METHOD_LABELS["greedy"] and not greedy.is_exact
    assert np.all(greedy.success_tensor() <= tensor + 1e-12)  # a lower bound


def test_method_labels_never_call_a_lower_bound_exact(case):
    world, collectives = case
    assert set(METHOD_LABELS) == set(METHODS) and "exact" not in METHOD_LABELS["greedy"]
    players = [Player("a", [collectives[0]])]
    assert ACAGame(world, players, eps=0.0, oracle_method="greedy").is_exact  # ε = 0: no knapsack
    assert ACAGame(world, players, bound="closed_form").method == "closed_form"
    assert not ACAGame(world, players, bound="per_point").is_exact
    with pytest.raises(ACAInputError, match="oracle_method: unknown value 'auto'"):
        ACAGame(world, players, oracle_method="auto")
    with pytest.raises(ACAInputError, match="method: unknown value 'auto'"):
        success(world, collectives, 0.02, method="auto")
