"""Scenario files: TOML in, a validated :class:`Scenario` out, errors that say where and how to fix.

A scenario describes one world, the collectives acting in it and what to analyse. Files are read
with the standard library's ``tomllib`` (never ``eval``, never pickle), checked against a strict
schema (unknown keys are rejected with the closest valid key suggested), then turned into a
:class:`~aca_games.World` and :class:`~aca_games.Collective` objects. Every problem raises
:class:`ScenarioError` (an :class:`~aca_games.ACAInputError`, hence a ``ValueError``) whose message
names the file, the field path (``collectives[1].size``) and the fix.

Format version 1 (compact world: relevant points, base mass and one landing table per signal)::

    name = "Smart city"                       # optional, default: the file name
    description = "..."                       # optional

    [world]
    labels = ["routine", "cooling"]           # >= 2 label names
    points = ["plain report", "tagged report"]  # the relevant points x̃
    base = [[0.50, 0.20],                     # P0(x̃, y): rows = points, columns = labels;
            [0.01, 0.00]]                     # entries in [0, 1], total <= 1
    n_features = 1000                         # optional |X| (default: number of points)
    idempotent = ["tag"]                      # optional: signals with g(g(x)) = g(x)

    [world.signals.tag]                       # one table per signal
    landing = [[0.0, 0.0],                    # m_g(x̃, y) = Pr[g(x) = x̃, y]; total exactly 1
               [0.7, 0.3]]

    [[collectives]]                           # one block per collective
    name = "Riverside tenants"                # unique
    size = 0.05                               # population share α in [0, 1); Σ α < 1
    signal = "tag"                            # a signal of the world
    target = ["cooling"]                      # target labels T (a single string is fine)
    label = "cooling"                         # planted label ℓ ∈ T (default: the only target)
    strategy = "feature_label"                # feature_label | feature_only | unplant | erase
    variant = "hardt"                         # feature_only only: hardt | gbj
    noise = 0.0                               # coordination noise σ in [0, 1]
    noise_mode = "drop"                       # drop | scatter | misfire
    misfire_label = "routine"                 # misfire only (default: first non-target label)

    [analysis]                                # optional; every key has a default
    eps = 0.0                                 # learner suboptimality ε >= 0
    reading = "huber"                         # huber (ε < 1) | tv (ε < 1/2)
    target_success = 0.9                      # S* in (0, 1] for critical masses
    N = 100000                                # optional: platform users -> finite-sample bound
    n_test = 2000                             # test points (default 2000; needs N)
    delta = 0.05                              # failure probability (default 0.05; needs N)

Full-table world (reduced with :meth:`World.from_table`): instead of ``points``, ``base`` and the
``landing`` tables give ``table`` (``P0(x, y)`` over every feature, total 1), optional
``feature_names``, and per signal an integer ``map`` (``g(x)`` as a row index, 0-based)::

    [world]
    labels = ["routine", "cooling"]
    table = [[0.5, 0.2], [0.2, 0.1]]
    feature_names = ["plain", "tagged"]
    [world.signals.tag]
    map = [1, 1]

Format version 2 (``version = 2`` at the top) states a game: per collective a ``menu`` of options,
a ``value`` of success and a ``size_cost``, and its ``beliefs`` about the others; the platform's
learner moves to ``[platform]`` (``eps``, ``reading``, ``N``, ``n_test``, ``delta``) and
``[analysis]`` keeps ``target_success`` and the ``payoff`` measure. The world is the same. Options
and beliefs are described in :mod:`aca_games.app._scenario_menus`; the README's scenario section
and ``aca_games/scenarios/smart_city_v2.toml`` show a full file::

    version = 2
    [platform]
    eps = 0.001
    [analysis]
    target_success = 0.9
    payoff = "exact"                          # exact | per_point | closed_form

    [[collectives]]
    name = "Riverside tenants"
    value = 1.0                               # v_i: what full success is worth
    size_cost = 0.5                           # k_i: cost per unit of size
    target = ["cooling"]                      # defaults for the options below
    play = "tag"                              # the option played now (default: the first)
    [[collectives.menu]]
    name = "tag"
    signal = "stillair_tag"
    size = 0.06
    [[collectives.menu]]
    name = "recruit"
    signal = "stillair_tag"
    size = [0.02, 0.10]                       # a continuous choice, compared at `steps` sizes
    steps = 5
    cost = 0.01                               # payoff units
    [collectives.beliefs]
    kind = "intervals"                        # | total_mass | aggregate_conflict | prior | product_prior
    [[collectives.beliefs.others]]
    name = "Hillside seniors"
    size = [0.02, 0.05]
    options = ["form"]                        # default: its whole menu

The payoff of a collective is ``value · S - cost - size_cost · size`` (:class:`aca_games.ACAGame`).

Example:
    >>> s = load_scenario(default_scenario_path())
    >>> [c.name for c in s.collectives]
    ['Riverside tenants', 'Hillside seniors', 'Market street shops']
    >>> s.analysis.target_success
    0.9
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from aca_games._errors import ACAInputError
from aca_games.app._scenario_checks import check_analysis, check_collectives, check_world
from aca_games.app._scenario_menus import SizeRange, build_players, check_menus
from aca_games.app._scenario_schema import (
    Analysis,
    _CollectiveSpec,
    _ScenarioSpec,
    _ScenarioV2Spec,
    _WorldSpec,
    validate,
)
from aca_games.beliefs import Beliefs
from aca_games.collective import Collective
from aca_games.game import Player
from aca_games.planting import plant_all, sizes_of
from aca_games.world import World

__all__ = [
    "Analysis",
    "Scenario",
    "ScenarioError",
    "bundled_scenarios",
    "default_scenario_path",
    "load_scenario",
    "scenario_from_dict",
    "with_settings",
]

VERSIONS = (1, 2)


class ScenarioError(ACAInputError):
    """A scenario file is unreadable or invalid.

    Attributes:
        source: the file (or ``"<dict>"``) the scenario came from.
        issues: ``(field path, problem, fix)`` triples, one per problem found.
    """

    def __init__(self, source: str, issues: Sequence[tuple[str, str, str]]):
        self.source = source
        self.issues = list(issues)
        lines = [
            f"{path}: {problem}" + (f" -> fix: {fix}" if fix else "") for path, problem, fix in self.issues
        ]
        if len(lines) == 1:
            message = f"{source}: {lines[0]}"
        else:
            message = f"{source}: {len(lines)} problems\n" + "\n".join(f"  {x}" for x in lines)
        super().__init__(message)


# -- the validated scenario -----------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    """A validated scenario: the world, the collectives acting together, the analysis settings.

    Attributes:
        collectives: what each collective plays now (version 2: its ``play`` option).
        analysis: the learner (``eps``, ``reading``), the finite-sample setting and the target.
        version: the file's format version.
        players: version 2: the game the file states, one :class:`~aca_games.Player` per
            collective (menus with size ranges expanded); empty for version 1.
        configured: version 2: the index of each player's ``play`` option.
        beliefs: version 2: collective name -> its :class:`~aca_games.Beliefs` about the others.
        payoff: the success measure in payoffs (``exact``, ``per_point`` or ``closed_form``).
        ranges: version 2: collective name -> its options with a size range ``[lo, hi]``
            (:class:`~aca_games.app._scenario_menus.SizeRange`: the name, the range and the indices
            of the player's options that sample it).
    """

    name: str
    description: str
    world: World
    collectives: tuple[Collective, ...]
    analysis: Analysis
    source: str = "<dict>"
    version: int = 1
    players: tuple[Player, ...] = ()
    configured: tuple[int, ...] = ()
    beliefs: Mapping[str, Beliefs] = field(default_factory=dict)
    payoff: str = "exact"
    ranges: Mapping[str, tuple[SizeRange, ...]] = field(default_factory=dict)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a TOML scenario file (format: see the module docstring).

    Raises:
        ScenarioError: the file is missing, not TOML, or invalid; the message names the file,
            the field and the fix.
    """
    path = Path(path)
    source = str(path)

    def fail(problem: str, fix: str = "", where: str = "file") -> ScenarioError:
        return ScenarioError(source, [(where, problem, fix)])

    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise fail("not found", _bundled_hint()) from None
    except IsADirectoryError:
        raise fail("is a directory", "pass a .toml file") from None
    except UnicodeDecodeError as err:
        raise fail(f"not UTF-8 text ({err.reason} at byte {err.start})", "save it as UTF-8") from None
    except OSError as err:
        raise fail(f"cannot be read ({err.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        hint = "check the syntax there (strings need quotes, tables [name], arrays [a, b])"
        raise fail(f"malformed: {err}", hint, where="TOML") from None
    return scenario_from_dict(data, source=source, default_name=path.stem)


def scenario_from_dict(data: Mapping, source: str = "<dict>", default_name: str = "scenario") -> Scenario:
    """Validate an already parsed scenario (the dict ``tomllib`` returns) into a :class:`Scenario`.

    Raises:
        ScenarioError: with ``source`` in the message.
    """
    version = data.get("version", 1) if isinstance(data, Mapping) else 1
    if isinstance(version, bool) or version not in VERSIONS:
        fix = "write version = 2 for menus and beliefs, or leave it out for version 1"
        raise ScenarioError(source, [("version", f"unknown format version {version!r}", fix)])
    spec, issues = validate(_ScenarioSpec if version == 1 else _ScenarioV2Spec, data)
    if issues:
        raise ScenarioError(source, issues)
    if version == 1:
        learner, at = spec.analysis, "analysis"
    else:
        learner, at = spec.platform, "platform"
    issues = check_world(spec.world) + check_analysis(learner, at)
    if not issues:
        world = _build(source, "world", lambda: _make_world(spec.world))
        issues = (check_collectives if version == 1 else check_menus)(spec.collectives, world)
    if issues:
        raise ScenarioError(source, issues)
    common = dict(name=spec.name or default_name, description=spec.description, world=world, source=source)
    if version == 1:
        collectives = tuple(
            _build(source, f"collectives[{i}]", lambda c=c: _make_collective(c), prefix=c.name)
            for i, c in enumerate(spec.collectives)
        )
        for i, c in enumerate(collectives):
            _build(source, f"collectives[{i}]", lambda c=c: plant_all(world, [c]), prefix=c.name)
        _build(source, "collectives[*].size", lambda: sizes_of(collectives))
        return Scenario(collectives=collectives, analysis=_complete(spec.analysis), **common)

    def build(path, make, prefix=None):
        return _build(source, path, make, prefix)

    game = build_players(spec.collectives, build)
    players = game.players
    for i, p in enumerate(players):  # every option must fit the world
        for option in dict.fromkeys(o.with_size(0.0) for o in p.options):
            build(f"collectives[{i}]", lambda o=option: plant_all(world, [o]), prefix=p.name)
    analysis = Analysis(**spec.platform.model_dump(), target_success=spec.analysis.target_success)
    return Scenario(
        collectives=tuple(p.options[k] for p, k in zip(players, game.configured, strict=True)),
        analysis=_complete(analysis),
        version=2,
        players=players,
        configured=game.configured,
        beliefs=game.beliefs,
        ranges=game.ranges,
        payoff=spec.analysis.payoff,
        **common,
    )


#: Command-line option -> the analysis field it sets (see :func:`with_settings`).
SETTINGS = {"--eps": "eps", "--reading": "reading", "--target": "target_success"}


def with_settings(scenario: Scenario, *, eps=None, reading=None, target_success=None) -> Scenario:
    """The scenario with the learner or the target changed (``None`` keeps a setting).

    Raises:
        ACAInputError: a value out of range, or ``eps`` too large for the reading; the message
            names the command-line option (``--eps``, ``--reading``, ``--target``).
    """
    changes = {"eps": eps, "reading": reading, "target_success": target_success}
    changes = {k: x for k, x in changes.items() if x is not None}
    if not changes:
        return scenario
    option = {name: flag for flag, name in SETTINGS.items()}
    try:
        analysis = Analysis.model_validate(scenario.analysis.model_dump() | changes)
    except ValidationError as err:
        e = err.errors()[0]
        raise ACAInputError(f"{option[e['loc'][0]]}: {e['msg']} (got {e.get('input')!r})") from None
    for path, problem, fix in check_analysis(analysis):
        raise ACAInputError(f"{option[path.removeprefix('analysis.')]}: {problem} -> fix: {fix}")
    return dataclasses.replace(scenario, analysis=analysis)


def bundled_scenarios() -> dict[str, Path]:
    """Scenarios shipped with the package: name (file stem) -> path."""
    folder = resources.files("aca_games") / "scenarios"
    return {
        p.stem: Path(str(p))
        for p in sorted(folder.iterdir(), key=lambda p: p.name)
        if p.name.endswith(".toml")
    }


def default_scenario_path() -> Path:
    """Path of the bundled default scenario, ``aca_games/scenarios/smart_city.toml``."""
    return Path(str(resources.files("aca_games") / "scenarios" / "smart_city.toml"))


def _complete(a: Analysis) -> Analysis:
    if a.N is None:
        return a
    return a.model_copy(update={"n_test": a.n_test or 2000, "delta": a.delta or 0.05})


# -- construction ---------------------------------------------------------------------------------
def _make_world(w: _WorldSpec) -> World:
    if w.table is not None:
        return World.from_table(
            w.table,
            {k: s.map for k, s in w.signals.items()},
            labels=w.labels,
            feature_names=w.feature_names,
        )
    return World(
        points=w.points,
        labels=w.labels,
        base=w.base,
        landing={k: s.landing for k, s in w.signals.items()},
        n_features=w.n_features,
        idempotent=w.idempotent,
    )


def _make_collective(c: _CollectiveSpec) -> Collective:
    return Collective(
        name=c.name,
        size=c.size,
        signal=c.signal,
        target=tuple(c.target),
        label=c.label,
        strategy=c.strategy,
        variant=c.variant,
        noise=c.noise,
        noise_mode=c.noise_mode,
        misfire_label=c.misfire_label,
    )


def _build(source: str, path: str, make, prefix: str | None = None):
    """Run a model constructor; its :class:`ACAInputError` becomes a :class:`ScenarioError`.

    Messages of :class:`Collective` start with ``"<name>.<field>: "``; with ``prefix=<name>`` that
    part is turned into the field path ``collectives[i].<field>``. Model messages state the fix in
    their own words, so the fix part stays empty.
    """
    try:
        return make()
    except ScenarioError:
        raise
    except ACAInputError as err:
        message = str(err)
        head, sep, rest = message.partition(": ")
        if prefix is not None and sep and head.startswith(prefix + "."):
            path, message = f"{path}.{head[len(prefix) + 1 :]}", rest
        elif sep and path.endswith("." + head):  # "beliefs: ..." at collectives[i].beliefs
            message = rest
        raise ScenarioError(source, [(path, message, "")]) from None


def _bundled_hint() -> str:
    names = ", ".join(bundled_scenarios())
    return f"check the path; bundled scenarios: {names} (see `aca-games scenarios`)"
