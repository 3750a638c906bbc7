"""Exact search for the knapsack cores that fixing leaves too large to enumerate (numpy).

Problem (see :mod:`aca_games._knapsack`): ``max Σ_F v`` over sets ``F`` of items with
``Σ_F w_k <= room_k`` for every constraint ``k``; every ``v_i > 0`` and ``w_ik >= 0``. Feasibility
is the float test ``Σ_F w_k <= room_k`` throughout (float addition is monotone, which every
dominance argument below relies on).

Constraints implied by another (costs no larger on every item, room no smaller) are removed first;
in the tv reading with a single leading target label this leaves one constraint. Then, in turn:

1. **Pareto search with bounds** (Nemhauser–Ullmann). Items are added one at a time, most
   efficient first (``v / max_k(w_k / room_k)``); the *states* are partial flip sets over the items
   seen so far, kept as ``(costs, value)``. A state with no less value and no more cost in every
   constraint than another makes the other useless and the other is dropped; a state whose value
   plus the fractional (Dantzig) bound of the items still to come (smallest over constraints)
   cannot beat the best set known by more than :data:`VALUE_TOL` is dropped. This solves the
   random worlds of the benchmark with at most a few hundred states. A first pass stops at
   :data:`QUICK_STATES` states.
2. **Meet in the middle** (one constraint; Horowitz & Sahni 1974). When items have nearly equal
   value/cost ratios no bound prunes (e.g. one feature-label collective on a signal set without
   base mass, ``ξ = 0``: a real-valued *subset sum*). First over *pools* of :data:`POOL` items with
   the others held, from the greedy set: with many small items this finds a set within
   :data:`VALUE_TOL` of the fractional bound, which proves it optimal. Otherwise over all items:
   they are split in two halves, each half's fitting subsets are listed (dominated ones dropped)
   and every left subset is matched with the most valuable right subset that still fits; exact if
   each list stays below :data:`HALF_MAX` subsets (few items fit in the room at once).
3. Otherwise, with one constraint, the **Pareto search again**, up to :data:`MAX_STATES` states,
   with the best set found as its incumbent.
4. Past that, or at once with several constraints (tv; there the long Pareto pass took 12 s on a
   500-point instance HiGHS solves in 0.2 s), the **0/1 MILP** solved by HiGHS (``highspy``;
   branch and bound, relative and absolute gaps 0, feasibility tolerance 1e-9). The set it returns
   is re-checked with the same float test; a set that fails it (HiGHS accepts violations up to its
   tolerance) is not used.

The result is the value of a feasible set, at most :data:`VALUE_TOL` below the optimum (step 4: at
most HiGHS's optimality tolerance below it). The problem is NP-hard: if HiGHS too returns no
optimal feasible set, the search raises :class:`aca_games.ACAInputError` (with the advice to use the
greedy lower bound) rather than return an inexact answer.
"""

from __future__ import annotations

import numpy as np

from aca_games._errors import ACAInputError

#: Partial sets whose bound exceeds the best known set by at most this much landing mass are
#: dropped: the answer is within 1e-10 of the optimum and never above it (it is the mass of a
#: feasible set), so the oracle's success is never below the true worst case and at most 1e-10
#: above it. A real-valued subset sum cannot be certified much closer in reasonable time.
VALUE_TOL = 1e-10

#: States of the first Pareto pass (step 1) before trying meet-in-the-middle.
QUICK_STATES = 2**14  # pragma: no mutate (search effort)

#: States of the last Pareto pass (step 3) before giving up with an error.
MAX_STATES = 2**20  # pragma: no mutate (search effort)

#: Subsets per half list of the exact meet-in-the-middle (step 2).
HALF_MAX = 2**21  # pragma: no mutate (search effort)

#: Items per meet-in-the-middle pool (step 3): two halves of at most ``2^20`` subsets each.
POOL = 40  # pragma: no mutate (search effort)

#: Pools tried in step 3 at most: the items around the break item, then random ones.
POOL_ROUNDS = 4  # pragma: no mutate (search effort)

#: Multi-constraint dominance compares states pairwise; above this many states it is skipped
#: (the bounds alone keep the search exact, only slower).
PAIRWISE_DOMINANCE_MAX = 4096  # pragma: no mutate (search effort)


