"""The `aca-games` command: run, validate, scenarios; exit codes 0 / 2 (bad input) / 1 (bug)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from aca_games.app import report
from aca_games.app.cli import app
from aca_games.app.scenario import bundled_scenarios, default_scenario_path, load_scenario

ROW_KEYS = {
    "name",
    "size",
    "signal",
    "strategy",
    "noise",
    "success",
    "success_together",
    "meets_target",
    "bounds",
    "critical_mass",
    "notes",
}


@pytest.fixture
def runner():
    # keep the test process's JAX configuration untouched (no on-disk compilation cache)
    return CliRunner(env={"ACA_GAMES_JAX_CACHE": "off"})


def _names(path=None):
    return [c.name for c in load_scenario(path or default_scenario_path()).collectives]


def test_run_default_scenario(runner):
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 0, result.output
    assert "Smart city" in result.stdout
    for name in _names():
        assert name in result.stdout
    assert "α* exact" in result.stdout


def test_run_json_has_one_row_per_collective(runner):
    result = runner.invoke(app, ["run", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # nothing but JSON on stdout
    rows = doc["collectives"]
    assert [r["name"] for r in rows] == _names()
    for r in rows:
        assert set(r) == ROW_KEYS
        assert set(r["bounds"]) == {"closed_form", "staircase", "finite_sample"}
        assert set(r["critical_mass"]) == {"exact", "staircase", "closed_form"}
        # bounds never exceed the exact success (THEORY §3)
        assert all(b is None or b <= r["success"] + 1e-9 for b in r["bounds"].values())
    assert doc["analysis"]["target_success"] == 0.9


def test_run_bundled_name_without_finite_sample(runner):
    result = runner.invoke(app, ["run", "noisy_drivers", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["collectives"]
    assert [r["name"] for r in rows] == _names(bundled_scenarios()["noisy_drivers"])
    assert all(r["bounds"]["finite_sample"] is None for r in rows)


def test_run_out_writes_report(runner, tmp_path):
    out = tmp_path / "results" / "city"
    result = runner.invoke(app, ["run", str(default_scenario_path()), "--out", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert len(doc["collectives"]) == len(_names())
    assert "report.json" in result.stdout


def test_run_out_unwritable_exits_2_before_computing(runner, tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    monkeypatch.setattr(report, "single_collective_report", lambda s: pytest.fail("computed"))
    result = runner.invoke(app, ["run", "--out", str(blocker / "sub")])
    assert result.exit_code == 2
    assert "--out: cannot write" in result.stderr


def test_validate_ok(runner):
    result = runner.invoke(app, ["validate", str(default_scenario_path())])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ("ok: Smart city: cooling priority: 7 points, 3 labels, 3 collectives")


def test_validate_broken_file_exits_2_and_names_field(runner, tmp_path):
    broken = tmp_path / "broken.toml"
    text = default_scenario_path().read_text(encoding="utf-8")
    broken.write_text(text.replace("size = 0.035", "size = 1.5"), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(broken)])
    assert result.exit_code == 2
    assert "collectives[1].size" in result.stderr and "broken.toml" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


@pytest.mark.parametrize("command", [["run"], ["run", "--json"], ["validate"]])
def test_missing_file_exits_2(runner, tmp_path, command):
    result = runner.invoke(app, [*command, str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "not found" in result.stderr
    assert result.stdout == ""


def test_internal_error_exits_1(runner, monkeypatch):
    def broken(scenario):
        raise RuntimeError("boom")

    monkeypatch.setattr(report, "single_collective_report", broken)
    result = runner.invoke(app, ["run", "--json"])
    assert result.exit_code == 1
    assert "internal error: RuntimeError: boom" in result.stderr


def test_scenarios_lists_bundled(runner):
    result = runner.invoke(app, ["scenarios"])
    assert result.exit_code == 0, result.output
    for name in bundled_scenarios():
        assert name in result.stdout


def test_to_json_conventions():
    rows = [{"name": "a", "critical_mass": {"exact": float("inf")}, "x": 0.1234567891, "y": None}]
    assert json.loads(report.to_json(rows)) == [
        {"name": "a", "critical_mass": {"exact": "unreachable"}, "x": 0.123457, "y": None}
    ]


def test_report_marks_inapplicable_quantities():
    """The closed form does not cover unplanting: None plus a note, never a crash; no N means no
    finite-sample bound."""
    from aca_games.app.scenario import scenario_from_dict

    doc = {
        "world": {
            "labels": ["no", "maybe", "yes"],
            "points": ["a", "b"],
            "base": [[0.3, 0.1, 0.05], [0.2, 0.2, 0.1]],
            "signals": {"g": {"landing": [[0.25, 0.15, 0.1], [0.25, 0.15, 0.1]]}},
        },
        "collectives": [
            {"name": "u", "size": 0.2, "signal": "g", "target": ["maybe", "yes"], "strategy": "unplant"},
            {"name": "f", "size": 0.1, "signal": "g", "target": "yes"},
        ],
    }
    rows = report.single_collective_report(scenario_from_dict(doc))
    u, f = rows
    assert u["bounds"]["closed_form"] is None and u["critical_mass"]["closed_form"] is None
    assert any(n.startswith("closed_form:") for n in u["notes"])
    assert f["bounds"]["closed_form"] is not None and f["notes"] == []
    assert all(r["bounds"]["finite_sample"] is None for r in rows)
    for r in rows:
        assert r["bounds"]["staircase"] <= r["success"] + 1e-12
    table = report.render_table(rows, 0.9)
    assert table.row_count == 2


def test_json_reports_collectives_acting_together():
    """Issue 3: multi-collective bounds and externalities are reachable from `aca-games run`."""
    import json

    from typer.testing import CliRunner

    from aca_games.app.cli import app

    result = CliRunner().invoke(app, ["run", "noisy_drivers", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    together = doc["together"]
    k = len(doc["collectives"])
    assert len(together["rows"]) == k and len(together["externalities"]) == k
    for row in together["rows"]:
        for key in ("per_point", "multi_closed_form", "bloc"):
            assert 0.0 <= row[key] <= row["success"] + 1e-9, (row["name"], key)


def test_json_reports_the_default_game():
    """Issue 4: equilibria and best responses are reachable from `aca-games run`; every reported
    pure equilibrium is re-checked here against the payoff tensor of the default game."""
    import json

    import numpy as np
    from typer.testing import CliRunner

    from aca_games.app.cli import app
    from aca_games.app.game_report import default_game
    from aca_games.app.scenario import default_scenario_path, load_scenario

    result = CliRunner().invoke(app, ["run", "--json"])
    assert result.exit_code == 0, result.output
    game_doc = json.loads(result.stdout)["game"]
    game = default_game(load_scenario(default_scenario_path()))
    tensor = game.payoff_tensor()
    menus = game_doc["menus"]
    assert game_doc["pure_equilibria"], "the default scenario has pure equilibria"
    for eq in game_doc["pure_equilibria"]:
        profile = tuple(menu.index(name) for menu, name in zip(menus, eq["profile"], strict=True))
        for i in range(len(profile)):
            deviations = tensor[(i, *profile[:i], slice(None), *profile[i + 1 :])]
            assert tensor[(i, *profile)] >= np.max(deviations) - 1e-12
    for r in game_doc["best_responses"]:
        assert r["payoff"] >= r["configured_payoff"] - 1e-12
    from aca_games import success

    scenario = load_scenario(default_scenario_path())
    for bound, r in game_doc["min_coalition"].items():  # re-check the sizes with the oracle here
        assert r["status"] == "optimal", bound
        sized = [c.with_size(r["sizes"][c.name]) for c in scenario.collectives]
        assert np.all(np.asarray(success(scenario.world, sized, scenario.analysis.eps)) >= 0.9 - 1e-9)
