"""What every ``aca-games`` command shares: options, loading with overrides, silencing solvers, output.

**Exit codes.** :func:`fail_on_errors` maps bad input (:class:`~aca_games.ACAInputError`) to exit code
2 with the message on stderr and no traceback, and anything unexpected to exit code 1.

**stdout holds only the answer.** Solvers write to the process's standard output behind Python's
back (HiGHS prints its banner from C++ through cvxpy/highspy), so :func:`silenced` points file
descriptor 1 at ``/dev/null`` while a command computes, and ``sys.stdout`` at a discarded buffer;
the answer is written once the computation is over. Progress goes to stderr.

**JSON convention.** A computed quantity is an object ``{"value": ..., "method": "..."}``
(:func:`measured`): ``value`` is a number, a list or a mapping (e.g. player -> payoff) and
``method`` names what produced it ("exact oracle", "staircase lower bound [GBJ25]", "vertex
enumeration"...). Inputs echoed back (names, sizes from the file) are plain values. Floats are
rounded to :data:`aca_games.app.report.DIGITS` decimals, an unreachable critical mass is the string
``"unreachable"`` and a missing value ``null``. Every document starts with the command, the
scenario, its file and the platform (``eps``, ``reading``).
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from aca_games._errors import ACAInputError

if TYPE_CHECKING:
    from aca_games.app.scenario import Scenario

ScenarioArg = Annotated[
    str | None,
    typer.Argument(
        metavar="SCENARIO",
        help="A scenario TOML file or a bundled scenario name (default: smart_city).",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print only the JSON document on stdout.")]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", metavar="DIR", help="Also write the JSON document into DIR.", file_okay=False),
]
EpsOpt = Annotated[
    float | None,
    typer.Option("--eps", metavar="EPS", help="The learner's suboptimality ε >= 0 (overrides the file)."),
]
ReadingOpt = Annotated[
    str | None,
    typer.Option("--reading", metavar="tv|huber", help="How ε is read (overrides the file)."),
]
TargetOpt = Annotated[
    float | None,
    typer.Option("--target", metavar="S", help="The success target S* in (0, 1] (overrides the file)."),
]


def console(stderr: bool = False) -> Console:
    """A console on the current stdout/stderr; 160 columns wide when not writing to a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(file=stream, width=None if stream.isatty() else 160, stderr=stderr)


def fail_on_errors(fn):
    """Map bad input to exit code 2 and anything unexpected to exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        err = console(stderr=True)
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


def resolve(scenario: str | None) -> Path:
    """A path, or a bundled scenario's name (``smart_city`` when ``None``)."""
    from aca_games.app.scenario import bundled_scenarios, default_scenario_path

    if scenario is None:
        return default_scenario_path()
    path = Path(scenario)
    bundled = bundled_scenarios()
    if not path.exists() and scenario in bundled:
        return bundled[scenario]
    return path


def load(scenario: str | None, eps=None, reading=None, target=None) -> Scenario:
    """Load a scenario and apply the command-line overrides (``--eps``, ``--reading``, ``--target``)."""
    from aca_games.app.scenario import load_scenario, with_settings

    s = load_scenario(resolve(scenario))
    return with_settings(s, eps=eps, reading=reading, target_success=target)


def enable_jax_cache() -> None:
    """Cache compiled JAX programs on disk (``ACA_GAMES_JAX_CACHE``: a folder, or ``off``)."""
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


def write(path: Path, text: str | None = None) -> None:
    """Create ``path``'s folder and write ``text`` (if given); an OSError is bad input (exit 2)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if text is not None:
            path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise ACAInputError(f"--out: cannot write {path} ({e.strerror}); pick a writable folder") from None


@contextlib.contextmanager
def silenced():
    """Discard whatever is written to stdout inside the block, from Python or from C/C++ (fd 1)."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no file descriptor 1: nothing to protect
        saved = None
    if saved is not None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        if saved is not None:
            with contextlib.suppress(OSError):
                sys.__stdout__.flush()
            os.dup2(saved, 1)
            os.close(saved)


