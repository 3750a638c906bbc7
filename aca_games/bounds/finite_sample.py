"""Single collective, finite sample [GBJ25 Thms 3.3, 3.5, 3.7, 3.9] (THEORY §3.2).

``N`` platform users, ``n`` of them in the collective, ``n_test`` test points, confidence ``1 - δ``.
The collective only sees its own data, summarised as :class:`Counts`:

* ``base``: counts of the *estimating* members' original data ``(x, y)`` at the relevant points
  (``n_estimate`` members; the rest of their mass lies off the relevant points),
* ``landing``: counts of the *acting* members' signalled data ``(g(x), y)`` (``n_act`` members).

For feature-label, feature-only and erasing every member both estimates and acts
(``n_estimate = n_act = n``). For unplanting ``n_e`` members only estimate (they submit their data
unchanged, like bystanders) and ``n - n_e`` plant.

**Radius and union bound.** ``R(k) = sqrt(log(1/δ̃)/(2k))`` (``R(0) = +inf``: nothing certified) with
``δ̃ = δ/(2 + 2|X̃| + 2|X̃||Y|)`` (feature-label, feature-only), ``δ/(2 + 6|X̃|)`` (unplanting),
``δ/(2 + |X̃||Y| + 2|X| + 2|X||Y|)`` (erasing); see :func:`union_delta`.

**Estimates.** ``P̂0 = base / n_estimate``; ``m̂(x̃)`` = row sums of ``landing / n_act``; the acting
members' submissions as fractions of ``n_act`` follow the rules of :mod:`aca_games.planting` with
empirical tables (``m̂(x̃, y) = landing / n_act``) and, for unplanting and erasing, the *empirical*
planted label ``ℓ̂(x̃)`` (strongest target label, resp. modal label, of ``P̂0(x̃, ·)``):

* feature_label: ``Ê(x̃, ℓ) = m̂(x̃)``;  feature_only "gbj": ``Ê(x̃, ℓ) = m̂(x̃, ℓ)``;
* feature_only "hardt": additionally ``Ê(x̃, y) = P̂0(x̃, y)`` for ``y ≠ ℓ`` (unmoved members);
* unplant / erase: ``Ê(x̃, ℓ̂(x̃)) = m̂(x̃)``;
* coordination noise ``σ``: ``Ê ← (1 - σ) Ê + σ N̂`` with ``N̂ = P̂0`` (drop), ``m̂/L`` on every
  label (scatter) or ``m̂`` at the misfire label (misfire).

**Certificate.** At ``x̃``, with rivals ``y'`` the labels outside the target set (for erasing: every
label but ``ℓ̂(x̃)``) and ``d̂_{y'}(x̃) = P̂0(x̃, y') - P̂0(x̃, ℓ̂)``,

    lb(x̃) = min_{y'} [ (n_act/N)(Ê(x̃,ℓ̂) - Ê(x̃,y') - 2R(n_act))
                       - ((N-n_act)/N)(d̂_{y'}(x̃) + 2R(n_estimate) + 2R(N-n_act)) ] - κ

(``+inf`` without rivals) and, with probability at least ``1 - δ``, the test success satisfies

    Ŝ >= [ Σ_x̃ m̂(x̃) · 1[lb(x̃) > τ] - R(n_act) - R(n_test) ]_+

with ``τ = TIE_TOL`` (THEORY §4: a margin within ``τ`` of the bar is a tie, which is a failure).

For feature-label ``Ê(x̃, y') = 0`` and ``Ê(x̃, ℓ) = P̂(x̃)``, which is THEORY §3.2's
``(n/N)(P̂(x) - 2R(n)) - ((N-n)/N)(d̂(x) + 2R(n) + 2R(N-n)) - κ_pt``.

*Why.* On the union-bound event every estimated cell is within its radius of the truth (the
collective's estimates with ``R(n_estimate)``, the acting members' submissions with ``R(n_act)``,
the ``N - n_act`` non-acting users' data with ``R(N - n_act)``), so ``lb(x̃) > τ`` implies the
planted label beats every rival in the platform's training counts by more than the learner's
slack ``κ`` (:func:`aca_games.learner.slack`) plus the tie tolerance; the landing estimate and the
test sample each cost one more radius. (The certified set is itself chosen from the data, so the
``R(n_act)`` step for the landing mass is the paper's form, not re-derived here; the bound is
checked against simulated platforms in ``tests/test_finite_sample.py``.)

With the population frequencies plugged in (``counts=None``) and ``N -> ∞`` at fixed
``n/N = α`` the bound tends to the staircase of :mod:`aca_games.bounds.population`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games._knapsack import TIE_TOL
from aca_games._pytree import to_device
from aca_games.collective import STRATEGIES, Collective
from aca_games.learner import check_eps, slack
from aca_games.planting import _misfire_label, target_mask
from aca_games.world import World


class Counts(NamedTuple):
    """What a collective observes of its own members' data.

    Attributes:
        base: ``(P, L)`` counts of the estimating members' original data ``(x, y)`` at the relevant
            points (``n_estimate`` members in all, the rest off the relevant points).
        landing: ``(P, L)`` counts of the acting members' signalled data ``(g(x), y)``.
        n_estimate: number of estimating members.
        n_act: number of acting members.
    """

    base: jax.Array
    landing: jax.Array
    n_estimate: int | jax.Array
    n_act: int | jax.Array


def union_delta(world: World, strategy: str, delta):
    """The per-event confidence ``δ̃`` of the union bound [GBJ25].

    ``δ/(2 + 2|X̃| + 2|X̃||Y|)`` (feature_label, feature_only), ``δ/(2 + 6|X̃|)`` (unplant),
    ``δ/(2 + |X̃||Y| + 2|X| + 2|X||Y|)`` (erase), with ``|X̃|`` relevant points, ``|Y|`` labels and
    ``|X|`` features (:attr:`World.feature_count`).

    >>> w = World(points=["a", "b"], labels=["no", "yes"], base=[[0.3, 0.1], [0.2, 0.2]],
    ...           landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
    >>> float(union_delta(w, "feature_label", 0.14))   # 0.14 / (2 + 4 + 8)
    0.01
    """
    v.choice("strategy", strategy, STRATEGIES)
    points, labels, features = len(world.points), len(world.labels), world.feature_count
    if strategy == "unplant":
        events = 2 + 6 * points
    elif strategy == "erase":
        events = 2 + points * labels + 2 * features + 2 * features * labels
    else:
        events = 2 + 2 * points + 2 * points * labels
    if v.is_concrete(delta):  # on the host: an eager division compiles a program
        return to_device(np.asarray(delta, dtype=np.float64) / events)
    return jnp.asarray(delta, dtype=jnp.float64) / events


def radius(k, delta_tilde):
    """Hoeffding radius ``R(k) = sqrt(log(1/δ̃)/(2k))``; ``+inf`` for ``k = 0`` (no data).

    >>> round(float(radius(50, math.exp(-1.0))), 6)   # sqrt(1/100)
    0.1
    """
    k = jnp.asarray(k, dtype=jnp.float64)
    log_term = -jnp.log(jnp.asarray(delta_tilde, dtype=jnp.float64))
    return jnp.where(k > 0, jnp.sqrt(log_term / (2.0 * jnp.where(k > 0, k, 1.0))), jnp.inf)


def member_sizes(collective: Collective, n, n_estimate=None):
    """``(n_estimate, n_act)``: who estimates and who acts, validated.

    Every member estimates and acts (``n_estimate = n_act = n``), except under unplanting where
    ``n_estimate`` members only estimate and ``n - n_estimate`` act.
    """
    if v.is_concrete(n):
        n = v.positive_int("n", n)
    if collective.strategy != "unplant":
        if n_estimate is not None and (not v.is_concrete((n, n_estimate)) or n_estimate != n):
            raise ACAInputError(
                f"n_estimate: only unplanting splits the collective into estimators and actors; "
                f"for {collective.strategy!r} every member does both, leave n_estimate unset"
            )
        return n, n
    if n_estimate is None:
        raise ACAInputError(
            "n_estimate: unplanting needs the number n_e of members who only estimate the rival "
            "label (1 <= n_e < n); pass n_estimate=..."
        )
    if v.is_concrete((n, n_estimate)):
        n_estimate = v.positive_int("n_estimate", n_estimate)
        if n_estimate >= n:
            raise ACAInputError(
                f"n_estimate: {n_estimate} estimators leave no acting member out of n = {n}; "
                "choose 1 <= n_estimate < n"
            )
    return n_estimate, n - n_estimate


def population_counts(world: World, collective: Collective, n, n_estimate=None) -> Counts:
    """The population plug-in: expected counts ``n_estimate · P0`` and ``n_act · m_g``.

    >>> w = World(points=["a"], labels=["no", "yes"], base=[[0.5, 0.2]],
    ...           landing={"g": [[0.7, 0.3]]})
    >>> population_counts(w, Collective("c", 0.1, "g", target="yes"), 10).landing.tolist()
    [[7.0, 3.0]]
    """
    n_est, n_act = member_sizes(collective, n, n_estimate)
    land = world.landing_table(collective.signal)
    return Counts(n_est * world.base, n_act * land, n_est, n_act)


class Rules(NamedTuple):
    """A collective's strategy against a world, encoded as arrays (so that one compiled kernel
    serves every strategy of a given world shape). Flags are 0.0 or 1.0.

    Compliant members' submissions, from signalled data ``m`` and original data ``b`` (counts or
    fractions) and the planted label ``ℓ̂`` (``onehot``), mirror :func:`aca_games.planting.plant`:
    ``whole_row · m(x̃) 1[y = ℓ̂] + own_label · m(x̃, y) 1[y = ℓ̂] + unmoved · b(x̃, y) 1[y ≠ ℓ̂]``.
    """

    target: jax.Array  #: success mask T(x̃, y) (erase: base modal labels), bool (P, L)
    candidates: jax.Array  #: ℓ̂(x̃) = argmax of own base counts over these labels, bool (P, L)
    rivals_off_label: jax.Array  #: 1: rivals are all labels but ℓ̂ (erase), else those outside T
    whole_row: jax.Array  #: 1: members plant their whole signalled row (FL, unplant, erase)
    own_label: jax.Array  #: 1: only members whose label is ℓ̂ move (feature_only)
    unmoved: jax.Array  #: 1: the other members submit their original data (feature_only hardt)
    estimators: jax.Array  #: 1: some members only estimate (unplant)
    noise: jax.Array  #: deviating fraction σ
    drop: jax.Array  #: 1: deviators submit their original data (drop)
    deviant_label: jax.Array  #: else their signalled point with this label distribution, (L,)


def rules(world: World, collective: Collective) -> Rules:
    """Encode ``collective``'s strategy against ``world`` (validates names and target set)."""
    c = collective
    n_labels = len(world.labels)
    target = target_mask(world, c)
    if c.strategy == "erase":
        candidates = np.ones_like(target)
    elif c.strategy == "unplant":
        candidates = target
    else:
        candidates = np.zeros_like(target)
        candidates[:, world.label_index(c.label)] = True
    # _misfire_label picks the misfire label and raises if none; erasing has no default wrong label
    if c.noise_mode == "misfire":
        deviant_label = np.eye(n_labels)[_misfire_label(world, c, target)]
    else:
        deviant_label = np.full(n_labels, 1.0 / n_labels)
    feature_only = c.strategy == "feature_only"
    flags = {
        "rivals_off_label": c.strategy == "erase",
        "whole_row": not feature_only,
        "own_label": feature_only,
        "unmoved": feature_only and c.variant == "hardt",
        "estimators": c.strategy == "unplant",
        "drop": c.noise_mode == "drop",
    }
    as_float = lambda x: to_device(x, dtype=jnp.float64)  # noqa: E731  (no weak types)
    return Rules(
        target=to_device(target, dtype=bool),
        candidates=to_device(candidates, dtype=bool),
        noise=as_float(c.noise),
        deviant_label=as_float(deviant_label),
        **{k: as_float(float(b)) for k, b in flags.items()},
    )


