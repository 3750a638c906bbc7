"""The schema of scenario files (versions 1 and 2) and pydantic errors turned into ``(path, problem, fix)``.

The models check types and ranges only; :mod:`aca_games.app._scenario_checks` and
:mod:`aca_games.app._scenario_menus` check what a schema cannot (table shapes, names that must
exist, consistency between fields). Every model forbids unknown keys, so a misspelt key is reported
with the closest valid one; a key that belongs to the other format version gets a hint saying so.
"""

from __future__ import annotations

import difflib
import math
import types
import typing
from collections.abc import Sequence
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from aca_games.app._scenario_checks import field_path
from aca_games.collective import NOISE_MODES, STRATEGIES
from aca_games.learner import READINGS

Mass = Annotated[float, Field(ge=0.0, le=1.0)]
Table = list[list[Mass]]
#: A size range is sampled at ``steps`` evenly spaced sizes, at most this many.
MAX_STEPS = 101
#: The belief kinds of a version-2 file (see :class:`aca_games.Beliefs`).
BELIEF_KINDS = ("intervals", "total_mass", "aggregate_conflict", "prior", "product_prior")
#: The payoff bounds a version-2 file may choose (:data:`aca_games.game.GAME_BOUNDS` without the
#: smooth surrogate, which is not a guarantee).
PAYOFFS = ("exact", "per_point", "closed_form")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


def _one_label(value):
    return [value] if isinstance(value, str) else value


# -- the world (both versions) --------------------------------------------------------------------
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


# -- the platform and the questions ---------------------------------------------------------------
class _PlatformSpec(_Spec):
    eps: float = Field(0.0, ge=0.0, description="the learner's suboptimality ε >= 0, e.g. 0.0")
    reading: str = Field("huber", description=f"one of {list(READINGS)}")
    N: int | None = Field(None, ge=2, description="the number of platform users, an integer such as 100_000")
    n_test: int | None = Field(None, ge=1, description="the number of test points, an integer")
    delta: float | None = Field(
        None, gt=0.0, lt=1.0, description="the failure probability δ in (0, 1), e.g. 0.05"
    )


_TARGET = Field(0.9, gt=0.0, le=1.0, description="the success target S* in (0, 1], e.g. 0.9")


class Analysis(_PlatformSpec):
    """What to compute: the learner, the success target and the optional finite-sample setting.

    ``N`` switches on the finite-sample bound; ``n_test`` and ``delta`` then default to 2000 and
    0.05 (setting them without ``N`` is an error, so nothing is silently ignored). A version-1 file
    gives all of them in ``[analysis]``; a version-2 file gives the platform's (``eps``,
    ``reading``, ``N``, ``n_test``, ``delta``) in ``[platform]`` and ``target_success`` in
    ``[analysis]``.
    """

    target_success: float = _TARGET


class _AnalysisV2Spec(_Spec):
    target_success: float = _TARGET
    payoff: str = Field("exact", description=f"the success measure in payoffs, one of {list(PAYOFFS)}")


# -- collectives, version 1 -----------------------------------------------------------------------
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

    _target = field_validator("target", mode="before")(_one_label)


class _ScenarioSpec(_Spec):
    version: int | None = Field(None, description="the format version: 1 (the default) or 2")
    name: str | None = Field(None, description="a display name for the scenario")
    description: str = Field("", description="a free-text description")
    world: _WorldSpec = Field(description="a [world] table")
    collectives: list[_CollectiveSpec] = Field(min_length=1, description="at least one [[collectives]] block")
    analysis: Analysis = Field(default_factory=Analysis, description="an [analysis] table")


# -- collectives, version 2: menus, values, costs and beliefs -------------------------------------
def _size(value):
    """A size ``α ∈ [0, 1)`` or a range ``[lo, hi]`` with ``0 <= lo < hi < 1`` (-> a tuple)."""
    if isinstance(value, list):
        if len(value) != 2 or not all(_is_number(x) for x in value):
            raise ValueError("a size range is two numbers [lo, hi]")
        lo, hi = (float(x) for x in value)
        if not 0.0 <= lo < hi < 1.0:
            raise ValueError("a size range [lo, hi] needs 0 <= lo < hi < 1")
        return lo, hi
    if not _is_number(value):
        raise ValueError("a size is a finite number or a range [lo, hi]")
    if not 0.0 <= float(value) < 1.0:
        raise ValueError("a size must lie in [0, 1)")
    return float(value)


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


