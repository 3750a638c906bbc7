r"""The ``"subsets"`` vertex enumeration of :mod:`solvers.equilibrium.two_player`: exhaustive, fixed
shapes, batched over games.

Every choice of ``k`` support actions ``I`` and ``k`` tight columns ``J`` of the best-response
polytope ``P = {x >= 0 : C^T x <= 1}`` is a candidate basis; its vertex and labels follow from the
minors ``E(R, J) = det [C_RJ; 1]``, all computed by one vectorised Laplace recursion, and the sign
tests run on bits packed 8 games per byte. See the module docstring of
:mod:`solvers.equilibrium.two_player` for the derivation, the zero threshold and the cost.
"""

from __future__ import annotations

import functools
import math
from itertools import combinations
from typing import NamedTuple

import numpy as np

#: Subsets method: a minor counts as zero when ``|E| <= ZERO_REL * tol * k * M^(k-1)``, a bound on its
#: Laplace terms' absolute sum (rounding noise is ~1e-16 of it); at ``tol = 1e-9`` that is 1e-12.
ZERO_REL = 1e-3


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
    PN = np.zeros((2 * n, _packed_width(G)), np.uint8)
    w = (G + 7) // 8
    for k in T.rows:
        (nr, nc), o = T.shape[k], T.off[k]
        thr = (ZERO_REL * max(tol, 1e-9) * k) * M ** (k - 1)
        Ek = E[o : o + nr * nc]
        PN[o : o + nr * nc, :w] = np.packbits(Ek > thr, axis=1)
        PN[n + o : n + o + nr * nc, :w] = np.packbits(Ek < -thr, axis=1)
    return E, PN


def _packed_width(G: int) -> int:
    """Bytes per row of a bit-packed set of ``G`` games: a whole number of 64-bit words (the bit
    operations run on uint64 views, 64 games per element), zero past game ``G``."""
    return (G + 63) // 64 * 8


def _feasible(T: _Tables, PN: np.ndarray):
    """Per candidate: packed ``(K, W)`` bits "simple vertex" and "degenerate vertex" (``W`` bytes,
    :func:`_packed_width`).

    A candidate is a vertex iff all its slots share one sign (zeros allowed) and some x slot is
    nonzero; it is degenerate (has labels beyond its basis) iff some slot is zero."""
    simple, degen = [], []
    words = PN.view(np.uint64)
    for lv in T.cand:
        Pv, Nv = words[lv["nbP"]], words[lv["nbN"]]  # (nK, b, words): slot > 0, slot < 0 (sign applied)
        k = lv["k"]
        nz = Pv | Nv
        ok = np.bitwise_or.reduce(nz[:, :k], axis=1)
        ok &= np.bitwise_or.reduce(Pv, axis=1) ^ np.bitwise_or.reduce(Nv, axis=1)
        allnz = np.bitwise_and.reduce(nz, axis=1)
        simple.append(ok & allnz)
        degen.append(ok & ~allnz)
    return np.concatenate(simple).view(np.uint8), np.concatenate(degen).view(np.uint8)


def _packed_nonzero(bits: np.ndarray, G: int):
    """``(row, game)`` of the set bits of a packed ``(R, W)`` array, ``W`` a multiple of 8 bytes
    (:func:`_packed_width`), in row-major order; scanned a 64-bit word at a time."""
    r, word = np.nonzero(bits.view(np.uint64))
    i, bit = np.nonzero(np.unpackbits(bits.reshape(len(bits), -1, 8)[r, word], axis=1))
    g = word[i] * 64 + bit
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
    """Packed ``(1, W)`` mask of the games listed in ``g`` (``W``: :func:`_packed_width`)."""
    mask = np.zeros(8 * _packed_width(G), bool)
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
