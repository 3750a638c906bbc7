"""Bounds under partial information (THEORY §3.4) [BGR+26].

Collective ``i`` (the "self") knows the world and its own option and size ``α_i``; about the other
collectives it holds :class:`~aca_games.beliefs.Beliefs`.

**Robust, per point** (:func:`robust`, tiers 1 and 3). At a relevant point ``x̃`` with ``i``'s planted
label ``ℓ = ℓ_i(x̃)`` and a rival ``y' ∉ T_i``, substituting ``α_0 = 1 - α_i - Σ_j α_j`` into the
training mass gives the margin

    M(x̃, y') = P(ℓ) - P(y') = (1 - α_i) a0 + α_i e_i + Σ_j α_j (e_j - a0),

``a0 = P0(ℓ) - P0(y')``, ``e_i = E_i(ℓ) - E_i(y')``, ``e_j = E_j(ℓ) - E_j(y')`` (planted tables of
:mod:`aca_games.planting`, noise included). The term ``-α_j a0`` is the bystander mass that ``j``
displaces. ``M`` is a sum of one term per other collective, each depending only on that
collective's size and option, and linear in the size. Interval beliefs make the consistent worlds
a product ``Π_j ([lo_j, hi_j] × menu_j)`` (every point of which is a valid world since
``α_i + Σ_j hi_j < 1``), so

    W(x̃, y') = (1 - α_i) a0 + α_i e_i + Σ_j min_{o ∈ menu_j} min(lo_j c_jo, hi_j c_jo),
    c_jo = e_j^o - a0,

is the exact minimum of ``M(x̃, y')`` over consistent worlds (a linear function on an interval is
smallest at an end: supporters, ``c > 0``, at ``lo``; conflicting or displacing mass at ``hi``).

    robust = Σ_x̃ m_i(x̃) · 1[ min_{y'∉T_i} W(x̃, y') > κ + TIE_TOL ].

*Soundness.* Fix any world consistent with the beliefs. At a point counted by ``robust`` its planted
label beats every rival by ``min_{y'} M(x̃, y') >= min_{y'} W(x̃, y') > κ + TIE_TOL``; this is the
point-wise condition of the multi-collective staircase :func:`~aca_games.bounds.per_point`, so the
point is won by the ε-suboptimal learner in that world (its target margin is at least the planted
label's, and flipping it costs at least that margin, more than the whole slack ``κ``, see
:mod:`aca_games._knapsack`). Hence ``robust <= per_point(world) <= oracle(world)``. The adversary
may pick a different world at each point; that only lowers the bound. With every interval a point
and every menu a single option ``W = M`` and ``robust`` *is* :func:`~aca_games.bounds.per_point`
for ``i``. Widening an interval or adding an option enlarges the minimum's range: the bound can only
drop (nested beliefs give ordered bounds). ∎

*Tier 1 (total mass).* The others' total mass ``α_o ∈ [lo, hi]`` may be split among any collectives
planting any signal of the world with any label (feature-label), or sitting inert (acting like
bystanders: abstaining members, drop-noise deviators; planted table ``P0``, so ``c = 0``). For a
split ``α_o = Σ_k α_k`` with options ``o_k`` the others' term is ``Σ_k α_k c_{o_k} >= α_o min_o c_o``:
it is linear in each part, so pooling all mass on the worst option is the worst case, and the tier
is the interval bound for one pooled collective whose menu is every ``(signal, label)``
feature-label option plus the inert one: per point ``min_o c_o = min(0, -max_g m_g(x̃) - a0)``
(plant the rival ``y'`` on the signal landing most there, or stay inert). Every feature-label,
feature-only "gbj", unplanting or erasing option, with any noise mode, has planted table a convex
combination of rows moving at most ``m_g(x̃)`` of mass onto one label and of ``P0`` (drop
deviators), hence ``c_j >= min(0, -max_g m_g(x̃) - a0)``: tier 1 covers those strategies and is
below tier 3 for any menu of them on the same total interval ``[Σ lo_j, Σ hi_j]``. It does *not*
cover feature-only "hardt" collectives, whose unmoved members can withdraw base mass from ``ℓ``
(``c`` down to ``-P0(x̃, ℓ)``); describe those with interval beliefs.

*Tier 2 (aggregate conflict).* With a published ``R >= Σ_j α_j ρ_ij`` (``ρ`` of
:func:`~aca_games.bounds.conflict_mass`) the B1 proof of :mod:`aca_games.bounds.multi` goes through
with ``Σ_j α_j ρ_ij`` replaced by ``R`` and the bystander term at its worst consistent value:
``β_0 = 1 - Σ_j α_j - b_i α_i`` multiplies ``Δ_i ξ_i >= 0`` so the largest, ``1 - total_lo - b_i α_i``,
is worst:

    S_i >= 1 - [ (1 - total_lo - b_i α_i) Δ_i ξ_i + α_i h_iΓ_i ξ_i + R + κ ] / (α_i ν_i)

(:func:`~aca_games.bounds.closed_form_terms`; planting strategies only, 0 for the others).

**Bayesian** (:func:`bayes`, :func:`bayes_exact`). Expected success of ``i`` under a prior, by
Monte Carlo vmapped over samples (sizes and option indices drawn with ``jax.random``, each menu
option planted once and gathered by index, the oracle kernel
:func:`aca_games.oracle.success_kernel` evaluated on the stacked plantings), with the standard
error ``std / sqrt(n)``; a finite prior is also summed exactly.

**Finite sample** (:func:`finite_sample_multi`): THEORY §3.2's certificate with the others' support
and conflict inside the bracket; see its docstring.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games._knapsack import TIE_TOL
from aca_games.beliefs import Beliefs
from aca_games.bounds.finite_sample import (
    Counts,
    estimated_planting,
    member_sizes,
    population_counts,
    radius,
    rules,
    union_delta,
)
from aca_games.bounds.population import closed_form_terms
from aca_games.collective import Collective
from aca_games.learner import check_eps, slack
from aca_games.oracle import EXACT_MAX_POINTS, success_kernel
from aca_games.planting import Planting, plant, training_mass
from aca_games.world import World

PAYOFFS = ("exact", "per_point")


class Groups(NamedTuple):
    """The others' options per group (one group per other collective, or one pooled group).

    Attributes:
        planted: planted tables of the menu options, padded, shape ``(J, O, P, L)``.
        valid: which options are real (not padding), ``(J, O)``.
        lo, hi: size interval per group, ``(J,)``.
        pooled: the group pools several collectives (tier 1): its options may mix, ``(J,)``.
    """

    planted: jax.Array
    valid: jax.Array
    lo: jax.Array
    hi: jax.Array
    pooled: jax.Array


class Estimate(NamedTuple):
    """A Monte Carlo estimate: ``mean`` and its standard error ``stderr`` (sample std / sqrt(n))."""

    mean: jax.Array
    stderr: jax.Array


# -- robust ---------------------------------------------------------------------------------------
def option_groups(world: World, beliefs: Beliefs) -> Groups:
    """Plant every option of interval (or total-mass) beliefs once; a product prior uses its support."""
    n_points, n_labels = len(world.points), len(world.labels)
    if beliefs.kind == "total_mass":
        mass = jnp.stack([world.landing_mass(g) for g in world.signals])  # (S, P)
        eye = jnp.eye(n_labels, dtype=jnp.float64)
        options = (mass[:, None, :, None] * eye[None, :, None, :]).reshape(-1, n_points, n_labels)
        options = jnp.concatenate([options, world.base[None]])  # feature-label options + inert
        lo, hi = beliefs.total
        return Groups(
            options[None],
            jnp.ones((1, options.shape[0]), dtype=bool),
            jnp.asarray([lo], dtype=jnp.float64),
            jnp.asarray([hi], dtype=jnp.float64),
            jnp.asarray([True]),
        )
    if beliefs.kind not in ("intervals", "product"):
        raise ACAInputError(
            "beliefs: per-point bounds need interval, total-mass or product-prior beliefs, "
            f"got {beliefs.kind!r}"
        )
    others = beliefs.support().others
    width = max([len(o.menu) for o in others], default=1)
    planted = np.zeros((len(others), width, n_points, n_labels))
    valid = np.zeros((len(others), width), dtype=bool)
    for j, o in enumerate(others):
        for k, c in enumerate(o.menu):
            planted[j, k] = np.asarray(plant(world, c).planted)
            valid[j, k] = True
    as_f = lambda x: jnp.asarray(x, dtype=jnp.float64)  # noqa: E731
    return Groups(
        jnp.asarray(planted),
        jnp.asarray(valid),
        as_f([o.lo for o in others]),
        as_f([o.hi for o in others]),
        jnp.zeros(len(others), dtype=bool),
    )


def _at_label(table: jax.Array, onehot: jax.Array) -> jax.Array:
    """``table(x̃, ℓ(x̃))`` kept as a trailing axis of length 1; ``onehot`` is ``(P, L)``."""
    lead = (None,) * (table.ndim - 2)
    return jnp.sum(table * onehot[lead], axis=-1, keepdims=True)


def _option_gaps(groups: Groups, onehot: jax.Array) -> jax.Array:
    """``e^o(x̃, y') = E^o(ℓ) - E^o(y')`` per option, ``(J, O, P, L)``; for a pooled group every option
    is replaced by the point-wise worst (smallest) one, since its mass may mix options."""
    e = _at_label(groups.planted, onehot) - groups.planted
    worst = jnp.min(jnp.where(groups.valid[:, :, None, None], e, jnp.inf), axis=1, keepdims=True)
    return jnp.where(groups.pooled[:, None, None, None], jnp.broadcast_to(worst, e.shape), e)


def worst_margins(base: jax.Array, own: Planting, alpha, groups: Groups) -> jax.Array:
    """``min_{y'∉T_i} W(x̃, y')``: the smallest margin of ``i``'s planted label over consistent
    worlds, per point, shape ``(P,)`` (``+inf`` where ``i`` has no rival label). Pure JAX."""
    onehot = jax.nn.one_hot(own.label, base.shape[-1], dtype=base.dtype)
    a0 = _at_label(base, onehot) - base  # (P, L)
    e_i = _at_label(own.planted, onehot) - own.planted
    c = _option_gaps(groups, onehot) - a0[None, None]
    lo, hi = groups.lo[:, None, None, None], groups.hi[:, None, None, None]
    term = jnp.where(groups.valid[:, :, None, None], jnp.minimum(lo * c, hi * c), jnp.inf)
    others = jnp.sum(jnp.min(term, axis=1), axis=0)  # (P, L); zeros when there are no others
    margin = (1.0 - alpha) * a0 + alpha * e_i + others
    return jnp.min(jnp.where(own.target, jnp.inf, margin), axis=-1)


def robust(
    world: World, collective: Collective, beliefs: Beliefs, eps=0.0, reading: str = "huber"
) -> jax.Array:
    """Robust lower bound on ``i``'s worst-case success for every world consistent with ``beliefs``.

    * interval beliefs (tier 3) and total-mass beliefs (tier 1): the per-point worst case
      ``Σ_x̃ m_i 1[min_{y'} W(x̃, y') > κ + TIE_TOL]`` of the module docstring; a product prior is
      read through its support;
    * aggregate-conflict beliefs (tier 2): the B1 form with ``R`` and the largest bystander mass;
    * a finite prior: the smallest multi-collective staircase over its scenarios (exact minimum of
      :func:`~aca_games.bounds.per_point` over the consistent worlds).

    Full knowledge (:meth:`Beliefs.known`) reproduces :func:`~aca_games.bounds.per_point`.

    Example:
        >>> from aca_games import Collective, World
        >>> from aca_games.beliefs import Beliefs
        >>> w = World(points=["a", "b"], labels=["n", "y"], base=[[0.3, 0.1], [0.2, 0.2]],
        ...           landing={"g": [[0.5, 0.0], [0.3, 0.2]], "h": [[0.0, 0.0], [1.0, 0.0]]})
        >>> i = Collective("i", 0.4, "g", target="y")
        >>> rival = [Collective("j", 0, "h", target="n")]   # plants 'n' on b
        >>> float(robust(w, i, Beliefs.intervals({"j": (0.0, 0.01)}, {"j": rival})))
        1.0
        >>> float(robust(w, i, Beliefs.intervals({"j": (0.0, 0.3)}, {"j": rival})))   # loses b
        0.5
        >>> float(robust(w, i, Beliefs.total_mass(0.0, 0.3)))   # any signal: loses a too
        0.0
    """
    check_eps(eps, reading)
    _check_beliefs(beliefs)
    beliefs.check_self(collective)
    kappa = slack(eps, reading)
    if beliefs.kind == "aggregate_conflict":
        return _aggregate(world, collective, beliefs, kappa)
    own = _normalise(plant(world, collective))
    alpha = jnp.asarray(collective.size, dtype=jnp.float64)
    if beliefs.kind == "scenarios":
        table = _scenario_table(world, beliefs.scenarios())
        static = _static(world, eps, reading, "per_point")
        return jnp.min(_evaluate(world.base, own, alpha, table.others, table.sizes, kappa, **static))
    return _robust_kernel(world.base, own, alpha, option_groups(world, beliefs), kappa)


@jax.jit
def _robust_kernel(base, own: Planting, alpha, groups: Groups, kappa) -> jax.Array:
    margin = worst_margins(base, own, alpha, groups)
    return jnp.sum(jnp.where(margin > kappa + TIE_TOL, own.landing, 0.0))


def _aggregate(world: World, c: Collective, beliefs: Beliefs, kappa) -> jax.Array:
    if c.strategy not in ("feature_label", "feature_only"):
        return jnp.float64(0.0)
    t = closed_form_terms(world, c)
    alpha = jnp.asarray(c.size, dtype=jnp.float64)
    bystanders = 1.0 - beliefs.total[0] - t.bystander_rate * alpha
    against = bystanders * t.delta * t.xi + alpha * t.resistance * t.xi + beliefs.conflict + kappa
    planted = alpha * t.net_rate
    safe = jnp.where(planted > 0, planted, 1.0)
    return jnp.where(planted > 0, jnp.clip(1.0 - against / safe, 0.0, 1.0), 0.0)


def _check_beliefs(beliefs) -> None:
    if not isinstance(beliefs, Beliefs):
        raise ACAInputError(f"beliefs: expected aca_games.beliefs.Beliefs, got {type(beliefs).__name__}")


# -- Bayesian -------------------------------------------------------------------------------------
class _Table(NamedTuple):
    others: Planting  #: (S, K, ...) plantings of the others, padded with zero-size dummies
    sizes: jax.Array  #: (S, K)
    probs: jax.Array  #: (S,)


def _dummy(n_points: int, n_labels: int) -> Planting:
    return Planting(
        jnp.zeros((n_points, n_labels)),
        jnp.zeros((n_points, n_labels), dtype=bool),
        jnp.zeros(n_points, dtype=jnp.int64),
        jnp.zeros(n_points),
    )


def _normalise(p: Planting) -> Planting:
    """Fixed dtypes without weak types, so that every strategy shares one compiled kernel."""
    dtypes = (jnp.float64, bool, jnp.int64, jnp.float64)
    return Planting(*(jnp.asarray(x, dtype=d) for x, d in zip(p, dtypes, strict=True)))


def _stack(items: list[Planting], lead: tuple[int, ...], n_points: int, n_labels: int) -> Planting:
    """Stack plantings (normalised dtypes) into leading shape ``lead``."""
    fields = []
    for k, proto in enumerate(_dummy(n_points, n_labels)):
        arrs = [jnp.asarray(p[k], dtype=proto.dtype) for p in items]
        arr = jnp.stack(arrs) if arrs else jnp.zeros((0, *proto.shape), dtype=proto.dtype)
        fields.append(arr.reshape(*lead, *proto.shape))
    return Planting(*fields)


def _scenario_table(world: World, scenarios) -> _Table:
    n_points, n_labels = len(world.points), len(world.labels)
    width = max(len(s.collectives) for s in scenarios)
    cache: dict = {}
    items, sizes = [], np.zeros((len(scenarios), width))
    for s, sc in enumerate(scenarios):
        for k in range(width):
            if k < len(sc.collectives):
                c = sc.collectives[k]
                key = c.replace(name="_", size=0.0)
                if key not in cache:
                    cache[key] = plant(world, c)
                items.append(cache[key])
                sizes[s, k] = c.size
            else:
                items.append(_dummy(n_points, n_labels))
    others = _stack(items, (len(scenarios), width), n_points, n_labels)
    probs = jnp.asarray([s.probability for s in scenarios], dtype=jnp.float64)
    return _Table(others, jnp.asarray(sizes), probs)


def _static(world: World, eps, reading: str, payoff: str) -> dict:
    v.choice("payoff", payoff, PAYOFFS)
    method = "exact" if len(world.points) <= EXACT_MAX_POINTS else "greedy"
    bayes = v.is_concrete(eps) and float(eps) == 0.0
    return {"reading": reading, "method": method, "bayes": bayes, "payoff": payoff}


@functools.partial(jax.jit, static_argnames=("reading", "method", "bayes", "payoff"))
def _evaluate(base, own: Planting, alpha, others: Planting, sizes, kappa, *, reading, method, bayes, payoff):
    """``i``'s success for a batch of others' profiles: ``others`` ``(B, K, ...)``, sizes ``(B, K)``."""
    alpha = jnp.asarray(alpha, dtype=jnp.float64)

    def one(other: Planting, size):
        planting = jax.tree_util.tree_map(
            lambda a, b: jnp.concatenate([a[None].astype(b.dtype), b]), own, other
        )
        all_sizes = jnp.concatenate([alpha[None], size])
        if payoff == "per_point":
            P = training_mass(base, all_sizes, planting.planted)
            onehot = jax.nn.one_hot(own.label, base.shape[-1], dtype=base.dtype)
            margin = jnp.min(jnp.where(own.target, jnp.inf, _at_label(P, onehot) - P), axis=-1)
            return jnp.sum(jnp.where(margin > kappa + TIE_TOL, own.landing, 0.0))
        kernel = functools.partial(success_kernel, reading=reading, method=method, bayes=bayes)
        return kernel(base, planting, all_sizes, kappa)[0]

    return jax.vmap(one)(others, sizes)


class _Product(NamedTuple):
    """A product prior as arrays: flat option plantings and per-collective sampling tables."""

    options: Planting  #: (O_total, ...) every menu option, planted once
    offsets: jax.Array  #: (J,) index of each collective's first option
    logits: jax.Array  #: (J, O_max) log menu weights, -inf padding
    uniform: jax.Array  #: (J,) size uniform on [lo, hi] (else discrete)
    lo: jax.Array
    hi: jax.Array
    values: jax.Array  #: (J, V_max) discrete sizes
    value_logits: jax.Array  #: (J, V_max) their log probabilities


def _product_table(world: World, beliefs: Beliefs) -> _Product:
    n_points, n_labels = len(world.points), len(world.labels)
    others = beliefs.others
    flat = [plant(world, c) for o in others for c in o.menu]
    width = max([len(o.menu) for o in others], default=1)
    n_values = max([len(o.sizes) for o in others if o.sizes is not None], default=1)
    logits = np.full((len(others), width), -np.inf)
    values = np.zeros((len(others), n_values))
    value_logits = np.zeros((len(others), n_values))
    with np.errstate(divide="ignore"):
        for j, o in enumerate(others):
            logits[j, : len(o.menu)] = np.log(o.weights)
            if o.sizes is not None:
                value_logits[j] = -np.inf
                values[j, : len(o.sizes)] = o.sizes
                value_logits[j, : len(o.sizes)] = np.log(o.size_weights)
    as_f = lambda x: jnp.asarray(x, dtype=jnp.float64)  # noqa: E731
    return _Product(
        _stack(flat, (len(flat),), n_points, n_labels),
        jnp.asarray(np.cumsum([0] + [len(o.menu) for o in others])[:-1], dtype=jnp.int64),
        as_f(logits),
        jnp.asarray([o.sizes is None for o in others], dtype=bool),
        as_f([o.lo for o in others]),
        as_f([o.hi for o in others]),
        as_f(values),
        as_f(value_logits),
    )


@functools.partial(jax.jit, static_argnames="n")
def _draw_product(key, t: _Product, n: int):
    """``n`` profiles of the others: plantings ``(n, J, ...)`` and sizes ``(n, J)``."""
    k_opt, k_val, k_uni = jax.random.split(key, 3)
    shape = (n, t.lo.shape[0])
    local = jax.random.categorical(k_opt, t.logits, axis=-1, shape=shape)
    pick = jax.random.categorical(k_val, t.value_logits, axis=-1, shape=shape)
    discrete = jnp.take_along_axis(
        jnp.broadcast_to(t.values[None], (n, *t.values.shape)), pick[..., None], -1
    )
    u = jax.random.uniform(k_uni, shape, dtype=jnp.float64)
    sizes = jnp.where(t.uniform[None], t.lo[None] + u * (t.hi - t.lo)[None], discrete[..., 0])
    index = t.offsets[None] + local
    return jax.tree_util.tree_map(lambda a: a[index], t.options), sizes


@functools.partial(jax.jit, static_argnames="n")
def _draw_scenarios(key, t: _Table, n: int):
    pick = jax.random.categorical(key, jnp.log(t.probs), shape=(n,))
    return jax.tree_util.tree_map(lambda a: a[pick], t.others), t.sizes[pick]


def _self_planting(world, collective, beliefs, eps, reading):
    check_eps(eps, reading)
    _check_beliefs(beliefs)
    beliefs.check_self(collective)
    return _normalise(plant(world, collective)), slack(eps, reading)


def bayes(
    world: World,
    collective: Collective,
    beliefs: Beliefs,
    key,
    n_samples: int,
    eps=0.0,
    reading: str = "huber",
    payoff: str = "exact",
) -> Estimate:
    """Monte Carlo estimate of ``i``'s expected success under a prior over the others.

    Draws ``n_samples`` profiles of the others with ``jax.random`` (a scenario index for
    :meth:`Beliefs.prior`; option indices and sizes for :meth:`Beliefs.product_prior`), gathers the
    precomputed plantings and evaluates ``i``'s success for all samples in one vmapped, jitted call.

    Args:
        key: a JAX PRNG key.
        n_samples: number of samples (>= 2).
        eps, reading: learner suboptimality.
        payoff: ``"exact"`` (the oracle: worst case over ε-suboptimal learners, exact knapsack up to
            :data:`~aca_games.oracle.EXACT_MAX_POINTS` points, greedy relaxation beyond) or
            ``"per_point"`` (the multi-collective staircase of ``i``).

    Returns:
        :class:`Estimate` ``(mean, stderr)`` with ``stderr = std(ddof=1)/sqrt(n)``.

    Example:
        >>> import jax
        >>> from aca_games import Collective, World
        >>> from aca_games.beliefs import Beliefs
        >>> w = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.2]], landing={"g": [[0.5, 0.5]]})
        >>> i = Collective("i", 0.1, "g", target="y")
        >>> prior = Beliefs.prior([(0.25, [Collective("j", 0.05, "g", target="n")]), (0.75, [])])
        >>> float(bayes_exact(w, i, prior))   # beats the base alone, loses against j
        0.75
        >>> float(bayes_exact(w, i.with_size(0.2), prior))
        1.0
        >>> est = bayes(w, i, prior, jax.random.key(0), 400)
        >>> abs(float(est.mean) - 0.75) < 4 * float(est.stderr)
        True
    """
    own, kappa = _self_planting(world, collective, beliefs, eps, reading)
    n = v.positive_int("n_samples", n_samples, minimum=2)
    static = _static(world, eps, reading, payoff)
    if beliefs.kind == "scenarios":
        others, sizes = _draw_scenarios(key, _scenario_table(world, beliefs.scenarios()), n)
    elif beliefs.kind == "product":
        others, sizes = _draw_product(key, _product_table(world, beliefs), n)
    else:
        raise ACAInputError(
            f"beliefs: bayes needs a prior (Beliefs.prior or Beliefs.product_prior), got {beliefs.kind!r}"
        )
    alpha = jnp.asarray(collective.size, dtype=jnp.float64)
    values = _evaluate(world.base, own, alpha, others, sizes, kappa, **static)
    return Estimate(jnp.mean(values), jnp.std(values, ddof=1) / jnp.sqrt(n))


def bayes_exact(
    world: World,
    collective: Collective,
    beliefs: Beliefs,
    eps=0.0,
    reading: str = "huber",
    payoff: str = "exact",
) -> jax.Array:
    """Exact expected success of ``i`` under a finite prior, by enumerating its scenarios
    (:meth:`Beliefs.scenarios`: a :meth:`Beliefs.prior`, or a product prior with discrete sizes)."""
    own, kappa = _self_planting(world, collective, beliefs, eps, reading)
    table = _scenario_table(world, beliefs.scenarios())
    alpha = jnp.asarray(collective.size, dtype=jnp.float64)
    values = _evaluate(
        world.base, own, alpha, table.others, table.sizes, kappa, **_static(world, eps, reading, payoff)
    )
    return jnp.sum(table.probs * values)


# -- finite sample --------------------------------------------------------------------------------
def finite_sample_multi(
    world: World,
    collective: Collective,
    beliefs: Beliefs,
    *,
    n,
    N,
    n_test,
    delta,
    counts: Counts | None = None,
    eps=0.0,
    reading: str = "huber",
    n_estimate=None,
) -> jax.Array:
    """Finite-sample certificate for ``i`` among other collectives known only through beliefs
    (THEORY §3.4: §3.2's per-point certificate with a support lower bound and a conflict upper
    bound inside the bracket, ``N_0 = N - n_act - Σ_j L_j`` bystanders).

    Setting: ``N`` users i.i.d. from ``P0``; ``i`` is a random subset of ``n``; each other ``j`` a
    random subset of ``n_j ∈ [lo_j N, hi_j N]`` of the rest, acting by one option of its menu (its
    per-member planted table ``E_j^o`` is known from the world); ``i`` sees only its own data
    (:class:`~aca_games.bounds.finite_sample.Counts`, or the population plug-in).

    Split each ``j`` into ``L_j = ⌈lo_j N⌉`` *guaranteed* members and ``k_j = n_j - L_j ∈ [0, X_j]``
    *extras* (``X_j = ⌊hi_j N⌋ - L_j``). The *pool* of the ``N_0`` bystanders and extras (plus
    ``i``'s non-acting estimators) is i.i.d. ``P0`` before anybody acts; the extras then replace
    their own data by their submissions. With ``ℓ̂``, ``Ê_i``, ``d̂`` and the radius ``R`` of
    :mod:`aca_games.bounds.finite_sample`, ``e_j = E_j^o(ℓ̂) - E_j^o(y')`` and ``λ = log(1/δ̃)``:

        lb(x̃) = min_{y'∉T_i} [ (n_act/N)(Ê_i(ℓ̂) - Ê_i(y') - 2R(n_act))
                              - (N_0/N)(d̂_{y'} + 2R(n_est) + 2R(N_0))
                              + Σ_j min_o ( (L_j/N)(e_j - 2R(L_j))                       [support]
                                + min_{0<=k<=X_j} (k/N)(e_j + d̂_{y'} - 2R(n_est) - 4R(k)) ) ]   [conflict]
                - κ,

    and the bound is ``[Σ_x̃ m̂_i(x̃) 1[lb(x̃) > 0] - R(n_act) - R(n_test)]_+``. The inner minimum
    over ``k`` is exact: ``k c - 4 sqrt(kλ/2)`` is convex in ``k`` with minimum ``-2λ/c`` at
    ``k = 2λ/c²`` when ``c > 0``; the candidates are ``0``, ``X_j`` and that interior point.

    *Why.* On the event (union bound, ``δ̃ = δ / (E_i + 6 J |X̃| |Y|)`` with ``E_i`` the events of
    :func:`~aca_games.bounds.finite_sample.union_delta` and, per group ``j``, two-sided cell events
    for the guaranteed members' submissions and for the extras' submissions and original data) every
    empirical cell frequency lies within its radius of its mean: the pool's count margin is at least
    ``-N_0(d + 2R(N_0))`` with ``d <= d̂ + 2R(n_est)``; the guaranteed members add at least
    ``L_j(e_j - 2R(L_j))``; each extra removes its original data (mean ``a0 = -d``) and adds its
    submission, at least ``k(e_j - a0 - 4R(k))``. Taking the minimum over every consistent
    ``(n_j, option)`` covers the true one (for the pooled total-mass group, whose members may mix
    options, each part takes the point-wise worst option; Hoeffding holds for independent,
    non-identical members). So ``lb(x̃) > 0`` certifies that ``ℓ̂`` beats every rival in the
    training counts by more than ``κ``, and the test sample costs the last two radii, as in §3.2.
    With ``N -> ∞`` at ``n/N = α_i`` and the population plug-in, ``lb`` tends to the robust margin
    ``W`` (the ``X_j`` extras reproduce ``min(lo_j c, hi_j c)``); it never exceeds it.

    Beliefs: interval, total-mass or product-prior (support). Strategies of ``i``: feature-label,
    feature-only, unplanting (not erasing). With no other collective it equals
    :func:`~aca_games.bounds.finite_sample.finite_sample`.
    """
    c = collective
    if c.strategy == "erase":
        raise ACAInputError(
            f"{c.name}.strategy: finite_sample_multi covers feature_label, feature_only and unplant; "
            "erasing needs the label-margin conditions of bounds.finite_sample"
        )
    _check_beliefs(beliefs)
    beliefs.check_self(c)
    groups = option_groups(world, beliefs)
    n_est, n_act = member_sizes(c, n, n_estimate)
    N = v.positive_int("N", N)
    n_test = v.positive_int("n_test", n_test)
    if n >= N:
        raise ACAInputError(f"N: the platform has N = {N} users but the collective has n = {n}; need N > n")
    d = float(v.finite_array("delta", delta, ndim=0))
    if not 0.0 < d < 1.0:
        raise ACAInputError(f"delta: {d!r} is outside (0, 1); pass a failure probability")
    check_eps(eps, reading)
    lo, hi = np.asarray(groups.lo), np.asarray(groups.hi)
    guaranteed = np.ceil(lo * N - 1e-6)
    extras = np.maximum(np.floor(hi * N + 1e-6) - guaranteed, 0.0)
    if n + float(np.sum(hi)) * N >= N:
        raise ACAInputError(
            f"beliefs: n = {n} members plus the others' largest counts ({float(np.sum(hi)) * N:g} of "
            f"N = {N}) leave no bystanders; shrink the upper sizes or raise N"
        )
    if counts is None:
        counts = population_counts(world, c, n, n_estimate)
    shape = (len(world.points), len(world.labels))
    for name in ("base", "landing"):
        if jnp.shape(getattr(counts, name)) != shape:
            raise ACAInputError(f"counts.{name}: shape {jnp.shape(getattr(counts, name))} must be {shape}")
    events = 1.0 / float(union_delta(world, c.strategy, 1.0)) + 6 * len(lo) * shape[0] * shape[1]
    delta_tilde = jnp.asarray(d / events, dtype=jnp.float64)
    bystanders = N - n_act - float(np.sum(guaranteed))
    sizes = jnp.asarray([n_est, n_act, N, bystanders], dtype=jnp.float64)
    kappa = jnp.asarray(slack(eps, reading), dtype=jnp.float64)
    lb, mass_hat = _finite_margins(
        rules(world, c),
        jnp.asarray(counts.base, dtype=jnp.float64),
        jnp.asarray(counts.landing, dtype=jnp.float64),
        groups,
        jnp.asarray(guaranteed),
        jnp.asarray(extras),
        sizes,
        delta_tilde,
        kappa,
    )
    certified = jnp.sum(jnp.where(lb > 0, mass_hat, 0.0))
    return jnp.maximum(certified - radius(n_act, delta_tilde) - radius(n_test, delta_tilde), 0.0)


@jax.jit
def _finite_margins(r, base, landing, groups: Groups, guaranteed, extras, sizes, delta_tilde, kappa):
    """``(lb(x̃), m̂(x̃))`` of :func:`finite_sample_multi`; ``sizes = (n_est, n_act, N, N_0)``."""
    n_est, n_act, N, N0 = sizes[0], sizes[1], sizes[2], sizes[3]
    base_hat, land_hat = base / n_est, landing / n_act
    planted, onehot = estimated_planting(r, base_hat, land_hat)
    R = lambda k: radius(k, delta_tilde)  # noqa: E731
    lam = -jnp.log(delta_tilde)
    d_hat = base_hat - _at_label(base_hat, onehot)  # P̂0(y') - P̂0(ℓ̂), (P, L)
    pool = jnp.where(N0 > 0, (N0 / N) * (d_hat + 2.0 * R(n_est) + 2.0 * R(N0)), 0.0)
    margin = (n_act / N) * (_at_label(planted, onehot) - planted - 2.0 * R(n_act)) - pool
    e = _option_gaps(groups, onehot)  # (J, O, P, L)
    L = guaranteed[:, None, None, None]
    X = extras[:, None, None, None]
    support = jnp.where(L > 0, (L / N) * (e - 2.0 * R(L)), 0.0)
    c = e + d_hat[None, None] - 2.0 * R(n_est)
    full = X * c - 4.0 * jnp.sqrt(X * lam / 2.0)
    safe = jnp.where(c > 0, c, 1.0)
    inner = jnp.where((c > 0) & (2.0 * lam / safe**2 < X), -2.0 * lam / safe, jnp.inf)
    conflict = jnp.minimum(0.0, jnp.minimum(full, inner)) / N
    term = jnp.where(groups.valid[:, :, None, None], support + conflict, jnp.inf)
    margin = margin + jnp.sum(jnp.min(term, axis=1), axis=0)
    lb = jnp.min(jnp.where(r.target, jnp.inf, margin), axis=-1) - kappa
    return lb, land_hat.sum(axis=1)