def search_rows(value, costs, room, core, lower, needed) -> np.ndarray:
    """Solve every instance with ``needed`` set; batch axes lead (the ``pure_callback`` target).

    Shapes: ``value``/``core`` ``(..., P)``, ``costs`` ``(..., P, C)``, ``room`` ``(..., C)``,
    ``lower``/``needed`` ``(...)``. Returns the optimal core mass per instance (0 where not needed).
    """
    # jax hands callbacks jax.Arrays: convert once, or every numpy call below dispatches to jax
    value, costs, room, core, lower = (np.asarray(a) for a in (value, costs, room, core, lower))
    needed = np.asarray(needed, dtype=bool)
    n_points, n_costs = costs.shape[-2:]
    value, core = value.reshape(-1, n_points), core.reshape(-1, n_points).astype(bool)
    costs, room, lower = costs.reshape(-1, n_points, n_costs), room.reshape(-1, n_costs), lower.reshape(-1)
    out = np.zeros(needed.size)
    for row in np.flatnonzero(needed):
        items = core[row]
        out[row] = solve(value[row, items], costs[row, items], room[row], float(lower[row]))
    return out.reshape(needed.shape)


def solve(value: np.ndarray, costs: np.ndarray, room: np.ndarray, lower: float = 0.0) -> float:
    """``max Σ_F value`` s.t. ``Σ_F costs[:, k] <= room[k]`` for all ``k``, exact up to VALUE_TOL.

    ``lower`` must be the value of some feasible set (0 always is).

    >>> solve(np.array([0.4, 0.3, 0.3]), np.array([[0.2], [0.15], [0.15]]), np.array([0.3]))
    0.6
    """
    fits = np.all(costs <= room, axis=1)
    value, costs = value[fits], costs[fits]
    costs, room = _drop_implied_constraints(costs, np.asarray(room, dtype=float))
    if np.all(costs.sum(axis=0) <= room):
        return max(lower, float(value.sum()))
    order = np.argsort(-value / np.max(costs / np.maximum(room, 1e-300), axis=1), kind="stable")
    value, costs = value[order], costs[order]
    best = _pareto_search(value, costs, room, lower, QUICK_STATES)
    if best is None and costs.shape[1] == 1:
        found, certified = _large_neighbourhoods(value, costs[:, 0], room[0])
        lower = max(lower, found)
        best = lower if certified else _meet_in_the_middle(value, costs[:, 0], room[0])
    if best is None and costs.shape[1] == 1:
        best = _pareto_search(value, costs, room, lower, MAX_STATES)
    if best is None:  # several constraints: the long Pareto pass is slower than HiGHS (bench, tv)
        best = _highs(value, costs, room)
    if best is None:
        raise ACAInputError(
            f"exact oracle: the worst-case knapsack over {len(value)} free points needs more than "
            f"{MAX_STATES:,} partial flip sets (nearly equal mass/cost ratios); use "
            "method='greedy' for a lower bound on success"
        )
    return max(lower, best)


def _highs(value, costs, room) -> float | None:
    """Step 4: the MILP ``max v·x`` s.t. ``costs.T x <= room``, ``x ∈ {0, 1}`` by HiGHS; the value
    of the set it returns if that set passes the float test, else ``None``."""
    import highspy

    n, m = costs.shape
    # HiGHS' tolerances are absolute (~1e-6 on the objective): on landing masses of 1e-6 it stops at
    # a set that is not the best. Objective and rows are scaled to order 1; the returned set is then
    # checked in the original units.
    scale = np.where(room > 0, room, 1.0)
    scaled_value = value / max(float(value.max()), 1e-300)
    h = highspy.Highs()
    for key, val in (("output_flag", False), ("mip_rel_gap", 0.0), ("mip_abs_gap", 0.0),
                     ("mip_feasibility_tolerance", 1e-9), ("primal_feasibility_tolerance", 1e-9)):
        h.setOptionValue(key, val)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, m
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = -scaled_value, np.zeros(n), np.ones(n)
    lp.row_lower_, lp.row_upper_ = np.full(m, -highspy.kHighsInf), room / scale
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.arange(m + 1) * n
    lp.a_matrix_.index_ = np.tile(np.arange(n), m)
    lp.a_matrix_.value_ = (costs / scale).T.ravel()
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    chosen = np.round(np.asarray(h.getSolution().col_value)) > 0.5
    if not np.all(costs[chosen].sum(axis=0) <= room):
        return None
    return float(value[chosen].sum())


