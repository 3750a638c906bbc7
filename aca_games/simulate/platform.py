"""Simulated platforms: ``N`` users sampled from a world, several collectives acting at once.

A :class:`Platform` is what one seeded draw produces:

* ``train``: the platform's training data as a count table over ``P + 1`` feature cells (the ``P``
  relevant points, then one **off** cell standing for every feature no signal reaches) and ``L``
  labels. Features are categorical, so a table of counts is the whole data set: an example is a
  cell ``(x, y)``, and a learner trained on ``N`` one-hot examples sees exactly this table
  (:mod:`aca_games.simulate.classifiers`).
* ``test``: for every collective, ``n_test`` fresh people whose inputs carry the collective's
  signal, as counts per relevant point (drawn from the landing mass ``m_j(x̃)``).
* ``counts``: what every collective observes of its own members' data
  (:class:`~aca_games.bounds.finite_sample.Counts`, leading axis ``K``), the input of the
  finite-sample bound [GBJ25] on the very same draw.

**The population with its off cell.** The compact world gives ``P0(x̃, y)`` on the relevant points
only; the rest of the mass, ``1 - Σ P0``, lies off them. Its label split is the label marginal
(the column sums of the landing tables, which every consistent world shares, THEORY §1) minus the
base label mass at the relevant points, clipped at 0 and rescaled to the off mass (uniform over
labels if nothing is left). Only the learned models see the off cell (it sets their intercepts);
the Bayes classifier on counts decides point by point and ignores it.

**Who submits what** (THEORY §1 and :mod:`aca_games.planting`). Collective ``j`` has ``n_j``
members, disjoint from every other collective; the ``N - Σ n_j`` bystanders submit their data
drawn from ``P0`` (with the off cell). Every acting member deviates with probability ``σ_j`` (one
coin per member). Compliant members submit by the strategy's rule applied to their own data, with
the planted label the collective *estimated* from its own counts (unplanting, erasing); deviating
members submit their original data (drop), or their signalled point with a uniform (scatter) or
the misfire label (misfire). Under feature-only "gbj" the members who do not carry the planted
label leave every signal set (they land in the off cell with their label); under "hardt" they
submit their original data. Under unplanting the ``n_estimate`` estimators submit their data
unchanged. The rules are :class:`~aca_games.bounds.finite_sample.Rules`, shared with the
finite-sample bound. Every user submits exactly one example: the training table totals ``N``.

*Coupling.* The compact world does not say how a member's original cell ``(x, y)`` is coupled to
its signalled cell ``(g(x), y)``. A member's records are drawn as follows: the compliant members'
and the deviators' original data from ``P0`` (what the collective counts as its own ``base``, and
what dropping deviators submit), their signalled data from ``m_j`` (the ``landing`` counts, and
what compliant and scattering or misfiring members submit); a "hardt" member who keeps its data
draws it from ``P0(x | y)`` for the label ``y`` of its signalled record, so its label is the same
on both records. Without noise, feature-label, feature-only "gbj", unplanting and erasing need no
coupling at all: their submissions are functions of the signalled records.

**Randomness.** One draw is three batched steps (the deviation coins, one multinomial with a row
per group of records, the "hardt" members' own data), so the kernel compiles once per
``(P, L, K)`` and is a pure function of a ``jax.random`` key: the same key gives the same platform
bit for bit. Batches of keys are vmapped (:func:`sample_platforms`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp

from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games.bounds.finite_sample import (
    Counts,
    Rules,
    compliant_submissions,
    member_sizes,
    planted_onehot,
    rules,
)
from aca_games.collective import Collective
from aca_games.planting import check_collectives
from aca_games.world import World

__all__ = [
    "Platform",
    "PlatformSpec",
    "members_of",
    "platform_spec",
    "population_table",
    "sample_platform",
    "sample_platforms",
]


class Platform(NamedTuple):
    """One simulated platform (module docstring). With a batch of keys every field gains a
    leading seed axis."""

    train: jax.Array  #: ``(P + 1, L)`` training counts; row ``P`` is the off cell
    test: jax.Array  #: ``(K, P)`` test counts: ``n_test`` signalled inputs per collective
    counts: Counts  #: each collective's own counts, fields with a leading axis ``K``


class PlatformSpec(NamedTuple):
    """Everything the sampling kernel needs, as arrays (a pytree: jit/vmap-able, one compile per
    ``(P, L, K)``). Build it with :func:`platform_spec`."""

    rules: Rules  #: the collectives' strategies, stacked along ``K``
    base: jax.Array  #: ``(P + 1, L)`` population table with the off cell, total 1
    landing: jax.Array  #: ``(K, P + 1, L)`` landing tables (off row 0)
    n_estimate: jax.Array  #: ``(K,)`` members who estimate (= members, except unplanting)
    n_act: jax.Array  #: ``(K,)`` members who act
    bystanders: jax.Array  #: ``N - Σ_j n_j``
    n_test: jax.Array  #: test inputs per collective


def population_table(world: World) -> jax.Array:
    """``P0`` on the ``P`` relevant points plus the off cell (module docstring), shape
    ``(P + 1, L)``, total 1.

    >>> w = World(points=["a"], labels=["no", "yes"], base=[[0.3, 0.1]],
    ...           landing={"g": [[0.7, 0.3]]})
    >>> [[round(x, 12) for x in row] for row in population_table(w).tolist()]   # off mass 0.6
    [[0.3, 0.1], [0.4, 0.2]]
    """
    base = jnp.asarray(world.base, dtype=jnp.float64)
    marginal = jnp.mean(jnp.stack([t.sum(axis=0) for t in world.landing.values()]), axis=0)
    left = jnp.maximum(marginal - base.sum(axis=0), 0.0)
    off_mass = jnp.maximum(1.0 - base.sum(), 0.0)
    total = left.sum()
    split = jnp.where(total > 0, left / jnp.where(total > 0, total, 1.0), 1.0 / base.shape[1])
    return jnp.concatenate([base, (off_mass * split)[None, :]])


def members_of(collectives: Sequence[Collective], N: int) -> list[int]:
    """Members per collective on a platform of ``N`` users: ``round(α_j N)``."""
    return [int(round(float(c.size) * N)) for c in collectives]


def platform_spec(
    world: World,
    collectives: Collective | Sequence[Collective],
    *,
    N: int,
    n_test: int,
    members: Sequence[int] | None = None,
    n_estimate: Sequence[int | None] | None = None,
) -> PlatformSpec:
    """Validate a platform's settings and encode them for the kernel.

    Args:
        world: the world.
        collectives: the collectives acting together (one or a sequence of ``K``).
        N: platform users (collectives and bystanders together).
        n_test: test inputs drawn per collective.
        members: members per collective; default :func:`members_of` (``round(α_j N)``). A
            collective with 0 members submits nothing.
        n_estimate: per collective, unplanting only: members who only estimate the rival label;
            default ``n_j // 2`` for unplanting collectives (``None`` entries use the default).
    """
    cs = check_collectives([collectives] if isinstance(collectives, Collective) else collectives)
    N = v.positive_int("N", N)
    n_test = v.positive_int("n_test", n_test)
    members = members_of(cs, N) if members is None else [int(m) for m in members]
    if len(members) != len(cs):
        raise ACAInputError(f"members: {len(members)} numbers for {len(cs)} collectives; give one each")
    if any(m < 0 for m in members):
        raise ACAInputError(f"members: {members} has a negative count; members are numbers of users")
    if sum(members) >= N:
        raise ACAInputError(
            f"N: the collectives have {sum(members)} members in all but the platform has N = {N} "
            "users; N counts everyone (collectives and bystanders), so raise N or shrink the sizes"
        )
    estimate = list(n_estimate) if n_estimate is not None else [None] * len(cs)
    if len(estimate) != len(cs):
        raise ACAInputError(f"n_estimate: {len(estimate)} entries for {len(cs)} collectives")
    sizes = [_member_split(c, n, e) for c, n, e in zip(cs, members, estimate, strict=True)]
    tables = [world.landing_table(c.signal) for c in cs]
    off = jnp.zeros((1, len(world.labels)))
    f64 = lambda x: jnp.asarray(x, dtype=jnp.float64)  # noqa: E731
    return PlatformSpec(
        rules=jax.tree.map(lambda *xs: jnp.stack(xs), *(rules(world, c) for c in cs)),
        base=population_table(world),
        landing=jnp.stack([jnp.concatenate([t, off]) for t in tables]),
        n_estimate=f64([s[0] for s in sizes]),
        n_act=f64([s[1] for s in sizes]),
        bystanders=f64(N - sum(members)),
        n_test=f64(n_test),
    )


def _member_split(c: Collective, n: int, n_estimate) -> tuple[int, int]:
    if n == 0:
        return 0, 0
    if c.strategy == "unplant":
        if n < 2:
            raise ACAInputError(
                f"{c.name}: unplanting needs >= 2 members (estimators and actors), got {n}; raise N "
                "or the collective's size"
            )
        n_estimate = n // 2 if n_estimate is None else n_estimate
    return member_sizes(c, n, n_estimate)


def _rows(r: Rules, base, landing):
    """The outcome probabilities of one collective's four groups of records, flattened: the
    original data (of the compliant estimators, of the deviators), the compliant actors' signalled
    data, and the deviators' signalled data × their new label."""
    original = base.reshape(-1)
    land = landing.reshape(-1)
    deviant = (land[:, None] * r.deviant_label[None, :]).reshape(-1)
    return original, original, land, deviant


