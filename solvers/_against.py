"""One player's view of a game for :func:`solvers.best_response`: the game as a batched evaluator of
the player's payoffs (:class:`_Model`), and the readers of ``against`` (a pure or mixed profile, a
distribution over the others' profiles, an uncertainty set) into the others' profiles and weights.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import ACAGame, ACAInputError
from aca_games.beliefs import Beliefs
from aca_games.game import format_count
from solvers._payoffs import payoff_tensor
from solvers.equilibrium._deviations import MAX_SUPPORT_PROFILES

#: Probability vectors and distributions must sum to 1 within this (as :mod:`aca_games.beliefs`).
PROB_TOL = 1e-9
#: Compiled evaluators kept for this many recent games (the cache holds them alive).
EVALUATOR_CACHE = 16


# ------------------------------------------------------------------------------------ the model
class _Model:
    """The game as seen by one player: sizes, names and a batched evaluator of its payoffs."""

    def __init__(self, game, player):
        if isinstance(game, Beliefs):
            raise ACAInputError("game: got Beliefs; pass the game first and the beliefs as `against`")
        self.game = game if isinstance(game, ACAGame) else None
        if self.game is not None:
            self.shape = game.shape
            self.P = None
        else:
            self.P = payoff_tensor(game, name="game")
            self.shape = self.P.shape[1:]
        self.n = len(self.shape)
        self.player = _player(player, self.n, game if self.game is not None else None)
        self.m = self.shape[self.player]
        if self.game is not None:
            self.names = tuple(self.game.players[self.player].option_names)
        else:
            self.names = tuple(f"option {o}" for o in range(self.m))

    @property
    def others(self) -> tuple[int, ...]:
        return tuple(j for j in range(self.n) if j != self.player)

    def evaluate(self, profiles: np.ndarray):
        """Payoff and success of the player for each own option against each of ``K`` profiles
        (own column ignored): arrays ``(m, K)``; success is ``None`` for a bare tensor."""
        K = len(profiles)
        full = np.repeat(np.asarray(profiles, dtype=np.int64)[None], self.m, axis=0)  # (m, K, n)
        full[:, :, self.player] = np.arange(self.m)[:, None]
        flat = full.reshape(-1, self.n)
        if self.game is None:
            U = self.P[self.player][tuple(flat.T)]
            return U.reshape(self.m, K), None
        # Pad the batch to a power of two so that repeated calls reuse a few compiled shapes.
        rows = len(flat)
        padded = np.concatenate([flat, np.repeat(flat[:1], _bucket(rows) - rows, axis=0)])
        U, B = _evaluator(self.game)(jnp.asarray(padded, dtype=jnp.int32))
        U, B = np.asarray(U)[:rows, self.player], np.asarray(B)[:rows, self.player]
        return U.reshape(self.m, K), B.reshape(self.m, K)


def _bucket(rows: int) -> int:
    return max(8, 1 << (rows - 1).bit_length())


@functools.lru_cache(maxsize=EVALUATOR_CACHE)
def _evaluator(game: ACAGame):
    """One jitted ``vmap`` of all payoffs and ``B_i`` over profiles, cached per game."""

    def one(profile):
        return game.payoffs(profile), game.success_at(profile)

    return jax.jit(jax.vmap(one))


def _player(player, n: int, game) -> int:
    if isinstance(player, str) and game is not None:
        names = [p.name for p in game.players]
        if player not in names:
            raise ACAInputError(f"player: no player named {player!r}; the players are {names}")
        return names.index(player)
    if isinstance(player, bool) or not isinstance(player, numbers.Integral):
        raise ACAInputError(f"player: expected a player index (int) or name, got {player!r}")
    if not 0 <= int(player) < n:
        raise ACAInputError(f"player: index {int(player)} out of range for a {n}-player game (0..{n - 1})")
    return int(player)


# ------------------------------------------------------------------------------ reading `against`
def _is_index(a) -> bool:
    if isinstance(a, bool):
        return False
    if isinstance(a, numbers.Integral):
        return True
    return isinstance(a, (np.ndarray, jax.Array)) and a.ndim == 0 and np.issubdtype(a.dtype, np.integer)


def _option(model: _Model, j: int, a, where: str) -> int:
    if not _is_index(a):
        raise ACAInputError(f"{where}: expected an option index (int) of player {j}, got {a!r}")
    a = int(a)
    if not 0 <= a < model.shape[j]:
        raise ACAInputError(
            f"{where}: option {a} out of range, player {j} has {model.shape[j]} options "
            f"(0..{model.shape[j] - 1})"
        )
    return a


def _distribution(name: str, p, size: int | None = None) -> np.ndarray:
    try:
        p = np.asarray(p, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ACAInputError(f"{name}: expected probabilities, cannot convert ({exc})") from exc
    if size is not None and (p.ndim != 1 or p.shape[0] != size):
        raise ACAInputError(f"{name}: expected {size} probabilities (one per option), got shape {p.shape}")
    if not np.isfinite(p).all():
        raise ACAInputError(f"{name}: NaN or inf among the probabilities; every entry must be finite")
    if (p < 0).any():
        raise ACAInputError(f"{name}: probabilities must be >= 0, got {np.ravel(p).tolist()}")
    total = float(p.sum())
    if abs(total - 1.0) > PROB_TOL:
        raise ACAInputError(f"{name}: probabilities sum to {total!r}, must be 1 within {PROB_TOL:g}")
    return p


def _profile_support(model: _Model, against: Sequence):
    """A pure or mixed profile -> (kind, profiles (K, n), weights (K,))."""
    if len(against) != model.n:
        raise ACAInputError(
            f"against: profile has {len(against)} entries, expected {model.n} (one per player; the "
            f"player's own entry is ignored)"
        )
    if all(_is_index(against[j]) for j in model.others):
        prof = [0] * model.n
        for j in model.others:
            prof[j] = _option(model, j, against[j], f"against[{j}]")
        return "profile", np.asarray([prof], dtype=np.int64), np.ones(1)
    # Mixed: product distribution over the others' joint options (zero-probability profiles dropped).
    marginals = []
    for j in model.others:
        if _is_index(against[j]):
            x = np.zeros(model.shape[j])
            x[_option(model, j, against[j], f"against[{j}]")] = 1.0
        else:
            x = _distribution(f"against[{j}]", against[j], model.shape[j])
        marginals.append(x)
    supports = [np.flatnonzero(x > 0) for x in marginals]
    count = math.prod(len(s) for s in supports)
    if count > MAX_SUPPORT_PROFILES:
        raise ACAInputError(
            f"against: the others' mixed strategies span {format_count(count)} joint profiles, past "
            f"MAX_SUPPORT_PROFILES = {MAX_SUPPORT_PROFILES:,}; give a pure profile, smaller supports, "
            "or a dict of the others' likely profiles (a Bayesian belief)"
        )
    profiles, weights = [], []
    for combo in itertools.product(*supports):
        prof = [0] * model.n
        for j, a in zip(model.others, combo, strict=True):
            prof[j] = int(a)
        profiles.append(prof)
        weights.append(math.prod(float(x[a]) for x, a in zip(marginals, combo, strict=True)))
    return "mixed", np.asarray(profiles, dtype=np.int64), np.asarray(weights)


def _others_key(model: _Model, key, where: str) -> list[int]:
    if _is_index(key) and model.n == 2:
        key = (key,)
    if not isinstance(key, Sequence) or isinstance(key, str):
        raise ACAInputError(f"{where}: expected a profile (tuple of option indices), got {key!r}")
    if len(key) == model.n - 1:
        pairs = zip(model.others, key, strict=True)
    elif len(key) == model.n:
        pairs = ((j, key[j]) for j in model.others)
    else:
        raise ACAInputError(
            f"{where}: profile {tuple(key)!r} has {len(key)} entries, expected {model.n - 1} (the "
            f"others' options in player order) or {model.n} (a full profile, own entry ignored)"
        )
    prof = [0] * model.n
    for j, a in pairs:
        prof[j] = _option(model, j, a, f"{where}[player {j}]")
    return prof


def _bayes_support(model: _Model, against):
    """A dict ``{profile: p}`` or a dense array over the others' joint options -> (profiles, weights)."""
    if isinstance(against, Mapping):
        if not against:
            raise ACAInputError("against: the distribution over the others' profiles is empty")
        profiles, weights, seen = [], [], {}
        for key, p in against.items():
            prof = _others_key(model, key, f"against[{key!r}]")
            t = tuple(prof[j] for j in model.others)
            if t in seen:
                raise ACAInputError(
                    f"against: the others' profile {t} appears twice ({seen[t]!r} and {key!r})"
                )
            seen[t] = key
            profiles.append(prof)
            weights.append(p)
        w = _distribution("against (probabilities of the others' profiles)", weights)
        keep = w > 0
        return np.asarray(profiles, dtype=np.int64)[keep], w[keep]
    dense = np.asarray(against)
    want = tuple(model.shape[j] for j in model.others)
    if dense.shape != want:
        raise ACAInputError(
            f"against: a distribution over the others' joint options has shape {want} (players "
            f"{list(model.others)}), got shape {dense.shape}"
        )
    w = _distribution("against (joint distribution of the others)", dense)
    idx = np.argwhere(w > 0)
    profiles = np.zeros((len(idx), model.n), dtype=np.int64)
    profiles[:, list(model.others)] = idx
    return profiles, w[tuple(idx.T)]


def _robust_support(model: _Model, against) -> np.ndarray:
    if not against:
        raise ACAInputError(
            "against: the uncertainty set is empty; give at least one profile of the others (a set of tuples)"
        )
    rows = {tuple(_others_key(model, key, f"against[{key!r}]")) for key in against}
    return np.asarray(sorted(rows), dtype=np.int64)
