"""The payoff-tensor convention shared by every solver: ``(n_players, m_1, ..., m_n)``."""

from __future__ import annotations

import numpy as np

from aca_games import ACAInputError


def payoff_tensor(payoffs, name: str = "payoffs") -> np.ndarray:
    """Validate and return the float64 payoff tensor ``(n_players, m_1, ..., m_n)``.

    Accepts an array-like or any object with a ``payoff_tensor()`` method (e.g. an ``ACAGame``);
    ``name`` is the argument named in error messages.
    Raises :class:`aca_games.ACAInputError` on a wrong shape, an empty action set or a non-finite
    payoff.
    """
    if hasattr(payoffs, "payoff_tensor"):
        payoffs = payoffs.payoff_tensor()
    try:
        P = np.asarray(payoffs, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ACAInputError(f"{name}: cannot convert to a float array ({exc})") from exc
    if P.ndim < 2:
        raise ACAInputError(
            f"{name}: expected an array of shape (n_players, m_1, ..., m_n), got ndim={P.ndim} "
            f"(shape {P.shape})"
        )
    if P.shape[0] != P.ndim - 1:
        raise ACAInputError(
            f"{name}: shape {P.shape} has {P.ndim - 1} action axes but {P.shape[0]} players; "
            f"shape[0] must equal the number of players (ndim - 1), one payoff array per player"
        )
    if 0 in P.shape:
        raise ACAInputError(f"{name}: every player needs at least one action, got shape {P.shape}")
    if not np.isfinite(P).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(P))[0])
        raise ACAInputError(
            f"{name}: non-finite value {P[bad]} at index {bad} (player {bad[0]}, profile {bad[1:]}); "
            f"all payoffs must be finite"
        )
    return P
