"""Scenario files: TOML in, a validated :class:`Scenario` out, errors that say where and how to fix.

A scenario describes one world, the collectives acting in it and what to analyse. Files are read
with the standard library's ``tomllib`` (never ``eval``, never pickle), checked against a strict
schema (unknown keys are rejected with the closest valid key suggested), then turned into a
:class:`~aca_games.World` and :class:`~aca_games.Collective` objects. Every problem raises
:class:`ScenarioError` (an :class:`~aca_games.ACAInputError`, hence a ``ValueError``) whose message
names the file, the field path (``collectives[1].size``) and the fix.

Format (compact world: relevant points, base mass and one landing table per signal)::

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

Example:
    >>> s = load_scenario(default_scenario_path())
    >>> [c.name for c in s.collectives]
    ['Riverside tenants', 'Hillside seniors', 'Market street shops']
    >>> s.analysis.target_success
    0.9
"""

from __future__ import annotations

import difflib
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from aca_games._errors import ACAInputError
from aca_games.app._scenario_checks import check_analysis, check_collectives, check_world, field_path
from aca_games.collective import NOISE_MODES, STRATEGIES, Collective
from aca_games.learner import READINGS
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
]

Mass = Annotated[float, Field(ge=0.0, le=1.0)]
Table = list[list[Mass]]


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


# -- schema ---------------------------------------------------------------------------------------
class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class _SignalSpec(_Spec):
    landing: Table | None = Field(
        None,
        description="landing table m_g(x̃, y): one row per point, one column per label, "
        "total exactly 1 (compact worlds)",
    )
    map: list[int] | None = Field(
        None,
        description="g(x) as 0-based row indices of `table`, one per feature (full-table worlds)",
    )


class _WorldSpec(_Spec):
    labels: list[str] = Field(description='a list of >= 2 label names, e.g. ["routine", "cooling"]')
    points: list[str] | None = Field(None, description="names of the relevant points")
    base: Table | None = Field(
        None,
        description="base mass P0(x̃, y): one row per point, one column per label, "
        "entries in [0, 1], total <= 1",
    )
    table: Table | None = Field(None, description="full joint table P0(x, y): one row per feature, total 1")
    feature_names: list[str] | None = Field(None, description="one name per row of `table`")
    n_features: int | None = Field(None, ge=1, description="size |X| of the full feature space")
    idempotent: list[str] | None = Field(None, description="names of idempotent signals")
    signals: dict[str, _SignalSpec] = Field(description="one [world.signals.<name>] table per signal")


class _CollectiveSpec(_Spec):
    name: str = Field(min_length=1, description="a unique display name")
    size: float = Field(ge=0.0, lt=1.0, description="the population share α in [0, 1), e.g. 0.05")
    signal: str = Field(description="the name of a signal in [world.signals]")
    target: list[str] = Field(default_factory=list, description='target label names, e.g. ["cooling"]')
    label: str | None = Field(None, description="the planted label, one of `target`")
    strategy: str = Field("feature_label", description=f"one of {list(STRATEGIES)}")
    variant: str | None = Field(None, description="feature_only only: 'hardt' or 'gbj'")
    noise: float = Field(0.0, ge=0.0, le=1.0, description="the deviating fraction σ in [0, 1]")
    noise_mode: str = Field("drop", description=f"one of {list(NOISE_MODES)}")
    misfire_label: str | None = Field(None, description="the wrong label planted under misfire")

    @field_validator("target", mode="before")
    @classmethod
    def _one_label(cls, value):
        return [value] if isinstance(value, str) else value


class Analysis(_Spec):
    """What to compute: the learner, the success target and the optional finite-sample setting.

    ``N`` switches on the finite-sample bound; ``n_test`` and ``delta`` then default to 2000 and
    0.05 (setting them without ``N`` is an error, so nothing is silently ignored).
    """

    eps: float = Field(0.0, ge=0.0, description="the learner's suboptimality ε >= 0, e.g. 0.0")
    reading: str = Field("huber", description=f"one of {list(READINGS)}")
    target_success: float = Field(
        0.9, gt=0.0, le=1.0, description="the success target S* in (0, 1], e.g. 0.9"
    )
    N: int | None = Field(None, ge=2, description="the number of platform users, an integer such as 100_000")
    n_test: int | None = Field(None, ge=1, description="the number of test points, an integer")
    delta: float | None = Field(
        None, gt=0.0, lt=1.0, description="the failure probability δ in (0, 1), e.g. 0.05"
    )