def _drop_implied_constraints(costs, room):
    """Remove constraint ``k`` when some other ``k'`` has ``w_k <= w_k'`` on every item and
    ``room_k >= room_k'`` (then ``Σ w_k' <= room_k'`` implies ``Σ w_k <= room_k``)."""
    keep = list(range(costs.shape[1]))
    for k in range(costs.shape[1]):
        for other in keep:
            if other != k and np.all(costs[:, k] <= costs[:, other]) and room[k] >= room[other]:
                keep.remove(k)
                break
    return costs[:, keep], room[keep]


# -- step 1: Pareto search with bounds ------------------------------------------------------------
def _pareto_search(value, costs, room, lower, max_states):
    """The Pareto pass over the items in the given order; ``None`` past ``max_states`` states."""
    by_ratio = [np.argsort(-value / np.maximum(costs[:, k], 1e-300), kind="stable")
                for k in range(costs.shape[1])]
    state_costs, state_values = np.zeros((1, costs.shape[1])), np.zeros(1)
    best = lower
    for i in range(len(value)):
        state_costs, state_values = _add_item(state_costs, state_values, costs[i], value[i], room)
        keep = _undominated(state_costs, state_values)
        state_costs, state_values = state_costs[keep], state_values[keep]
        best = max(best, float(state_values.max()))
        upper = state_values + _rest_bound(value, costs, room, state_costs, by_ratio, i)
        keep = upper > best + VALUE_TOL
        state_costs, state_values = state_costs[keep], state_values[keep]
        if len(state_values) == 0:
            break
        if len(state_values) > max_states:
            return None
    return best


def _add_item(state_costs, state_values, cost, value, room, members=None, bit=0):
    """The states with and without one more item (those that still fit)."""
    grown = state_costs + cost
    ok = np.all(grown <= room, axis=-1)
    out = (np.concatenate([state_costs, grown[ok]]), np.concatenate([state_values, state_values[ok] + value]))
    if members is None:
        return out
    return (*out, np.concatenate([members, members[ok] | (1 << bit)]))


def _undominated(costs, values):
    """Indices of the states no other state dominates (no more cost, no less value), one per tie."""
    if costs.shape[1] == 1:
        order = np.lexsort((-values, costs[:, 0]))  # by cost, most valuable first among equals
        best_before = np.concatenate([[-np.inf], np.maximum.accumulate(values[order])[:-1]])
        return order[values[order] > best_before]
    order = np.lexsort((costs.sum(axis=1), -values))  # most valuable first
    if len(values) > PAIRWISE_DOMINANCE_MAX:
        return order
    c = costs[order]
    no_more = np.all(c[None, :, :] <= c[:, None, :], axis=2)  # [i, j]: j costs no more than i
    earlier = np.tri(len(values), k=-1, dtype=bool)  # j before i: value_j >= value_i
    return order[~np.any(no_more & earlier, axis=1)]


def _rest_bound(value, costs, room, state_costs, by_ratio, i):
    """Per state: the smallest over constraints of the fractional bound of items ``i+1..``."""
    bound = np.full(len(state_costs), np.inf)
    for k, order in enumerate(by_ratio):
        rest = order[order > i]
        if len(rest) == 0:
            return np.zeros(len(state_costs))
        w, v = costs[rest, k], value[rest]
        spent = np.concatenate([[0.0], np.cumsum(w)])
        gained = np.concatenate([[0.0], np.cumsum(v)])
        left = room[k] - state_costs[:, k]
        whole = np.clip(np.searchsorted(spent, left, side="right") - 1, 0, len(rest))
        nxt = np.minimum(whole, len(rest) - 1)
        part = np.where(whole < len(rest),
                        np.clip((left - spent[whole]) / np.maximum(w[nxt], 1e-300), 0.0, 1.0) * v[nxt],
                        0.0)
        bound = np.minimum(bound, gained[whole] + part)
    return bound


