"""Best responses of one player of a finite game (THEORY §5, "Best responses"; §3.4 for beliefs).

:func:`best_response` ranks all of player ``i``'s options against what ``i`` knows about the others:

=============================================  ===========================================================
``against``                                    each option ``o`` is scored by
=============================================  ===========================================================
a pure profile ``(a_1, ..., a_n)``             ``u_i(o, a_{-i})`` (own entry ignored)
a mixed profile ``(x_1, ..., x_n)``            ``Σ_s Π_{j≠i} x_j(s_j) u_i(o, s)`` (own entry ignored)
a ``dict`` ``{profile: probability}`` or an    the expectation ``Σ_s p(s) u_i(o, s)`` over the others'
array over the others' joint options           pure profiles ``s`` (Bayesian; keys are the others'
                                               options in player order, or full profiles)
a ``set``/``frozenset`` of profiles            the worst case ``min_{s∈S} u_i(o, s)`` over the
                                               uncertainty set ``S`` (robust, max-min); with
                                               ``robust_mixed=True`` also the best *mixed* robust
                                               strategy, by a linear program (below)
an :class:`aca_games.beliefs.Beliefs`          ``v_i · B_i(o) - c_i(o) - k_i α_o`` with ``B_i(o)`` the
                                               robust guarantee :func:`aca_games.bounds.partial.robust`
                                               (sound for every consistent world) or, for a prior, the
                                               expected success (:func:`~aca_games.bounds.partial.bayes`)
=============================================  ===========================================================

``game`` is an :class:`aca_games.ACAGame` (the needed profiles are evaluated in one jitted ``vmap``
of :meth:`ACAGame.payoffs` and :meth:`ACAGame.success_at` over the player's options and the others'
profiles in the support, so no full payoff tensor is built for a pure profile) or a payoff tensor
``(n_players, m_1, ..., m_n)`` (one gather; no success column then).

**Result.** A :class:`~solvers.Solution` whose ``value`` is the full ranking, best first (ties kept in
option order): a list of dicts ``{"option", "name", "payoff", "success"}`` (``success`` = ``B_i`` at the
profile, its expectation, or its worst case over ``S``; ``None`` for a bare tensor), plus
``"worst_profile"`` (robust) or ``"guarantee"``, ``"expected"``, ``"stderr"`` (beliefs). The
``certificate`` is the best-response gap ``max_o score(o) - score(best)`` (``0.0``: nothing beats the
returned option); ``stats["second_gap"]`` is the margin to the runner-up (0 means a tie) and
``stats["ties"]`` the options tying with the best within :data:`TIE_TOL`.

**Robust mixed strategies.** With ``robust_mixed=True`` (set ``S`` only) the player also solves

    max_{x, t} t   s.t.  Σ_o x_o u_i(o, s) >= t  for all s ∈ S,   x >= 0,  Σ_o x_o = 1,

with cvxpy + HiGHS; ``value`` is then ``{"ranking", "strategy", "worst_case", "support"}``. The LP
value is at least the pure max-min (a pure option is a feasible ``x``). The certificate is
re-evaluated in numpy: ``worst_case = min_s x·u(·, s)`` for the returned (clipped, renormalised)
``x``, the adversary's mixed strategy ``y`` (the LP dual) with the upper bound
``max_o Σ_s y_s u_i(o, s)`` (no mixed strategy guarantees more: weak duality), the duality gap between
the two, and the raw cvxpy status (mapped as in :data:`STATUS_MAP`, never dropped).

Invariance: the ranking (and the LP strategy) is unchanged under positive affine transforms of the
player's payoffs; scores transform with them.

>>> import numpy as np
>>> dilemma = np.array([[[3.0, 0.0], [5.0, 1.0]], [[3.0, 5.0], [0.0, 1.0]]])
>>> sol = best_response(dilemma, 0, (0, 0))             # against cooperation: defect
>>> [(r["option"], r["payoff"]) for r in sol.value], sol.certificate, sol.stats["second_gap"]
([(1, 5.0), (0, 3.0)], 0.0, 2.0)
>>> best_response(dilemma, 0, (None, [0.5, 0.5])).value[0]["payoff"]   # expected payoffs 1.5 vs 3
3.0
>>> pennies = np.array([[[1.0, -1.0], [-1.0, 1.0]], [[-1.0, 1.0], [1.0, -1.0]]])
>>> sol = best_response(pennies, 0, {(0,), (1,)}, robust_mixed=True)   # column may play anything
>>> sol.value["ranking"][0]["payoff"], round(sol.value["worst_case"], 9), sol.status
(-1.0, 0.0, 'optimal')
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

import cvxpy as cp
import jax
import numpy as np

from aca_games import ACAInputError
from aca_games.beliefs import Beliefs
from aca_games.bounds import partial
from solvers._against import EVALUATOR_CACHE as EVALUATOR_CACHE  # re-exported
from solvers._against import (
    PROB_TOL,
    _bayes_support,
    _Model,
    _profile_support,
    _robust_support,
)
from solvers._solution import Solution

__all__ = ["PROB_TOL", "STATUS_MAP", "TIE_TOL", "best_response"]

#: Options whose score is within this of the best are reported as ties (``stats["ties"]``); the
#: ranking itself is exact (float64 order, then option index).
TIE_TOL = 1e-12
#: cvxpy status -> :data:`solvers.STATUSES`. ``optimal_inaccurate`` is not a certified optimum, so it
#: is ``converged`` (the certificate still re-checks it); anything unknown is ``error``.
STATUS_MAP = {
    cp.OPTIMAL: "optimal",
    cp.OPTIMAL_INACCURATE: "converged",
    cp.INFEASIBLE: "infeasible",
    cp.INFEASIBLE_INACCURATE: "infeasible",
    cp.UNBOUNDED: "unbounded",
    cp.UNBOUNDED_INACCURATE: "unbounded",
    cp.USER_LIMIT: "max_iter",
    cp.SOLVER_ERROR: "error",
}
#: HiGHS tolerances for the robust LP (payoffs are O(1) in ACA games).
HIGHS_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}
#: Probabilities below this are left out of the reported LP support.
SUPPORT_TOL = 1e-9


# --------------------------------------------------------------------------------------- ranking
def _rank(scores: np.ndarray) -> np.ndarray:
    """Options best first; equal scores in option order."""
    return np.lexsort((np.arange(len(scores)), -scores))


def _ranking(model: _Model, scores, success, extra=None) -> tuple[list[dict], dict]:
    scores = np.asarray(scores, dtype=np.float64)
    order = _rank(scores)
    best = int(order[0])
    rows = []
    for o in order:
        row = {
            "option": int(o),
            "name": model.names[o],
            "payoff": float(scores[o]),
            "success": None if success is None else float(success[o]),
        }
        if extra is not None:
            row.update(extra(int(o)))
        rows.append(row)
    stats = {
        "best": best,
        "second_gap": float(scores[best] - scores[order[1]]) if len(order) > 1 else math.inf,
        "ties": [int(o) for o in order if scores[best] - scores[o] <= TIE_TOL],
        "player": model.player,
        "n_options": model.m,
    }
    return rows, stats


def _gap(scores: np.ndarray, best: int) -> float:
    return float(np.max(scores) - scores[best])


# ------------------------------------------------------------------------------------ the solver
def best_response(
    game,
    player,
    against,
    *,
    robust_mixed: bool = False,
    key=None,
    n_samples: int = 4096,
    criterion: str | None = None,
) -> Solution:
    """Rank player ``player``'s options against ``against`` (see the module docstring).

    Args:
        game: an :class:`aca_games.ACAGame`, or a payoff tensor ``(n_players, m_1, ..., m_n)``.
        player: the player's index (or its name, for an ``ACAGame``).
        against: a pure or mixed profile (tuple, own entry ignored: pass anything, e.g. ``None``), a
            ``dict`` or array distribution over the others' pure profiles, a ``set`` of the others'
            profiles (uncertainty set), or :class:`~aca_games.beliefs.Beliefs` (``ACAGame`` only).
        robust_mixed: with a ``set``: also solve the LP for the best mixed robust strategy.
        key: with a Bayesian ``Beliefs`` prior: a JAX PRNG key to estimate expected success by Monte
            Carlo (:func:`aca_games.bounds.partial.bayes`, the same key for every option: common random
            numbers). Without a key a finite prior is summed exactly
            (:func:`~aca_games.bounds.partial.bayes_exact`).
        n_samples: Monte Carlo samples per option (with ``key``).
        criterion: with ``Beliefs``: ``"robust"`` (rank by the guaranteed payoff; default for robust
            beliefs) or ``"bayes"`` (rank by the expected payoff; default for a prior).

    Returns:
        :class:`~solvers.Solution` (status ``"optimal"``: every option is evaluated exactly, except
        Monte Carlo scores, status ``"converged"`` with standard errors in the ranking; the LP maps the
        cvxpy status).

    Raises:
        ACAInputError: player out of range, a profile of the wrong length or with an option out of
            range, probabilities that are negative or do not sum to 1 within :data:`PROB_TOL`, an
            empty uncertainty set, ``robust_mixed`` without a set, ``Beliefs`` without an ``ACAGame``.
    """
    t0 = time.perf_counter()
    model = _Model(game, player)
    if robust_mixed and not isinstance(against, (set, frozenset)):
        raise ACAInputError(
            "robust_mixed: the mixed robust strategy needs an uncertainty set of the others' profiles "
            "(a set of tuples) as `against`"
        )
    if criterion is not None and not isinstance(against, Beliefs):
        raise ACAInputError("criterion: only used with Beliefs (robust guarantee or Bayesian expectation)")
    if isinstance(against, Beliefs):
        sol = _against_beliefs(model, against, key, n_samples, criterion)
    elif isinstance(against, (set, frozenset)):
        sol = _robust(model, _robust_support(model, against), robust_mixed)
    elif isinstance(against, (Mapping, np.ndarray, jax.Array)):
        profiles, weights = _bayes_support(model, against)
        sol = _expected(model, "bayes", profiles, weights)
    elif isinstance(against, Sequence) and not isinstance(against, str):
        kind, profiles, weights = _profile_support(model, against)
        sol = _expected(model, kind, profiles, weights)
    else:
        raise ACAInputError(
            f"against: expected a profile (tuple), a distribution (dict or array), an uncertainty set "
            f"(set of tuples) or Beliefs, got {type(against).__name__}"
        )
    sol.stats["seconds"] = time.perf_counter() - t0
    return sol


def _expected(model: _Model, kind: str, profiles: np.ndarray, weights: np.ndarray) -> Solution:
    U, B = model.evaluate(profiles)
    scores = U @ weights
    success = None if B is None else B @ weights
    rows, stats = _ranking(model, scores, success)
    gap = _gap(scores, stats["best"])
    if kind == "profile" and model.game is not None:
        # Independent re-check of the vmapped evaluation: the best option's payoff, evaluated alone.
        prof = profiles[0].copy()
        prof[model.player] = stats["best"]
        stats["recheck_error"] = abs(
            float(model.game.payoffs(tuple(int(a) for a in prof))[model.player])
            - float(scores[stats["best"]])
        )
    stats.update(method=kind, n_profiles=len(profiles))
    return Solution(value=rows, status="optimal", certificate=gap, stats=stats)


def _robust(model: _Model, profiles: np.ndarray, mixed: bool) -> Solution:
    U, B = model.evaluate(profiles)
    scores = U.min(axis=1)
    worst = U.argmin(axis=1)
    success = None if B is None else B.min(axis=1)

    def extra(o):
        return {"worst_profile": tuple(int(profiles[worst[o], j]) for j in model.others)}

    rows, stats = _ranking(model, scores, success, extra)
    stats.update(method="robust", n_profiles=len(profiles), maxmin=float(scores.max()))
    gap = _gap(scores, stats["best"])
    if not mixed:
        return Solution(value=rows, status="optimal", certificate=gap, stats=stats)
    lp = _robust_lp(U, float(scores.max()))
    stats.update(method="robust_mixed", lp_seconds=lp.pop("seconds"), solver="HIGHS")
    value = {
        "ranking": rows,
        "strategy": lp.pop("strategy"),
        "worst_case": lp["worst_case"],
        "support": lp.pop("support"),
    }
    status = lp.pop("status")
    return Solution(value=value, status=status, certificate=lp, stats=stats)


def _robust_lp(U: np.ndarray, pure_maxmin: float) -> dict:
    """``max_x min_s x·U[:, s]`` over the simplex (cvxpy/HiGHS) with a numpy re-check and the dual."""
    m, K = U.shape
    t0 = time.perf_counter()
    x, t = cp.Variable(m), cp.Variable()
    guarantee = U.T @ x >= t
    problem = cp.Problem(cp.Maximize(t), [guarantee, cp.sum(x) == 1, x >= 0])
    try:
        problem.solve(solver=cp.HIGHS, **HIGHS_OPTIONS)
        raw, message = problem.status, None
    except cp.error.SolverError as exc:  # pragma: no cover - solver crash
        raw, message = cp.SOLVER_ERROR, str(exc)
    seconds = time.perf_counter() - t0
    status = STATUS_MAP.get(raw, "error")
    out = {"lp_status": raw, "status": status, "seconds": seconds, "pure_maxmin": pure_maxmin}
    if message is not None:
        out["message"] = message
    if x.value is None:
        out.update(strategy=None, support=[], worst_case=None, lp_value=None)
        if status in ("optimal", "converged"):
            out["status"] = "error"
        return out
    raw_x = np.asarray(x.value, dtype=np.float64)
    strategy = np.clip(raw_x, 0.0, None)
    strategy = strategy / strategy.sum()
    worst_case = float((strategy @ U).min())  # independent re-evaluation, numpy float64
    out.update(
        strategy=strategy,
        support=[int(o) for o in np.flatnonzero(strategy > SUPPORT_TOL)],
        lp_value=float(t.value),
        worst_case=worst_case,
        simplex_residual=float(abs(raw_x.sum() - 1.0) + np.clip(-raw_x, 0.0, None).sum()),
        gain_over_pure=worst_case - pure_maxmin,
    )
    dual = guarantee.dual_value
    if dual is not None:
        y = np.clip(np.asarray(dual, dtype=np.float64).reshape(K), 0.0, None)
        if y.sum() > 0:
            y = y / y.sum()
            upper = float((U @ y).max())  # no mixed strategy guarantees more than this
            out.update(adversary=y, upper_bound=upper, duality_gap=upper - worst_case)
    return out


# --------------------------------------------------------------------------- beliefs (§3.4 tiers)
def _against_beliefs(model: _Model, beliefs: Beliefs, key, n_samples, criterion) -> Solution:
    game = model.game
    if game is None:
        raise ACAInputError(
            "game: Beliefs need an ACAGame (its world, the player's options and the learner); a bare "
            "payoff tensor has no world"
        )
    prior = beliefs.kind in ("scenarios", "product")
    if criterion is None:
        criterion = "bayes" if prior else "robust"
    if criterion not in ("robust", "bayes"):
        raise ACAInputError(f"criterion: expected 'robust' or 'bayes', got {criterion!r}")
    if criterion == "bayes" and not prior:
        raise ACAInputError(
            f"criterion: 'bayes' needs a prior (Beliefs.prior or Beliefs.product_prior), got "
            f"{beliefs.kind!r} beliefs"
        )
    p = game.players[model.player]
    sizes = np.asarray([float(c.size) for c in p.options])
    costs = np.asarray(p.costs) + p.size_cost * sizes
    guarantee = np.asarray(
        [float(partial.robust(game.world, c, beliefs, game.eps, game.reading)) for c in p.options]
    )
    stats = {
        "method": "beliefs",
        "beliefs": beliefs.kind,
        "criterion": criterion,
        "eps": float(game.eps),
        "reading": game.reading,
    }
    expected = stderr = None
    status = "optimal"
    if prior:
        payoff = "per_point" if game.bound == "per_point" else "exact"
        stats["bayes_payoff"] = payoff
        if key is not None:
            est = [
                partial.bayes(game.world, c, beliefs, key, n_samples, game.eps, game.reading, payoff=payoff)
                for c in p.options
            ]
            expected = np.asarray([float(e.mean) for e in est])
            stderr = np.asarray([float(e.stderr) for e in est])
            stats.update(monte_carlo=True, n_samples=int(n_samples))
            status = "converged" if criterion == "bayes" else "optimal"
        else:
            try:
                beliefs.scenarios()
            except ACAInputError as exc:
                raise ACAInputError(
                    f"key: this prior is not finite ({exc}); pass key=jax.random.key(seed) to estimate "
                    "the expected success by Monte Carlo"
                ) from exc
            expected = np.asarray(
                [
                    float(partial.bayes_exact(game.world, c, beliefs, game.eps, game.reading, payoff=payoff))
                    for c in p.options
                ]
            )
            stderr = np.zeros_like(expected)
            stats["monte_carlo"] = False
    guaranteed_payoff = p.value * guarantee - costs
    if criterion == "robust":
        scores, success = guaranteed_payoff, guarantee
    else:
        scores, success = p.value * expected - costs, expected

    def extra(o):
        row = {"guarantee": float(guarantee[o]), "guaranteed_payoff": float(guaranteed_payoff[o])}
        if expected is not None:
            row.update(
                expected=float(expected[o]),
                stderr=float(stderr[o]),
                expected_payoff=float(p.value * expected[o] - costs[o]),
            )
        return row

    rows, more = _ranking(model, scores, success, extra)
    stats.update(more)
    return Solution(value=rows, status=status, certificate=_gap(scores, more["best"]), stats=stats)
