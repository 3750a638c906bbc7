"""Scenario format version 2: menus, values, costs and beliefs map onto ACAGame/Player/Beliefs;
every malformed file gives a ScenarioError naming the file, the field path and the fix (exit code 2
from the CLI); version-1 files load as before; a fuzz of the loader raises nothing else."""

from __future__ import annotations

import re
import tomllib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_scenario import FUZZ, KEYS, VALUES, _load_or_scenario_error, dumps, mutated, write
from typer.testing import CliRunner

from aca_games import ACAInputError, Beliefs, Collective
from aca_games.app.cli import app
from aca_games.app.scenario import (
    ScenarioError,
    bundled_scenarios,
    default_scenario_path,
    load_scenario,
    scenario_from_dict,
    with_settings,
)

V2 = bundled_scenarios()["smart_city_v2"]
GOOD = V2.read_text(encoding="utf-8")
RIVERSIDE, HILLSIDE, SHOPS = "Riverside tenants", "Hillside seniors", "Market street shops"


def test_menus_map_onto_players():
    s = load_scenario(V2)
    assert s.version == 2 and s.payoff == "exact"
    riverside, hillside, shops = s.players
    assert [p.name for p in s.players] == [RIVERSIDE, HILLSIDE, SHOPS]
    # a range [0.02, 0.10] with steps = 5: five options, ends included, named "<option> @<size>"
    sizes = np.linspace(0.02, 0.10, 5)
    assert riverside.option_names == ("tag", *(f"recruit @{x:g}" for x in sizes), "abstain")
    np.testing.assert_allclose([o.size for o in riverside.options], [0.06, *sizes, 0.0])
    assert riverside.costs == (0.0, 0.01, 0.01, 0.01, 0.01, 0.01, 0.0)
    assert (riverside.value, riverside.size_cost) == (1.0, 0.5)
    # collective-level fields are the options' defaults; an option overrides them
    assert all(o.signal == "checkin_form" and o.target == ("cooling",) for o in hillside.options)
    assert [o.signal for o in shops.options] == ["shopfront_log", "stillair_tag", "shopfront_log"]
    assert [o.size for o in shops.options] == [0.01, 0.01, 0.0]
    assert all(o.name == p.name for p in s.players for o in p.options)
    # `play` picks the configured option; the scenario's collectives are those options
    assert s.configured == (0, 0, 0)
    assert s.collectives == tuple(p.options[0] for p in s.players)
    # [platform] and [analysis] merge into the analysis settings
    a = s.analysis
    assert (a.eps, a.reading, a.N, a.n_test, a.delta, a.target_success) == (
        0.001,
        "huber",
        1_000_000,
        5000,
        0.05,
        0.9,
    )


def _menus(s):
    return {p.name: dict(zip(p.option_names, p.options, strict=True)) for p in s.players}


def _unsized(beliefs):
    """Interval and product beliefs ignore the sizes of menu options: compare the rest."""
    return [
        (o.name, o.lo, o.hi, o.weights, o.sizes, o.size_weights, [c.with_size(0.0) for c in o.menu])
        for o in beliefs.others
    ]


def test_beliefs_map_onto_beliefs():
    s = load_scenario(V2)
    menu = _menus(s)
    expected = Beliefs.intervals(
        {HILLSIDE: (0.02, 0.05), SHOPS: (0.0, 0.02)},
        {
            HILLSIDE: [menu[HILLSIDE][n] for n in ("form", "form, more members", "abstain")],
            SHOPS: [menu[SHOPS]["log"], menu[SHOPS]["tag"]],
        },
    )
    assert s.beliefs[RIVERSIDE].kind == "intervals"
    assert _unsized(s.beliefs[RIVERSIDE]) == _unsized(expected)
    assert s.beliefs[HILLSIDE] == Beliefs.aggregate_conflict(0.0, 0.12, 0.0)
    tag, abstain, form = menu[RIVERSIDE]["tag"], menu[RIVERSIDE]["abstain"], menu[HILLSIDE]["form"]
    assert s.beliefs[SHOPS] == Beliefs.prior([(0.7, [tag, form]), (0.3, [abstain, form])])


