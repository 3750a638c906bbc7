"""Deviation payoffs of a finite game without its normal form (THEORY §5).

A *deviation oracle* answers, at a pure profile ``a``, ``D[p, b] = u_p(b, a_{-p})`` for every player
``p`` and option ``b``: ``Σ m_i`` numbers instead of the ``n · Π m_i`` of the payoff tensor.
``D[p, a_p] = u_p(a)``, so the largest unilateral gain at ``a`` is
``max_p (max_b D[p, b] - D[p, a_p])``, exactly. Menus are padded to the widest one with ``-inf``.

* :class:`GameOracle` wraps an :class:`aca_games.ACAGame` (its deviation kernels use the training
  mass aggregate, see :mod:`aca_games.game`); :class:`ArrayOracle` wraps a payoff tensor
  ``(n_players, m_1, ..., m_n)`` by flat indexing.
* :func:`game_regrets`: each player's regret at a pure profile or at a mixed *product* profile of an
  ``ACAGame`` of any size; the mixed case enumerates the product of the supports (at most
  :data:`MAX_SUPPORT_PROFILES` profiles), weighting each by its probability.
* :func:`correlated_gains`: ``E_{a~σ}[u_p(b, a_{-p}) - u_p(a)]`` for a distribution ``σ`` over
  pure profiles given as a list (its maximum is the coarse-correlated-equilibrium gap).
"""

from __future__ import annotations

import functools
import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import ACAGame, ACAInputError
from aca_games._game_kernels import deviation_row, deviation_table
from aca_games.game import format_count
from solvers._payoffs import payoff_tensor

#: Mixed product profiles of an ``ACAGame`` are checked exactly by enumerating the product of their
#: supports; past this many support profiles :func:`game_regrets` raises instead.
MAX_SUPPORT_PROFILES = 100_000
#: Profiles evaluated per call when many are needed (bounds peak memory).
PROFILE_CHUNK = 256
#: Probability vectors must sum to 1 within this.
PROB_TOL = 1e-9


class GameOracle:
    """Deviation payoffs of an :class:`~aca_games.ACAGame` (see the module docstring).

    ``row_fn(arrays, profile, player, config)`` and ``table_fn(arrays, profile, config)`` are
    module-level pure functions and ``config`` is hashable, so solvers jit loops around them with
    both as static arguments: one compiled program per shape, shared by every game.
    """

    def __init__(self, game: ACAGame):
        self.game = game
        self.shape = game.shape
        self.names = [p.name for p in game.players]
        self.arrays = game.arrays
        self.config = (game.config, game.deviation_chunk())
        self.row_fn, self.table_fn = _game_row, _game_table

    def tables(self, profiles: np.ndarray) -> np.ndarray:
        """``(B, n, width)`` for a batch of profiles, as a numpy array."""
        return _in_chunks(lambda chunk: np.asarray(self.game.all_deviation_payoffs(chunk)), profiles)


def _game_row(arrays, profile, player, config):
    return deviation_row(arrays, profile, player, config[0])


def _game_table(arrays, profile, config):
    return deviation_table(arrays, profile, config[0], config[1])


class ArrayOracle:
    """Deviation payoffs of a payoff tensor ``(n_players, m_1, ..., m_n)`` by flat indexing."""

    def __init__(self, payoffs):
        P = payoff_tensor(payoffs)
        self.shape = P.shape[1:]
        self.names = [f"player {p}" for p in range(len(self.shape))]
        n = len(self.shape)
        strides = [math.prod(self.shape[p + 1 :]) for p in range(n)]
        self.arrays = (jnp.asarray(P.reshape(n, -1)), jnp.asarray(strides), jnp.asarray(self.shape))
        self.config = max(self.shape)  # the padded menu width
        self.row_fn, self.table_fn = _array_row, _array_table

    def tables(self, profiles: np.ndarray) -> np.ndarray:
        return _in_chunks(lambda chunk: np.asarray(_array_tables(self.arrays, chunk, self.config)), profiles)


def _array_row(arrays, profile, player, width):
    flat, strides, counts = arrays
    profile = jnp.asarray(profile)
    options = jnp.arange(width)
    own = jnp.minimum(options, counts[player] - 1)
    index = profile @ strides + (own - profile[player]) * strides[player]
    return jnp.where(options < counts[player], flat[player, index], -jnp.inf)


def _array_table(arrays, profile, width):
    return jax.vmap(lambda p: _array_row(arrays, profile, p, width))(jnp.arange(arrays[0].shape[0]))


@functools.partial(jax.jit, static_argnames=("width",))
def _array_tables(arrays, profiles, width):
    return jax.vmap(lambda prof: _array_table(arrays, prof, width))(profiles)


def _in_chunks(fn, profiles: np.ndarray) -> np.ndarray:
    profiles = np.asarray(profiles, dtype=np.int32)
    chunks = range(0, len(profiles), PROFILE_CHUNK)
    return np.concatenate([fn(profiles[s : s + PROFILE_CHUNK]) for s in chunks])


def oracle_of(game) -> GameOracle | ArrayOracle:
    """The deviation oracle of an ``ACAGame`` or of a payoff tensor."""
    if isinstance(game, ACAGame):
        return GameOracle(game)
    return ArrayOracle(game)