def measured(value, method: str) -> dict:
    """A computed quantity and what produced it (the JSON convention of this module)."""
    return {"value": value, "method": method}


def header(command: str, s: Scenario) -> dict:
    """The first keys of every document."""
    return {
        "command": command,
        "scenario": s.name,
        "source": s.source,
        "version": s.version,
        "platform": {"eps": s.analysis.eps, "reading": s.analysis.reading},
    }


def to_json(doc: dict) -> str:
    """The document as indented JSON (floats rounded, ``inf`` -> ``"unreachable"``, NaN -> null)."""
    from aca_games.app.report import _clean

    return json.dumps(_clean(doc), ensure_ascii=False, indent=2)


def answer(
    command: str,
    scenario: str | None,
    compute: Callable[[Scenario], dict],
    render: Callable[[dict], list],
    *,
    as_json: bool,
    out_dir: Path | None,
    eps=None,
    reading=None,
    target=None,
    status: str = "computing...",
) -> dict:
    """Load, compute (solvers silenced, a spinner on stderr), then print tables or JSON and write
    ``DIR/<command>.json`` with ``--out``. Returns the document."""
    enable_jax_cache()  # before loading: the scenario's worlds and plantings compile too
    s = load(scenario, eps, reading, target)
    target_file = None if out_dir is None else out_dir / f"{command}.json"
    if target_file is not None:
        write(target_file)  # fail before computing
    spinner = contextlib.nullcontext() if as_json else console(stderr=True).status(status)
    with spinner, silenced():
        doc = compute(s)
    text = to_json(doc)
    if as_json:
        sys.stdout.write(text + "\n")
    else:
        out = console()
        for item in render(doc):
            out.print(item)
    if target_file is not None:
        write(target_file, text + "\n")
        if not as_json:
            console().print(f"wrote {target_file}", highlight=False, markup=False)
    return doc


# -- methods and games ----------------------------------------------------------------------------
def success_method(eps) -> str:
    """How :func:`aca_games.success` computes success for this world and learner."""
    if float(eps) == 0.0:
        return "exact oracle (Bayes-optimal learner)"
    return "exact oracle (worst ε-suboptimal learner)"


#: Success measures a game's payoffs may use, other than the oracle.
PAYOFF_BOUNDS = {
    "per_point": "per-point lower bound (multi-collective staircase) [GBJ25, BGNAD25]",
    "closed_form": "aggregative closed-form lower bound B1 [BGNAD25]",
}


def game_of(s: Scenario):
    """The scenario's game and the profile it plays now.

    Version 2: the menus, values and costs of the file. Version 1: the default game of
    :func:`aca_games.app.game_report.default_game` (every signal or abstain; value 1, cost 1 per
    unit of size), in which option 0 is the configured one.
    """
    from aca_games.app.game_report import default_game

    game = default_game(s)
    return game, s.configured or (0,) * len(game.players)


def payoff_method(s: Scenario, game, measure: str | None = None) -> str:
    """What a payoff is made of, with the success measure (default: the game's)."""
    measure = measure or PAYOFF_BOUNDS.get(game.bound) or success_method(s.analysis.eps)
    if s.players:
        return f"value × success - option cost - size_cost × size; success: {measure}"
    return f"success - size (default game of a version-1 file); success: {measure}"


def named_profile(game, profile) -> dict[str, str]:
    """``{player: option name}`` for a pure profile of option indices."""
    return {p.name: p.option_names[int(k)] for p, k in zip(game.players, profile, strict=True)}


def per_player(game, values) -> dict[str, float]:
    """``{player: value}``."""
    return {p.name: float(x) for p, x in zip(game.players, values, strict=True)}


def pick(name: str, names, where: str, kind: str) -> str:
    """``name`` if it is one of ``names``, else bad input (at option ``where``) naming the closest."""
    import difflib

    names = list(names)
    if name in names:
        return name
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ACAInputError(f"{where}: no {kind} named {name!r}; {hint}choose one of {names}")


def finite_or_none(x) -> float | None:
    """``x`` as a float, ``None`` for NaN/inf (margins that do not exist)."""
    x = float(x)
    return x if math.isfinite(x) else None
