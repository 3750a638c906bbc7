"""Version-2 scenarios: collectives' menus into :class:`~aca_games.Player` objects, their beliefs
into :class:`~aca_games.Beliefs`, with every problem as ``(field path, problem, fix)``.

**Options.** A collective's own option fields (``signal``, ``target``, ``label``, ``strategy``,
``variant``, ``noise``, ``noise_mode``, ``misfire_label``, ``size``, ``steps``, ``cost``) are the
defaults of its ``menu`` options; an option sets only what differs. Without a menu the collective is
a single option named after its signal. A size range ``size = [lo, hi]`` is a continuous choice; it
is compared at ``steps`` evenly spaced sizes (default :data:`DEFAULT_STEPS`, ends included), named
``"<option> @<size>"`` (``aca-games best-response`` also searches the whole range against a
profile). ``play`` names the option the collective plays now (default: its first,
for a range its smallest size).

**Beliefs.** ``[collectives.beliefs]`` holds what the collective believes about the others, one
``kind`` of :class:`~aca_games.Beliefs` (THEORY §3.4): ``intervals`` (each other's size in
``[lo, hi]`` and its option among ``options``), ``total_mass`` (the others' total size only),
``aggregate_conflict`` (that plus a bound ``conflict`` on their conflict mass), ``prior`` (finite
scenarios with probabilities) and ``product_prior`` (independent per other collective). Others are
named by their ``name`` in the file and their options by their names on its menu (a range's name
stands for its option at any size).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np

from aca_games.app._scenario_checks import (
    Issue,
    choice_issue,
    duplicate_issues,
    field_path,
    option_consistency_issues,
    option_name_issues,
)
from aca_games.app._scenario_schema import BELIEF_KINDS, _BeliefsSpec, _CollectiveV2Spec, _OptionFields
from aca_games.beliefs import PROB_TOL, Beliefs
from aca_games.collective import Collective
from aca_games.game import Player
from aca_games.world import World

#: Sizes compared on a range ``[lo, hi]`` when ``steps`` is not given.
DEFAULT_STEPS = 5

#: What an option sets (a collective sets the same keys as its options' defaults).
_OPTION_KEYS = tuple(_OptionFields.model_fields)
#: Keys of a beliefs table (and of each ``others`` entry) that each kind uses.
_BELIEF_KEYS = {
    "intervals": {"others"},
    "total_mass": {"total"},
    "aggregate_conflict": {"total", "conflict"},
    "prior": {"scenarios"},
    "product_prior": {"others"},
}
_OTHER_KEYS = {
    "intervals": {"size", "options"},
    "product_prior": {"size", "sizes", "size_probabilities", "options", "weights"},
}


@dataclass(frozen=True)
class _Option:
    """One menu entry, defaults resolved: where it is, its name and its fields."""

    path: str
    name: str
    fields: dict

    @property
    def sizes(self) -> list[float]:
        size = self.fields["size"]
        if isinstance(size, tuple):
            return [float(x) for x in np.linspace(*size, self.fields.get("steps") or DEFAULT_STEPS)]
        return [size]

    @property
    def names(self) -> list[str]:
        """The names of the sizes it stands for: its own, or ``"<name> @<size>"`` for a range."""
        if not isinstance(self.fields["size"], tuple):
            return [self.name]
        return [f"{self.name} @{s:g}" for s in self.sizes]

    def collective(self, who: str, size: float | None = None) -> Collective:
        f = self.fields
        keys = ("label", "strategy", "variant", "noise", "noise_mode", "misfire_label")
        return Collective(
            name=who,
            size=self.sizes[-1] if size is None else size,
            signal=f["signal"],
            target=tuple(f.get("target") or ()),
            **{k: f[k] for k in keys if k in f},
        )


def _options(c: _CollectiveV2Spec, i: int) -> list[_Option]:
    base = {k: getattr(c, k) for k in _OPTION_KEYS if getattr(c, k) is not None}
    if c.menu is None:
        return [_Option(f"collectives[{i}]", str(base.get("signal")), base)]
    return [
        _Option(
            f"collectives[{i}].menu[{j}]",
            o.name,
            base | {k: getattr(o, k) for k in _OPTION_KEYS if getattr(o, k) is not None},
        )
        for j, o in enumerate(c.menu)
    ]


# -- checks ---------------------------------------------------------------------------------------
def check_menus(specs: Sequence[_CollectiveV2Spec], world: World) -> list[Issue]:
    """Names, options, sizes and ``play`` of every collective; the beliefs' references."""
    issues = duplicate_issues("collectives[*].name", [c.name for c in specs])
    menus = [_options(c, i) for i, c in enumerate(specs)]
    for i, (c, options) in enumerate(zip(specs, menus, strict=True)):
        at = f"collectives[{i}]"
        issues += option_name_issues(at, c, world)
        for j, o in enumerate(c.menu or ()):
            issues += option_name_issues(f"{at}.menu[{j}]", o, world)
        issues += duplicate_issues(f"{at}.menu[*].name", [o.name for o in options])
        for o in options:
            issues += _option_issues(o, world)
    if issues:
        return issues
    for i, (c, options) in enumerate(zip(specs, menus, strict=True)):
        names = [n for o in options for n in o.names]
        issues += duplicate_issues(f"collectives[{i}].menu[*].steps", names)
        if c.play is not None:
            issues += choice_issue(f"collectives[{i}].play", c.play, names, "option")
    largest = math.fsum(max(s for o in options for s in o.sizes) for options in menus)
    if largest >= 1:
        issues.append(
            (
                "collectives[*].size",
                f"the largest sizes on the menus sum to {largest!r} >= 1",
                "collectives are disjoint shares of one population; every profile must leave "
                "bystanders, so lower the largest sizes",
            )
        )
    by_name = {c.name: options for c, options in zip(specs, menus, strict=True)}
    for i, c in enumerate(specs):
        if c.beliefs is not None:
            issues += _belief_issues(f"collectives[{i}].beliefs", c.beliefs, c.name, by_name)
    return issues