def test_product_prior_total_mass_and_prior_sizes():
    doc = tomllib.loads(GOOD)
    doc["collectives"][0]["beliefs"] = {
        "kind": "product_prior",
        "others": [
            {
                "name": HILLSIDE,
                "sizes": [0.02, 0.04],
                "size_probabilities": [0.25, 0.75],
                "options": ["form", "abstain"],
                "weights": [0.9, 0.1],
            },
            {"name": SHOPS, "size": [0.0, 0.02]},
        ],
    }
    doc["collectives"][1]["beliefs"] = {"kind": "total_mass", "total": [0.0, 0.05]}
    doc["collectives"][2]["beliefs"]["scenarios"][0]["play"][RIVERSIDE] = "recruit"
    doc["collectives"][2]["beliefs"]["scenarios"][0]["sizes"] = {RIVERSIDE: 0.03}
    s = scenario_from_dict(doc)
    menu = _menus(s)
    expected = Beliefs.product_prior(
        {HILLSIDE: {0.02: 0.25, 0.04: 0.75}, SHOPS: (0.0, 0.02)},
        {
            HILLSIDE: [menu[HILLSIDE]["form"], menu[HILLSIDE]["abstain"]],
            SHOPS: [menu[SHOPS][n] for n in ("log", "tag", "abstain")],
        },
        {HILLSIDE: [0.9, 0.1]},
    )
    assert s.beliefs[RIVERSIDE].kind == "product"
    assert _unsized(s.beliefs[RIVERSIDE]) == _unsized(expected)
    assert s.beliefs[HILLSIDE] == Beliefs.total_mass(0.0, 0.05)
    first = s.beliefs[SHOPS].scenario_list[0].collectives[0]
    assert (first.name, first.signal, first.size) == (RIVERSIDE, "stillair_tag", 0.03)


@pytest.mark.parametrize(
    ("other", "field", "hint"),
    [
        ({"size": [0.0, 0.02], "weights": [0.5, 0.5]}, "others[0].weights", "2 weights for 3 options"),
        ({"size": [0.0, 0.02], "weights": [0.5, 0.6, -0.1]}, "others[0].weights", "sum to"),
        (
            {"sizes": [0.01, 0.02], "size_probabilities": [1.0]},
            "others[0].size_probabilities",
            "one probability",
        ),
        ({"sizes": [0.01, 0.01], "size_probabilities": [0.5, 0.5]}, "others[0].sizes", "duplicate"),
        (
            {"size": [0.0, 0.02], "sizes": [0.01], "size_probabilities": [1.0]},
            "others[0].size",
            "exactly one",
        ),
    ],
)
def test_bad_product_priors(other, field, hint):
    doc = tomllib.loads(GOOD)
    doc["collectives"][0]["beliefs"] = {"kind": "product_prior", "others": [{"name": SHOPS} | other]}
    with pytest.raises(ScenarioError, match=re.escape(f"collectives[0].beliefs.{field}: ") + ".*" + hint):
        scenario_from_dict(doc)


def test_a_collective_without_menu_is_one_option():
    doc = tomllib.loads(GOOD)
    doc["collectives"][1] = {"name": HILLSIDE, "signal": "checkin_form", "target": "cooling", "size": 0.035}
    for scenario in doc["collectives"][2]["beliefs"]["scenarios"]:
        scenario["play"][HILLSIDE] = "checkin_form"
    s = scenario_from_dict(doc)
    assert s.players[1].option_names == ("checkin_form",)
    assert s.collectives[1] == Collective(HILLSIDE, 0.035, "checkin_form", target="cooling")
    assert s.players[1].value == 1.0 and s.players[1].size_cost == 0.0 and s.players[1].costs == (0.0,)


def test_version_1_files_load_unchanged_and_equal_their_version_2_translation():
    """A v1 file and the same content in v2 (learner in [platform], no menus) give the same model."""
    v1 = tomllib.loads(default_scenario_path().read_text(encoding="utf-8"))
    s1 = scenario_from_dict(v1)
    assert s1.version == 1 and s1.players == () and s1.beliefs == {}
    analysis = dict(v1["analysis"])
    v2 = dict(v1) | {
        "version": 2,
        "platform": {k: analysis.pop(k) for k in ("eps", "reading", "N", "n_test", "delta")},
        "analysis": analysis,
    }
    s2 = scenario_from_dict(v2)
    assert s2.collectives == s1.collectives and s2.analysis == s1.analysis
    np.testing.assert_array_equal(s2.world.base, s1.world.base)
    assert [p.options for p in s2.players] == [(c,) for c in s1.collectives]
    assert scenario_from_dict(v1 | {"version": 1}).collectives == s1.collectives


def test_with_settings_overrides_and_names_the_option():
    s = load_scenario(V2)
    t = with_settings(s, eps=0.01, reading="tv", target_success=0.5)
    assert (t.analysis.eps, t.analysis.reading, t.analysis.target_success) == (0.01, "tv", 0.5)
    assert t.players == s.players and with_settings(s) is s
    for kwargs, message in [
        ({"eps": -1.0}, "--eps"),
        ({"eps": 0.6, "reading": "tv"}, "--eps"),
        ({"reading": "huberr"}, "--reading.*did you mean 'huber'"),
        ({"target_success": 1.5}, "--target"),
    ]:
        with pytest.raises(ACAInputError, match=message):
            with_settings(s, **kwargs)