def _submissions(r: Rules, kept_base, deviant_base, kept, deviant_land, stayers):
    """One collective's ``(P + 1, L)`` submissions and its own counts ``(base, landing)`` on the
    relevant points, from its drawn records (tables ``(P + 1, L)``; ``deviant_land`` also by new
    label, ``(P + 1, L, L)``; ``stayers``: the original data of the feature-only "hardt" members
    who keep their data)."""
    own_base = kept_base + (1.0 - r.estimators) * deviant_base  # the estimators' original data
    own_land = kept + deviant_land.sum(axis=2)  # the actors' signalled data
    # the planted label each point gets, estimated from the collective's own counts; the off row
    # takes the label of the first candidate row (feature rules plant one label everywhere; the
    # per-point rules move nothing there since no signal lands off)
    onehot = planted_onehot(r, own_base[:-1])
    off_label = r.candidates[0] / jnp.maximum(r.candidates[0].sum(), 1.0)
    onehot = jnp.concatenate([onehot, off_label[None, :]])
    pool = compliant_submissions(r, kept, stayers, onehot)
    # feature-only "gbj": members without the planted label leave the signal sets
    leaving = r.own_label * (1.0 - r.unmoved) * jnp.sum(kept * (1.0 - onehot), axis=0)
    pool = pool.at[-1].add(leaving)
    pool = pool + r.drop * deviant_base + (1.0 - r.drop) * deviant_land.sum(axis=1)
    pool = pool + r.estimators * kept_base  # unplanting: the estimators submit their data
    return pool, own_base[:-1], own_land[:-1]