def check_pure(oracle, profile, name: str = "profile") -> np.ndarray:
    """A pure profile as an int32 array ``(n,)``, every entry an option index in range."""
    n = len(oracle.shape)
    try:
        items = list(profile)
    except TypeError:
        raise ACAInputError(
            f"{name}: expected {n} option indices (one per player), got {profile!r}"
        ) from None
    if len(items) != n:
        raise ACAInputError(f"{name}: expected {n} option indices (one per player), got {len(items)}")
    out = np.zeros(n, dtype=np.int32)
    for p, a in enumerate(items):
        ok = isinstance(a, numbers.Integral | np.integer) and not isinstance(a, bool | np.bool_)
        if not ok or not 0 <= int(a) < oracle.shape[p]:
            raise ACAInputError(
                f"{name}[{p}]: expected an option index of {oracle.names[p]!r} in 0..{oracle.shape[p] - 1}, "
                f"got {a!r}"
            )
        out[p] = int(a)
    return out


def gains_at(tables: np.ndarray, profiles: np.ndarray) -> np.ndarray:
    """``G[k, p, b] = D_k[p, b] - D_k[p, a_p]`` for tables ``(B, n, width)`` at profiles ``(B, n)``
    (``-inf`` past each menu)."""
    own = np.take_along_axis(tables, np.asarray(profiles)[:, :, None], axis=2)
    return tables - own


def correlated_gains(oracle, profiles: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``E_{a~σ}[u_p(b, a_{-p}) - u_p(a)]``, shape ``(n, width)`` (``-inf`` past each menu), for
    ``σ`` putting ``weights[k]`` on ``profiles[k]``."""
    profiles = np.asarray(profiles, dtype=np.int32)
    gains = gains_at(oracle.tables(profiles), profiles)
    out = np.einsum("k,kpb->pb", np.asarray(weights, dtype=np.float64), np.where(np.isinf(gains), 0.0, gains))
    out[np.isinf(gains[0])] = -np.inf
    return out


def _mixed(oracle, profile) -> list[np.ndarray]:
    n = len(oracle.shape)
    if len(profile) != n:
        raise ACAInputError(f"profile: expected {n} strategies (one per player), got {len(profile)}")
    out = []
    for p, x in enumerate(profile):
        m = oracle.shape[p]
        if isinstance(x, numbers.Integral | np.integer) and not isinstance(x, bool | np.bool_):
            check_pure(oracle, [0] * p + [x] + [0] * (n - p - 1))
            out.append(np.eye(m)[int(x)])
            continue
        try:
            x = np.asarray(x, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            x = np.full(1, np.nan)
        if x.shape != (m,) or not np.isfinite(x).all() or (x < 0).any() or abs(x.sum() - 1) > PROB_TOL:
            raise ACAInputError(
                f"profile[{p}]: expected an option index or {m} probabilities >= 0 summing to 1 "
                f"(player {oracle.names[p]!r}), got {np.round(x, 6).tolist()}"
            )
        out.append(x)
    return out


def _product(supports: list[np.ndarray], count: int) -> np.ndarray:
    """Every combination of the supports, ``(count, n)``, in C order (any number of players)."""
    grid = np.zeros((count, len(supports)), dtype=np.int32)
    inner = count
    for p, support in enumerate(supports):
        inner //= len(support)
        grid[:, p] = np.tile(np.repeat(support, inner), count // (len(support) * inner))
    return grid


def game_regrets(game, profile) -> np.ndarray:
    """Each player's regret ``max_b u_p(b, x_{-p}) - u_p(x)``, shape ``(n,)``, clipped at 0, for a
    pure profile (option indices) or a mixed product profile (per player an index or a probability
    vector) of a game of any size; never builds the payoff tensor.

    Raises :class:`ACAInputError` when the product of the support sizes passes
    :data:`MAX_SUPPORT_PROFILES`.
    """
    oracle = oracle_of(game)
    xs = _mixed(oracle, profile)
    supports = [np.flatnonzero(x > 0) for x in xs]
    count = math.prod(len(s) for s in supports)
    if count > MAX_SUPPORT_PROFILES:
        raise ACAInputError(
            f"profile: the mixed profile's supports span {format_count(count)} pure profiles, past "
            f"MAX_SUPPORT_PROFILES = {MAX_SUPPORT_PROFILES:,} of solvers.equilibrium._deviations; "
            "exact regrets of a large game need a pure profile or small supports"
        )
    grid = _product(supports, count)
    weights = np.prod([x[grid[:, p]] for p, x in enumerate(xs)], axis=0)
    deviation = np.zeros((len(xs), max(oracle.shape)))  # d_p(b) = E[u_p(b, a_{-p})]
    for start in range(0, len(grid), PROFILE_CHUNK):
        chunk = grid[start : start + PROFILE_CHUNK]
        table = oracle.tables(chunk)
        deviation += np.einsum(
            "k,kpb->pb", weights[start : start + PROFILE_CHUNK], np.where(np.isinf(table), 0.0, table)
        )
    out = []
    for p, x in enumerate(xs):
        d = deviation[p, : oracle.shape[p]]
        out.append(max(float(d.max() - d @ x), 0.0))
    return np.asarray(out)
