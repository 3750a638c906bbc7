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
  ``O((V_P + V_Q) log V)`` for matching.

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

import functools
import math
import time
from itertools import combinations
from typing import NamedTuple

import numpy as np

from aca_games import ACAInputError
from solvers._solution import Solution
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
#: Subsets method: a minor counts as zero when ``|E| <= ZERO_REL * tol * k * M^(k-1)``, a bound on its
#: Laplace terms' absolute sum (rounding noise is ~1e-16 of it); at ``tol = 1e-9`` that is 1e-12.
ZERO_REL = 1e-3
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
    return np.where(span > 0, (M - lo) / np.where(span > 0, span, 1.0) - 0.5, 0.0)


# ------------------------------------------------------------------------ subsets (batched) kernel
class _Tables(NamedTuple):
    dp: dict  # level k >= 2: (blocks [(first row, start, stop, start in level k-1)], ct, cm)
    off: dict  # level k -> offset of its minors in the flat minor array
    shape: dict  # level k -> (nr, nc)
    rows: dict  # level k -> (nr, k - 1) row sets
    cand: list  # per candidate level: dict of index arrays (see _tables)
    n_minors: int


@functools.lru_cache(maxsize=32)
def _tables(a: int, b: int) -> _Tables:
    """Index tables for ``{x >= 0 : C^T x <= 1}`` with ``C`` of shape ``(a, b)``.

    Minor ``E_k(R, J)`` (level ``k``, ``|R| = k - 1`` rows of ``C``, ``|J| = k`` columns) is the
    determinant of ``[C_RJ; 1]`` (rows ``R`` in order, then a row of ones). Laplace expansion along
    its first row: ``E_k(R, J) = Σ_t (-1)^t C[R_0, J_t] E_{k-1}(R \\ R_0, J \\ J_t)``, ``E_1 = 1``.
    Candidate ``(I, J)``, ``|I| = |J| = k``, has ``b`` neighbour minors ("slots"): ``(-1)^t
    E_k(I \\ I_t, J)`` (proportional to ``x_{I_t}``) and ``-(-1)^{#{J < j}} E_{k+1}(I, J ∪ j)``
    (proportional to column ``j``'s slack) for ``j ∉ J``; it is a vertex iff all slots have one
    sign (zeros allowed) and some ``x`` slot is nonzero."""
    kmax = min(a + 1, b)
    rows = {k: list(combinations(range(a), k - 1)) for k in range(1, kmax + 1)}
    cols = {k: list(combinations(range(b), k)) for k in range(1, kmax + 1)}
    rix = {k: {r: i for i, r in enumerate(v)} for k, v in rows.items()}
    cix = {k: {c: i for i, c in enumerate(v)} for k, v in cols.items()}
    off, shape, total = {}, {}, 0
    for k in range(1, kmax + 1):
        off[k], shape[k] = total, (len(rows[k]), len(cols[k]))
        total += shape[k][0] * shape[k][1]
    dp = {}
    for k in range(2, kmax + 1):
        # In lexicographic order the rows with first element ``low`` are contiguous, and so are
        # their remainders (the (k-2)-subsets of {low+1, ...}: a suffix of level k-1's rows).
        lows = [r[0] for r in rows[k]]
        blocks = []
        for low in sorted(set(lows)):
            s, e = lows.index(low), len(lows) - lows[::-1].index(low)
            r0 = rix[k - 1][rows[k][s][1:]]
            assert [rix[k - 1][r[1:]] for r in rows[k][s:e]] == list(range(r0, r0 + e - s))
            blocks.append((low, s, e, r0))
        ct = np.array(cols[k]).reshape(-1, k)
        cm = np.array([[cix[k - 1][c[:t] + c[t + 1 :]] for t in range(k)] for c in cols[k]]).reshape(-1, k)
        dp[k] = (blocks, ct, cm)
    cand = []
    for k in range(1, min(a, b) + 1):
        Is, Js = list(combinations(range(a), k)), list(combinations(range(b), k))
        nI, nJ = len(Is), len(Js)
        I = np.array(Is).reshape(nI, k)
        # x slots: depend on I (row of E_k) and J (column of E_k == index of J at level k).
        xrow = np.array([[rix[k][Ii[:t] + Ii[t + 1 :]] for t in range(k)] for Ii in Is]).reshape(nI, k)
        nb_x = off[k] + xrow[:, None, :] * shape[k][1] + np.arange(nJ)[None, :, None]
        sg_x = np.broadcast_to(np.array([(-1) ** t for t in range(k)], np.int8), (nI, nJ, k))
        sb_x = np.broadcast_to((np.int64(1) << I)[:, None, :], (nI, nJ, k))
        parts_nb, parts_sg, parts_sb = [nb_x], [sg_x], [sb_x]
        if k < b:
            others = np.array([[j for j in range(b) if j not in J] for J in Js]).reshape(nJ, b - k)
            srow = np.array([rix[k + 1][Ii] for Ii in Is])
            JO = list(zip(Js, others.tolist(), strict=True))
            scol = np.array([[cix[k + 1][tuple(sorted((*J, j)))] for j in o] for J, o in JO])
            ssg = np.array([[-((-1) ** sum(jj < j for jj in J)) for j in o] for J, o in JO], np.int8)
            parts_nb.append(off[k + 1] + srow[:, None, None] * shape[k + 1][1] + scol[None, :, :])
            parts_sg.append(np.broadcast_to(ssg[None], (nI, nJ, b - k)))
            parts_sb.append(np.broadcast_to((np.int64(1) << (a + others))[None], (nI, nJ, b - k)))
        zmask = np.array([sum(1 << i for i in range(a) if i not in Ii) for Ii in Is], np.int64)
        jmask = np.array([sum(1 << (a + j) for j in J) for J in Js], np.int64)
        nb = np.concatenate(parts_nb, axis=2).reshape(nI * nJ, b)
        sg = np.ascontiguousarray(np.concatenate(parts_sg, axis=2).reshape(nI * nJ, b))
        cand.append(
            {
                "k": k,
                "offset": sum(len(c["I"]) for c in cand),
                "nbP": nb + (sg < 0) * total,  # rows of [E > 0; E < 0] meaning "slot > 0"
                "nbN": nb + (sg > 0) * total,  # ... and "slot < 0"
                "I": np.repeat(I, nJ, axis=0),  # (nI*nJ, k): support of each candidate
                "nb": nb,
                "sg": sg,
                "sb": np.concatenate(parts_sb, axis=2).reshape(nI * nJ, b),
                "static": (zmask[:, None] | jmask[None, :]).reshape(nI * nJ),
            }
        )
    return _Tables(
        dp,
        off,
        shape,
        {k: np.array(v, np.int64).reshape(len(v), k - 1) for k, v in rows.items()},
        cand,
        total,
    )


