"""Notebook use: HTML reprs that parse and name what they show, and Solution.to_frame() whose
columns and values are the Solution's own fields."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import aca_games as ag
import solvers
from aca_games.app.game_report import default_game
from aca_games.app.scenario import default_scenario_path, load_scenario

VOID = {"br", "hr", "img", "meta", "link", "input", "col"}


class _Checker(HTMLParser):
    """Collects the text and fails on a closing tag that does not match the open one."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.text, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> tuple[str, list[str]]:
    """The text of a well-formed HTML fragment, and its tags."""
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert checker.stack == [], f"unclosed tags {checker.stack}"
    return " ".join(checker.text), checker.tags


@pytest.fixture(scope="module")
def city():
    return load_scenario(default_scenario_path())


@pytest.fixture(scope="module")
def game(city):
    return default_game(city)


def test_world_html_names_points_labels_signals(city):
    text, tags = parse(city.world._repr_html_())
    assert "table" in tags
    for name in (*city.world.points, *city.world.labels, *city.world.signals):
        assert name in text
    assert "0.0175" in text  # P0 of the first point, first label


def test_collective_html_escapes_names():
    c = ag.Collective("<b>tenants & co</b>", 0.05, "g", target="yes", noise=0.1, noise_mode="scatter")
    text, tags = parse(c._repr_html_())
    assert "<b>tenants & co</b>" in text and "b" not in tags  # shown as text, not markup
    assert "0.1 (scatter)" in text and "feature_label" in text


def test_game_html_lists_players_and_options(game):
    text, _ = parse(game._repr_html_())
    for p in game.players:
        assert p.name in text
        for option in p.option_names:
            assert option in text
    assert "exact oracle" in text and "ε = 0.001" in text


def test_solution_html_shows_status_certificate_and_value(game):
    sol = solvers.pure_nash(game)
    text, _ = parse(sol._repr_html_())
    assert "optimal (ok)" in text and "enumeration" in text
    failed = solvers.Solution(value=None, status="infeasible", certificate={"target": 0.9, "why": "x"})
    text, _ = parse(failed._repr_html_())
    assert "infeasible" in text and "target = 0.9" in text


def test_pure_equilibria_frame(game):
    sol = solvers.pure_nash(game)
    frame = sol.to_frame()
    names = [p.name for p in game.players]
    assert list(frame.columns) == ["equilibrium", "player 0", "player 1", "player 2"]
    assert [tuple(r) for r in frame[["player 0", "player 1", "player 2"]].to_numpy()] == sol.value
    named = sol.to_frame(game)
    assert list(named.columns) == ["equilibrium", *names]
    for row, eq in zip(named.itertuples(index=False), sol.value, strict=True):
        assert list(row[1:]) == [game.players[p].option_names[a] for p, a in enumerate(eq)]
    empty = solvers.Solution(value=[], status="optimal").to_frame()
    assert empty.empty


def test_mixed_equilibria_frames(game, city):
    two = ag.ACAGame(city.world, game.players[:2], eps=game.eps, reading=game.reading)
    sol = solvers.two_player_equilibria(two)
    frame = sol.to_frame(two)
    assert list(frame.columns) == ["equilibrium", "player", "option", "probability"]
    for e, (x, y) in enumerate(sol.value):
        for p, strategy in enumerate((x, y)):
            rows = frame[(frame.equilibrium == e) & (frame.player == two.players[p].name)]
            assert list(rows.option) == list(two.players[p].option_names)
            np.testing.assert_array_equal(rows.probability.to_numpy(), strategy)
    mixed = solvers.mixed_nash(game)
    frame = mixed.to_frame()
    assert list(frame.columns) == ["player", "option", "probability"]
    for p, strategy in enumerate(mixed.value):
        np.testing.assert_array_equal(frame[frame.player == f"player {p}"].probability.to_numpy(), strategy)


def test_best_response_frames(game):
    sol = solvers.best_response(game, "Market street shops", (0, 0, 0))
    frame = sol.to_frame()
    assert list(frame["rank"]) == list(range(1, len(sol.value) + 1))
    assert frame.drop(columns="rank").to_dict("records") == sol.value
    robust = solvers.best_response(game, 0, {(0, 0, 0), (0, 1, 2)}, robust_mixed=True)
    frame = robust.to_frame()
    np.testing.assert_allclose(frame.probability, robust.value["strategy"][frame.option.to_numpy()])


def test_sizes_and_coalition_frames(city):
    w, cs, a = city.world, list(city.collectives), city.analysis
    mass = solvers.critical_mass(w, cs[0], 0.9)
    assert mass.to_frame().to_dict("records") == [{"critical_mass": mass.value, "bound": "staircase"}]
    joint = solvers.min_joint_sizes(w, cs, [0.9] * 3, eps=a.eps, reading=a.reading)
    frame = joint.to_frame()
    assert dict(zip(frame.collective, frame["size"], strict=True)) == joint.value["sizes"]
    formed = solvers.form_coalition(w, cs, [0.1] * 3, 0.9, eps=a.eps, reading=a.reading)
    frame = formed.to_frame()
    assert set(frame.collective[frame.selected]) == set(formed.value["selected"])
    sizes = solvers.Solution(value=np.array([0.1, 0.2]), status="converged").to_frame()
    assert sizes.to_dict("list") == {"player": ["player 0", "player 1"], "size": [0.1, 0.2]}
    assert solvers.Solution(value=None, status="error").to_frame().empty


def test_price_of_anarchy_and_map_frames(game, city):
    poa = solvers.price_of_anarchy(game)
    (row,) = poa.to_frame().to_dict("records")
    for key in ("optimum", "worst_equilibrium", "best_equilibrium", "price_of_anarchy"):
        assert row[key] == poa.value[key]
    assert row["convention.anarchy"] == poa.value["convention"]["anarchy"]
    two = ag.ACAGame(city.world, [p.__class__(p.name, p.options[:2]) for p in game.players[:2]])
    emap = solvers.equilibrium_map(two, (np.array([0.02, 0.05]), np.array([0.01, 0.03, 0.04]))).value
    frame = solvers.Solution(value=emap, status="optimal").to_frame()
    assert list(frame.columns[:2]) == list(emap.param_names)
    np.testing.assert_array_equal(frame[list(emap.param_names)].to_numpy(), emap.grid.reshape(-1, 2))
    np.testing.assert_array_equal(frame["count"], emap.count.reshape(-1))
    np.testing.assert_array_equal(frame["n_pure"], emap.pure.sum(axis=(-2, -1)).reshape(-1))
    np.testing.assert_array_equal(frame["optimum"], emap.optimum.reshape(-1))


def test_weighted_profiles_frame():
    sol = solvers.Solution(value=[(0.25, (0, 1)), (0.75, (1, 1))], status="converged")
    frame = sol.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert frame.to_dict("list") == {"weight": [0.25, 0.75], "player 0": [0, 1], "player 1": [1, 1]}
