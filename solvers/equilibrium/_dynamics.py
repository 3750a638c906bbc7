"""Kernels behind :func:`solvers.equilibrium.mixed.mixed_nash` (THEORY §5, N-player mixed).

Everything here works on a payoff tensor ``P`` of shape ``(n, m_1, ..., m_n)`` already rescaled to
``[0, 1]`` per player by the caller (so step sizes are scale free).

* Learning dynamics: one jitted kernel per method, a ``fori_loop`` with a dynamic trip count vmapped
  over starts (one compile per game shape and method; resumable in chunks), returning candidate
  profiles and their deviation payoffs: alternating regret matching+ with linear averaging,
  simultaneous fictitious play, exponential weights (discrete-time replicator) and exploitability
  descent (Adam on temperature-scaled softmax logits of the entropy-regularised NashConv, the
  temperature annealed towards 0).
* Support polishing: batched damped Newton on the support equations, in numpy (no compile per
  batch size; the systems have ``Σ m_i + n`` unknowns).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

KINDS = ("regret_matching", "fictitious_play", "replicator", "exploitability")

#: Step size of exponential weights on payoffs rescaled to [0, 1].
REPLICATOR_STEP = 0.5
#: Exploitability descent: Adam learning rate, temperature from TAU_MAX to TAU_MIN (geometric) over
#: TAU_STEPS iterations, then held at TAU_MIN.
ED_LEARNING_RATE = 0.01
TAU_MAX, TAU_MIN, TAU_STEPS = 0.1, 1e-3, 300
#: XLA options for the dynamics kernels: without LLVM optimisation a kernel compiles 2-6x faster
#: (0.3-1 s instead of 1-4 s per game shape and method) and runs <= 2x slower (~10 us per step for
#: 4 starts of a 3x3x3 game); runs to a certificate are usually a few hundred steps.
COMPILER_OPTIONS = {"xla_backend_optimization_level": 0}
#: Support guesses (payoffs rescaled to [0, 1]): probability and best-response-gap thresholds.
PROB_THRESHOLDS = (0.1, 1e-2, 1e-3, 1e-5)
GAP_THRESHOLDS = (1e-2, 1e-4)
#: Newton: at most NEWTON_ITERS steps (valid solutions of random games converge in <= 10), stop at
#: max |F| <= NEWTON_STOP (rounding level for payoffs in [0, 1]); each step is shrunk along
#: NEWTON_ALPHAS until |F| decreases, else that pair is dropped (a wrong support rarely recovers).
NEWTON_ITERS, NEWTON_STOP, NEWTON_ALPHAS = 8, 1e-14, (1.0, 0.5, 0.25)
#: Tikhonov damping of the Newton normal equations (payoffs in [0, 1]; Jacobian entries <= 1).
LM_DAMPING = 1e-12


def _deviation(P, xs, i):
    """``u_i(a, x_{-i})`` for every action ``a`` of player ``i``."""
    T = P[i]
    for j in reversed(range(P.shape[0])):  # contract the last axes first: axis j stays at j
        if j != i:
            T = jnp.tensordot(T, xs[j], axes=([j], [0]))
    return T


def deviation_payoffs(P, xs):
    """``u_i(a, x_{-i})`` for every player ``i`` and action ``a``: a tuple of vectors."""
    return tuple(_deviation(P, xs, i) for i in range(P.shape[0]))


def _normalise(q):
    s = jnp.sum(q)
    return jnp.where(s > 0, q / jnp.where(s > 0, s, 1.0), jnp.full_like(q, 1.0 / q.shape[0]))


# ----------------------------------------------------------------------------------------------
# Dynamics. Each kind has a state built by init_states, a step and its candidates (last iterate,
# time average, ...).


def _tau(t):
    frac = jnp.minimum(t / TAU_STEPS, 1.0)
    return TAU_MAX * (TAU_MIN / TAU_MAX) ** frac


def _ed_loss(P, xs, logx, tau):
    """Σ_i τ·lse(u_i/τ) - x_i·u_i - τ·H(x_i) >= 0, zero exactly at the logit QRE of temperature τ
    (Gibbs); ``logx`` = log x (the entropy's log is held fixed: its gradient τ·log x differs from
    the true one by a constant, removed when the gradient is centred)."""
    u = deviation_payoffs(P, xs)
    total = 0.0
    for x, lx, ui in zip(xs, logx, u, strict=True):
        total = total + tau * jax.nn.logsumexp(ui / tau) - jnp.dot(x, ui) + tau * jnp.dot(x, lx)
    return total


def _ed_direction(P, theta, tau):
    """Mirror-descent direction for the logits: the centred gradient of :func:`_ed_loss` with
    respect to the strategies ``x_i = softmax(θ_i/τ)``. Unlike the logit gradient (which is
    ``x ⊙`` this and vanishes where the softmax saturates, so descent stalls at non-equilibrium
    pure profiles) it stays informative on the whole simplex."""
    logx = tuple(jax.nn.log_softmax(th / tau) for th in theta)
    xs = tuple(jnp.exp(lx) for lx in logx)
    g = jax.grad(_ed_loss, argnums=1)(P, xs, logx, tau)
    return tuple(gi - jnp.mean(gi) for gi in g)


_ED_OPT = optax.adam(ED_LEARNING_RATE)


def _step(kind, P, state):
    if kind == "regret_matching":  # alternating RM+: Q_i <- [Q_i + r_i]_+, average weighted by t
        Q, acc, t = list(state[0]), state[1], state[2]
        xs = [_normalise(q) for q in Q]
        for i in range(P.shape[0]):
            ui = _deviation(P, xs, i)
            Q[i] = jnp.maximum(Q[i] + ui - jnp.dot(xs[i], ui), 0.0)
            xs[i] = _normalise(Q[i])
        acc = tuple(a + (t + 1.0) * x for a, x in zip(acc, xs, strict=True))
        return (tuple(Q), acc, t + 1.0)
    if kind == "fictitious_play":  # simultaneous FP; the start counts as one observation
        avg, t = state
        u = deviation_payoffs(P, avg)
        br = tuple(jax.nn.one_hot(jnp.argmax(ui), ui.shape[0], dtype=ui.dtype) for ui in u)
        avg = tuple(a + (b - a) / (t + 2.0) for a, b in zip(avg, br, strict=True))
        return (avg, t + 1.0)
    if kind == "replicator":  # exponential weights = discrete-time replicator in logit space
        y, acc, t = state
        xs = tuple(jax.nn.softmax(v) for v in y)
        u = deviation_payoffs(P, xs)
        y = tuple(v + REPLICATOR_STEP * ui for v, ui in zip(y, u, strict=True))
        y = tuple(v - jnp.max(v) for v in y)
        acc = tuple(a + x for a, x in zip(acc, xs, strict=True))
        return (y, acc, t + 1.0)
    theta, opt_state, t = state
    grads = _ed_direction(P, theta, _tau(t))
    updates, opt_state = _ED_OPT.update(grads, opt_state, theta)
    return (optax.apply_updates(theta, updates), opt_state, t + 1.0)


def _candidates(kind, P, state):
    if kind == "regret_matching":
        Q, acc, t = state
        w = jnp.maximum(t * (t + 1.0) / 2.0, 1.0)
        return (tuple(_normalise(q) for q in Q), tuple(a / w for a in acc))
    if kind == "fictitious_play":
        avg, _ = state
        u = deviation_payoffs(P, avg)
        br = tuple(jax.nn.one_hot(jnp.argmax(ui), ui.shape[0], dtype=ui.dtype) for ui in u)
        return (avg, br)
    if kind == "replicator":
        y, acc, t = state
        return (tuple(jax.nn.softmax(v) for v in y), tuple(a / jnp.maximum(t, 1.0) for a in acc))
    theta, _, t = state
    return (tuple(jax.nn.softmax(th / _tau(t)) for th in theta),)


def init_states(kind, x0s):
    """States for a batch of starts ``x0s`` (tuple of ``(B, m_i)`` arrays), built in numpy."""
    x0s = tuple(np.asarray(x, dtype=np.float64) for x in x0s)
    B = x0s[0].shape[0]
    t = np.zeros(B)
    zeros = tuple(np.zeros_like(x) for x in x0s)
    logs = tuple(np.log(np.maximum(x, 1e-12)) for x in x0s)
    if kind == "regret_matching":
        return (x0s, zeros, t)
    if kind == "fictitious_play":
        return (x0s, t)
    if kind == "replicator":
        return (logs, zeros, t)
    theta = tuple(TAU_MAX * v for v in logs)  # softmax(θ/τ) = x0 at the first temperature
    one = _ED_OPT.init(tuple(jnp.asarray(v[0]) for v in theta))  # Adam state of one start
    batched = jax.tree.map(lambda leaf: np.broadcast_to(np.asarray(leaf), (B, *leaf.shape)), one)
    return (theta, batched, t)


@functools.partial(jax.jit, static_argnames=("kind",), compiler_options=COMPILER_OPTIONS)
def advance(kind, P, states, n_steps):
    """Run ``n_steps`` (dynamic) more iterations from every start. Returns the new states, the
    candidate profiles (tuple of ``(B * c, m_i)``, start by start) and their deviation payoffs."""

    def one(state):
        state = jax.lax.fori_loop(0, n_steps, lambda _, s: _step(kind, P, s), state)
        cands = _candidates(kind, P, state)
        return state, cands, tuple(deviation_payoffs(P, c) for c in cands)

    states, cands, devs = jax.vmap(one)(states)

    def flat(tree):  # tuple over candidate types of tuples over players of (B, m_i)
        return tuple(
            jnp.stack([c[i] for c in tree], axis=1).reshape(-1, P.shape[1 + i]) for i in range(P.shape[0])
        )

    return states, flat(cands), flat(devs)


def schedule(max_iter, first=50):
    """Chunk lengths 50, 100, 200, ... summing to ``max_iter`` (polish after each chunk)."""
    out, total, c = [], 0, first
    while total < max_iter:
        c = min(c, max_iter - total)
        out.append(c)
        total += c
        c *= 2
    return out


# ----------------------------------------------------------------------------------------------
# Support polishing (numpy: no compile per game shape; one batched solve per Newton step).


@functools.cache
def _specs(n: int) -> tuple[tuple[str, ...], tuple[tuple[int, int, str, tuple[int, ...]], ...]]:
    """einsum specs for ``n`` players: deviation payoffs ``d_i`` (batched over ``z``) and the pair
    matrices ``(i, j, spec, others)``."""
    letters = "abcdefghijklmnopqrstuvwxy"[:n]
    dev = tuple(
        letters + "".join(",z" + letters[k] for k in range(n) if k != i) + "->z" + letters[i]
        for i in range(n)
    )
    pairs = []
    for i in range(n):
        for j in range(n):
            if i != j:
                rest = tuple(k for k in range(n) if k not in (i, j))
                spec = letters + "".join(",z" + letters[k] for k in rest)
                out = ("z" if rest else "") + letters[i] + letters[j]
                pairs.append((i, j, spec + "->" + out, rest))
    return dev, tuple(pairs)


def deviations(Pn: np.ndarray, xs: list[np.ndarray]) -> list[np.ndarray]:
    """Batched deviation payoffs ``d_i`` ``(K, m_i)`` at profiles ``xs`` (list of ``(K, m_i)``)."""
    n = Pn.shape[0]
    if n == 1:
        return [np.tile(Pn[0], (xs[0].shape[0], 1))]
    specs = _specs(n)[0]
    return [np.einsum(specs[i], Pn[i], *(xs[k] for k in range(n) if k != i)) for i in range(n)]


def _jacobian_block(Pn: np.ndarray, xs: list[np.ndarray]) -> np.ndarray:
    """``(K, Σm, Σm)`` matrix of ``∂ d_i(a) / ∂ x_j(b)`` (zero blocks for ``i = j``)."""
    n, sizes = Pn.shape[0], Pn.shape[1:]
    K = xs[0].shape[0]
    blocks = {(i, i): np.zeros((K, sizes[i], sizes[i])) for i in range(n)}
    for i, j, spec, rest in _specs(n)[1]:
        block = np.einsum(spec, Pn[i], *(xs[k] for k in rest))
        blocks[i, j] = block if rest else np.broadcast_to(block, (K, *block.shape))
    rows = [np.concatenate([blocks[i, j] for j in range(n)], axis=2) for i in range(n)]
    return np.concatenate(rows, axis=1)


def batched_newton(Pn: np.ndarray, masks: list[np.ndarray], starts: list[np.ndarray]):
    """Damped Newton on the support equations for ``K`` (support, start) pairs at once.

    Full-size formulation (same shapes for every support): unknowns ``x`` (all actions) and ``v``;
    rows ``d_i(a) - v_i`` on the support, ``x_i(a)`` off it, ``Σ_a x_i(a) - 1``. ``masks`` and
    ``starts`` are lists over players of ``(K, m_i)`` arrays. Returns (profiles: list of
    ``(K, m_i)``, deviation payoffs at them, max |F| per pair ``(K,)``).
    """
    n, sizes = Pn.shape[0], Pn.shape[1:]
    off = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    Ms = int(off[-1])
    owner = np.repeat(np.arange(n), sizes)  # player of each action row
    E = (owner[:, None] == np.arange(n)[None, :]).astype(float)  # (Σm, n)
    sum_rows = np.concatenate([E.T, np.zeros((n, n))], axis=1)  # (n, Σm + n)
    eye = np.eye(Ms)
    damp = LM_DAMPING * np.eye(Ms + n)

    def split(x):
        return [x[:, off[i] : off[i + 1]] for i in range(n)]

    def residual(z, mk):
        x = z[:, :Ms]
        d = np.concatenate(deviations(Pn, split(x)), axis=1)
        top = np.where(mk, d - z[:, Ms:][:, owner], x)
        return np.concatenate([top, x @ E - 1.0], axis=1), d

    mask = np.concatenate(masks, axis=1)
    xs = []
    for mk, x in zip(masks, starts, strict=True):
        y = np.where(mk, x, 0.0)
        tot = y.sum(axis=1, keepdims=True)
        uni = mk / mk.sum(axis=1, keepdims=True)
        xs.append(np.where(tot > 0, y / np.where(tot > 0, tot, 1.0), uni))
    x0 = np.concatenate(xs, axis=1)
    K = x0.shape[0]
    _, d = residual(np.concatenate([x0, np.zeros((K, n))], axis=1), mask)
    z = np.concatenate([x0, (x0 * d) @ E], axis=1)
    F, d = residual(z, mask)
    fn = np.linalg.norm(F, axis=1)
    active = np.ones(K, bool)
    for _ in range(NEWTON_ITERS):
        active &= np.max(np.abs(F), axis=1) > NEWTON_STOP
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        mk = mask[idx]
        top = np.where(mk[:, :, None], _jacobian_block(Pn, split(z[idx, :Ms])), eye[None])
        vcols = -(mk[:, :, None] * E[None])
        J = np.concatenate(
            [np.concatenate([top, vcols], axis=2), np.broadcast_to(sum_rows, (idx.size, n, Ms + n))],
            axis=1,
        )
        # Newton step via the (Tikhonov-damped) normal equations: identical to J⁻¹F up to
        # LM_DAMPING/σ_min(J)² and still defined where J is singular (non-isolated solutions or a
        # support with more indifferences than unknowns); one batched solve, no exceptions
        JT = np.swapaxes(J, 1, 2)
        step = np.linalg.solve(JT @ J + damp, -(JT @ F[idx][:, :, None]))[:, :, 0]
        # backtracking: shrink the step of the pairs whose |F| did not decrease
        pending = np.arange(idx.size)
        for alpha in NEWTON_ALPHAS:
            rows = idx[pending]
            trial = z[rows] + alpha * step[pending]
            Ft, dt = residual(trial, mask[rows])
            f_new = np.linalg.norm(Ft, axis=1)
            good = np.isfinite(f_new) & (f_new < fn[rows])
            sel = rows[good]
            z[sel], F[sel], d[sel], fn[sel] = trial[good], Ft[good], dt[good], f_new[good]
            pending = pending[~good]
            if pending.size == 0:
                break
        active[idx[pending]] = False  # stalled
    return split(z[:, :Ms]), split(d), np.max(np.abs(F), axis=1)


def guess_masks(X, D):
    """Support guesses for candidate profiles ``X`` with deviation payoffs ``D`` (lists over players
    of ``(B, m_i)``): ``x_i(a) > θ`` (argmax kept) for θ in PROB_THRESHOLDS, gap ``<= δ`` for δ in
    GAP_THRESHOLDS, and the full support; list over players of boolean ``(B, G, m_i)``."""
    out = []
    for x, d in zip(X, D, strict=True):
        top = np.arange(x.shape[1])[None, :] == np.argmax(x, axis=1)[:, None]
        rows = [(x > th) | top for th in PROB_THRESHOLDS]
        gap = d.max(axis=1, keepdims=True) - d
        rows += [gap <= delta for delta in GAP_THRESHOLDS]
        rows.append(np.ones(x.shape, bool))
        out.append(np.stack(rows, axis=1))
    return out