class _OptionFields(_Spec):
    """What an option sets; on a collective these are the defaults of its menu options."""

    signal: str | None = Field(None, description="the name of a signal in [world.signals]")
    target: list[str] | None = Field(None, description='target label names, e.g. ["cooling"]')
    label: str | None = Field(None, description="the planted label, one of `target`")
    strategy: str | None = Field(None, description=f"one of {list(STRATEGIES)}")
    variant: str | None = Field(None, description="feature_only only: 'hardt' or 'gbj'")
    noise: float | None = Field(None, ge=0.0, le=1.0, description="the deviating fraction σ in [0, 1]")
    noise_mode: str | None = Field(None, description=f"one of {list(NOISE_MODES)}")
    misfire_label: str | None = Field(None, description="the wrong label planted under misfire")
    size: float | tuple[float, float] | None = Field(
        None, description="a population share in [0, 1) such as 0.05, or a range [lo, hi] to choose from"
    )
    steps: int | None = Field(
        None, ge=2, le=MAX_STEPS, description=f"how many sizes of a range to compare, 2..{MAX_STEPS}"
    )
    cost: float | None = Field(
        None, description="the cost of choosing the option, in payoff units, e.g. 0.01"
    )

    _target = field_validator("target", mode="before")(_one_label)
    _size = field_validator("size", mode="before")(_size)


class _OptionSpec(_OptionFields):
    name: str = Field(min_length=1, description='the option\'s name, e.g. "tag"')


class _OtherSpec(_Spec):
    name: str = Field(min_length=1, description="the name of another collective of the file")
    size: list[float] | None = Field(
        None, description="its size interval [lo, hi] (a uniform prior under product_prior)"
    )
    sizes: list[float] | None = Field(
        None, description="product_prior: the possible sizes, e.g. [0.02, 0.04]"
    )
    size_probabilities: list[float] | None = Field(
        None, description="product_prior: one probability per entry of `sizes`, summing to 1"
    )
    options: list[str] | None = Field(
        None, description="names of its menu options it may play (default: its whole menu)"
    )
    weights: list[float] | None = Field(
        None, description="product_prior: one probability per entry of `options` (default uniform)"
    )


class _PriorScenarioSpec(_Spec):
    probability: float = Field(ge=0.0, le=1.0, description="the probability of this scenario, in [0, 1]")
    play: dict[str, str] = Field(
        default_factory=dict, description='other collective -> its option, e.g. {"Shops" = "log"}'
    )
    sizes: dict[str, float] = Field(
        default_factory=dict, description="other collective -> its size (default: the option's size)"
    )


class _BeliefsSpec(_Spec):
    kind: str = Field(description=f"one of {list(BELIEF_KINDS)}")
    others: list[_OtherSpec] | None = Field(
        None, description="one [[...beliefs.others]] block per other collective (intervals, product_prior)"
    )
    total: list[float] | None = Field(
        None, description="the others' total size [lo, hi] (total_mass, aggregate_conflict)"
    )
    conflict: float | None = Field(
        None, ge=0.0, description="aggregate_conflict: the published bound R >= 0 on Σ_j α_j ρ_ij"
    )
    scenarios: list[_PriorScenarioSpec] | None = Field(
        None, description="prior: one [[...beliefs.scenarios]] block per scenario"
    )


class _CollectiveV2Spec(_OptionFields):
    name: str = Field(min_length=1, description="a unique display name")
    value: float = Field(1.0, ge=0.0, description="v_i >= 0, what full success is worth, e.g. 1.0")
    size_cost: float = Field(0.0, description="k_i, the cost per unit of size, e.g. 0.5")
    play: str | None = Field(
        None, description="the name of the option the collective plays now (default: its first option)"
    )
    menu: list[_OptionSpec] | None = Field(
        None, min_length=1, description="one [[collectives.menu]] block per option"
    )
    beliefs: _BeliefsSpec | None = Field(None, description="a [collectives.beliefs] table")


