r"""All extreme Nash equilibria of bimatrix games by vertex enumeration (THEORY §5).

Setting (Avis, Rosenberg, Savani & von Stengel 2010; von Stengel 2007). ``A`` and ``B`` have shape
``(m, n)``: the row player gets ``A[i, j]``, the column player ``B[i, j]``. Each player's payoffs are
first mapped affinely to ``[0, 1]`` (equilibria do not change), then shifted positive for the
best-response polytopes

    P = {x ∈ R^m : x >= 0, B^T x <= 1},      Q = {y ∈ R^n : A y <= 1, y >= 0}.

Labels ``0..m-1`` are the row actions, ``m..m+n-1`` the column actions. A point of ``P`` has label
``i`` if ``x_i = 0`` and label ``m + j`` if ``(B^T x)_j = 1`` (column ``j`` is a best response); a
point of ``Q`` has label ``i`` if ``(A y)_i = 1`` and ``m + j`` if ``y_j = 0``. A pair of nonzero
vertices ``(x, y)`` whose labels together cover all ``m + n`` labels, normalised to sum 1, is an
*extreme* Nash equilibrium, and every extreme equilibrium arises so; in degenerate games (ties, as
in ACA games) every Nash equilibrium is a convex combination of extreme ones within "maximal Nash
subsets", so returning the extreme ones describes the whole (possibly infinite) set.

Degenerate games are handled by using *all* tight labels of a vertex: a vertex is identified by its
full label set (two distinct vertices cannot share it), vertices are deduplicated on it, and pairs
are matched on ``labels(x) ∪ labels(y) = all`` rather than on complementary bases (matching bases,
i.e. equal-size support enumeration, misses equilibria such as a pure ``x`` against a ``y`` mixing
two duplicate columns).

Two ways to list the vertices of ``P`` (``Q`` is the same with ``A^T``):

* ``"subsets"`` (exhaustive, fixed shapes, batched over games): every choice of ``k`` support
  actions ``I`` and ``k`` tight columns ``J`` (``k = 1..min(m, n)``: ``C(m+n, m) - 1`` choices)
  is a candidate basis. Its point is ``x_I ∝`` the left null vector of the ``(k+1) x k`` matrix
  ``[B_IJ; 1]``, i.e. ``x_{I_t} ∝ (-1)^t E(I \ I_t, J)``, and column ``j``'s slack is
  ``∝ E(I, J ∪ j)``, where ``E(R, J) = det [B_RJ; 1]`` (``|J| = |R| + 1``). So a candidate is a
  vertex iff its ``n`` "slot" minors share one sign (zeros allowed, some ``x`` slot nonzero), and
  its extra labels (degeneracy) are its zero slots. All ``C(m+n, m-1)`` minors ``E`` of a game
  come from one vectorised Laplace recursion (``Σ_k k·C(m, k-1)·C(n, k)`` multiply-adds: 2,772 for
  6x6); the sign tests then run on bits packed 8 games per byte. A minor counts as zero when
  ``|E| <= ZERO_REL · tol · k · M^(k-1)`` (``k · M^(k-1)``, ``M`` the largest absolute row sum,
  bounds the absolute sum of its Laplace terms; the threshold is ``1e-12`` of that at the default
  ``tol``, so exact ties are ties while rounding noise, ~1e-16 of it, is not a sign).
  Simple vertices (exactly ``m`` labels) pair only with the complementary candidate ``(J, I)`` of
  ``Q`` (one AND of bit arrays: all equilibria of a nondegenerate game); degenerate vertices are
  listed with their label sets, deduplicated and matched against all vertices of the other
  polytope in the same game. Cost per game ``O(C(m+n, m) · n)`` bit operations: cheap up to 8x8.
* ``"qhull"`` (output-sensitive, one game at a time): the vertices of ``P`` are the facets of the
  polar of ``P`` about an interior point (as QuantEcon's ``vertex_enumeration``), computed by
  Qhull (``scipy.spatial.ConvexHull``, which merges coplanar facets and triangulates them; the
  simplices of a degenerate vertex share its facet equation). Labels are recomputed from each
  vertex with ``tol`` on probabilities and on payoffs rescaled to ``[0, 1]``, so constraints that
  Qhull treats as coplanar points are not lost; vertices are deduplicated on their label sets and
  matched by a hash join (simple vertices: exact complement) plus a ``V_deg x V`` table for
  degenerate ones. Cost: Qhull's, ``O(#vertices)`` facets in fixed dimension, plus
  ``O((V_P + V_Q) log V)`` for matching. When every vertex of ``P`` is simple and its support
  system is nonsingular, each ``x`` has at most one partner ``y`` (supported on ``x``'s best
  replies, making ``x``'s support rows best responses), found by one batched linear solve per
  support size instead of a second Qhull call (``_qhull._partners``; the Hadamard ratio of each
  system decides "nonsingular", else ``Q`` is enumerated as above).

``"auto"`` uses ``"subsets"`` for games with at most ``SUBSETS_MAX`` candidates (about 6x6, where
its fixed cost is small) and ``"qhull"`` above; the batched entry point uses ``"subsets"`` up to
``BATCHED_SUBSETS_MAX`` (8x8). Both methods agree with brute-force basis enumeration on random,
integer-valued (degenerate) and clipped games in the tests. Equilibria are returned extreme,
deduplicated and sorted by total support size, then by ``x`` and ``y`` in decreasing
lexicographic order (so ``(e_0, e_0)`` comes before ``(e_1, e_1)``).

>>> import numpy as np
>>> sol = two_player_equilibria(np.eye(2), np.eye(2))          # coordination: 2 pure + 1 mixed
>>> [(x.tolist(), y.tolist()) for x, y in sol.value]
[([1.0, 0.0], [1.0, 0.0]), ([0.0, 1.0], [0.0, 1.0]), ([0.5, 0.5], [0.5, 0.5])]
>>> sol.status, sol.certificate <= 1e-12
('optimal', True)
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import numpy as np

from aca_games import ACAInputError
from solvers._solution import Solution
from solvers.equilibrium._qhull import _qhull_game
from solvers.equilibrium._subsets import ZERO_REL as ZERO_REL  # re-exported: the docstrings use it
from solvers.equilibrium._subsets import _subsets_batch, _tables
from solvers.equilibrium.pure import payoff_tensor

__all__ = [
    "BATCHED_SUBSETS_MAX",
    "EquilibriumBatch",
    "METHODS",
    "SUBSETS_MAX",
    "two_player_equilibria",
    "two_player_equilibria_batched",
]

METHODS = ("auto", "subsets", "qhull")
#: ``"auto"`` uses ``"subsets"`` for one game when its number of candidate bases ``C(m+n, m) - 1``
#: is at most this (6x6 has 923), else ``"qhull"``.
SUBSETS_MAX = 924
#: ... and for a batch of games up to this many candidates per game (8x8 has 12,869).
BATCHED_SUBSETS_MAX = 13_000
#: ``method="subsets"`` refuses games with more candidates than this (10x10 has 184,755).
SUBSETS_HARD_MAX = 200_000
#: Memory budget (bytes) of one chunk of games in the batched kernel.
CHUNK_BYTES = 48_000_000
_ROUND = 9  # decimals used to sort and to drop numerically identical equilibria


class EquilibriumBatch(NamedTuple):
    """Equilibria of a batch of ``G`` games, padded: game ``g`` has ``count[g]`` equilibria
    ``(x[g, e], y[g, e])`` for ``e < count[g]``; padding rows are NaN."""

    x: np.ndarray  # (G, E_max, m)
    y: np.ndarray  # (G, E_max, n)
    count: np.ndarray  # (G,) int

    def game(self, g: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Equilibria of game ``g`` as ``[(x, y), ...]`` (the format of :func:`two_player_equilibria`)."""
        return [(self.x[g, e].copy(), self.y[g, e].copy()) for e in range(int(self.count[g]))]

    def to_lists(self) -> list[list[tuple[np.ndarray, np.ndarray]]]:
        return [self.game(g) for g in range(len(self.count))]