def planted_onehot(r: Rules, base) -> jax.Array:
    """``1[y = ℓ̂(x̃)]``, ``ℓ̂`` the argmax of ``base`` (counts or masses) over the candidates."""
    label = jnp.argmax(jnp.where(r.candidates, base, -1.0), axis=1)
    return jax.nn.one_hot(label, r.candidates.shape[1], dtype=jnp.float64)


def compliant_submissions(r: Rules, landing, base, onehot) -> jax.Array:
    """Submissions of the members who follow the strategy, in the units of the inputs."""
    row = landing.sum(axis=1, keepdims=True)
    moved = r.whole_row * row * onehot + r.own_label * landing * onehot
    return moved + r.unmoved * base * (1.0 - onehot)


def estimated_planting(r: Rules, base_hat, land_hat) -> tuple[jax.Array, jax.Array]:
    """``(Ê, onehot of ℓ̂)``: the acting members' submissions per acting member, estimated from
    base mass ``P̂0`` and landing table ``m̂`` (module docstring). With the true tables this is
    :func:`aca_games.planting.plant`'s planted table."""
    mass_hat = land_hat.sum(axis=1)
    onehot = planted_onehot(r, base_hat)
    members = compliant_submissions(r, land_hat, base_hat, onehot)
    deviators = r.drop * base_hat + (1.0 - r.drop) * mass_hat[:, None] * r.deviant_label[None, :]
    return (1.0 - r.noise) * members + r.noise * deviators, onehot