# -- bad input: (mutation of the v2 example, field path in the message, other text) -----------------
def _replace(old: str, new: str, count: int = 1):
    def mutate(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, count)

    return mutate


TAG = 'name = "tag"\nsignal = "stillair_tag"\nsize = 0.06\n'
BAD = {
    "unknown option key": (
        _replace(TAG, TAG.replace("size", "sise")),
        "collectives[0].menu[0].sise",
        "did you mean 'size'",
    ),
    "unknown option signal": (
        _replace(TAG, TAG.replace('"stillair_tag"', '"stillair"')),
        "collectives[0].menu[0].signal",
        "did you mean 'stillair_tag'",
    ),
    "unknown default label": (
        _replace('target = ["cooling"]     # shared', 'target = ["coolin"]     # shared'),
        "collectives[0].target[0]",
        "did you mean 'cooling'",
    ),
    "option size missing": (
        _replace('name = "form"\nsize = 0.035\n', 'name = "form"\n'),
        "collectives[1].menu[0].size",
        "missing required key",
    ),
    "empty range": (
        _replace("size = [0.02, 0.10]", "size = [0.10, 0.02]"),
        "collectives[0].menu[1].size",
        "lo < hi",
    ),
    "range not two numbers": (
        _replace("size = [0.02, 0.10]", "size = [0.02]"),
        "collectives[0].menu[1].size",
        "two numbers",
    ),
    "steps without a range": (
        _replace(TAG, TAG + "steps = 3\n"),
        "collectives[0].menu[0].steps",
        "only used with a size range",
    ),
    "too many steps": (
        _replace("steps = 5", "steps = 500"),
        "collectives[0].menu[1].steps",
        "less than or equal to 101",
    ),
    "unknown play": (_replace('play = "tag"', 'play = "tagg"'), "collectives[0].play", "did you mean 'tag'"),
    "duplicate option names": (
        _replace('name = "form, more members"', 'name = "form"'),
        "collectives[1].menu[*].name",
        "duplicate",
    ),
    "menus too large": (
        _replace("size = [0.02, 0.10]", "size = [0.02, 0.95]"),
        "collectives[*].size",
        "sum to",
    ),
    "negative value": (
        _replace("value = 1.0 ", "value = -1.0 "),
        "collectives[0].value",
        "greater than or equal to 0",
    ),
    "label outside target": (
        _replace(TAG, TAG + 'label = "routine"\n'),
        "collectives[0].menu[0].label",
        "not in target",
    ),
    "unknown belief kind": (
        _replace('kind = "intervals"', 'kind = "interval"'),
        "collectives[0].beliefs.kind",
        "did you mean 'intervals'",
    ),
    "unknown other": (
        _replace('name = "Hillside seniors"\nsize = [0.02', 'name = "Hilside seniors"\nsize = [0.02'),
        "collectives[0].beliefs.others[0].name",
        "did you mean 'Hillside seniors'",
    ),
    "beliefs about oneself": (
        _replace('name = "Hillside seniors"\nsize = [0.02', 'name = "Riverside tenants"\nsize = [0.02'),
        "collectives[0].beliefs.others[0].name",
        "the collective itself",
    ),
    "bad interval": (
        _replace("size = [0.02, 0.05]", "size = [0.05, 0.02]"),
        "collectives[0].beliefs.others[0].size",
        "interval",
    ),
    "interval without size": (
        _replace("size = [0.02, 0.05]\n", ""),
        "collectives[0].beliefs.others[0].size",
        "missing required key",
    ),
    "unknown other option": (
        _replace('options = ["log", "tag"]', 'options = ["log", "tagg"]'),
        "collectives[0].beliefs.others[1].options[1]",
        "did you mean 'tag'",
    ),
    "key of another kind": (
        _replace('kind = "intervals"\n', 'kind = "intervals"\nconflict = 0.1\n'),
        "collectives[0].beliefs.conflict",
        "not used by kind",
    ),
    "missing key of the kind": (
        _replace("total = [0.0, 0.12]\n", ""),
        "collectives[1].beliefs.total",
        "needs it",
    ),
    "unknown beliefs key": (
        _replace("conflict = 0.0", "conflit = 0.0"),
        "collectives[1].beliefs.conflit",
        "did you mean 'conflict'",
    ),
    "others too large with self": (
        _replace("total = [0.0, 0.12]", "total = [0.0, 0.97]"),
        "collectives[1].beliefs",
        "reaches 1; collectives are disjoint and must leave bystanders, so shrink the upper sizes",
    ),
    "prior not summing to 1": (
        _replace("probability = 0.3", "probability = 0.4"),
        "collectives[2].beliefs.scenarios[*].probability",
        "sum to 1.1",
    ),
    "weights not summing to 1": (
        _replace('options = ["log", "tag"]', 'options = ["log", "tag"]\nweights = [0.5, 0.6]'),
        "collectives[0].beliefs.others[1].weights",
        "not used by kind",
    ),
    "prior unknown option": (
        _replace('"Hillside seniors" = "form" }', '"Hillside seniors" = "forms" }'),
        "collectives[2].beliefs.scenarios[0].play.'Hillside seniors'",
        "did you mean 'form'",
    ),
    "prior range without size": (
        _replace('{ "Riverside tenants" = "tag"', '{ "Riverside tenants" = "recruit"'),
        "collectives[2].beliefs.scenarios[0].sizes.'Riverside tenants'",
        "size range",
    ),
    "learner in [analysis]": (
        _replace("[analysis]\n", "[analysis]\neps = 0.1\n"),
        "analysis.eps",
        "[platform]",
    ),
    "eps too large": (_replace("eps = 0.001", "eps = 2.0"), "platform.eps", "eps"),
    "unknown version": (_replace("version = 2", "version = 3"), "version", "unknown format version 3"),
}


