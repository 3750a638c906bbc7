"""``aca-games sweep``: a scenario on a grid of field values, resumable, on one machine or a cluster.

``aca-games sweep SCENARIO --grid PATH=VALUES [--grid ...] --db FILE [--learner L --seeds K
--users N ...] [--workers W | --scheduler ADDRESS] [--chunk C] [--json]``

* ``--grid collectives[0].size=0.01:0.1:10`` (``start:stop:num``) or ``analysis.eps=0,0.01,0.05``
  (a list); several ``--grid`` options make a product grid (:mod:`aca_games.app.grid`). A bad grid
  (empty, unknown path, index past the end, value out of range) fails before any work, exit code 2.
* Without ``--learner`` a cell holds the exact oracle and the bounds; with it, also the trained
  platforms' measured success (the options of ``aca-games simulate``).
* Results go to the SQLite file ``--db``, one row per finished cell; run the same command again to
  resume. Read them with ``aca_games.results.load(FILE)`` (a pandas DataFrame).
* Cells run in a local process pool of ``--workers`` processes (default: one per CPU; ``0`` runs
  them in this process), or on a Dask cluster with ``--scheduler ADDRESS`` (install
  ``aca-games[distributed]``). Start a cluster with ``dask scheduler`` on one machine (it prints
  its address, e.g. ``tcp://10.0.0.5:8786``) and ``dask worker tcp://10.0.0.5:8786`` on each
  machine that has aca-games installed; the results file stays on the machine running the sweep.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from aca_games.app.simulate_cmd import (
    LEARNER_HELP,
    Clip,
    DpDelta,
    DpEpsilon,
    Hidden,
    LearningRate,
    NoiseMultiplier,
    NTest,
    Seed,
    Seeds,
    Steps,
    Users,
)

__all__ = ["dask_executor", "sweep"]

GRID_HELP = (
    "PATH=VALUES: a scenario field path (collectives[0].size, analysis.eps, collectives[1].noise) and "
    "a,b,c or start:stop:num. Repeat for a product grid."
)


def dask_executor(address: str):
    """``(client, executor)`` for a Dask scheduler at ``address``; a clear error if Dask is missing
    or the scheduler cannot be reached."""
    from aca_games._errors import ACAInputError

    try:
        from distributed import Client
    except ImportError:
        raise ACAInputError(
            "--scheduler: Dask is not installed; pip install 'aca-games[distributed]'"
        ) from None
    try:
        client = Client(address, timeout=20)
    except (OSError, TimeoutError, ValueError) as err:
        raise ACAInputError(
            f"--scheduler: cannot reach a Dask scheduler at {address} ({err}); start one with "
            "`dask scheduler` and workers with `dask worker ADDRESS`"
        ) from None
    return client, client.get_executor()


def sweep(
    scenario: Annotated[str, typer.Argument(help="A scenario TOML file or a bundled name.")],
    grid: Annotated[list[str] | None, typer.Option(help=GRID_HELP)] = None,
    db: Annotated[
        Path | None, typer.Option(help="SQLite results file (created, or resumed).", dir_okay=False)
    ] = None,
    learner: Annotated[str | None, typer.Option(help="Train platforms too: " + LEARNER_HELP)] = None,
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
    workers: Annotated[
        int | None, typer.Option(min=0, help="Local worker processes (default: CPUs; 0: this process).")
    ] = None,
    chunk: Annotated[int | None, typer.Option(min=1, help="Cells per task (default: up to 8).")] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Run on a Dask cluster: the scheduler's address, tcp://host:8786.")
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print only a JSON summary.")] = False,
):
    """Evaluate a scenario on a grid of field values; every cell is stored in an SQLite file."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from aca_games._errors import ACAInputError
    from aca_games.app.cli import _console, _resolve
    from aca_games.app.simulate_cmd import settings_from
    from aca_games.app.sweep import plan_sweep, run_sweep

    options = (seeds, users, n_test, seed, steps, learning_rate, hidden, clip, dp_epsilon, dp_delta,
               noise_multiplier)  # fmt: skip
    if learner is None:
        given = [o for o, val in zip(_LEARNER_OPTIONS, options, strict=True) if val not in (None, 0)]
        if given:
            raise ACAInputError(f"{given[0]}: a learner option without --learner; add --learner bayes|...")
        settings = None
    else:
        settings = settings_from(learner, *options)
    plan = plan_sweep(_resolve(scenario), grid or [], settings)
    if db is None:
        raise ACAInputError("--db: no results file; add --db FILE (a new file, or one to resume)")
    client = executor = None
    if scheduler is not None:
        client, executor = dask_executor(scheduler)
    err = _console(stderr=True)
    start = time.perf_counter()
    try:
        with Progress(
            TextColumn("cells"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=err, transient=True, disable=not err.is_terminal,
        ) as bar:  # fmt: skip
            task = bar.add_task("cells", total=len(plan.cells))
            summary = run_sweep(
                plan, db, executor=executor, workers=workers, chunk=chunk,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )  # fmt: skip
    finally:
        if client is not None:
            client.close()
    seconds = time.perf_counter() - start
    if json_:
        import json

        doc = {"db": str(db), "sweep": plan.id, **vars(summary), "seconds": round(seconds, 3)}
        sys.stdout.write(json.dumps(doc) + "\n")
        return
    _console().print(
        f"sweep {plan.id}: {summary.cells} cells; {summary.skipped} already in {db}, {summary.ran} "
        f"computed ({summary.errors} with input errors) in {seconds:.1f} s. "
        f"Load them with aca_games.results.load({str(db)!r}).",
        highlight=False, markup=False, soft_wrap=True,
    )  # fmt: skip


_LEARNER_OPTIONS = ("--seeds", "--users", "--n-test", "--seed", "--steps", "--learning-rate", "--hidden",
                    "--clip", "--dp-epsilon", "--dp-delta", "--noise-multiplier")  # fmt: skip