def point_bounds(r: Rules, base_hat, land_hat, sizes, delta_tilde, kappa):
    """``(lb(x̃), m̂(x̃))`` per point (module docstring) from the estimated tables ``P̂0`` and
    ``m̂(x̃, y)``; ``sizes = (n_estimate, n_act, N)``."""
    n_est, n_act, N = sizes[0], sizes[1], sizes[2]
    planted, onehot = estimated_planting(r, base_hat, land_hat)
    rival = jnp.where(r.rivals_off_label > 0, onehot == 0, ~r.target)
    at_label = lambda t: jnp.sum(t * onehot, axis=1, keepdims=True)  # noqa: E731
    R = lambda k: radius(k, delta_tilde)  # noqa: E731
    gap = (n_act / N) * (at_label(planted) - planted - 2.0 * R(n_act)) - ((N - n_act) / N) * (
        base_hat - at_label(base_hat) + 2.0 * R(n_est) + 2.0 * R(N - n_act)
    )
    lb = jnp.min(jnp.where(rival, gap, jnp.inf), axis=1) - kappa
    return lb, land_hat.sum(axis=1)


@jax.jit
def _bound(r: Rules, base, landing, totals, sizes, delta_tilde, kappa):
    """The bound from counts ``base``, ``landing`` with totals ``(n_estimate, n_act)`` (1 for
    tables); ``sizes = (n_estimate, n_act, N, n_test)``. One compiled kernel per world shape."""
    lb, mass_hat = point_bounds(r, base / totals[0], landing / totals[1], sizes, delta_tilde, kappa)
    certified = jnp.sum(jnp.where(lb > TIE_TOL, mass_hat, 0.0))
    bound = certified - radius(sizes[1], delta_tilde) - radius(sizes[3], delta_tilde)
    return jnp.maximum(bound, 0.0)


