"""The ``aca-games`` command: one sub-command per question.

``aca-games run [SCENARIO]``
    The full report: the world and, for every collective, its exact success alone and together, its
    bounds and critical masses, the collectives' game, its equilibria and best responses, the
    minimum coalition. ``--out DIR`` also writes ``DIR/report.json`` and the figures of
    :mod:`aca_games.app.plots` (PNG and SVG; ``--no-figures`` skips them).
``aca-games best-response [SCENARIO] --player NAME [--against WHAT]``
    What should this collective do? (:mod:`aca_games.app.commands.best_response`)
``aca-games equilibria [SCENARIO]``
    Pure and mixed equilibria, the configured profile, the price of anarchy
    (:mod:`aca_games.app.commands.equilibria`).
``aca-games coalition [SCENARIO] [--target S]``
    Minimum joint sizes and the bloc to form (:mod:`aca_games.app.commands.coalition`).
``aca-games critical-mass [SCENARIO] [--target S]``
    Each collective's critical mass by every method (:mod:`aca_games.app.commands.critical_mass`).
``aca-games validate SCENARIO``, ``aca-games scenarios``
    Check a scenario file; list the bundled scenarios.

Every question takes ``--json`` (stdout holds only the JSON document: solvers' own output is
silenced), ``--out DIR`` (writes ``DIR/<command>.json``) and, where they matter, ``--eps``,
``--reading`` and ``--target`` to override the file. ``-h`` is ``--help``; ``--version`` prints the
version. Exit codes: 0 ok, 2 bad input (the message goes to stderr, no traceback), 1 internal error.

Compiled JAX programs are cached on disk (``$XDG_CACHE_HOME/aca-games/jax``, by default
``~/.cache/aca-games/jax``) so repeated runs skip most compilation; set ``ACA_GAMES_JAX_CACHE`` to
another folder, or to ``off`` to disable the cache. Nothing heavy is imported before a command runs,
so ``aca-games --help`` does not load JAX or the solvers.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

from aca_games.app.commands import best_response, coalition, critical_mass, equilibria
from aca_games.app.commands._common import EpsOpt, JsonOpt, ReadingOpt, ScenarioArg, TargetOpt
from aca_games.app.commands._common import console as _console
from aca_games.app.commands._common import enable_jax_cache as _enable_jax_cache
from aca_games.app.commands._common import fail_on_errors as _fail_on_errors
from aca_games.app.commands._common import load as _load
from aca_games.app.commands._common import resolve as _resolve
from aca_games.app.commands._common import silenced as _silenced
from aca_games.app.commands._common import write as _write


def _blank_flag_metavars(params):
    """No ``<bool>``/``<str>`` types in the help: flags take no value, and the positional scenario is
    described by its name (``SCENARIO``) and its help text."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
        elif param.param_type_name == "argument":
            param.display_type_rich = lambda ctx: None
    return params


class _Command(TyperCommand):
    def get_params(self, ctx):
        return _blank_flag_metavars(super().get_params(ctx))


class _Group(TyperGroup):
    def get_params(self, ctx):
        return _blank_flag_metavars(super().get_params(ctx))


app = typer.Typer(
    name="aca-games",
    help="Algorithmic collective action: ask a scenario's questions (exact success, bounds, critical "
    "masses, best responses, equilibria, coalitions).",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"aca-games {version('aca-games')}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
):
    """Algorithmic collective action: ask a scenario's questions (exact success, bounds, critical
    masses, best responses, equilibria, coalitions)."""