# ----------------------------------------------------------------------------------------- input
def _check_tol(tol) -> float:
    try:
        tol = float(tol)
    except (TypeError, ValueError) as exc:
        raise ACAInputError(f"tol: expected a small positive number, got {tol!r}") from exc
    if not (math.isfinite(tol) and 0 <= tol < 1e-3):
        raise ACAInputError(f"tol: expected 0 <= tol < 1e-3 (labels are decided on [0, 1]), got {tol!r}")
    return tol


def _bimatrix(A, B, batched: bool) -> tuple[np.ndarray, np.ndarray]:
    nd = 3 if batched else 2
    what = "(G, m, n)" if batched else "(m, n)"
    out = []
    for name, M in (("A", A), ("B", B)):
        try:
            M = np.asarray(M, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ACAInputError(f"{name}: cannot convert to a float array ({exc})") from exc
        if M.ndim != nd or 0 in M.shape:
            raise ACAInputError(f"{name}: expected a non-empty array of shape {what}, got shape {M.shape}")
        if not np.isfinite(M).all():
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(M))[0])
            raise ACAInputError(f"{name}: non-finite payoff {M[bad]} at index {bad}; payoffs must be finite")
        out.append(M)
    if out[0].shape != out[1].shape:
        raise ACAInputError(
            f"A and B: shapes differ ({out[0].shape} vs {out[1].shape}); both are indexed "
            f"[row action, column action]{' after the batch axis' if batched else ''}"
        )
    return out[0], out[1]


