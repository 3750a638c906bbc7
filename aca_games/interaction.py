"""Who helps and who hurts whom (THEORY §3.3) [KVKS25, BGNAD25].

* :func:`externalities`: ``X[i, j] = S_i({i, j}) - S_i({i})``, the change in ``i``'s exact success
  when ``j`` joins versus when ``i`` acts alone (the constructiveness score of [KVKS25]); every pair
  is evaluated in one batched oracle call.
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
from aca_games.oracle import success
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
    collectives = list(collectives)
    k = len(collectives)
    sizes = np.asarray(sizes_of(collectives))
    pair = np.eye(k)[:, None, :] + np.eye(k)[None, :, :]  # pair[i, j] = indicator of {i, j}
    batch = np.minimum(pair, 1.0) * sizes  # (i, j, K): only i and j act
    values = np.asarray(success(world, collectives, eps, reading, sizes=batch))  # (i, j, K)
    idx = np.arange(k)
    together = values[idx[:, None], idx[None, :], idx[:, None]]  # S_i({i, j}) = values[i, j, i]
    alone = values[idx, idx, idx]  # S_i({i})
    return together - alone[:, None]


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
