"""The ``aca-games`` command.

``aca-games run [SCENARIO] [--json] [--out DIR]``
    Load a scenario (default: the bundled smart-city one; a bundled name such as ``noisy_drivers``
    works too), print the world and, for every collective, its exact success alone and together,
    its bounds and critical masses. ``--json`` prints only the JSON report to stdout; ``--out DIR``
    also writes ``DIR/report.json``.
``aca-games validate SCENARIO``
    Check a scenario file: ``ok: <name>: P points, L labels, K collectives`` or the problems.
``aca-games scenarios``
    List the bundled scenarios.

Exit codes: 0 ok, 2 bad input (the message goes to stderr, no traceback), 1 internal error.

Compiled JAX programs are cached on disk (``$XDG_CACHE_HOME/aca-games/jax``, by default
``~/.cache/aca-games/jax``) so repeated runs skip most compilation; set ``ACA_GAMES_JAX_CACHE`` to
another folder, or to ``off`` to disable the cache.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from aca_games._errors import ACAInputError

app = typer.Typer(
    name="aca-games",
    help="Algorithmic collective action: exact success, bounds and critical mass for scenarios.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _console(stderr: bool = False) -> Console:
    """A console on the current stdout/stderr; 160 columns wide when not writing to a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(file=stream, width=None if stream.isatty() else 160, stderr=stderr)


ScenarioArg = Annotated[
    str | None,
    typer.Argument(
        help="A scenario TOML file or a bundled scenario name (default: smart_city).",
        show_default=False,
    ),
]


def _fail_on_errors(fn):
    """Map bad input to exit code 2 and anything unexpected to exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        err = _console(stderr=True)
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except ACAInputError as e:
            err.print(f"error: {e}", style="red", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except Exception as e:  # the CLI's last line of defence
            err.print(f"internal error: {type(e).__name__}: {e}", style="red", markup=False, soft_wrap=True)
            err.print("This is a bug; please report it with the scenario file.", style="red")
            if os.environ.get("ACA_GAMES_DEBUG"):
                raise
            raise typer.Exit(1) from None

    return wrapper


def _resolve(scenario: str | None) -> Path:
    from aca_games.app.scenario import bundled_scenarios, default_scenario_path

    if scenario is None:
        return default_scenario_path()
    path = Path(scenario)
    bundled = bundled_scenarios()
    if not path.exists() and scenario in bundled:
        return bundled[scenario]
    return path


def _enable_jax_cache() -> None:
    setting = os.environ.get("ACA_GAMES_JAX_CACHE", "")
    if setting.lower() in ("off", "0", "no", "false"):
        return
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = Path(setting) if setting else base / "aca-games" / "jax"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    import jax

    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


@app.command()
@_fail_on_errors
def run(
    scenario: ScenarioArg = None,
    json_: Annotated[bool, typer.Option("--json", help="Print only the JSON report.")] = False,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write report.json here.", file_okay=False)
    ] = None,
):
    """Evaluate every collective of a scenario: success, bounds, critical mass."""
    from aca_games.app.game_report import game_report, render_game
    from aca_games.app.report import (
        render_table,
        render_together,
        single_collective_report,
        to_json,
        together_report,
        world_table,
    )
    from aca_games.app.scenario import load_scenario

    out = _console()
    s = load_scenario(_resolve(scenario))
    if out_dir is not None:
        _write(out_dir / "report.json")  # fail before computing
    _enable_jax_cache()
    if not json_:
        out.rule(f"[bold]{escape(s.name)}")
        if s.description:
            out.print(s.description, highlight=False, markup=False)
        out.print(s.source, style="dim", highlight=False, markup=False)
        out.print(world_table(s))
        a = s.analysis
        finite = f"N = {a.N}, n_test = {a.n_test}, δ = {a.delta}" if a.N else "off (no N)"
        out.print(f"Learner: ε = {a.eps:g} ({a.reading}); finite-sample bound: {finite}", highlight=False)
        with out.status("computing success, bounds and critical masses..."):
            rows = single_collective_report(s)
            together = together_report(s)
        with out.status("solving the default game: equilibria and best responses...") as status:
            game = game_report(s, progress=lambda message: status.update(f"default game: {message}"))
    else:
        with _native_stdout_to_stderr():  # keep stdout pure JSON
            rows = single_collective_report(s)
            together = together_report(s)
            game = game_report(s)
    document = to_json(rows, s, together=together, game=game)
    if json_:
        sys.stdout.write(document + "\n")
    else:
        out.print(render_table(rows, s.analysis.target_success))
        out.print(
            "[dim]success: exact oracle (worst case over ε-suboptimal learners); bounds are "
            "lower bounds on it; α*: smallest size reaching the target acting alone.[/]"
        )
        for table in render_together(together, [c.name for c in s.collectives]) + render_game(game):
            out.print(table)
    if out_dir is not None:
        target = out_dir / "report.json"
        _write(target, document + "\n")
        if not json_:
            out.print(f"wrote {target}", highlight=False, markup=False)


@contextlib.contextmanager
def _native_stdout_to_stderr():
    """Send what native libraries print on file descriptor 1 to stderr (HiGHS prints a banner the
    first time a solver object is created); Python's own ``sys.stdout`` is untouched."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no file descriptor 1 to protect
        yield
        return
    try:
        os.dup2(2, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _write(path: Path, text: str | None = None) -> None:
    """Create ``path``'s folder and write ``text`` (if given); an OSError is bad input (exit 2)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if text is not None:
            path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise ACAInputError(f"--out: cannot write {path} ({e.strerror}); pick a writable folder") from None


@app.command()
@_fail_on_errors
def validate(
    scenario: Annotated[str, typer.Argument(help="A scenario TOML file or a bundled name.")],
):
    """Check a scenario file and summarise it."""
    from aca_games.app.scenario import load_scenario

    s = load_scenario(_resolve(scenario))
    w = s.world
    out = _console()
    out.print(
        f"ok: {s.name}: {len(w.points)} points, {len(w.labels)} labels, {len(s.collectives)} collectives",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


@app.command()
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


if __name__ == "__main__":  # pragma: no cover
    app()
