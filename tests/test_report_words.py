"""The run report for people: a legend for every column, blanks and n/a explained, the price of
anarchy shown and recomputed here by brute force over the payoff table."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from aca_games.app.cli import REPORT_COLUMNS, app
from aca_games.app.game_report import default_game
from aca_games.app.legend import LEGEND, legend_table
from aca_games.app.scenario import default_scenario_path, load_scenario


@pytest.fixture(scope="module")
def runner():
    return CliRunner(env={"ACA_GAMES_JAX_CACHE": "off", "COLUMNS": "200"})


@pytest.fixture(scope="module")
def report(runner):
    result = runner.invoke(app, ["run", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_every_column_has_a_legend_in_the_json(report):
    assert set(report["methods"]) == set(REPORT_COLUMNS)  # the bundled scenario has N: finite sample
    for key, entry in report["methods"].items():
        assert entry["name"] == LEGEND[key][0]
        assert all(len(entry[f]) > 20 for f in ("what", "assumes", "tight")), key


def test_price_of_anarchy_equals_brute_force(report):
    game = default_game(load_scenario(default_scenario_path()))
    tensor = np.asarray(game.payoff_tensor())
    welfare = tensor.sum(axis=0)
    names = [p.option_names for p in game.players]
    equilibria = [
        profile for profile in itertools.product(*(range(m) for m in tensor.shape[1:]))
        if all(tensor[(i, *profile)] >= tensor[(i, *profile[:i], slice(None), *profile[i + 1:])].max() - 1e-9
               for i in range(len(profile)))
    ]
    assert sorted([names[i][a] for i, a in enumerate(e)] for e in equilibria) == sorted(
        e["profile"] for e in report["game"]["pure_equilibria"]
    )
    worst = min(welfare[e] for e in equilibria)
    poa = report["game"]["price_of_anarchy"]
    assert poa["optimum"] == pytest.approx(welfare.max(), abs=1e-6)
    assert poa["worst_equilibrium"] == pytest.approx(worst, abs=1e-6)
    assert poa["price_of_anarchy"] == pytest.approx(welfare.max() / worst, abs=1e-6)


def test_the_table_report_explains_itself(runner):
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for phrase in ("What the columns mean", "blank: never at this point", "blank: no effect",
                   "n/a: the bound does not cover", "Price of anarchy", "Riverside tenants: signal"):
        assert phrase in text, phrase
    shown = legend_table(REPORT_COLUMNS).columns[0]._cells
    assert shown == [LEGEND[k][0] for k in REPORT_COLUMNS]
