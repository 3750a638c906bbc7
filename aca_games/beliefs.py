"""What a collective believes about the *other* collectives (THEORY §3.4) [BGR+26].

Collective ``i`` knows the world and its own data; about every other collective ``j`` it holds only
beliefs. A :class:`Beliefs` object is immutable and validated on construction (bad input raises
:class:`~aca_games.ACAInputError` naming the field). Five kinds, each built by a class method:

* :meth:`Beliefs.intervals` (robust, tier 3): ``α_j ∈ [lo_j, hi_j]`` and ``j``'s option (signal,
  label, strategy, noise) is one of a known *menu* of :class:`~aca_games.Collective` objects (their
  ``size`` fields are ignored). :meth:`Beliefs.known` collapses the intervals to points and the
  menus to one option: full knowledge.
* :meth:`Beliefs.total_mass` (robust, tier 1): only the total mass of all others lies in
  ``[lo, hi]``; their options are unknown: any signal of the world with any label, feature-label,
  or inert (acting like bystanders, e.g. drop-noise deviators).
* :meth:`Beliefs.aggregate_conflict` (robust, tier 2): a published upper bound ``R`` on the
  aggregate conflict term ``Σ_j α_j ρ_ij`` of the B1 bound, plus the total-mass interval.
* :meth:`Beliefs.prior` (Bayesian): a finite list of scenarios ``(probability, [Collective, ...])``,
  each collective carrying its size.
* :meth:`Beliefs.product_prior` (Bayesian): independently per other collective, a distribution over
  its menu (``weights``, default uniform) and over its size: uniform on ``(lo, hi)`` or a discrete
  ``{size: probability}`` mapping.

The robust bounds read a product prior through its support (:meth:`Beliefs.support`), and a finite
prior, or a product prior with discrete sizes, enumerates into scenarios (:meth:`Beliefs.scenarios`).

Consistency with collective ``i`` (``α_i`` plus the others' largest total mass below 1, ``i`` not
among the others) is checked by :meth:`Beliefs.check_self` when a bound uses the beliefs; option
names (signals, labels) are checked against the world when the options are planted.

Example:
    >>> from aca_games import Collective
    >>> menu = [Collective("j", 0, "g", target="no"), Collective("j", 0, "h", target="no")]
    >>> b = Beliefs.intervals({"j": (0.05, 0.2)}, {"j": menu})
    >>> b.kind, b.names, b.total_range
    ('intervals', ('j',), (0.05, 0.2))
    >>> Beliefs.intervals({"j": (0.3, 0.2)}, {"j": menu})
    Traceback (most recent call last):
    ...
    aca_games._errors.ACAInputError: others['j']: empty interval, lo = 0.3 > hi = 0.2
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games.collective import Collective

KINDS = ("intervals", "total_mass", "aggregate_conflict", "scenarios", "product")

#: Probabilities of a prior must sum to 1 within this.
PROB_TOL = 1e-9

#: A product prior enumerates into at most this many scenarios (:meth:`Beliefs.scenarios`).
MAX_SCENARIOS = 4096


class Other(NamedTuple):
    """Beliefs about one other collective.

    Attributes:
        name: its name.
        lo, hi: the size interval ``[lo, hi]`` (for a prior: the support of the size distribution).
        menu: its possible options (collectives whose ``size`` is ignored).
        weights: prior probabilities of the menu options (``None`` for robust beliefs).
        sizes: discrete prior size values, or ``None`` (robust, or uniform on ``[lo, hi]``).
        size_weights: probabilities of ``sizes``.
    """

    name: str
    lo: float
    hi: float
    menu: tuple[Collective, ...]
    weights: tuple[float, ...] | None = None
    sizes: tuple[float, ...] | None = None
    size_weights: tuple[float, ...] | None = None


class Scenario(NamedTuple):
    """One world of a finite prior: its probability and the other collectives, with sizes."""

    probability: float
    collectives: tuple[Collective, ...]


@dataclass(frozen=True)
class Beliefs:
    """Beliefs of collective ``i`` about the others; build with the class methods.

    Attributes:
        kind: one of :data:`KINDS`.
        others: per-collective beliefs (``intervals``, ``product``).
        total: ``(lo, hi)`` of the others' total mass (``total_mass``, ``aggregate_conflict``).
        conflict: the published bound ``R`` on ``Σ_j α_j ρ_ij`` (``aggregate_conflict``).
        scenario_list: the scenarios of a finite prior (``scenarios``).
    """

    kind: str
    others: tuple[Other, ...] = ()
    total: tuple[float, float] | None = None
    conflict: float | None = None
    scenario_list: tuple[Scenario, ...] = ()

    def __post_init__(self):
        v.choice("kind", self.kind, KINDS)
        if self.kind in ("intervals", "product"):
            _check_others(self.others, prior=self.kind == "product")
        elif self.kind == "scenarios":
            _check_scenarios(self.scenario_list)
        else:
            if self.total is None:
                raise ACAInputError(
                    f"total: {self.kind} beliefs need the interval (lo, hi) of the total mass"
                )
            _interval("total", *self.total)
            if self.kind == "aggregate_conflict":
                if self.conflict is None:
                    raise ACAInputError("conflict: aggregate-conflict beliefs need the bound R")
                r = float(v.finite_array("conflict", self.conflict, ndim=0))
                if r < 0:
                    raise ACAInputError(f"conflict: the aggregate conflict bound R = {r!r} must be >= 0")

    # -- constructors --------------------------------------------------------------------------
    @classmethod
    def intervals(
        cls, others: Mapping[str, tuple[float, float]], menus: Mapping[str, Sequence[Collective]]
    ) -> Beliefs:
        """Tier 3: ``α_j ∈ [lo_j, hi_j]`` (``0 <= lo <= hi < 1``, ``Σ hi < 1``) and ``j``'s option is
        one of ``menus[j]`` (a list of collectives; sizes ignored). ``others`` may be empty."""
        others = _mapping("others", others)
        menus = _mapping("menus", menus)
        _same_names(others, menus)
        items = []
        for name, bounds in others.items():
            lo, hi = _pair(f"others[{name!r}]", bounds)
            items.append(Other(name, lo, hi, _menu(f"menus[{name!r}]", menus[name])))
        return cls("intervals", others=tuple(items))

    @classmethod
    def known(cls, collectives: Sequence[Collective]) -> Beliefs:
        """Full knowledge: every other collective's size and option is known exactly."""
        collectives = list(collectives)
        for c in collectives:
            if not isinstance(c, Collective):
                raise ACAInputError(f"collectives: expected Collective objects, got {type(c).__name__}")
        return cls.intervals(
            {c.name: (c.size, c.size) for c in collectives}, {c.name: [c] for c in collectives}
        )

    @classmethod
    def total_mass(cls, lo, hi) -> Beliefs:
        """Tier 1: only the others' total mass ``∈ [lo, hi]`` is known; any feature-label option or
        inert mass (see :mod:`aca_games.bounds.partial` for the strategies this covers)."""
        return cls("total_mass", total=_pair("total", (lo, hi)))

    @classmethod
    def aggregate_conflict(cls, total_lo, total_hi, conflict) -> Beliefs:
        """Tier 2: ``Σ_j α_j ρ_ij <= conflict`` (``ρ`` as in :func:`aca_games.bounds.conflict_mass`,
        noise included) and the others' total mass ``∈ [total_lo, total_hi]``."""
        total = _pair("total", (total_lo, total_hi))
        r = float(v.finite_array("conflict", conflict, ndim=0))
        return cls("aggregate_conflict", total=total, conflict=r)

    @classmethod
    def prior(cls, scenarios: Sequence[tuple[float, Sequence[Collective]]]) -> Beliefs:
        """A finite prior: ``[(probability, [Collective with its size, ...]), ...]``.

        Probabilities are ``>= 0`` and sum to 1 within :data:`PROB_TOL`; a scenario may be empty
        (nobody else acts) and scenarios may differ in how many collectives act.
        """
        if isinstance(scenarios, Mapping) or not isinstance(scenarios, Sequence):
            raise ACAInputError("scenarios: expected a list of (probability, [Collective, ...]) pairs")
        items = []
        for s, item in enumerate(scenarios):
            if not isinstance(item, Sequence) or len(item) != 2:
                raise ACAInputError(f"scenarios[{s}]: expected a pair (probability, [Collective, ...])")
            prob = float(v.finite_array(f"scenarios[{s}].probability", item[0], ndim=0))
            items.append(Scenario(prob, _menu(f"scenarios[{s}].collectives", item[1], empty_ok=True)))
        return cls("scenarios", scenario_list=tuple(items))

    @classmethod
    def product_prior(
        cls,
        sizes: Mapping[str, tuple[float, float] | Mapping[float, float]],
        menus: Mapping[str, Sequence[Collective]],
        weights: Mapping[str, Sequence[float]] | None = None,
    ) -> Beliefs:
        """Independent per-collective prior.

        Args:
            sizes: name -> ``(lo, hi)`` (size uniform on the interval) or ``{size: probability}``.
            menus: name -> list of options (collectives; sizes ignored).
            weights: name -> probabilities of the menu options (default: uniform over the menu).
        """
        sizes = _mapping("sizes", sizes)
        menus = _mapping("menus", menus)
        weights = {} if weights is None else _mapping("weights", weights)
        _same_names(sizes, menus, "sizes")
        unknown = sorted(set(weights) - set(sizes))
        if unknown:
            raise ACAInputError(f"weights: unknown collective {unknown[0]!r}; the prior names {list(sizes)}")
        items = []
        for name, spec in sizes.items():
            menu = _menu(f"menus[{name!r}]", menus[name])
            w = weights.get(name, [1.0 / len(menu)] * len(menu))
            w = tuple(float(x) for x in v.finite_array(f"weights[{name!r}]", w, ndim=1))
            if isinstance(spec, Mapping):
                values = tuple(float(x) for x in spec)
                probs = tuple(float(x) for x in spec.values())
                lo, hi = (min(values), max(values)) if values else (0.0, 0.0)
                items.append(Other(name, lo, hi, menu, w, values, probs))
            else:
                lo, hi = _pair(f"sizes[{name!r}]", spec)
                items.append(Other(name, lo, hi, menu, w))
        return cls("product", others=tuple(items))

    # -- derived -------------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Names of the other collectives (empty for the total-mass tiers and finite priors)."""
        return tuple(o.name for o in self.others)

    @property
    def total_range(self) -> tuple[float, float]:
        """The smallest and largest total mass of the others consistent with the beliefs."""
        if self.total is not None:
            return self.total
        if self.kind == "scenarios":
            totals = [
                math.fsum(c.size for c in s.collectives) for s in self.scenario_list if s.probability > 0
            ]
            return min(totals), max(totals)
        return math.fsum(o.lo for o in self.others), math.fsum(o.hi for o in self.others)

    def check_self(self, collective: Collective) -> None:
        """Collective ``i`` must not be among the others and must fit: ``α_i + max Σ α_j < 1``."""
        if not isinstance(collective, Collective):
            raise ACAInputError(f"collective: expected a Collective, got {type(collective).__name__}")
        if collective.name in self.names:
            raise ACAInputError(
                f"beliefs: {collective.name!r} is the collective itself; beliefs describe the "
                f"other collectives ({list(self.names)})"
            )
        if not v.is_concrete(collective.size):
            return
        top = self.total_range[1]
        if float(collective.size) + top >= 1.0:
            raise ACAInputError(
                f"beliefs: the others' largest total size {top!r} plus {collective.name}.size = "
                f"{float(collective.size)!r} reaches 1; collectives are disjoint and must leave "
                "bystanders, so shrink the upper sizes"
            )

    def support(self) -> Beliefs:
        """Robust beliefs covering the prior's support: a product prior becomes intervals (size
        support, options of positive weight); robust beliefs are returned unchanged."""
        if self.kind == "scenarios":
            raise ACAInputError("beliefs: a finite prior has no interval support; use its scenarios")
        if self.kind != "product":
            return self
        others = {o.name: (o.lo, o.hi) for o in self.others}
        menus = {o.name: [c for c, w in zip(o.menu, o.weights, strict=True) if w > 0] for o in self.others}
        return Beliefs.intervals(others, menus)

    def scenarios(self) -> tuple[Scenario, ...]:
        """The finite prior as scenarios; a product prior with discrete sizes is enumerated (at most
        :data:`MAX_SCENARIOS`, zero-probability branches dropped)."""
        if self.kind == "scenarios":
            return self.scenario_list
        if self.kind != "product" or any(o.sizes is None for o in self.others):
            raise ACAInputError(
                f"beliefs: {self.kind} beliefs are not a finite prior; only Beliefs.prior scenarios "
                "or a product prior with discrete sizes can be enumerated"
            )
        branches = []
        for o in self.others:
            branches.append(
                [
                    (w * p, c.with_size(s))
                    for c, w in zip(o.menu, o.weights, strict=True)
                    for s, p in zip(o.sizes, o.size_weights, strict=True)
                    if w * p > 0
                ]
            )
        count = math.prod(len(b) for b in branches)
        if count > MAX_SCENARIOS:
            raise ACAInputError(
                f"beliefs: the product prior has {count} scenarios, more than {MAX_SCENARIOS}; "
                "estimate it by Monte Carlo (partial.bayes) instead"
            )
        out = []
        for combo in itertools.product(*branches):
            prob = math.prod(p for p, _ in combo)
            out.append(
                Scenario(
                    prob, tuple(c.replace(name=o.name) for (_, c), o in zip(combo, self.others, strict=True))
                )
            )
        return tuple(out)