def finite_sample(
    world: World,
    collective: Collective,
    *,
    n,
    N,
    n_test,
    delta,
    counts: Counts | None = None,
    eps=0.0,
    reading: str = "huber",
    n_estimate=None,
    label_margin=None,
) -> jax.Array:
    """Finite-sample lower bound on test success [GBJ25 Thms 3.3, 3.5, 3.7, 3.9], THEORY §3.2.

    With probability at least ``1 - δ`` over the platform's ``N`` users and the ``n_test`` test
    points, the fraction of test points (signalled inputs ``g(x)``) classified into the target set
    is at least

        [ Σ_x̃ m̂(x̃) · 1[lb(x̃) > TIE_TOL] - R(n_act) - R(n_test) ]_+

    where ``lb(x̃)`` is the per-point certificate of the module docstring; for feature-label
    ``lb(x̃) = (n/N)(P̂(x̃) - 2R(n)) - ((N-n)/N)(d̂(x̃) + 2R(n) + 2R(N-n)) - κ``.

    Assumptions: users are i.i.d. from the base distribution and the collective is a uniformly
    random subset of ``n`` of them; the learner is ``ε``-suboptimal in ``reading``; the collective
    acts alone. Erasing also needs idempotent ``g`` and a label margin ``η`` (the base modal label
    leads every other label by at least ``η`` in joint mass at each relevant point) with
    ``2 log(1/δ̃)/η² <= n <= N - 2 log(1/δ̃)/η²``. Unplanting is *not* monotone in
    ``n_estimate``: more estimators sharpen ``P̂0`` but leave fewer members to plant.

    Args:
        world, collective: the world and the collective (``collective.size`` is ignored: the
            sample sizes ``n`` and ``N`` define the share).
        n: members of the collective; N: platform users (``N > n``); n_test: test points.
        delta: failure probability ``δ ∈ (0, 1)``.
        counts: the collective's :class:`Counts` (e.g. from
            :func:`aca_games.simulate.sample_counts`); ``None`` plugs in the population
            frequencies (:func:`population_counts`).
        eps, reading: learner suboptimality (see :mod:`aca_games.learner`).
        n_estimate: unplanting only: members who estimate (``1 <= n_estimate < n``).
        label_margin: erasing only: the label margin ``η ∈ (0, 1]``.

    Returns:
        The bound, a float64 scalar in ``[0, 1]``. Jit-able in ``counts`` (and in ``δ``, ``ε``).

    Example:
        >>> w = World(points=["a", "b"], labels=["no", "yes"],
        ...           base=[[0.3, 0.1], [0.2, 0.2]], landing={"g": [[0.5, 0.0], [0.2, 0.3]]})
        >>> c = Collective("c", 0.3, "g", target="yes")
        >>> bound = lambda n, N: float(finite_sample(w, c, n=n, N=N, n_test=10_000, delta=0.05))
        >>> round(bound(30_000, 100_000), 3)   # only b certified: 0.5 - R(n) - R(n_test)
        0.474
        >>> round(bound(40_000, 100_000), 3)   # both points: 1 - R(n) - R(n_test)
        0.975
        >>> bound(300, 1_000)                  # too few users to certify anything
        0.0
    """
    c = collective
    n_est, n_act = member_sizes(c, n, n_estimate)
    if v.is_concrete((n, N, n_test)):
        N = v.positive_int("N", N)
        n_test = v.positive_int("n_test", n_test)
        if n >= N:
            raise ACAInputError(
                f"N: the platform has N = {N} users but the collective has n = {n} members; "
                "N counts everyone (collective and bystanders), so N > n"
            )
    if v.is_concrete(delta):
        d = float(v.finite_array("delta", delta, ndim=0))
        if not 0.0 < d < 1.0:
            raise ACAInputError(f"delta: {d!r} is outside (0, 1); pass a failure probability")
    check_eps(eps, reading)
    r = rules(world, c)
    delta_tilde = union_delta(world, c.strategy, delta)
    if c.strategy == "erase":
        _check_erase(world, c, n, N, delta_tilde, label_margin)
    elif label_margin is not None:
        raise ACAInputError(
            f"label_margin: only erasing uses a label margin; leave it unset for {c.strategy!r}"
        )
    if counts is None:  # population plug-in: the true tables (population_counts / sizes)
        base, landing, totals = world.base, world.landing_table(c.signal), (1, 1)
    else:
        counts = _check_counts(world, counts, n_est, n_act)
        base, landing, totals = counts.base, counts.landing, (n_est, n_act)
    as_vector = lambda xs: to_device(list(xs), dtype=jnp.float64)  # noqa: E731
    kappa = jnp.asarray(slack(eps, reading), dtype=jnp.float64)
    sizes = as_vector((n_est, n_act, N, n_test))
    return _bound(r, base, landing, as_vector(totals), sizes, delta_tilde, kappa)