# -- steps 2 and 3: meet in the middle (one constraint) -------------------------------------------
def _meet_in_the_middle(value, cost, room):
    """Exact optimum by matching two half lists; ``None`` if a list passes :data:`HALF_MAX`."""
    halves = [_subsets(cost[part], value[part], room, HALF_MAX)
              for part in (slice(0, None, 2), slice(1, None, 2))]
    if halves[0] is None or halves[1] is None:
        return None
    return _match(halves[0], halves[1], room)[0]


def _large_neighbourhoods(value, cost, room):
    """A near-optimal set by meet-in-the-middle over pools of :data:`POOL` items.

    Starts from the greedy set; each round re-optimises one pool exactly with the other items held
    (:func:`_best_in_pool`): first the classical *core*, the items around the break item (the first
    the greedy pass skips; items come most efficient first), then random pools. Stops once within
    :data:`VALUE_TOL` of the fractional bound. Returns the set's value and whether it is optimal
    (up to the tolerance): it is when it gets there, or when one pool holds every item.
    """
    taken = _greedy(cost, room)
    upper = _rest_bound(value, cost[:, None], np.array([room]), np.zeros((1, 1)),
                        [np.argsort(-value / np.maximum(cost, 1e-300), kind="stable")], -1)[0]
    brk = int(np.argmax(~taken)) if not taken.all() else len(cost)
    start = min(max(brk - POOL // 2, 0), max(len(cost) - POOL, 0))
    rng = np.random.default_rng(0)  # fixed seed: the same instance always gets the same answer
    pools = [np.arange(start, min(start + POOL, len(cost)))]
    pools += [rng.choice(len(cost), min(POOL, len(cost)), replace=False) for _ in range(POOL_ROUNDS - 1)]
    for pool in pools:
        taken = _best_in_pool(value, cost, room, taken, pool)
        if len(pool) == len(cost) or upper - value[taken].sum() <= VALUE_TOL:
            return float(value[taken].sum()), True
    return float(value[taken].sum()), False


def _best_in_pool(value, cost, room, taken, pool):
    """The best set that agrees with ``taken`` outside ``pool`` (by meet-in-the-middle)."""
    held = np.ones(len(cost), dtype=bool)
    held[pool] = False
    left_room = room - cost[held & taken].sum()
    left, right = pool[: len(pool) // 2], pool[len(pool) // 2 :]
    lists = [_subsets(cost[part], value[part], left_room, np.inf, members=True) for part in (left, right)]
    total, a, b = _match(lists[0], lists[1], left_room)
    if total <= value[taken & ~held].sum():
        return taken
    new = taken & held
    new[left] = (a >> np.arange(len(left))) & 1 == 1
    new[right] = (b >> np.arange(len(right))) & 1 == 1
    return new


def _subsets(cost, value, room, limit, members=False):
    """Undominated subsets that fit, as ``(cost, value[, member bits])`` sorted by cost (values then
    increase); ``None`` past ``limit`` subsets. Member bits need at most 62 items."""
    costs, values = np.zeros((1, 1)), np.zeros(1)
    bits = np.zeros(1, dtype=np.int64) if members else None
    for j in range(len(cost)):
        costs, values, *more = _add_item(costs, values, cost[j], value[j], room, bits, j)
        keep = _undominated(costs, values)
        costs, values = costs[keep], values[keep]
        bits = more[0][keep] if members else None
        if len(values) > limit:
            return None
    return costs[:, 0], values, bits


def _match(a, b, room):
    """Best ``a + b`` pair that fits; both lists sorted by cost with increasing values.

    Returns ``(total, a members, b members)`` (members only if the lists carry them).
    """
    (a_cost, a_value, a_bits), (b_cost, b_value, b_bits) = a, b
    # queries in increasing order: searchsorted is ~10x faster than on shuffled queries
    match = np.searchsorted(b_cost, (room - a_cost)[::-1], side="right")[::-1] - 1
    total = np.where(match >= 0, a_value + b_value[np.maximum(match, 0)], -np.inf)
    i = int(np.argmax(total))
    if a_bits is None:
        return float(total[i]), None, None
    return float(total[i]), int(a_bits[i]), int(b_bits[match[i]])


def _greedy(cost, room):
    """Items taken by the greedy pass (in the given order, each one that still fits)."""
    taken = np.zeros(len(cost), dtype=bool)
    used = 0.0
    for i, w in enumerate(cost):
        if used + w <= room:
            taken[i], used = True, used + w
    return taken
