"""Who helps and who hurts whom (THEORY §3.3) [KVKS25, BGNAD25].

* :func:`externalities`: ``X[i, j] = S_i({i, j}) - S_i({i})``, the change in ``i``'s exact success
  when ``j`` joins versus when ``i`` acts alone (the constructiveness score of [KVKS25]), from
  :func:`pairwise_success`.
* :func:`pairwise_success`: ``S_i({i})`` and ``S_i({i, j})`` for every collective and pair. They are
  deviation payoffs of the *presence game* (each collective absent or present, payoff = exact
  success): at the profile where only ``j`` is present, ``i`` switching to present earns
  ``S_i({i, j})``. So the ``K²`` pairs cost ``K + 1`` evaluations of ``K`` single-collective oracles
  against an aggregate (:meth:`aca_games.ACAGame.all_deviation_payoffs`), not ``K²`` oracle calls
  on all ``K`` collectives.
* :func:`alignment`: for each ordered pair, how much of ``j``'s planting lands on ``i``'s signal set
  on labels inside ``T_i`` (support) or outside (conflict mass ``ρ_ij`` of the B1 bound).
  Alignment is asymmetric.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from aca_games.bounds.multi import _conflict
from aca_games.collective import Collective
from aca_games.game import ACAGame, Player
from aca_games.planting import plant_all, sizes_of
from aca_games.world import World


def externalities(
    world: World, collectives: Sequence[Collective], eps=0.0, reading: str = "huber"
) -> np.ndarray:
    """Pairwise effects on exact success: ``X[i, j] = S_i({i, j}) - S_i({i})``; zero diagonal.

    >>> w = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.2]], landing={"g": [[0.5, 0.5]]})
    >>> cs = [Collective("i", 0.08, "g", target="y"), Collective("j", 0.05, "g", target="y")]
    >>> externalities(w, cs).tolist()   # alone 0.92*0.2 + 0.08 < 0.276; together 0.304 > 0.261
    [[0.0, 1.0], [1.0, 0.0]]
    """
    alone, pairs = pairwise_success(world, collectives, eps, reading)
    out = pairs - alone[:, None]
    np.fill_diagonal(out, 0.0)
    return out


def pairwise_success(
    world: World, collectives: Sequence[Collective], eps=0.0, reading: str = "huber"
) -> tuple[np.ndarray, np.ndarray]:
    """Exact success of each collective alone, ``S_i({i})`` (shape ``(K,)``), and with one other,
    ``S_i({i, j})`` (shape ``(K, K)``, diagonal ``S_i({i})``); see the module docstring.

    >>> w = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.2]], landing={"g": [[0.5, 0.5]]})
    >>> cs = [Collective("i", 0.08, "g", target="y"), Collective("j", 0.05, "g", target="y")]
    >>> alone, pairs = pairwise_success(w, cs)
    >>> alone.tolist(), pairs.tolist()
    ([0.0, 0.0], [[0.0, 1.0], [1.0, 0.0]])
    """
    game = _presence_game(world, collectives, eps, reading)
    k = len(game.players)
    nobody_then_each = np.vstack([np.zeros((1, k), int), np.eye(k, dtype=int)])
    present = np.asarray(game.all_deviation_payoffs(nobody_then_each))[:, :, 1]  # (1 + k, i)
    return present[0], present[1:].T


def success_alone(
    world: World, collectives: Sequence[Collective], eps=0.0, reading: str = "huber"
) -> np.ndarray:
    """Exact success ``S_i({i})`` of each collective acting alone, shape ``(K,)``: one evaluation of
    ``K`` single-collective oracles (equals ``success(world, [c])`` for each ``c``).

    >>> w = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.2]], landing={"g": [[0.5, 0.5]]})
    >>> success_alone(w, [Collective("i", 0.3, "g", target="y"), Collective("j", 0.05, "g", target="y")])
    array([1., 0.])
    """
    game = _presence_game(world, collectives, eps, reading)
    return np.asarray(game.all_deviation_payoffs(np.zeros(len(game.players), int)))[:, 1]


def _presence_game(world, collectives, eps, reading) -> ACAGame:
    """Each collective absent (size 0) or present (its size); payoff = exact success."""
    collectives = list(collectives)
    sizes_of(collectives)  # names unique, Σ α < 1
    players = [Player(c.name, [c.with_size(0.0), c]) for c in collectives]
    return ACAGame(world, players, bound="exact", eps=eps, reading=reading)


class Alignment(NamedTuple):
    """Pairwise alignment on ``i``'s signal set (rows ``i``, columns ``j``; zero diagonal).

    Attributes:
        support: ``Σ_{x̃∈X*_i} max_{y∈T_i} E_j(x̃, y)``: ``j``'s planting on ``i``'s target labels.
        conflict: ``ρ_ij`` of the B1 bound: ``j``'s planting that out-votes ``i``'s label.
    """

    support: jax.Array
    conflict: jax.Array

    def relation(self, i: int, j: int) -> str:
        """``"supports"``, ``"conflicts"``, ``"mixed"`` or ``"independent"`` (``j`` towards ``i``)."""
        s, c = float(self.support[i, j]) > 0, float(self.conflict[i, j]) > 0
        return {(True, False): "supports", (False, True): "conflicts", (True, True): "mixed"}.get(
            (s, c), "independent"
        )


def alignment(world: World, collectives: Sequence[Collective]) -> Alignment:
    """Support and conflict masses of every ordered pair of collectives.

    >>> w = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.2]], landing={"g": [[0.5, 0.5]]})
    >>> cs = [Collective("i", 0.1, "g", target="y"), Collective("j", 0.1, "g", target="n")]
    >>> alignment(w, cs).relation(0, 1)
    'conflicts'
    """
    p = plant_all(world, collectives)
    on_target = jnp.max(jnp.where(p.target[:, None], p.planted[None], 0.0), axis=3)  # (i, j, P)
    support = jnp.sum(jnp.where(p.landing[:, None, :] > 0, on_target, 0.0), axis=2)
    support = support * (1.0 - jnp.eye(support.shape[0]))
    return Alignment(support=support, conflict=_conflict(p))