def _check_erase(world, c, n, N, delta_tilde, label_margin) -> None:
    if world.idempotent is not None and c.signal not in world.idempotent:
        raise ACAInputError(
            f"{c.name}.signal: erasing needs an idempotent signal (g(g(x)) = g(x)) "
            f"[GBJ25 Thm 3.9], and {c.signal!r} is not; idempotent signals of this world: "
            f"{list(world.idempotent)}"
        )
    if label_margin is None:
        raise ACAInputError(
            "label_margin: erasing needs the label margin eta (how far the base modal label leads "
            "every other label at each relevant point); pass label_margin=..."
        )
    if not v.is_concrete((label_margin, delta_tilde, n, N)):
        return
    eta = float(v.finite_array("label_margin", label_margin, ndim=0))
    if not 0.0 < eta <= 1.0:
        raise ACAInputError(f"label_margin: {eta!r} is outside (0, 1]")
    need = 2.0 * math.log(1.0 / float(delta_tilde)) / eta**2
    if n < need:
        raise ACAInputError(
            f"n: erasing needs n >= 2 log(1/δ̃)/η² = {need:.1f} members to identify the modal "
            f"labels, got n = {n} (δ̃ = {float(delta_tilde):.3g}, η = {eta:g}); recruit more "
            "members or assume a larger label margin"
        )
    if N - n < need:
        raise ACAInputError(
            f"N: erasing needs N - n >= 2 log(1/δ̃)/η² = {need:.1f} bystanders, got "
            f"N - n = {N - n} (n = {n}, N = {N}); the collective is too large a share of the "
            "platform for this bound"
        )