def _centred(M: np.ndarray) -> np.ndarray:
    """Affine map of each game's payoffs (last two axes) onto [-1/2, 1/2]; constant -> zeros."""
    lo = M.min(axis=(-2, -1), keepdims=True)
    span = M.max(axis=(-2, -1), keepdims=True) - lo
    out = M - lo  # in place from here: a batch of 10^4 games spent more time allocating than computing
    out /= np.where(span > 0, span, 1.0)
    out -= 0.5
    out[np.broadcast_to(span <= 0, out.shape)] = 0.0
    return out


# ------------------------------------------------------------------------------- assembly
def _finish(G: int, g: np.ndarray, x: np.ndarray, y: np.ndarray, A: np.ndarray, B: np.ndarray):
    """Clip, renormalise, sort, drop numerical duplicates; NashConv of each equilibrium."""
    x = np.clip(x, 0.0, None)
    y = np.clip(y, 0.0, None)
    x /= x.sum(axis=1, keepdims=True)
    y /= y.sum(axis=1, keepdims=True)
    keys = _sort_keys(g, x, y)
    order = np.lexsort(keys[::-1])
    g, x, y, keys = g[order], x[order], y[order], keys[:, order]
    dup = np.zeros(len(g), bool)
    dup[1:] = (keys[:, 1:] == keys[:, :-1]).all(axis=0)
    g, x, y = g[~dup], x[~dup], y[~dup]
    Ay = np.einsum("eij,ej->ei", A[g], y)
    xB = np.einsum("ei,eij->ej", x, B[g])
    nc = (Ay.max(axis=1) - (x * Ay).sum(axis=1)) + (xB.max(axis=1) - (xB * y).sum(axis=1))
    return g, x, y, np.maximum(nc, 0.0)


