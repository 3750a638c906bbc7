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
from typing import TYPE_CHECKING, Annotated, NamedTuple

import typer

if TYPE_CHECKING:
    from aca_games.app.scenario import Scenario

__all__ = [
    "DEFAULT_N_TEST",
    "DEFAULT_USERS",
    "Prepared",
    "RunSettings",
    "finish",
    "prepare",
    "simulate",
    "simulate_scenario",
]

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


class Prepared(NamedTuple):
    """A scenario's simulation before the runs: the platform, the learner, the resolved settings."""

    scenario: Scenario
    spec: object  #: :class:`aca_games.simulate.PlatformSpec`
    learner: object  #: a learner of :mod:`aca_games.simulate.classifiers`
    members: list[int]
    settings: dict  #: the resolved settings (users, n_test, delta, eps, learner options, ...)


def prepare(scenario: Scenario, settings: RunSettings) -> Prepared:
    """Resolve ``settings`` against ``scenario`` and build its platform and learner (all input
    checks happen here, before any run)."""
    from aca_games._errors import ACAInputError
    from aca_games.simulate import make_learner, members_of, platform_spec

    a = scenario.analysis
    users = settings.users or a.N or DEFAULT_USERS
    n_test = settings.n_test or a.n_test or DEFAULT_N_TEST
    cs = list(scenario.collectives)
    members = members_of(cs, users)
    options = settings.learner_options()
    learner = make_learner(settings.learner, **options)
    try:
        spec = platform_spec(scenario.world, cs, N=users, n_test=n_test, members=members)
    except ACAInputError as err:
        raise ACAInputError(f"--users: {err}") from None
    resolved = {
        **settings.as_dict(),
        "users": users,
        "n_test": n_test,
        "delta": a.delta or DEFAULT_DELTA,
        "eps": a.eps,
        "reading": a.reading,
        "learner_options": options,
    }
    if settings.learner == "dp-sgd":
        resolved["noise_multiplier"] = learner.noise_multiplier
    return Prepared(scenario, spec, learner, members, resolved)


def finish(prepared: Prepared, runs) -> dict:
    """``{"settings": {...}, "collectives": rows}``: the runs beside the oracle and the bounds
    (:func:`aca_games.simulate.compare.compare_runs`)."""
    from aca_games.simulate.compare import compare_runs

    s, r = prepared.scenario, prepared.settings
    rows = compare_runs(
        s.world, list(s.collectives), runs, N=r["users"], n_test=r["n_test"], members=prepared.members,
        eps=r["eps"], reading=r["reading"], delta=r["delta"],
    )  # fmt: skip
    return {"settings": r, "collectives": rows}


def simulate_scenario(scenario: Scenario, settings: RunSettings, progress=None) -> dict:
    """Simulate ``scenario`` with ``settings``: :func:`prepare`, the runs
    (:func:`aca_games.simulate.run_platforms`), :func:`finish`. ``progress(done)`` is called with
    the number of seeds finished."""
    from aca_games.simulate import run_platforms, seed_keys

    p = prepare(scenario, settings)
    keys = seed_keys(settings.seed, settings.seeds)
    return finish(p, run_platforms(p.spec, p.learner, keys, progress=progress))


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
# Options shared by `simulate` and `sweep` (one definition each).
Seeds = Annotated[int | None, typer.Option(min=1, help="Seeded platforms to train (default 32).")]
Users = Annotated[int | None, typer.Option(min=2, help="Platform users N (default: analysis.N or 100000).")]
NTest = Annotated[
    int | None, typer.Option(min=1, help="Test inputs per collective (default: analysis.n_test or 2000).")
]
Seed = Annotated[int, typer.Option(min=0, help="Base seed; seed i uses fold_in(key(seed), i).")]
Steps = Annotated[int | None, typer.Option(min=1, help="Training steps (trained learners).")]
LearningRate = Annotated[float | None, typer.Option(help="Adam learning rate.")]
Hidden = Annotated[int | None, typer.Option(min=1, help="Hidden width (mlp; dp-sgd: an mlp).")]
Clip = Annotated[float | None, typer.Option(help="DP-SGD per-example clipping norm C (1).")]
DpEpsilon = Annotated[
    float | None, typer.Option(help="DP-SGD privacy budget ε (default 1 unless --noise-multiplier).")
]
DpDelta = Annotated[float | None, typer.Option(help="DP-SGD δ (default 1e-5).")]
NoiseMultiplier = Annotated[float | None, typer.Option(help="DP-SGD noise multiplier σ instead of ε.")]


def settings_from(learner: str, *args) -> RunSettings:
    """:class:`RunSettings` from the shared options (seeds ``None`` -> 32), learner checked."""
    from aca_games.simulate import make_learner

    seeds, *rest = args
    settings = RunSettings(learner, seeds or 32, *rest)
    make_learner(learner, **settings.learner_options())  # bad options fail before any work
    return settings


def simulate(
    scenario: Annotated[str | None, typer.Argument(help="A scenario TOML file or a bundled name.")] = None,
    learner: Annotated[str, typer.Option(help=LEARNER_HELP)] = "bayes",
    seeds: Seeds = None,
    users: Users = None,
    n_test: NTest = None,
    seed: Seed = 0,
    steps: Steps = None,
    learning_rate: LearningRate = None,
    hidden: Hidden = None,
    clip: Clip = None,
    dp_epsilon: DpEpsilon = None,
    dp_delta: DpDelta = None,
    noise_multiplier: NoiseMultiplier = None,
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

    settings = settings_from(
        learner, seeds, users, n_test, seed, steps, learning_rate, hidden, clip, dp_epsilon, dp_delta,
        noise_multiplier,
    )  # fmt: skip
    s = load_scenario(_resolve(scenario))
    if out_dir is not None:
        _write(out_dir / "simulation.json")
    _enable_jax_cache()
    err = _console(stderr=True)
    with Progress(
        TextColumn("training"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True, disable=not err.is_terminal,
    ) as bar:  # fmt: skip
        task = bar.add_task("seeds", total=settings.seeds)
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