# -- validation helpers --------------------------------------------------------------------------
def _mapping(name: str, value) -> dict:
    if not isinstance(value, Mapping):
        raise ACAInputError(
            f"{name}: expected a mapping collective name -> value, got {type(value).__name__}"
        )
    return {str(k): val for k, val in value.items()}


def _same_names(sizes: Mapping, menus: Mapping, what: str = "others") -> None:
    unknown = [n for n in menus if n not in sizes]
    if unknown:
        raise ACAInputError(
            f"menus: unknown collective {unknown[0]!r}; {what} names {list(sizes)} (give its size too)"
        )
    missing = [n for n in sizes if n not in menus]
    if missing:
        raise ACAInputError(f"menus: no menu for {missing[0]!r}; list its possible options")


def _pair(name: str, value) -> tuple[float, float]:
    arr = v.finite_array(name, value)
    if arr.shape != (2,):
        raise ACAInputError(f"{name}: expected an interval (lo, hi), got {value!r}")
    lo, hi = float(arr[0]), float(arr[1])
    _interval(name, lo, hi)
    return lo, hi


def _interval(name: str, lo: float, hi: float) -> None:
    if lo > hi:
        raise ACAInputError(f"{name}: empty interval, lo = {lo!r} > hi = {hi!r}")
    if lo < 0 or hi >= 1:
        raise ACAInputError(
            f"{name}: interval [{lo!r}, {hi!r}] must lie in [0, 1) (sizes are population shares)"
        )