def _platform(spec: PlatformSpec, key) -> Platform:
    """One platform for one key (module docstring)."""
    rows, n_labels = spec.base.shape
    cells = rows * n_labels
    coin_key, draw_key, stay_key = jax.random.split(key, 3)
    r = spec.rules
    # 1. deviation coins: how many acting members of each collective deviate
    deviators = jax.random.binomial(coin_key, spec.n_act, r.noise)
    # 2. every group's records in one batched multinomial
    groups = jax.vmap(_rows, in_axes=(0, None, 0))(r, spec.base, spec.landing)
    n_k = deviators.shape[0]
    test_probs = spec.landing[:, :-1].sum(axis=2)
    blocks = [*groups, spec.base.reshape(1, -1), test_probs]
    width = max(b.shape[1] for b in blocks)
    probs = jnp.concatenate([jnp.pad(b, ((0, 0), (0, width - b.shape[1]))) for b in blocks])
    totals = jnp.concatenate(
        [
            spec.n_estimate - (1.0 - r.estimators) * deviators,  # compliant estimators
            deviators,
            spec.n_act - deviators,  # compliant actors
            deviators,
            spec.bystanders[None],
            jnp.broadcast_to(spec.n_test, (n_k,)),
        ]
    )
    mass = probs.sum(axis=1, keepdims=True)
    draws = jax.random.multinomial(draw_key, totals, probs / jnp.where(mass > 0, mass, 1.0))
    table = lambda block: draws[block * n_k : (block + 1) * n_k, :cells].reshape(n_k, rows, n_labels)  # noqa: E731
    kept_base, deviant_base, kept = table(0), table(1), table(2)
    deviant_land = draws[3 * n_k : 4 * n_k, : cells * n_labels].reshape(n_k, rows, n_labels, n_labels)
    # 3. feature-only "hardt": compliant members without the planted label keep their own data,
    # drawn from P0(x | y) for their label y (the label is the member's, on both records)
    planted = jnp.argmax(r.candidates[:, 0], axis=1)  # feature rules plant one label everywhere
    staying = r.unmoved[:, None] * kept.sum(axis=1) * (jnp.arange(n_labels)[None, :] != planted[:, None])
    given_label = spec.base.T / jnp.maximum(spec.base.sum(axis=0), 1e-300)[:, None]  # (L, P + 1)
    stay = jax.random.multinomial(stay_key, staying, jnp.broadcast_to(given_label, (n_k, n_labels, rows)))
    pools, own_base, own_land = jax.vmap(_submissions)(
        r, kept_base, deviant_base, kept, deviant_land, jnp.swapaxes(stay, 1, 2)
    )
    bystanders = draws[4 * n_k, :cells].reshape(rows, n_labels)
    test = draws[4 * n_k + 1 :, : rows - 1]
    counts = Counts(own_base, own_land, spec.n_estimate, spec.n_act)
    return Platform(bystanders + pools.sum(axis=0), test, counts)


_sample_one = jax.jit(_platform)
_sample_many = jax.jit(jax.vmap(_platform, in_axes=(None, 0)))


def sample_platform(spec: PlatformSpec, key) -> Platform:
    """Draw one platform (module docstring) for a ``jax.random`` key.

    >>> w = World(points=["a"], labels=["no", "yes"], base=[[0.5, 0.2]],
    ...           landing={"g": [[0.7, 0.3]]})
    >>> spec = platform_spec(w, [Collective("c", 0.4, "g", target="yes")], N=1000, n_test=100)
    >>> p = sample_platform(spec, jax.random.key(0))
    >>> float(p.train.sum()), p.train.shape, p.test.shape, float(p.counts.landing.sum())
    (1000.0, (2, 2), (1, 1), 400.0)
    """
    return _sample_one(spec, key)


def sample_platforms(spec: PlatformSpec, keys) -> Platform:
    """:func:`sample_platform` for a batch of keys in one vmapped call (leading seed axis)."""
    return _sample_many(spec, keys)