def _sort_keys(g: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Integer sort keys ``(K, E)``, most significant first: game, support size, then the
    probabilities rounded to ``_ROUND`` decimals, descending (``x`` then ``y``, column by column).

    ``np.round(v, d)`` is ``rint(v·10^d) / 10^d``, so the integers ``rint(v·10^d) <= 10^9 < 2^30``
    order and tie exactly as the rounded floats; two of them share one int64 key (``lexsort`` costs
    one pass per key: 7 keys instead of 14 on 6x6 games)."""
    q = np.rint(np.concatenate([x, y], axis=1) * 10.0**_ROUND).astype(np.int64)
    supp = (q > 0).sum(axis=1)
    desc = (1 << 30) - 1 - q
    if desc.shape[1] % 2:
        desc = np.concatenate([desc, np.zeros((len(q), 1), np.int64)], axis=1)
    packed = (desc[:, 0::2] << 30) | desc[:, 1::2]
    return np.vstack([g * (q.shape[1] + 1) + supp, packed.T])


def _method(method: str, m: int, n: int, batched: bool = False) -> str:
    if method not in METHODS:
        raise ACAInputError(f"method: expected one of {METHODS}, got {method!r}")
    candidates = math.comb(m + n, m) - 1
    if method == "auto":
        return "subsets" if candidates <= (BATCHED_SUBSETS_MAX if batched else SUBSETS_MAX) else "qhull"
    if method == "subsets" and candidates > SUBSETS_HARD_MAX:
        raise ACAInputError(
            f"method: 'subsets' would test {candidates:,} bases for a {m}x{n} game (limit "
            f"{SUBSETS_HARD_MAX:,}); use method='qhull' or 'auto'"
        )
    return method


def two_player_equilibria(A, B=None, tol: float = 1e-9, method: str = "auto") -> Solution:
    """All extreme Nash equilibria of the bimatrix game ``(A, B)`` (see the module docstring).

    Args:
        A: row player's payoffs, shape ``(m, n)``; or, with ``B`` omitted, a two-player payoff
            tensor of shape ``(2, m, n)`` or an object with a ``payoff_tensor()`` method (an
            ``ACAGame`` with two players).
        B: column player's payoffs, shape ``(m, n)`` (same indexing: ``[row action, column action]``).
        tol: numerical zero for ties, on payoffs affinely rescaled to ``[0, 1]`` per player:
            ``"qhull"`` treats a probability ``<= tol`` as zero and a payoff within ``tol`` of the
            best as a best response; ``"subsets"`` treats a minor as zero below
            ``ZERO_REL · tol`` times its term bound. Must be in ``[0, 1e-3)``; the default ``1e-9``
            makes exact ties (ACA games) ties and nothing else.
        method: ``"auto"`` (default), ``"subsets"`` or ``"qhull"`` (module docstring).

    Returns:
        :class:`Solution`: ``value`` is a list of ``(x, y)`` numpy arrays (mixed strategies),
        ``status`` ``"optimal"``, ``certificate`` the largest NashConv (in the original payoff
        units) over the returned equilibria, ``stats`` with ``n_equilibria``, ``method``, ``seconds``
        and ``max_nash_conv_relative`` (NashConv divided by the larger payoff range).

    Raises:
        ACAInputError: shapes differ or are not 2-D, non-finite payoffs, bad ``tol`` or ``method``.
    """
    t0 = time.perf_counter()
    if B is None:
        P = payoff_tensor(A)
        if P.shape[0] != 2:
            raise ACAInputError(f"payoffs: expected a two-player game, got {P.shape[0]} players")
        A, B = P[0], P[1]
    A, B = _bimatrix(A, B, batched=False)
    tol = _check_tol(tol)
    m, n = A.shape
    method = _method(method, m, n)
    An, Bn = _centred(A), _centred(B)
    if method == "subsets":
        g, x, y = _subsets_batch(An[None], Bn[None], tol)
    else:
        g, x, y = _qhull_game(An, Bn, tol)
    g, x, y, nc = _finish(1, g, x, y, A[None], B[None])
    cert = float(nc.max()) if len(nc) else 0.0
    span = max(float(np.ptp(A)), float(np.ptp(B)), 1e-300)
    stats = {
        "method": method,
        "shape": (m, n),
        "n_equilibria": len(x),
        "tol": tol,
        "max_nash_conv_relative": cert / span,
        "seconds": time.perf_counter() - t0,
    }
    return Solution(value=list(zip(x, y, strict=True)), status="optimal", certificate=cert, stats=stats)


def two_player_equilibria_batched(A, B, tol: float = 1e-9, method: str = "auto") -> Solution:
    """All extreme Nash equilibria of each game in a batch ``A, B`` of shape ``(G, m, n)``.

    One vectorised call of the ``"subsets"`` kernel over all games (in chunks of ``CHUNK_BYTES``),
    e.g. an equilibrium map over a grid of collective sizes; about 20x faster than looping
    QuantEcon's ``vertex_enumeration`` over 10^4 random 6x6 games (which, unlike this, is not
    complete on degenerate games). Shapes with more than
    ``BATCHED_SUBSETS_MAX`` candidate bases (or ``method="qhull"``) loop over the games with the
    ``"qhull"`` method. Results equal :func:`two_player_equilibria` with the same method, game by
    game (same equilibria, same order).

    Args:
        A, B: payoffs of shape ``(G, m, n)``: game ``g`` is ``(A[g], B[g])``.
        tol, method: as in :func:`two_player_equilibria`.

    Returns:
        :class:`Solution` with ``value`` an :class:`EquilibriumBatch` (padded ``x``, ``y`` and
        ``count``; ``value.game(g)`` gives game ``g``'s list), ``certificate`` the largest NashConv
        over all returned equilibria, ``stats`` with ``counts``, ``method`` and ``seconds``.
    """
    t0 = time.perf_counter()
    A, B = _bimatrix(A, B, batched=True)
    tol = _check_tol(tol)
    G, m, n = A.shape
    method = _method(method, m, n, batched=True)
    An, Bn = _centred(A), _centred(B)
    parts = []
    if method == "subsets":
        step = max(1, CHUNK_BYTES // (16 * (_tables(m, n).n_minors + _tables(n, m).n_minors)))
        for s in range(0, G, step):
            g, x, y = _subsets_batch(An[s : s + step], Bn[s : s + step], tol)
            parts.append((g + s, x, y))
    else:
        for s in range(G):
            g, x, y = _qhull_game(An[s], Bn[s], tol)
            parts.append((g + s, x, y))
    g = np.concatenate([p[0] for p in parts])
    x = np.concatenate([p[1] for p in parts]).reshape(-1, m)
    y = np.concatenate([p[2] for p in parts]).reshape(-1, n)
    g, x, y, nc = _finish(G, g, x, y, A, B)
    count = np.bincount(g, minlength=G)
    E = max(int(count.max()), 1)
    slot = np.arange(len(g)) - np.concatenate([[0], np.cumsum(count)[:-1]])[g]
    X = np.full((G, E, m), np.nan)
    Y = np.full((G, E, n), np.nan)
    X[g, slot], Y[g, slot] = x, y
    stats = {
        "method": method,
        "shape": (m, n),
        "n_games": G,
        "counts": count,
        "tol": tol,
        "seconds": time.perf_counter() - t0,
    }
    cert = float(nc.max()) if len(nc) else 0.0
    return Solution(value=EquilibriumBatch(X, Y, count), status="optimal", certificate=cert, stats=stats)