def _menu(name: str, menu, empty_ok: bool = False) -> tuple[Collective, ...]:
    if isinstance(menu, Collective):
        menu = [menu]
    if not isinstance(menu, Sequence):
        raise ACAInputError(f"{name}: expected a list of Collective objects")
    for c in menu:
        if not isinstance(c, Collective):
            raise ACAInputError(f"{name}: expected Collective objects, got {type(c).__name__}")
    if not menu and not empty_ok:
        raise ACAInputError(f"{name}: the menu is empty; list at least one option")
    return tuple(menu)


def _probabilities(name: str, probs: Sequence[float]) -> None:
    arr = np.asarray(probs, dtype=np.float64)
    if np.any(arr < 0):
        raise ACAInputError(f"{name}: probabilities must be >= 0, got {arr.tolist()}")
    if abs(arr.sum() - 1.0) > PROB_TOL:
        raise ACAInputError(
            f"{name}: probabilities sum to {float(arr.sum())!r}, must be 1 within {PROB_TOL:g}"
        )


def _check_others(others: tuple[Other, ...], prior: bool) -> None:
    names = [o.name for o in others]
    if len(set(names)) != len(names):
        raise ACAInputError(f"others: names must be unique, got {names}")
    for o in others:
        label = f"sizes[{o.name!r}]" if prior else f"others[{o.name!r}]"
        _interval(label, o.lo, o.hi)
        _menu(f"menus[{o.name!r}]", list(o.menu))
        if not prior:
            continue
        if o.weights is None or len(o.weights) != len(o.menu):
            raise ACAInputError(f"weights[{o.name!r}]: need one probability per menu option ({len(o.menu)})")
        _probabilities(f"weights[{o.name!r}]", o.weights)
        if o.sizes is not None:
            if not o.sizes:
                raise ACAInputError(f"{label}: the size distribution is empty")
            _probabilities(label, o.size_weights)
    top = math.fsum(o.hi for o in others)
    if top >= 1:
        raise ACAInputError(
            f"others: the largest sizes sum to {top!r} >= 1, which exceeds the population "
            f"({dict((o.name, o.hi) for o in others)}); shrink the upper bounds"
        )


def _check_scenarios(scenarios: tuple[Scenario, ...]) -> None:
    if not scenarios:
        raise ACAInputError("scenarios: the prior needs at least one scenario")
    _probabilities("scenarios", [s.probability for s in scenarios])
    for s, sc in enumerate(scenarios):
        total = math.fsum(c.size for c in sc.collectives)
        if total >= 1:
            raise ACAInputError(f"scenarios[{s}]: sizes sum to {total!r} >= 1; leave room for bystanders")