def _minors(C: np.ndarray, tol: float):
    """Minors ``E (n_minors, G)`` of ``[C_RJ; 1]`` for a batch of centred games ``C (G, a, b)`` and
    their signs bit-packed over games (8 per byte): ``PN`` rows ``0..n-1`` mean ``E > thr``, rows
    ``n..2n-1`` mean ``E < -thr``, ``thr = ZERO_REL · tol · k · M^(k-1)`` at level ``k`` with ``M``
    the game's largest row sum ``max(Σ_j |C_rj|, 1)`` (so ``k · M^(k-1)`` bounds the absolute sum of
    a minor's Laplace terms: ``thr`` is ``1e-12`` of it at the default ``tol``)."""
    G, a, b = C.shape
    T = _tables(a, b)
    Ct = np.ascontiguousarray(C.transpose(1, 2, 0))
    E = np.empty((T.n_minors, G))
    E[:b] = 1.0
    for k, (blocks, ct, cm) in T.dp.items():
        (nr, nc), (nr0, nc0) = T.shape[k], T.shape[k - 1]
        prev = E[T.off[k - 1] : T.off[k - 1] + nr0 * nc0].reshape(nr0, nc0, G)
        out = E[T.off[k] : T.off[k] + nr * nc].reshape(nr, nc, G)
        for low, s, e, r0 in blocks:
            src, acc = prev[r0 : r0 + e - s], out[s:e]
            np.multiply(src[:, cm[:, 0]], Ct[low, ct[:, 0]], out=acc)
            for t in range(1, k):
                tmp = src[:, cm[:, t]]
                tmp *= Ct[low, ct[:, t]]
                if t % 2:
                    acc -= tmp
                else:
                    acc += tmp
    n = T.n_minors
    M = np.maximum(np.abs(C).sum(axis=2).max(axis=1), 1.0)  # (G,)
    PN = np.empty((2 * n, (G + 7) // 8), np.uint8)
    for k in T.rows:
        (nr, nc), o = T.shape[k], T.off[k]
        thr = (ZERO_REL * max(tol, 1e-9) * k) * M ** (k - 1)
        Ek = E[o : o + nr * nc]
        PN[o : o + nr * nc] = np.packbits(Ek > thr, axis=1)
        PN[n + o : n + o + nr * nc] = np.packbits(Ek < -thr, axis=1)
    return E, PN


def _feasible(T: _Tables, PN: np.ndarray):
    """Per candidate: packed ``(K, G/8)`` bits "simple vertex" and "degenerate vertex".

    A candidate is a vertex iff all its slots share one sign (zeros allowed) and some x slot is
    nonzero; it is degenerate (has labels beyond its basis) iff some slot is zero."""
    simple, degen = [], []
    for lv in T.cand:
        Pv, Nv = PN[lv["nbP"]], PN[lv["nbN"]]  # (nK, b, G/8): slot > 0, slot < 0 (sign applied)
        k = lv["k"]
        nz = Pv | Nv
        ok = np.bitwise_or.reduce(nz[:, :k], axis=1)
        ok &= np.bitwise_or.reduce(Pv, axis=1) ^ np.bitwise_or.reduce(Nv, axis=1)
        allnz = np.bitwise_and.reduce(nz, axis=1)
        simple.append(ok & allnz)
        degen.append(ok & ~allnz)
    return np.concatenate(simple), np.concatenate(degen)


def _packed_nonzero(bits: np.ndarray, G: int):
    """``(row, game)`` of the set bits of a packed ``(R, G/8)`` array (sparse-friendly)."""
    r, byte = np.nonzero(bits)
    i, bit = np.nonzero(np.unpackbits(bits[r, byte][:, None], axis=1))
    g = byte[i] * 8 + bit
    keep = g < G
    return r[i][keep], g[keep]


def _keys(T: _Tables, PN: np.ndarray, c: np.ndarray, g: np.ndarray, G: int) -> np.ndarray:
    """Label bit masks (own layout: zeros ``0..a-1``, tight columns ``a..``) of vertices ``(c, g)``."""
    n = T.n_minors
    zero = np.unpackbits(~(PN[:n] | PN[n:]), axis=1, count=G).ravel()  # minor is zero
    out = np.empty(len(c), np.int64)
    for lv in T.cand:
        sel = np.nonzero((c >= lv["offset"]) & (c < lv["offset"] + len(lv["I"])))[0]
        cc, gg = c[sel] - lv["offset"], g[sel]
        key = lv["static"][cc]
        for s in range(lv["nb"].shape[1]):
            key |= zero[lv["nb"][cc, s] * G + gg] * lv["sb"][cc, s]
        out[sel] = key
    return out


def _subset_x(E: np.ndarray, a: int, b: int, g: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """Normalised vertices ``(N, a)`` of candidates ``cand`` in games ``g`` (from the minors)."""
    T = _tables(a, b)
    out = np.zeros((len(cand), a))
    for lv in T.cand:
        sel = np.nonzero((cand >= lv["offset"]) & (cand < lv["offset"] + len(lv["I"])))[0]
        if len(sel):
            c, k = cand[sel] - lv["offset"], lv["k"]
            w = E[lv["nb"][c, :k], g[sel, None]] * lv["sg"][c, :k]
            out[sel[:, None], lv["I"][c]] = w / w.sum(axis=1, keepdims=True)
    return out


def _expand(owner: np.ndarray, starts: np.ndarray, stops: np.ndarray):
    """Ragged expansion: pairs ``(owner[i], r)`` for ``r in range(starts[i], stops[i])``."""
    cnt = stops - starts
    first = np.repeat(np.cumsum(cnt) - cnt, cnt)
    return np.repeat(owner, cnt), np.repeat(starts, cnt) + np.arange(int(cnt.sum())) - first


@functools.lru_cache(maxsize=32)
def _transpose_index(m: int, n: int) -> np.ndarray:
    """Candidate ``(I, J)`` of ``P`` (tables ``(m, n)``) -> index of candidate ``(J, I)`` of ``Q``."""
    out = []
    for lv in _tables(m, n).cand:
        nI, nJ = math.comb(m, lv["k"]), math.comb(n, lv["k"])
        out.append(lv["offset"] + np.arange(nI * nJ).reshape(nI, nJ).T.reshape(-1))
    perm = np.empty(sum(len(o) for o in out), np.int64)
    perm[np.concatenate(out)] = np.arange(len(perm))
    return perm


def _game_mask(g: np.ndarray, G: int) -> np.ndarray:
    """Packed ``(1, G/8)`` mask of the games listed in ``g``."""
    mask = np.zeros(G, bool)
    mask[g] = True
    return np.packbits(mask)[None, :]


def _pairs_across(g1: np.ndarray, g2: np.ndarray, G: int):
    """All index pairs ``(i, j)`` with ``g1[i] == g2[j]``."""
    order = np.argsort(g2, kind="stable")
    cnt = np.bincount(g2, minlength=G)
    stops = np.cumsum(cnt)
    i, pos = _expand(np.arange(len(g1)), (stops - cnt)[g1], stops[g1])
    return i, order[pos]


def _to_global(keys: np.ndarray, m: int, n: int) -> np.ndarray:
    """Q's own label layout (zeros ``j`` at bit ``j``, tight rows at ``n + i``) -> global labels."""
    return ((keys & ((1 << n) - 1)) << m) | (keys >> n)


def _subsets_batch(An: np.ndarray, Bn: np.ndarray, tol: float):
    """Equilibria of centred games ``(G, m, n)`` by the subsets kernel: arrays ``g, x, y``.

    Simple vertices (exactly ``m`` resp. ``n`` labels) come from exactly one candidate each, and two
    simple vertices are complementary iff they come from candidates ``(I, J)`` of ``P`` and
    ``(J, I)`` of ``Q``: one AND of packed bits finds all such equilibria (all of them in a
    nondegenerate game). Degenerate vertices (extra labels; ties) are listed with their label
    sets, deduplicated per game, and tested against every vertex of the other polytope in the game.
    """
    G, m, n = An.shape
    L, full = m + n, (1 << (m + n)) - 1
    TP, TQ = _tables(m, n), _tables(n, m)
    EP, PNP = _minors(Bn, tol)
    EQ, PNQ = _minors(np.swapaxes(An, 1, 2), tol)
    simP, degP = _feasible(TP, PNP)
    simQ, degQ = _feasible(TQ, PNQ)
    perm = _transpose_index(m, n)
    c, g = _packed_nonzero(simP & simQ[perm], G)
    gs, cps, cqs = [g], [c], [perm[c]]
    cdP, gdP = _packed_nonzero(degP, G)
    cdQ, gdQ = _packed_nonzero(degQ, G)
    if len(cdP) or len(cdQ):
        kdP = _keys(TP, PNP, cdP, gdP, G)
        kdQ = _to_global(_keys(TQ, PNQ, cdQ, gdQ, G), m, n)
        _, u = np.unique((gdP << L) | kdP, return_index=True)  # one entry per (game, vertex)
        cdP, gdP, kdP = cdP[u], gdP[u], kdP[u]
        _, u = np.unique((gdQ << L) | kdQ, return_index=True)
        cdQ, gdQ, kdQ = cdQ[u], gdQ[u], kdQ[u]
        # Simple vertices of the games where the other polytope has a degenerate vertex.
        csP, gsP = _packed_nonzero(simP & _game_mask(gdQ, G), G)
        csQ, gsQ = _packed_nonzero(simQ & _game_mask(gdP, G), G)
        ksP = _static(m, n)[csP]
        ksQ = _to_global(_static(n, m)[csQ], m, n)
        for (cp, gp, kp), (cq, gq, kq) in (
            ((cdP, gdP, kdP), (np.r_[csQ, cdQ], np.r_[gsQ, gdQ], np.r_[ksQ, kdQ])),
            ((csP, gsP, ksP), (cdQ, gdQ, kdQ)),
        ):
            i, j = _pairs_across(gp, gq, G)
            ok = (kp[i] | kq[j]) == full
            gs.append(gp[i[ok]])
            cps.append(cp[i[ok]])
            cqs.append(cq[j[ok]])
    g, cp, cq = np.concatenate(gs), np.concatenate(cps), np.concatenate(cqs)
    return g, _subset_x(EP, m, n, g, cp), _subset_x(EQ, n, m, g, cq)


@functools.lru_cache(maxsize=32)
def _static(a: int, b: int) -> np.ndarray:
    """Basis labels (own layout) of every candidate of :func:`_tables` ``(a, b)``."""
    return np.concatenate([lv["static"] for lv in _tables(a, b).cand])


# --------------------------------------------------------------------------------- qhull path
def _qhull_vertices(Cn: np.ndarray, tol: float):
    """Nonzero vertices of ``{x >= 0 : (Cn + 3/2)^T x <= 1}`` normalised to sum 1, with boolean
    ``zeros (V, a)`` and ``tight (V, b)`` label arrays, deduplicated on the labels."""
    from scipy.spatial import ConvexHull

    a, b = Cn.shape
    if a == 1:
        X = np.ones((1, 1))
    else:
        Cpos = Cn + 1.5
        Gm = np.vstack([-np.eye(a), Cpos.T])
        h = np.concatenate([np.zeros(a), np.ones(b)])
        c = np.full(a, 0.5 / Cpos.sum(axis=0).max())  # interior point: C^T c <= 1/2, c > 0
        # Facet {p : n·p + off = 0} of the polar <-> vertex c - n/off of P (the simplices of a
        # triangulated degenerate facet share its equation, hence the vertex: deduped below).
        eq = ConvexHull(Gm / (h - Gm @ c)[:, None]).equations
        X = c - eq[:, :-1] / eq[:, -1:]
        X = X[(X.sum(axis=1) > 1e-9) & ((X @ Cpos).max(axis=1) <= 1 + tol)]  # drop the origin
        X = X / X.sum(axis=1, keepdims=True)
    s = X @ Cn
    slack = s.max(axis=1, keepdims=True) - s
    ok = (-tol <= X).all(axis=1)
    zeros, tight = X[ok] <= tol, slack[ok] <= tol
    _, idx = np.unique(_row_keys(np.hstack([zeros, tight])), return_index=True)
    return X[ok][idx], zeros[idx], tight[idx]


def _row_keys(L: np.ndarray) -> np.ndarray:
    """One sortable key per row of a boolean array (distinct rows <-> distinct keys)."""
    if L.shape[1] <= 62:
        return L.astype(np.int64) @ (np.int64(1) << np.arange(L.shape[1], dtype=np.int64))
    packed = np.ascontiguousarray(np.packbits(L, axis=1))
    return packed.view(np.dtype((np.void, packed.shape[1]))).ravel()


def _match(LP: np.ndarray, LQ: np.ndarray, m: int, n: int):
    """Index pairs ``(ip, iq)`` with ``LP[ip] | LQ[iq]`` = all labels. Simple vertices (exactly
    ``m`` resp. ``n`` labels) match only the exact complement (hash join); vertices with extra
    labels are checked against all vertices of the other polytope."""
    degP, degQ = LP.sum(axis=1) > m, LQ.sum(axis=1) > n
    simpleP, simpleQ = np.nonzero(~degP)[0], np.nonzero(~degQ)[0]
    _, i, j = np.intersect1d(_row_keys(~LP[simpleP]), _row_keys(LQ[simpleQ]), True, return_indices=True)
    pairs = set(zip(simpleP[i].tolist(), simpleQ[j].tolist(), strict=True))
    allP, allQ = np.arange(len(LP)), np.arange(len(LQ))
    for rowsP, rowsQ in ((np.nonzero(degP)[0], allQ), (allP, np.nonzero(degQ)[0])):
        if len(rowsP) and len(rowsQ):
            miss = (~LP[rowsP]).astype(np.float32) @ (~LQ[rowsQ]).T.astype(np.float32)
            for i, j in zip(*np.nonzero(miss == 0), strict=True):
                pairs.add((int(rowsP[i]), int(rowsQ[j])))
    pairs = sorted(pairs)
    return np.array([p[0] for p in pairs], np.int64), np.array([p[1] for p in pairs], np.int64)


def _qhull_game(An: np.ndarray, Bn: np.ndarray, tol: float):
    m, n = An.shape
    xP, zP, tP = _qhull_vertices(Bn, tol)
    yQ, zQ, tQ = _qhull_vertices(An.T, tol)
    ip, iq = _match(np.hstack([zP, tP]), np.hstack([tQ, zQ]), m, n)  # labels: rows, then columns
    return np.zeros(len(ip), np.int64), xP[ip], yQ[iq]


# ------------------------------------------------------------------------------- assembly
def _finish(G: int, g: np.ndarray, x: np.ndarray, y: np.ndarray, A: np.ndarray, B: np.ndarray):
    """Clip, renormalise, sort, drop numerical duplicates; NashConv of each equilibrium."""
    x = np.clip(x, 0.0, None)
    y = np.clip(y, 0.0, None)
    x /= x.sum(axis=1, keepdims=True)
    y /= y.sum(axis=1, keepdims=True)
    rx, ry = np.round(x, _ROUND), np.round(y, _ROUND)
    supp = (rx > 0).sum(axis=1) + (ry > 0).sum(axis=1)
    order = np.lexsort(tuple(-ry[:, ::-1].T) + tuple(-rx[:, ::-1].T) + (supp, g))
    g, x, y, rx, ry = g[order], x[order], y[order], rx[order], ry[order]
    dup = np.zeros(len(g), bool)
    dup[1:] = (g[1:] == g[:-1]) & (rx[1:] == rx[:-1]).all(axis=1) & (ry[1:] == ry[:-1]).all(axis=1)
    g, x, y = g[~dup], x[~dup], y[~dup]
    Ay = np.einsum("eij,ej->ei", A[g], y)
    xB = np.einsum("ei,eij->ej", x, B[g])
    nc = (Ay.max(axis=1) - (x * Ay).sum(axis=1)) + (xB.max(axis=1) - (xB * y).sum(axis=1))
    return g, x, y, np.maximum(nc, 0.0)


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
