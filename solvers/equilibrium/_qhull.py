"""The ``"qhull"`` vertex enumeration of :mod:`solvers.equilibrium.two_player`: output-sensitive, one
game at a time.

The vertices of ``P = {x >= 0 : C^T x <= 1}`` are the facets of the polar of ``P`` about an
interior point, computed by Qhull (``scipy.spatial.ConvexHull``); labels are recomputed from each
vertex with ``tol``, vertices are deduplicated on their label sets and matched by a hash join plus
a table for degenerate ones (details in the module docstring of :mod:`solvers.equilibrium.two_player`).
"""

from __future__ import annotations

import numpy as np


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