class _ScenarioSpec(_Spec):
    name: str | None = Field(None, description="a display name for the scenario")
    description: str = Field("", description="a free-text description")
    world: _WorldSpec = Field(description="a [world] table")
    collectives: list[_CollectiveSpec] = Field(min_length=1, description="at least one [[collectives]] block")
    analysis: Analysis = Field(default_factory=Analysis, description="an [analysis] table")


# -- the validated scenario -----------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    """A validated scenario: the world, the collectives acting together, the analysis settings."""

    name: str
    description: str
    world: World
    collectives: tuple[Collective, ...]
    analysis: Analysis
    source: str = "<dict>"


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
    try:
        spec = _ScenarioSpec.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(source, _issues(err)) from None
    except RecursionError:
        raise ScenarioError(source, [("", "nested too deeply", "")]) from None
    issues = check_world(spec.world) + check_analysis(spec.analysis)
    if not issues:
        world = _build(source, "world", lambda: _make_world(spec.world))
        issues = check_collectives(spec.collectives, world)
    if issues:
        raise ScenarioError(source, issues)
    collectives = tuple(
        _build(source, f"collectives[{i}]", lambda c=c: _make_collective(c), prefix=c.name)
        for i, c in enumerate(spec.collectives)
    )
    for i, c in enumerate(collectives):
        _build(source, f"collectives[{i}]", lambda c=c: plant_all(world, [c]), prefix=c.name)
    _build(source, "collectives[*].size", lambda: sizes_of(collectives))
    return Scenario(
        name=spec.name or default_name,
        description=spec.description,
        world=world,
        collectives=collectives,
        analysis=_complete(spec.analysis),
        source=source,
    )


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


# -- pydantic errors -> (path, problem, fix) -------------------------------------------------------
def _issues(err: ValidationError) -> list[tuple[str, str, str]]:
    """One issue per pydantic error, except that a missing key is not reported again when an
    unknown key at the same place is a misspelling of it (``sise`` -> ``size``)."""
    errors = err.errors()
    misspelt = {
        (tuple(e["loc"][:-1]), _closest(str(e["loc"][-1]), _fields_at(e["loc"][:-1])))
        for e in errors
        if e["type"] == "extra_forbidden"
    }
    return [
        _issue(e)
        for e in errors
        if not (e["type"] == "missing" and (tuple(e["loc"][:-1]), e["loc"][-1]) in misspelt)
    ]


def _closest(key: str, known: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
    return close[0] if close else None


def _issue(err) -> tuple[str, str, str]:
    loc, kind = tuple(err["loc"]), err["type"]
    path = field_path(loc)
    if kind == "extra_forbidden":
        known = _fields_at(loc[:-1])
        key = str(loc[-1])
        close = _closest(key, known)
        fix = f"did you mean {close!r}?" if close else "remove it"
        return path, f"unknown key {key!r}", f"{fix} (valid keys: {', '.join(known)})"
    description = _description(loc)
    if kind == "missing":
        table = _fields_at(loc) or _fields_at((*loc, 0))  # a [table] or [[array of tables]]
        fix = f"add {description}" if table else f"add {loc[-1]} = ... ({description})"
        return path, "missing required key", fix
    shown = _short(err.get("input"))
    return path, f"{err['msg'].rstrip('.')} (got {shown})", f"expected {description}"


def _unwrap(tp):
    """Strip ``Optional``/``Annotated`` from a type annotation."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0]
        else:
            return tp


def _walk(loc):
    """The model class (or field) a location points into; ``None`` if it leaves the schema."""
    tp, field = _ScenarioSpec, None
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return None, None
            tp = field.annotation
        elif typing.get_origin(tp) is list:
            tp = typing.get_args(tp)[0]
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        else:
            return None, None
    return _unwrap(tp), field


def _fields_at(loc) -> list[str]:
    tp, _ = _walk(loc)
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _description(loc) -> str:
    _, field = _walk(loc)
    text = field.description if field is not None else None
    inner = bool(loc) and isinstance(loc[-1], int)
    return ("each entry of " if inner else "") + (text or "a value of the documented type")


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
    part is turned into the field path ``collectives[i].<field>``.
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
        raise ScenarioError(source, [(path, message, "")]) from None


def _bundled_hint() -> str:
    names = ", ".join(bundled_scenarios())
    return f"check the path; bundled scenarios: {names} (see `aca-games scenarios`)"
