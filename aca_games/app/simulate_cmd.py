"""``aca-games simulate``: trained platforms against the oracle and the bounds of a scenario.

``aca-games simulate SCENARIO --learner bayes|logistic|mlp|dp-sgd --seeds K --users N [--json]
[--out DIR]`` samples ``K`` seeded platforms of ``N`` users from the scenario's world with every
collective acting (:mod:`aca_games.simulate.platform`), trains the learner on each
(:mod:`aca_games.simulate.classifiers`) and prints, per collective, the measured success with its
95% interval over seeds beside the exact oracle and every bound, and whether each bound held
(:mod:`aca_games.simulate.compare`). ``--json`` prints only the JSON document; ``--out DIR`` also
writes ``DIR/simulation.json``.

Defaults come from the scenario's ``[analysis]`` table: ``N`` (else 100 000 users), ``n_test``
(else 2000), ``delta`` (else 0.05), and the learner slack ``eps``/``reading`` that the oracle and
the bounds assume. Collective ``j`` has ``round(α_j N)`` members; unplanting collectives let half
of them estimate.

:func:`simulate_scenario` is the same computation as a function (the sweep's cells use it).
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from aca_games.app.scenario import Scenario

__all__ = ["DEFAULT_N_TEST", "DEFAULT_USERS", "RunSettings", "simulate", "simulate_scenario"]

#: Platform users when neither ``--users`` nor the scenario's ``analysis.N`` says.
DEFAULT_USERS = 100_000
#: Test inputs per collective when neither ``--n-test`` nor ``analysis.n_test`` says.
DEFAULT_N_TEST = 2_000
#: Failure probability of the finite-sample bounds when ``analysis.delta`` is unset.
DEFAULT_DELTA = 0.05


@dataclass(frozen=True)
class RunSettings:
    """How to simulate: the learner and its options, seeds, platform size, test inputs.

    ``users`` and ``n_test`` default (``None``) to the scenario's ``analysis.N``/``n_test``. The
    learner options left ``None`` keep the learner's defaults (:func:`~aca_games.simulate.make_learner`).
    """

    learner: str = "bayes"
    seeds: int = 32
    users: int | None = None
    n_test: int | None = None
    seed: int = 0
    steps: int | None = None
    learning_rate: float | None = None
    hidden: int | None = None
    clip: float | None = None
    dp_epsilon: float | None = None
    dp_delta: float | None = None
    noise_multiplier: float | None = None

    def learner_options(self) -> dict:
        """The options passed to :func:`aca_games.simulate.make_learner` (``None`` left out)."""
        options = {
            "steps": self.steps,
            "learning_rate": self.learning_rate,
            "hidden": self.hidden,
            "clip": self.clip,
            "epsilon": self.dp_epsilon,
            "delta": self.dp_delta,
            "noise_multiplier": self.noise_multiplier,
        }
        if self.learner == "dp-sgd":
            if self.dp_epsilon is None and self.noise_multiplier is None:
                options["epsilon"] = 1.0
            if self.hidden is not None:
                options["model"] = "mlp"
        return {k: val for k, val in options.items() if val is not None}

    def as_dict(self) -> dict:
        return asdict(self)


def simulate_scenario(scenario: Scenario, settings: RunSettings, progress=None) -> dict:
    """Simulate ``scenario`` with ``settings``; returns ``{"settings": {...}, "collectives": rows}``
    with one row per collective from :func:`aca_games.simulate.compare.compare_runs` and the
    resolved settings (users, n_test, delta, learner options, the noise multiplier of DP-SGD).
    ``progress(done)`` is called with the number of seeds finished."""
    from aca_games._errors import ACAInputError
    from aca_games.simulate import make_learner, members_of, platform_spec, run_platforms, seed_keys
    from aca_games.simulate.compare import compare_runs

    a = scenario.analysis
    users = settings.users or a.N or DEFAULT_USERS
    n_test = settings.n_test or a.n_test or DEFAULT_N_TEST
    delta = a.delta or DEFAULT_DELTA
    cs = list(scenario.collectives)
    members = members_of(cs, users)
    options = settings.learner_options()
    learner = make_learner(settings.learner, **options)
    try:
        spec = platform_spec(scenario.world, cs, N=users, n_test=n_test, members=members)
    except ACAInputError as err:
        raise ACAInputError(f"--users: {err}") from None
    runs = run_platforms(spec, learner, seed_keys(settings.seed, settings.seeds), progress=progress)
    rows = compare_runs(
        scenario.world, cs, runs, N=users, n_test=n_test, members=members,
        eps=a.eps, reading=a.reading, delta=delta,
    )  # fmt: skip
    resolved = {
        **settings.as_dict(),
        "users": users,
        "n_test": n_test,
        "delta": delta,
        "eps": a.eps,
        "reading": a.reading,
        "learner_options": options,
    }
    if settings.learner == "dp-sgd":
        resolved["noise_multiplier"] = learner.noise_multiplier
    return {"settings": resolved, "collectives": rows}


def render(result: dict):
    """A rich table: measured success [95% interval], oracle, each bound with ✓/✗ and its rate."""
    from rich.markup import escape
    from rich.table import Table

    rows = result["collectives"]
    names = list(rows[0]["bounds"])
    s = result["settings"]
    title = (
        f"Trained platforms: {s['learner']}, {s['seeds']} seeds, N = {s['users']:,} users, "
        f"{s['n_test']:,} test inputs per collective"
    )
    table = Table(title=title, title_justify="left", header_style="bold")
    for header in ("collective", "members", "measured\n[95% CI]", "oracle", *names):
        table.add_column(header.replace("_", " "), justify="left" if header == "collective" else "right")
    for r in rows:
        m = r["measured"]
        ci = f"\n[{m['ci_low']:.3f}, {m['ci_high']:.3f}]" if m["ci_low"] is not None else ""
        cells = []
        for name in names:
            b = r["bounds"][name]
            if b["value"] is None:
                cells.append("n/a")
                continue
            mark = "[green]held[/]" if b["held"] else "[red]failed[/]"
            cells.append(f"{b['value']:.3f}\n{mark} {b['held_rate']:.0%}")
        measured = f"{m['mean']:.3f}{ci}"
        table.add_row(escape(r["name"]), f"{r['members']:,}", measured, f"{r['oracle']:.3f}", *cells)
    return table


LEARNER_HELP = "bayes (argmax of counts), logistic, mlp, or dp-sgd (logistic, or mlp with --hidden)."


def simulate(
    scenario: Annotated[str | None, typer.Argument(help="A scenario TOML file or a bundled name.")] = None,
    learner: Annotated[str, typer.Option(help=LEARNER_HELP)] = "bayes",
    seeds: Annotated[int, typer.Option(min=1, help="Seeded platforms to train.")] = 32,
    users: Annotated[
        int | None, typer.Option(min=2, help="Platform users N (default: analysis.N, else 100000).")
    ] = None,
    n_test: Annotated[
        int | None, typer.Option(min=1, help="Test inputs per collective (default: analysis.n_test or 2000).")
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Base seed; seed i uses fold_in(key(seed), i).")] = 0,
    steps: Annotated[int | None, typer.Option(min=1, help="Training steps (trained learners).")] = None,
    learning_rate: Annotated[float | None, typer.Option(help="Adam learning rate.")] = None,
    hidden: Annotated[int | None, typer.Option(min=1, help="Hidden width (mlp; dp-sgd: an mlp).")] = None,
    clip: Annotated[float | None, typer.Option(help="DP-SGD per-example clipping norm C (1).")] = None,
    dp_epsilon: Annotated[
        float | None, typer.Option(help="DP-SGD privacy budget ε (default 1 unless --noise-multiplier).")
    ] = None,
    dp_delta: Annotated[float | None, typer.Option(help="DP-SGD δ (default 1e-5).")] = None,
    noise_multiplier: Annotated[
        float | None, typer.Option(help="DP-SGD noise multiplier σ instead of ε.")
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print only the JSON document.")] = False,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write simulation.json here.", file_okay=False)
    ] = None,
):
    """Train platforms sampled from a scenario; measured success beside the oracle and the bounds."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from aca_games.app.cli import _console, _enable_jax_cache, _resolve, _write
    from aca_games.app.report import to_json
    from aca_games.app.scenario import load_scenario
    from aca_games.simulate import make_learner

    settings = RunSettings(
        learner, seeds, users, n_test, seed, steps, learning_rate, hidden, clip, dp_epsilon, dp_delta,
        noise_multiplier,
    )  # fmt: skip
    s = load_scenario(_resolve(scenario))
    make_learner(learner, **settings.learner_options())  # bad options fail before any work
    if out_dir is not None:
        _write(out_dir / "simulation.json")
    _enable_jax_cache()
    err = _console(stderr=True)
    with Progress(
        TextColumn("training"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True, disable=not err.is_terminal,
    ) as bar:  # fmt: skip
        task = bar.add_task("seeds", total=seeds)
        result = simulate_scenario(s, settings, progress=lambda done: bar.update(task, completed=done))
    document = to_json(result["collectives"], s, simulation=result["settings"])
    if json_:
        sys.stdout.write(document + "\n")
    else:
        out = _console()
        out.print(render(result))
        out.print(
            "[dim]measured: mean test success over seeds (95% Student-t interval); oracle: exact "
            "success of the population's ε-worst learner; bounds are lower bounds on it; "
            "population bounds held if the interval reaches them, finite-sample ones if they held "
            "on >= 1 - δ of the seeds.[/]"
        )
    if out_dir is not None:
        target = out_dir / "simulation.json"
        _write(target, document + "\n")
        if not json_:
            _console().print(f"wrote {target}", highlight=False, markup=False)