def _check_counts(world, counts, n_est, n_act) -> Counts:
    if not isinstance(counts, Counts):
        raise ACAInputError(
            f"counts: expected aca_games.bounds.finite_sample.Counts, got {type(counts).__name__}"
        )
    shape = (len(world.points), len(world.labels))
    for name in ("base", "landing"):
        got = jnp.shape(getattr(counts, name))
        if got != shape:
            hint = "; for a batch of counts use jax.vmap" if got[-2:] == shape else ""
            raise ACAInputError(f"counts.{name}: shape {got} does not match (points, labels) = {shape}{hint}")
    totals = {"base": n_est, "landing": n_act}
    if v.is_concrete((counts.base, counts.landing, n_est, n_act)):
        for name, total in totals.items():
            arr = v.finite_array(f"counts.{name}", getattr(counts, name))
            if np.any(arr < 0):
                raise ACAInputError(f"counts.{name}: counts must be nonnegative, got {arr.tolist()}")
            if arr.sum() > total * (1 + v.SUM_TOL):
                who = "n_estimate" if name == "base" else "n_act"
                raise ACAInputError(
                    f"counts.{name}: total {arr.sum():g} exceeds the {total} members counted in "
                    f"{who}; counts must come from those members"
                )
    for name, expected in (("n_estimate", n_est), ("n_act", n_act)):
        got = getattr(counts, name)
        if v.is_concrete((got, expected)) and got is not None and int(got) != int(expected):
            raise ACAInputError(
                f"counts.{name}: the counts were drawn with {name} = {int(got)}, but n and "
                f"n_estimate give {int(expected)}; pass the sizes the counts were sampled with"
            )
    base = jnp.asarray(counts.base, dtype=jnp.float64)
    landing = jnp.asarray(counts.landing, dtype=jnp.float64)
    return Counts(base, landing, counts.n_estimate, counts.n_act)