@app.command(cls=_Command)
@_fail_on_errors
def run(
    scenario: ScenarioArg = None,
    eps: EpsOpt = None,
    reading: ReadingOpt = None,
    target: TargetOpt = None,
    json_: JsonOpt = False,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Also write DIR/report.json and the figures (PNG, SVG).",
            file_okay=False,
        ),
    ] = None,
    no_figures: Annotated[bool, typer.Option("--no-figures", help="With --out: skip the figures.")] = False,
):
    """The full report: success, bounds and critical masses of every collective, the game, coalitions."""
    from aca_games.app.game_report import game_report, render_game
    from aca_games.app.legend import legend_table, methods
    from aca_games.app.report import (
        render_table,
        render_together,
        single_collective_report,
        to_json,
        together_report,
        world_table,
    )

    out = _console()
    _enable_jax_cache()  # before loading: the scenario's worlds and plantings compile too
    s = _load(scenario, eps, reading, target)
    report_file = None if out_dir is None else out_dir / "report.json"
    if report_file is not None:
        _write(report_file)  # fail before computing
    if not json_:
        out.rule(f"[bold]{escape(s.name)}")
        if s.description:
            out.print(s.description, highlight=False, markup=False)
        out.print(s.source, style="dim", highlight=False, markup=False)
        out.print(world_table(s))
        a = s.analysis
        finite = f"N = {a.N}, n_test = {a.n_test}, δ = {a.delta}" if a.N else "off (no N)"
        out.print(f"Learner: ε = {a.eps:g} ({a.reading}); finite-sample bound: {finite}", highlight=False)
    progress = _console(stderr=True)

    def step(message: str):
        return contextlib.nullcontext() if json_ else progress.status(message)

    with step("computing success, bounds and critical masses..."), _silenced():
        rows = single_collective_report(s)
        together = together_report(s)
    with step("solving the game: equilibria, best responses, minimum coalition...") as status, _silenced():
        report_progress = None if json_ else (lambda message: status.update(f"game: {message}"))
        game = game_report(s, progress=report_progress)
    columns = [k for k in REPORT_COLUMNS if k != "finite_sample" or s.analysis.N]
    document = to_json(rows, s, together=together, game=game, methods=methods(columns))
    if json_:
        sys.stdout.write(document + "\n")
    else:
        out.print(render_table(rows, s.analysis.target_success))
        for table in render_together(together, [c.name for c in s.collectives]) + render_game(game):
            out.print(table)
        out.print(legend_table(columns))
    if report_file is not None:
        _write(report_file, document + "\n")
        if not json_:
            out.print(f"wrote {report_file}", highlight=False, markup=False)
        if not no_figures:
            _write_figures(s, out_dir, out, quiet=json_)


#: Columns of the ``run`` report explained by its legend (and under ``"methods"`` in its JSON).
REPORT_COLUMNS = ("success", "closed_form", "staircase", "finite_sample", "critical_mass", "per_point",
                  "multi_closed_form", "bloc", "externality")


def _write_figures(s, out_dir: Path, out, quiet: bool) -> None:
    from aca_games.app.plots import write_figures

    if quiet:
        write_figures(s, out_dir)
        return
    with out.status("drawing figures..."):
        paths = write_figures(s, out_dir)
    out.print(f"wrote {len(paths)} figures (PNG and SVG) to {out_dir}", highlight=False, markup=False)


for _module in (best_response, equilibria, coalition, critical_mass):
    app.command(name=_module.NAME, cls=_Command)(_module.command)


@app.command(cls=_Command)
@_fail_on_errors
def validate(
    scenario: Annotated[
        str, typer.Argument(metavar="SCENARIO", help="A scenario TOML file or a bundled name.")
    ],
):
    """Check a scenario file and summarise it."""
    from aca_games.app.scenario import load_scenario

    s = load_scenario(_resolve(scenario))
    w = s.world
    out = _console()
    summary = f"ok: {s.name}: {len(w.points)} points, {len(w.labels)} labels, {len(s.collectives)} "
    summary += "collectives"
    if s.players:
        options = sum(len(p.options) for p in s.players)
        summary += f" (version 2: {options} options, beliefs for {len(s.beliefs)})"
    out.print(
        summary,
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


@app.command(cls=_Command)
@_fail_on_errors
def scenarios():
    """List the bundled scenarios (run one with `aca-games run NAME`)."""
    from rich.table import Table

    from aca_games.app.scenario import bundled_scenarios, load_scenario

    table = Table(header_style="bold")
    for column in ("name", "title", "collectives", "file"):
        table.add_column(column)
    for name, path in bundled_scenarios().items():
        s = load_scenario(path)
        table.add_row(name, s.name, str(len(s.collectives)), str(path))
    _console().print(table)


# Commands with their own modules (logic there; registered here).
from aca_games.app import reproduce_cmd, simulate_cmd, sweep_cmd  # noqa: E402

app.command(name="simulate", cls=_Command)(_fail_on_errors(simulate_cmd.simulate))
app.command(name="sweep", cls=_Command)(_fail_on_errors(sweep_cmd.sweep))
app.command(name="reproduce", cls=_Command)(_fail_on_errors(reproduce_cmd.reproduce))


if __name__ == "__main__":  # pragma: no cover
    app()