def _option_issues(o: _Option, world: World) -> list[Issue]:
    f = o.fields
    issues = []
    for key, what in (("signal", "the signal it plants"), ("size", "its size, e.g. 0.05")):
        if key not in f:
            where = "on the option or on its collective" if ".menu[" in o.path else "on the collective"
            issues.append((f"{o.path}.{key}", "missing required key", f"set {key} ({what}) {where}"))
    if "steps" in f and not isinstance(f.get("size"), tuple):
        issues.append(
            (f"{o.path}.steps", "only used with a size range", "give size = [lo, hi], or remove steps")
        )
    if issues:
        return issues
    resolved = SimpleNamespace(**(dict.fromkeys(_OPTION_KEYS) | f))
    resolved.strategy = f.get("strategy", "feature_label")
    return option_consistency_issues(o.path, resolved, world.labels)


def _belief_issues(at: str, b: _BeliefsSpec, me: str, menus: dict[str, list[_Option]]) -> list[Issue]:
    issues = choice_issue(f"{at}.kind", b.kind, BELIEF_KINDS, "belief kind")
    if issues:
        return issues
    used = _BELIEF_KEYS[b.kind]
    for key in ("others", "total", "conflict", "scenarios"):
        given = getattr(b, key) is not None
        if given and key not in used:
            issues.append(
                (
                    f"{at}.{key}",
                    f"not used by kind = {b.kind!r}",
                    f"remove it (kind {b.kind!r} uses {sorted(used)})",
                )
            )
        elif not given and key in used:
            issues.append((f"{at}.{key}", f"missing: kind = {b.kind!r} needs it", f"add {key}"))
    if issues:
        return issues
    if b.total is not None:
        issues += _interval_issues(f"{at}.total", b.total)
    seen: list[str] = []
    for k, other in enumerate(b.others or ()):
        where = f"{at}.others[{k}]"
        issues += _reference_issues(f"{where}.name", other.name, me, menus)
        seen.append(other.name)
        for key in ("size", "sizes", "size_probabilities", "options", "weights"):
            if getattr(other, key) is not None and key not in _OTHER_KEYS[b.kind]:
                issues.append((f"{where}.{key}", f"not used by kind = {b.kind!r}", "remove it"))
        if other.name in menus and other.name != me:
            known = _option_names(menus[other.name])
            for m, option in enumerate(other.options or ()):
                issues += choice_issue(f"{where}.options[{m}]", option, known, "option")
        issues += _size_belief_issues(where, other, b.kind)
        if other.weights is not None and b.kind == "product_prior" and other.name in menus:
            count = len(other.options if other.options is not None else menus[other.name])
            issues += _probability_issues(f"{where}.weights", other.weights)
            if len(other.weights) != count:
                issues.append(
                    (
                        f"{where}.weights",
                        f"{len(other.weights)} weights for {count} options",
                        "one probability per entry of options (default: per option of its menu)",
                    )
                )
    issues += duplicate_issues(f"{at}.others[*].name", seen)
    for k, scenario in enumerate(b.scenarios or ()):
        issues += _scenario_issues(f"{at}.scenarios[{k}]", scenario, me, menus)
    if b.scenarios:
        issues += _probability_issues(f"{at}.scenarios[*].probability", [x.probability for x in b.scenarios])
    return issues


