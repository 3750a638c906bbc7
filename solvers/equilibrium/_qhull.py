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


#: A support system whose Hadamard ratio ``|det M| / Π_r ‖M_r‖`` (in ``[0, 1]``, 0 iff singular)
#: is below this is treated as singular (the column player's best replies to that ``x`` may form a
#: face, not a point): then the second hull is computed.
HADAMARD_MIN = 1e-10


def _partners(An: np.ndarray, xP: np.ndarray, zP: np.ndarray, tP: np.ndarray, tol: float):
    """Equilibrium partners of the vertices of ``P`` without the hull of ``Q``, when they are unique.

    A vertex ``x`` of ``P`` with exactly ``m`` labels has support ``S`` and best-reply columns ``T``
    with ``|S| = |T|``; an equilibrium ``(x, y)`` has ``y`` supported in ``T`` and makes every row of
    ``S`` a best response: ``A_ST y_T = v 1``, ``Σ y = 1``. If every such system is nonsingular, each
    ``x`` has at most one partner, its solution, which is accepted iff ``y >= -tol`` and the rows of
    ``S`` are best responses to it within ``tol``. Returns ``(ip, y)`` (indices into ``xP`` and the
    partners), or ``None`` when some vertex has extra labels or a (near-)singular system: then
    ``Q``'s vertices are enumerated instead. Saves the second Qhull call on nondegenerate games.
    """
    n = An.shape[1]
    S, T = ~zP, tP
    k = S.sum(axis=1)
    if len(xP) == 0 or np.any(k != T.sum(axis=1)):
        return None  # a degenerate vertex of P (extra labels)
    ips, ys = [], []
    for size in np.unique(k):  # at most min(m, n) batches, one per support size
        rows = np.flatnonzero(k == size)
        si = np.nonzero(S[rows])[1].reshape(len(rows), size)
        ti = np.nonzero(T[rows])[1].reshape(len(rows), size)
        # [A_ST, -1; 1^T, 0] [y_T; v] = [0; 1]
        M = np.zeros((len(rows), size + 1, size + 1))
        M[:, :size, :size] = An[si[:, :, None], ti[:, None, :]]
        M[:, :size, size] = -1.0
        M[:, size, :size] = 1.0
        _, logdet = np.linalg.slogdet(M)
        if np.any(logdet - np.log(np.linalg.norm(M, axis=2)).sum(axis=1) < np.log(HADAMARD_MIN)):
            return None
        rhs = np.zeros((len(rows), size + 1, 1))
        rhs[:, size] = 1.0
        sol = np.linalg.solve(M, rhs)[:, :size, 0]
        y = np.zeros((len(rows), n))
        np.put_along_axis(y, ti, sol, axis=1)
        u = y @ An.T  # row player's payoffs against y
        best_rows = np.take_along_axis(u, si, axis=1).min(axis=1) >= u.max(axis=1) - tol
        ok = (sol >= -tol).all(axis=1) & best_rows
        ips.append(rows[ok])
        ys.append(y[ok])
    return np.concatenate(ips), np.concatenate(ys)


def _qhull_game(An: np.ndarray, Bn: np.ndarray, tol: float):
    m, n = An.shape
    xP, zP, tP = _qhull_vertices(Bn, tol)
    partners = _partners(An, xP, zP, tP, tol)
    if partners is not None:
        ip, y = partners
        return np.zeros(len(ip), np.int64), xP[ip], y
    yQ, zQ, tQ = _qhull_vertices(An.T, tol)
    ip, iq = _match(np.hstack([zP, tP]), np.hstack([tQ, zQ]), m, n)  # labels: rows, then columns
    return np.zeros(len(ip), np.int64), xP[ip], yQ[iq]