#: Problems the model objects find (Beliefs); their messages state the fix in words.
MODEL_MESSAGES = {"others too large with self"}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_v2_input_names_file_field_and_fix(tmp_path, case):
    mutate, field, hint = BAD[case]
    path = write(tmp_path, mutate(GOOD), "broken_v2.toml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message
    assert f"{field}:" in message, message
    assert hint in message, message
    assert " -> fix: " in message or case in MODEL_MESSAGES, message


def test_v2_keys_in_a_version_1_file_point_to_version_2(tmp_path):
    text = (
        default_scenario_path()
        .read_text(encoding="utf-8")
        .replace('name = "Hillside seniors"', 'name = "Hillside seniors"\nvalue = 2.0', 1)
    )
    with pytest.raises(ScenarioError, match=r"collectives\[1\]\.value: unknown key .*add version = 2"):
        load_scenario(write(tmp_path, text))


@pytest.mark.parametrize("case", ["unknown other", "menus too large", "prior not summing to 1"])
def test_cli_validate_exits_2_on_bad_v2_files(tmp_path, case):
    mutate, field, _ = BAD[case]
    path = write(tmp_path, mutate(GOOD), "broken_v2.toml")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert field in result.stderr and "broken_v2.toml" in result.stderr
    assert "Traceback" not in result.output and result.stdout == ""


# -- fuzzing: only ScenarioError, never anything else -------------------------------------------
V2_KEYS = KEYS | st.sampled_from(
    [
        "version",
        "platform",
        "menu",
        "beliefs",
        "value",
        "size_cost",
        "play",
        "cost",
        "steps",
        "kind",
        "others",
        "total",
        "conflict",
        "scenarios",
        "probability",
        "options",
        "weights",
        "sizes",
        "size_probabilities",
        "payoff",
        "target_success",
    ]
)
V2_VALUES = VALUES | st.sampled_from(
    [
        2,
        1,
        "intervals",
        "prior",
        "product_prior",
        "total_mass",
        "aggregate_conflict",
        "tag",
        "form",
        "Hillside seniors",
        "Riverside tenants",
        [0.0, 0.1],
        [0.1, 0.0],
        [],
        {},
    ]
)


@FUZZ
@given(st.dictionaries(V2_KEYS, V2_VALUES, max_size=6).map(lambda d: d | {"version": 2}))
def test_fuzz_random_v2_documents(tmp_path, doc):
    _load_or_scenario_error(write(tmp_path, dumps(doc)))


@FUZZ
@given(st.data())
def test_fuzz_mutated_v2_scenario(tmp_path, data):
    """Replace, delete or add one value anywhere in the version-2 example."""
    _load_or_scenario_error(write(tmp_path, dumps(mutated(data, GOOD, V2_KEYS, V2_VALUES))))


def test_cli_validate_summarises_a_v2_file():
    result = CliRunner().invoke(app, ["validate", str(V2)])
    assert result.exit_code == 0, result.output
    options = sum(len(p.options) for p in load_scenario(V2).players)
    assert result.stdout.strip().endswith(f"3 collectives (version 2: {options} options, beliefs for 3)")