def _probability_issues(path: str, probabilities: Sequence[float]) -> list[Issue]:
    """Probabilities are >= 0 and sum to 1 within :data:`aca_games.beliefs.PROB_TOL`."""
    total = math.fsum(probabilities)
    if any(p < 0 for p in probabilities) or abs(total - 1.0) > PROB_TOL:
        return [
            (path, f"probabilities {list(probabilities)} sum to {total!r}", "make them >= 0 and sum to 1")
        ]
    return []


def _scenario_issues(where: str, scenario, me: str, menus: dict[str, list[_Option]]) -> list[Issue]:
    issues = []
    for name, option in scenario.play.items():
        path = f"{where}.play.{field_path([name])}"
        found = _reference_issues(path, name, me, menus)
        if not found:
            known = _option_names(menus[name])
            found = choice_issue(path, option, known, "option")
        issues += found
        if not found and name not in scenario.sizes and _size_of(menus[name], option) is None:
            issues.append(
                (
                    f"{where}.sizes.{field_path([name])}",
                    f"missing: {option!r} is a size range",
                    f"give the size it plays in this scenario, e.g. sizes = {{ {name!r} = 0.05 }}",
                )
            )
    for name, size in scenario.sizes.items():
        path = f"{where}.sizes.{field_path([name])}"
        if name not in scenario.play:
            issues.append((path, "no option for it in play", "add it to play, or remove its size"))
        elif not 0 <= size < 1:
            issues.append((path, f"size {size!r} is outside [0, 1)", "give a population share"))
    return issues


def _option_names(options: list[_Option]) -> list[str]:
    """Names another collective's options may be referred by: each option's, and a range's sizes."""
    return list(dict.fromkeys(n for o in options for n in (o.name, *o.names)))


def _reference_issues(path: str, name: str, me: str, menus: dict) -> list[Issue]:
    if name == me:
        return [(path, f"{name!r} is the collective itself", "beliefs describe the other collectives")]
    return choice_issue(path, name, [n for n in menus if n != me], "collective")


def _interval_issues(path: str, value: Sequence[float]) -> list[Issue]:
    if len(value) != 2 or not 0 <= value[0] <= value[1] < 1:
        return [
            (
                path,
                f"{list(value)!r} is not an interval [lo, hi] with 0 <= lo <= hi < 1",
                "give two sizes, e.g. [0.02, 0.05]",
            )
        ]
    return []


def _size_belief_issues(where: str, other, kind: str) -> list[Issue]:
    if kind == "intervals":
        if other.size is None:
            return [(f"{where}.size", "missing required key", "add size = [lo, hi], its size interval")]
        return _interval_issues(f"{where}.size", other.size)
    if (other.size is None) == (other.sizes is None):
        return [
            (
                f"{where}.size",
                "give either size = [lo, hi] (uniform) or sizes = [...] with size_probabilities",
                "set exactly one of them",
            )
        ]
    if other.size is not None:
        if other.size_probabilities is not None:
            return [(f"{where}.size_probabilities", "only used with sizes = [...]", "remove it")]
        return _interval_issues(f"{where}.size", other.size)
    issues = []
    if other.size_probabilities is not None:
        issues += _probability_issues(f"{where}.size_probabilities", other.size_probabilities)
    if other.size_probabilities is None or len(other.size_probabilities) != len(other.sizes):
        issues.append(
            (
                f"{where}.size_probabilities",
                "need one probability per entry of sizes",
                f"give {len(other.sizes)} probabilities summing to 1",
            )
        )
    if any(not 0 <= s < 1 for s in other.sizes):
        issues.append((f"{where}.sizes", "sizes must lie in [0, 1)", "give population shares"))
    issues += duplicate_issues(f"{where}.sizes", [repr(s) for s in other.sizes])
    return issues


