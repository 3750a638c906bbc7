"""Scenario files: bundled ones load, every class of bad input gives a ScenarioError that names the
file, the field and the fix, and no input (fuzzed) raises anything else."""

from __future__ import annotations

import json
import math
import tomllib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aca_games import ACAInputError, World
from aca_games.app.scenario import (
    Scenario,
    ScenarioError,
    bundled_scenarios,
    default_scenario_path,
    load_scenario,
    scenario_from_dict,
)

DEFAULT = default_scenario_path()
GOOD = DEFAULT.read_text(encoding="utf-8")


# -- a tiny TOML writer (inline syntax only), enough for fuzzing --------------------------------
def _toml_string(s: str) -> str:
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_value(x) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return "nan" if math.isnan(x) else repr(x)  # repr gives inf / -inf / 1e-05 ...
    if isinstance(x, str):
        return _toml_string(x)
    if isinstance(x, list):
        return "[" + ", ".join(_toml_value(v) for v in x) + "]"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{_toml_string(k)} = {_toml_value(v)}" for k, v in x.items()) + "}"
    raise TypeError(type(x))


def dumps(doc: dict) -> str:
    return "".join(f"{_toml_string(k)} = {_toml_value(v)}\n" for k, v in doc.items())


def write(tmp_path, text: str, name: str = "scenario.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- good input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(bundled_scenarios()))
def test_bundled_scenarios_load(name):
    s = load_scenario(bundled_scenarios()[name])
    assert isinstance(s, Scenario)
    assert len(s.collectives) >= 2
    assert 0 < s.analysis.target_success <= 1
    assert sum(c.size for c in s.collectives) < 1
    for g in s.world.signals:
        assert float(s.world.landing_table(g).sum()) == pytest.approx(1.0, abs=1e-12)
    assert float(s.world.base.sum()) <= 1.0


def test_default_scenario_is_smart_city():
    assert DEFAULT.name == "smart_city.toml" and DEFAULT.is_file()
    s = load_scenario(DEFAULT)
    assert [c.name for c in s.collectives] == [
        "Riverside tenants",
        "Hillside seniors",
        "Market street shops",
    ]
    assert s.analysis.N == 1_000_000 and s.analysis.reading == "huber"


def test_analysis_defaults(tmp_path):
    text = GOOD.split("[analysis]")[0]
    a = load_scenario(write(tmp_path, text)).analysis
    assert (a.eps, a.reading, a.target_success, a.N, a.n_test, a.delta) == (
        0.0,
        "huber",
        0.9,
        None,
        None,
        None,
    )
    a = load_scenario(write(tmp_path, text + "[analysis]\nN = 5000\n")).analysis
    assert (a.N, a.n_test, a.delta) == (5000, 2000, 0.05)


def test_full_table_world_matches_from_table(tmp_path):
    text = """
name = "table"
[world]
labels = ["no", "yes"]
table = [[0.3, 0.1], [0.2, 0.1], [0.1, 0.2]]
feature_names = ["a", "b", "c"]
[world.signals.g]
map = [2, 2, 2]
[[collectives]]
name = "c"
size = 0.3
signal = "g"
target = "yes"
"""
    s = load_scenario(write(tmp_path, text))
    ref = World.from_table(
        [[0.3, 0.1], [0.2, 0.1], [0.1, 0.2]],
        {"g": [2, 2, 2]},
        labels=["no", "yes"],
        feature_names=["a", "b", "c"],
    )
    assert s.world.points == ref.points == ("c",)
    np.testing.assert_allclose(s.world.landing_table("g"), ref.landing_table("g"))
    assert s.collectives[0].target == ("yes",) and s.collectives[0].label == "yes"


# -- bad input: (mutation of the default file, field path in the message, other text) -----------
def _replace(old: str, new: str, count: int = 1):
    def mutate(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, count)

    return mutate


BAD = {
    "unknown key": (_replace("size = 0.035", "sise = 0.035"), "collectives[1].sise", "did you mean 'size'"),
    "unknown table": (_replace("[analysis]", "[analisys]"), "analisys", "did you mean 'analysis'"),
    "unknown signal key": (
        _replace("[world.signals.checkin_form]\nlanding", "[world.signals.checkin_form]\nlandng"),
        "world.signals.checkin_form.landng",
        "did you mean 'landing'",
    ),
    "missing field": (
        _replace('signal = "checkin_form"\n', ""),
        "collectives[1].signal",
        "missing required key",
    ),
    "missing world": (lambda t: t.replace("[world]", "[world_]"), "world.labels", "missing"),
    "size out of range": (_replace("size = 0.035", "size = 1.5"), "collectives[1].size", "[0, 1)"),
    "negative size": (_replace("size = 0.035", "size = -0.1"), "collectives[1].size", "[0, 1)"),
    "size not a number": (_replace("size = 0.035", 'size = "big"'), "collectives[1].size", "valid number"),
    "size nan": (_replace("size = 0.035", "size = nan"), "collectives[1].size", "finite"),
    "sizes sum to one": (_replace("size = 0.06", "size = 0.96"), "collectives[*].size", "sum"),
    "landing not summing to 1": (
        _replace("[0.2500, 0.2000, 0.1000]", "[0.2500, 0.2000, 0.2000]"),
        "world.signals.stillair_tag.landing",
        "normalise",
    ),
    "landing entry above 1": (
        _replace("[0.2500, 0.2000, 0.1000]", "[1.2500, 0.2000, 0.1000]"),
        "world.signals.stillair_tag.landing[0][0]",
        "less than or equal",
    ),
    "landing row too short": (
        _replace("[0.2500, 0.2000, 0.1000]", "[0.2500, 0.2000]"),
        "world.signals.stillair_tag.landing[0]",
        "expected 3",
    ),
    "landing label totals differ": (
        _replace("[0.1000, 0.0500, 0.0500],  # heat check-in form, has a carer",
                 "[0.0500, 0.1000, 0.0500],  # heat check-in form, has a carer"),
        "world",
        "landing['checkin_form']: label 'routine' has total landing mass 0.4, but "
        "landing['stillair_tag'] gives it 0.45",
    ),
    "base above 1": (_replace("[0.0175, 0.0070, 0.0040]", "[0.9175, 0.0070, 0.0040]"), "world.base", "> 1"),
    "unknown signal name": (
        _replace('signal = "checkin_form"', 'signal = "checkin"'),
        "collectives[1].signal",
        "did you mean 'checkin_form'",
    ),
    "label not in target": (
        _replace('label = "cooling"', 'label = "routine"'),
        "collectives[0].label",
        "not in target",
    ),
    "unknown target label": (
        _replace('target = ["cooling"]', 'target = ["coolng"]'),
        "collectives[0].target[0]",
        "did you mean 'cooling'",
    ),
    "empty target": (
        _replace('target = ["cooling"]\nlabel = "cooling"\n', "target = []\n"),
        "collectives[0].target",
        "empty",
    ),
    "unknown strategy": (
        _replace('strategy = "feature_label"', 'strategy = "feature-label"'),
        "collectives[0].strategy",
        "did you mean 'feature_label'",
    ),
    "label with unplant": (
        _replace('strategy = "feature_label"', 'strategy = "unplant"'),
        "collectives[0].label",
        "leave label unset",
    ),
    "duplicate names": (
        _replace('name = "Hillside seniors"', 'name = "Riverside tenants"'),
        "collectives[*].name",
        "duplicate",
    ),
    "eps too large": (_replace("\neps = 0.001", "\neps = 2"), "analysis.eps", "eps"),
    "N not an integer": (_replace("N = 1_000_000", "N = 1e6"), "analysis.N", "integer"),
    "delta without N": (_replace("N = 1_000_000", "# N"), "analysis.delta", "add N"),
    "malformed TOML": (_replace('name = "Hillside seniors"', "name = Hillside seniors"), "TOML", "line"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_names_file_field_and_fix(tmp_path, case):
    mutate, field, hint = BAD[case]
    path = write(tmp_path, mutate(GOOD), "broken_city.toml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message
    assert f"{field}:" in message, message
    assert hint in message, message
    assert isinstance(info.value, ACAInputError) and isinstance(info.value, ValueError)
    assert info.value.issues and info.value.source == str(path)


def test_unknown_key_lists_valid_keys(tmp_path):
    path = write(tmp_path, GOOD.replace("size = 0.035", "sise = 0.035"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    # the misspelt key is the one problem: no separate "size is missing"
    assert len(info.value.issues) == 1
    assert "valid keys: name, size, signal" in str(info.value)


def test_several_problems_are_reported_together(tmp_path):
    text = GOOD.replace("size = 0.035", "size = 1.5").replace("\neps = ", "\nepsilon = ")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    paths = [p for p, _, _ in info.value.issues]
    assert "collectives[1].size" in paths and "analysis.epsilon" in paths


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe not utf-8", b"", b"[[collectives]]\nname = 1\n", b"world = 3\n"],
    ids=["binary", "empty", "wrong type", "world not a table"],
)
def test_unreadable_or_wrong_documents(tmp_path, content):
    path = tmp_path / "x.toml"
    path.write_bytes(content)
    with pytest.raises(ScenarioError, match="x.toml"):
        load_scenario(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ScenarioError, match="not found.*bundled scenarios"):
        load_scenario(tmp_path / "nope.toml")
    with pytest.raises(ScenarioError, match="directory"):
        load_scenario(tmp_path)


# -- fuzzing: only ScenarioError, never anything else -------------------------------------------
SCALARS = (
    st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
    | st.sampled_from(
        [
            "cooling",
            "routine",
            "drop",
            "huber",
            "tv",
            "feature_only",
            "erase",
            "unplant",
            "misfire",
            "scatter",
            "gbj",
            "stillair_tag",
            "",
        ]
    )
)
KEYS = st.sampled_from(
    [
        "name",
        "size",
        "signal",
        "target",
        "label",
        "strategy",
        "noise",
        "world",
        "labels",
        "points",
        "base",
        "signals",
        "landing",
        "map",
        "table",
        "collectives",
        "analysis",
        "eps",
        "N",
        "x",
    ]
) | st.text(max_size=6)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=20,
)
FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


def _load_or_scenario_error(path):
    try:
        return load_scenario(path)
    except ScenarioError as err:
        assert str(path) in str(err)
        return None


@FUZZ
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_fuzz_random_documents(tmp_path, doc):
    _load_or_scenario_error(write(tmp_path, dumps(doc)))


def _paths(node, prefix=()):
    """Every location in a parsed document (dict keys and list indices)."""
    yield prefix
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield from _paths(child, (*prefix, key))


def mutated(data, text: str, keys=KEYS, values=VALUES) -> dict:
    """The parsed ``text`` with one to three values replaced, deleted or added anywhere."""
    doc = tomllib.loads(text)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        where = data.draw(st.sampled_from(paths))
        parent = doc
        for key in where[:-1]:
            parent = parent[key]
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[where[-1]] = data.draw(values)
        elif action == "delete":
            del parent[where[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(keys)] = data.draw(values)
        else:
            parent.append(data.draw(values))
    return doc


@FUZZ
@given(st.data())
def test_fuzz_mutated_default_scenario(tmp_path, data):
    """Replace, delete or add one value anywhere in the default scenario."""
    _load_or_scenario_error(write(tmp_path, dumps(mutated(data, GOOD))))


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200).map(lambda s: s.encode("utf-8", "replace")))
def test_fuzz_garbage_bytes(tmp_path, content):
    path = tmp_path / "garbage.toml"
    path.write_bytes(content)
    _load_or_scenario_error(path)


def test_writer_round_trips_the_default_scenario():
    doc = tomllib.loads(GOOD)
    assert tomllib.loads(dumps(doc)) == doc
    s = scenario_from_dict(doc)
    assert len(s.collectives) == 3 and s.source == "<dict>"