class _ScenarioV2Spec(_Spec):
    version: int = Field(description="the format version, 2")
    name: str | None = Field(None, description="a display name for the scenario")
    description: str = Field("", description="a free-text description")
    world: _WorldSpec = Field(description="a [world] table")
    platform: _PlatformSpec = Field(default_factory=_PlatformSpec, description="a [platform] table")
    analysis: _AnalysisV2Spec = Field(default_factory=_AnalysisV2Spec, description="an [analysis] table")
    collectives: list[_CollectiveV2Spec] = Field(
        min_length=1, description="at least one [[collectives]] block"
    )


_V2 = "add version = 2 at the top of the file to use it (see the README's scenario section)"
_TO_PLATFORM = "version 2 keeps the learner in [platform]: move it there"
#: Keys that belong to the other version: (model, key) -> the fix.
_MOVED = {
    _ScenarioSpec: {"platform": _V2},
    _CollectiveSpec: dict.fromkeys(("value", "size_cost", "play", "menu", "beliefs", "cost", "steps"), _V2),
    Analysis: {"payoff": _V2},
    _AnalysisV2Spec: dict.fromkeys(("eps", "reading", "N", "n_test", "delta"), _TO_PLATFORM),
}


def validate(root: type[_Spec], data) -> tuple[_Spec | None, list[tuple[str, str, str]]]:
    """``(spec, [])`` for valid data, else ``(None, issues)``."""
    try:
        return root.model_validate(data), []
    except ValidationError as err:
        return None, _issues(root, err)
    except RecursionError:
        return None, [("", "nested too deeply", "")]


# -- pydantic errors -> (path, problem, fix) -------------------------------------------------------
def _issues(root, err: ValidationError) -> list[tuple[str, str, str]]:
    """One issue per pydantic error, except that a missing key is not reported again when an
    unknown key at the same place is a misspelling of it (``sise`` -> ``size``)."""
    errors = err.errors()
    misspelt = {
        (tuple(e["loc"][:-1]), _closest(str(e["loc"][-1]), _fields_at(root, e["loc"][:-1])))
        for e in errors
        if e["type"] == "extra_forbidden"
    }
    return [
        _issue(root, e)
        for e in errors
        if not (e["type"] == "missing" and (tuple(e["loc"][:-1]), e["loc"][-1]) in misspelt)
    ]


def _closest(key: str, known: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
    return close[0] if close else None


def _issue(root, err) -> tuple[str, str, str]:
    loc, kind = tuple(err["loc"]), err["type"]
    path = field_path(loc)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        parent, _ = _walk(root, loc[:-1])
        moved = _MOVED.get(parent, {}).get(key)
        if moved:
            return path, f"unknown key {key!r}", moved
        known = _fields_at(root, loc[:-1])
        close = _closest(key, known)
        fix = f"did you mean {close!r}?" if close else "remove it"
        return path, f"unknown key {key!r}", f"{fix} (valid keys: {', '.join(known)})"
    description = _description(root, loc)
    if kind == "missing":
        table = _fields_at(root, loc) or _fields_at(root, (*loc, 0))  # a [table] or [[array of tables]]
        fix = f"add {description}" if table else f"add {loc[-1]} = ... ({description})"
        return path, "missing required key", fix
    shown = _short(err.get("input"))
    message = err["msg"].removeprefix("Value error, ").rstrip(".")
    return path, f"{message} (got {shown})", f"expected {description}"


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


def _walk(root, loc):
    """The model class (or field) a location points into; ``None`` if it leaves the schema."""
    tp, field = root, None
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return None, None
            tp = field.annotation
        elif typing.get_origin(tp) in (list, tuple):
            tp = typing.get_args(tp)[0]
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        else:
            return None, None
    return _unwrap(tp), field


def _fields_at(root, loc) -> list[str]:
    tp, _ = _walk(root, loc)
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _description(root, loc) -> str:
    _, field = _walk(root, loc)
    text = field.description if field is not None else None
    inner = bool(loc) and isinstance(loc[-1], int)
    return ("each entry of " if inner else "") + (text or "a value of the documented type")


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