# -- construction ---------------------------------------------------------------------------------
class SizeRange(NamedTuple):
    """A menu option with a size range: its name, ``[lo, hi]`` and the player's options sampling it."""

    name: str
    lo: float
    hi: float
    options: tuple[int, ...]


class Game(NamedTuple):
    """What a version-2 file states: players, the configured profile, beliefs, size ranges."""

    players: tuple[Player, ...]
    configured: tuple[int, ...]
    beliefs: dict[str, Beliefs]
    ranges: dict[str, tuple[SizeRange, ...]]


def build_players(specs: Sequence[_CollectiveV2Spec], build: Callable) -> Game:
    """Players (menus expanded), the configured profile, each collective's beliefs and size ranges.

    ``build(path, make)`` runs a constructor and turns its :class:`~aca_games.ACAInputError` into a
    scenario error at ``path``.
    """
    menus = {c.name: _options(c, i) for i, c in enumerate(specs)}
    players, configured, ranges = [], [], {}
    for i, c in enumerate(specs):
        options, names, costs = [], [], []
        for o in menus[c.name]:
            if isinstance(o.fields["size"], tuple):
                indices = tuple(range(len(names), len(names) + len(o.names)))
                ranges[c.name] = (*ranges.get(c.name, ()), SizeRange(o.name, *o.fields["size"], indices))
            for name, size in zip(o.names, o.sizes, strict=True):
                make = lambda o=o, s=size, who=c.name: o.collective(who, s)  # noqa: E731
                options.append(build(o.path, make, prefix=c.name))
                names.append(name)
                costs.append(float(o.fields.get("cost", 0.0)))
        player = build(
            f"collectives[{i}]",
            lambda c=c, options=options, names=names, costs=costs: Player(
                c.name, options, value=c.value, costs=costs, size_cost=c.size_cost, option_names=names
            ),
        )
        players.append(player)
        configured.append(names.index(c.play) if c.play is not None else 0)
    beliefs = {}
    for i, c in enumerate(specs):
        if c.beliefs is None:
            continue
        at = f"collectives[{i}].beliefs"
        b = build(at, lambda c=c: _beliefs(c.beliefs, menus))
        largest = max(players[i].options, key=lambda o: float(o.size))
        build(at, lambda b=b, largest=largest: b.check_self(largest))
        beliefs[c.name] = b
    return Game(tuple(players), tuple(configured), beliefs, ranges)


def _find(options: list[_Option], name: str) -> _Option:
    return next(o for o in options if name == o.name or name in o.names)


def _size_of(options: list[_Option], name: str) -> float | None:
    """The size an option name stands for; ``None`` for the bare name of a range."""
    o = _find(options, name)
    return o.sizes[o.names.index(name)] if name in o.names else None


def _menu(other, options: list[_Option]) -> list[Collective]:
    chosen = options if other.options is None else [_find(options, n) for n in other.options]
    return [o.collective(other.name) for o in chosen]


def _beliefs(b: _BeliefsSpec, menus: dict[str, list[_Option]]) -> Beliefs:
    if b.kind == "total_mass":
        return Beliefs.total_mass(*b.total)
    if b.kind == "aggregate_conflict":
        return Beliefs.aggregate_conflict(*b.total, b.conflict)
    if b.kind == "intervals":
        return Beliefs.intervals(
            {o.name: tuple(o.size) for o in b.others}, {o.name: _menu(o, menus[o.name]) for o in b.others}
        )
    if b.kind == "product_prior":
        sizes = {
            o.name: tuple(o.size)
            if o.size is not None
            else dict(zip(o.sizes, o.size_probabilities, strict=True))
            for o in b.others
        }
        weights = {o.name: o.weights for o in b.others if o.weights is not None}
        return Beliefs.product_prior(sizes, {o.name: _menu(o, menus[o.name]) for o in b.others}, weights)
    scenarios = []
    for s in b.scenarios:
        acting = []
        for name, option in s.play.items():
            size = s.sizes.get(name, _size_of(menus[name], option))
            acting.append(_find(menus[name], option).collective(name, size))
        scenarios.append((s.probability, acting))
    return Beliefs.prior(scenarios)
