"""Figures: written as PNG and SVG for every bundled scenario, and every plotted number equals the
public API's, evaluated here one size (or one noise level, one cell) at a time."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import QuadMesh

import aca_games as ag
import solvers
from aca_games import bounds
from aca_games.app import plots
from aca_games.app.scenario import bundled_scenarios, default_scenario_path, load_scenario

POINTS = 7  # small grids: the figures are built exactly as in the CLI, on coarser grids
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def city():
    return load_scenario(default_scenario_path())


def _line(ax, gid):
    (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == gid]
    return np.asarray(line.get_xdata()), np.asarray(line.get_ydata())


def _meshes(fig):
    """The maps drawn (colour bars hold meshes too, without a gid)."""
    return [c for ax in fig.axes for c in ax.collections if isinstance(c, QuadMesh) and c.get_gid()]


def _bundled():
    """Bundled scenarios; those with more than ten collectives (the city) run in the slow suite."""
    return [pytest.param(name, marks=pytest.mark.slow if len(load_scenario(path).collectives) > 10 else ())
            for name, path in sorted(bundled_scenarios().items())]


@pytest.mark.parametrize("name", _bundled())
def test_every_bundled_scenario_writes_png_and_svg(name, tmp_path):
    s = load_scenario(bundled_scenarios()[name])
    paths = plots.write_figures(s, tmp_path, points=POINTS, max_collectives=1)  # one of each figure
    stems = {p.stem for p in paths}
    first = plots.slug(s.collectives[0].name)
    expected = {f"success_vs_size_{first}", f"noise_tradeoff_{first}", "success_heatmap", "equilibrium_map"}
    if len(s.collectives) > 10:  # the pair's map inside a city exceeds EQUILIBRIUM_MAP_CELLS
        expected.discard("equilibrium_map")
    assert stems == expected
    assert sorted(paths) == sorted(tmp_path / f"{stem}.{ext}" for stem in stems for ext in ("png", "svg"))
    for path in paths:
        data = path.read_bytes()
        if path.suffix == ".png":
            assert data.startswith(PNG_MAGIC) and len(data) > 5_000
        else:
            assert b"<svg" in data[:1000] and len(data) > 5_000


def test_success_vs_size_plots_the_api_numbers(city):
    w, c, a = city.world, city.collectives[2], city.analysis
    grid = np.linspace(0.0, 0.12, POINTS)
    fig = plots.success_vs_size(w, c, eps=a.eps, reading=a.reading, target_success=0.9,
                                N=a.N, n_test=a.n_test, delta=a.delta, sizes=grid)
    ax = fig.axes[0]
    learner = {"eps": a.eps, "reading": a.reading}
    expected = {
        "exact oracle": [float(ag.success(w, c.with_size(x), **learner)[0]) for x in grid],
        "closed form [HMMZ23]": [float(bounds.closed_form(w, c.with_size(x), **learner)) for x in grid],
        "staircase [GBJ25]": [float(bounds.staircase(w, c.with_size(x), **learner)) for x in grid],
        # n = 0 members certify nothing (the API rejects n = 0; the plotted bound is 0 there)
        "finite sample [GBJ25]": [0.0] + [
            float(bounds.finite_sample(w, c.with_size(x), n=round(x * a.N), N=a.N, n_test=a.n_test,
                                       delta=a.delta, **learner))
            for x in grid[1:]
        ],
    }
    for gid, values in expected.items():
        xs, ys = _line(ax, gid)
        np.testing.assert_array_equal(xs, grid)
        np.testing.assert_allclose(ys, values, rtol=0, atol=1e-12, err_msg=gid)
    # the critical mass line sits at the oracle's critical mass, the target line at S*
    alpha_star = ag.critical_mass(w, c, 0.9, bound="exact", **learner)
    verticals = [ln.get_xdata()[0] for ln in ax.get_lines() if len(set(ln.get_xdata())) == 1]
    assert any(abs(x - alpha_star) < 1e-12 for x in verticals)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(f"reaches S* at α = {alpha_star:.4f}" in t for t in labels)
    assert ax.get_xlabel() == "size α (share of the population)"
    assert "Market street shops" in fig.get_suptitle() and "ε = 0.001" in fig.get_suptitle()


def test_oracle_curve_is_exact_above_the_old_enumeration_size():
    points = [f"p{k}" for k in range(16)]  # once relaxed to a greedy lower bound; now exact
    base = np.full((16, 2), 0.01)
    w = ag.World(points=points, labels=["no", "yes"], base=base, landing={"g": np.full((16, 2), 1 / 32)})
    sizes = np.linspace(0, 0.5, POINTS)
    c = ag.Collective("c", 0.1, "g", target="yes")
    curves = plots.success_curves(w, c, sizes, eps=0.01)
    assert plots.ORACLE_LABEL == "exact oracle" and "greedy lower bound" not in curves
    want = ag.success(w, c, 0.01, sizes=sizes[:, None], method="exact")[:, 0]
    np.testing.assert_allclose(curves[plots.ORACLE_LABEL], want, atol=1e-12)


def test_heatmap_plots_the_api_numbers_for_both_collectives(city):
    w, cs, a = city.world, list(city.collectives), city.analysis
    xs, ys = np.linspace(0.0, 0.08, 5), np.linspace(0.0, 0.05, 4)
    fig = plots.success_heatmap(w, cs, (0, 1), eps=a.eps, reading=a.reading, axes=(xs, ys))
    left, right = _meshes(fig)
    for mesh, k in ((left, 0), (right, 1)):
        plotted = np.asarray(mesh.get_array()).reshape(len(ys), len(xs))  # rows: the y axis
        for (r, y), (col, x) in ((ry, cx) for ry in enumerate(ys) for cx in enumerate(xs)):
            together = [cs[0].with_size(x), cs[1].with_size(y), cs[2]]
            want = float(ag.success(w, together, a.eps, a.reading)[k])
            assert plotted[r, col] == pytest.approx(want, abs=1e-12)
    # the scenario's sizes are marked
    star = [ln for ln in fig.axes[0].get_lines() if ln.get_marker() == "*"][0]
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (cs[0].size, cs[1].size)


def test_noise_tradeoff_plots_the_api_numbers(city):
    w, a = city.world, city.analysis
    c = city.collectives[0]
    sizes, noises = np.linspace(0.0, 0.1, 5), np.linspace(0.0, 0.6, 4)
    fig = plots.noise_tradeoff(w, c, eps=a.eps, reading=a.reading, size=0.03, sizes=sizes, noises=noises,
                               points=POINTS)
    meshes = _meshes(fig)
    assert len(meshes) == 3
    for mesh, mode in zip(meshes, ("drop", "scatter", "misfire"), strict=True):
        plotted = np.asarray(mesh.get_array()).reshape(len(noises), len(sizes))
        for r, sigma in enumerate(noises):
            noisy = c.replace(noise=sigma, noise_mode=mode)
            want = [float(ag.success(w, noisy.with_size(x), a.eps, a.reading)[0]) for x in sizes]
            np.testing.assert_allclose(plotted[r], want, atol=1e-12, err_msg=f"{mode}, σ = {sigma}")
    # bottom row: (α0, σ) against (2 α0, 4 σ), one panel per mode
    small = np.linspace(0.0, 0.25, POINTS // 2 + 1)
    for ax, mode in zip(fig.axes[3:6], ("drop", "scatter", "misfire"), strict=True):
        base, bigger = (np.asarray(ln.get_ydata()) for ln in ax.get_lines()[:2])
        np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), small)
        for k, sigma in enumerate(small):
            for plotted, size, noise in ((base, 0.03, sigma), (bigger, 0.06, 4 * sigma)):
                noisy = c.replace(noise=noise, noise_mode=mode).with_size(size)
                want = float(ag.success(w, noisy, a.eps, a.reading)[0])
                assert plotted[k] == pytest.approx(want, abs=1e-12)


def test_equilibrium_map_plots_the_solver_numbers_of_a_two_player_game(city):
    w, cs, a = city.world, list(city.collectives), city.analysis
    # menus without a size-0 option: the grid sets every option's size, as solvers.equilibrium_map does
    players = [ag.Player(c.name, [c, c.replace(signal="shopfront_log")]) for c in cs[:2]]
    game = ag.ACAGame(w, players, eps=a.eps, reading=a.reading)
    axes = (np.linspace(0.01, 0.08, 4), np.linspace(0.01, 0.05, 3))
    fig = plots.equilibrium_map_figure(game, axes=axes)
    want = solvers.equilibrium_map(game, axes).value
    n_pure, worst, lost = (np.asarray(m.get_array()).reshape(3, 4) for m in _meshes(fig))
    np.testing.assert_array_equal(n_pure, want.pure.sum(axis=(-2, -1)).T)
    np.testing.assert_allclose(worst, want.worst_welfare.T, atol=1e-12)
    np.testing.assert_allclose(lost, (want.optimum - want.worst_welfare).T, atol=1e-12)


def test_equilibrium_map_keeps_abstaining_at_size_zero(city):
    # the scenario's default game: every signal or abstain (size 0), three players; the map varies the
    # first two players' sizes, abstaining stays size 0 and the third keeps its configured option
    game = plots.scenario_game(city)
    axes = (np.asarray([0.02, 0.06]), np.asarray([0.01, 0.035]))
    emap = plots.game_equilibrium_map(game, (0, 1), axes).value
    for i, x in enumerate(axes[0]):
        for j, y in enumerate(axes[1]):
            resized = [
                ag.Player(p.name, [o.with_size(s) if float(o.size) > 0 else o for o in p.options],
                          value=p.value, size_cost=p.size_cost)
                for p, s in zip(game.players[:2], (x, y), strict=True)
            ]
            third = game.players[2]
            fixed = ag.Player(third.name, [third.options[0]], value=third.value, size_cost=third.size_cost)
            cell_game = ag.ACAGame(game.world, [*resized, fixed], eps=game.eps, reading=game.reading)
            pure = [eq[:2] for eq in solvers.pure_nash(cell_game).value]
            assert emap.pure_profiles((i, j)) == pure, (x, y)


def test_bad_grids_are_rejected(city):
    w, c = city.world, city.collectives[0]
    with pytest.raises(ag.ACAInputError, match="sizes: every size must lie in"):
        plots.success_vs_size(w, c, sizes=[0.0, 1.2])
    with pytest.raises(ag.ACAInputError, match="pair: need two different indices"):
        plots.success_heatmap(w, city.collectives, (0, 0))
    with pytest.raises(ag.ACAInputError, match="every cell must leave bystanders"):
        plots.success_heatmap(w, city.collectives, axes=([0.1, 0.6], [0.1, 0.5]))
    with pytest.raises(ag.ACAInputError, match="every cell must leave bystanders"):
        plots.game_equilibrium_map(plots.scenario_game(city), axes=([0.1, 0.6], [0.1, 0.5]))
    with pytest.raises(ag.ACAInputError, match="twice it must lie in"):
        plots.noise_tradeoff(w, c, size=0.6)


def test_run_out_writes_figures_unless_told_not_to(tmp_path):
    from typer.testing import CliRunner

    from aca_games.app.cli import app

    runner = CliRunner(env={"ACA_GAMES_JAX_CACHE": "off"})
    out = tmp_path / "a"
    result = runner.invoke(app, ["run", "noisy_drivers", "--json", "--out", str(out), "--no-figures"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]


@pytest.mark.slow
def test_run_out_writes_every_figure(tmp_path):
    from typer.testing import CliRunner

    from aca_games.app.cli import app

    s = load_scenario(default_scenario_path())
    result = CliRunner(env={"ACA_GAMES_JAX_CACHE": "off"}).invoke(app, ["run", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "wrote 16 figures (PNG and SVG)" in result.stdout
    written = {p.name for p in tmp_path.iterdir()}
    for c in s.collectives:
        stem = plots.slug(c.name)
        assert {f"success_vs_size_{stem}.png", f"noise_tradeoff_{stem}.svg"} <= written
    assert {"report.json", "success_heatmap.png", "equilibrium_map.svg"} <= written


def test_noise_mode_that_does_not_apply_is_said_so(city):
    # erasing has no wrong label to misfire: that column says why instead of failing the figure
    eraser = ag.Collective("erasers", 0.05, "checkin_form", strategy="erase")
    fig = plots.noise_tradeoff(city.world, eraser, size=0.05, points=POINTS)
    assert [m.get_gid() for m in _meshes(fig)] == ["noise mode drop", "noise mode scatter"]
    texts = [t.get_text() for t in fig.axes[2].texts]
    assert any("misfire: not applicable" in t and "misfire_label" in t for t in texts)


def test_default_axes_leave_bystanders():
    from aca_games.app._figure import fit_tops

    assert fit_tops([0.1, 0.2], 0.1) == [0.1, 0.2]  # room enough: unchanged
    scaled = fit_tops([0.8, 0.6], 0.1)
    assert sum(scaled) + 0.1 == pytest.approx(0.95) and scaled[0] / scaled[1] == pytest.approx(0.8 / 0.6)
    with pytest.raises(ag.ACAInputError, match="nothing left to vary"):
        fit_tops([0.1, 0.1], 0.96)


def test_equilibrium_map_is_skipped_past_its_memory_budget(tmp_path, monkeypatch):
    s = load_scenario(bundled_scenarios()["smart_city"])
    monkeypatch.setattr(plots, "EQUILIBRIUM_MAP_CELLS", 0)
    stems = {p.stem for p in plots.write_figures(s, tmp_path, points=POINTS, max_collectives=1)}
    assert "success_heatmap" in stems and "equilibrium_map" not in stems
