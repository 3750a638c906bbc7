"""Sweeps: a scenario evaluated on a grid of field values, every cell stored as it finishes.

A :class:`Sweep` is planned (and fully checked) by :func:`plan_sweep` before any work: the grid
(:mod:`aca_games.app.grid`), every cell's scenario, and with a learner every cell's platform.
:func:`run_sweep` then runs the cells not yet in the results file (:mod:`aca_games.results`) in
chunks, each chunk a task for a ``concurrent.futures`` executor (a local process pool, a Dask
cluster's executor, or none: in this process), and writes every finished cell in its own
transaction as its chunk comes back. Re-running the same sweep resumes: finished cells are skipped
by key, so no cell is lost or repeated.

**A cell** holds, per collective (:func:`predictions`): the exact success with every collective
acting and alone, the single-collective bounds (closed form, staircase, finite sample with the
population plugged in) and critical masses of :func:`aca_games.app.report.single_collective_report`,
and the multi-collective bounds of :func:`aca_games.app.report.together_report`. With a learner it
also holds the trained platforms' measured success beside the oracle and the bounds at the
simulated shares (:mod:`aca_games.simulate.compare`), under ``trained``.

**Vectorisation.** Inside a chunk, the trained runs of all cells whose platforms share a shape go
through one call vmapped over cells and seeds (:func:`aca_games.simulate.runs.run_cells`, fixed
chunks of 8 cells and 16 seeds, so a cell's numbers do not depend on which chunk, executor or
resumed run computed it). The oracle and the bounds are evaluated cell by cell (each is one small
jitted call; the exact critical mass, a search over sizes, dominates their cost). Cells of one
chunk are checked to share a learner; the seeds of every cell are the same keys (common random
numbers across the grid). Because the vmapped program differs from the single-platform one, a
cell's trained numbers equal ``aca-games simulate``'s for the same scenario up to float rounding
(rarely a single draw differs), not bit for bit.
"""

from __future__ import annotations

import math
import os
import time
import tomllib
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from aca_games._errors import ACAInputError
from aca_games.app.grid import Axis, apply_params, parse_axis, plan_cells
from aca_games.app.simulate_cmd import RunSettings
from aca_games.results import Store, cell_key

__all__ = ["Sweep", "SweepSummary", "plan_sweep", "predictions", "run_chunk", "run_sweep"]


@dataclass(frozen=True)
class Sweep:
    """A checked sweep: the parsed scenario file, the grid and its cells with their keys."""

    source: str
    data: dict
    axes: tuple[Axis, ...]
    settings: RunSettings | None
    cells: tuple[dict, ...]
    keys: tuple[str, ...]
    id: str  #: hash of the scenario file, the grid and the settings

    def settings_dict(self) -> dict | None:
        return None if self.settings is None else self.settings.as_dict()


@dataclass(frozen=True)
class SweepSummary:
    """What :func:`run_sweep` did."""

    cells: int  #: cells in the grid
    skipped: int  #: already in the results file
    ran: int  #: computed and written now
    errors: int  #: of those, cells that stopped on an input error (stored with the message)


def plan_sweep(scenario_path: str | Path, grid: Sequence[str], settings: RunSettings | None) -> Sweep:
    """Read the scenario file, parse and check the grid (every cell's scenario, and with
    ``settings`` every cell's platform and learner). Raises :class:`ACAInputError` before any
    work on a bad file, grid or setting."""
    from aca_games.app.scenario import load_scenario, scenario_from_dict

    load_scenario(scenario_path)  # the file's own problems, reported as usual
    source = str(scenario_path)
    data = tomllib.loads(Path(scenario_path).read_text(encoding="utf-8"))
    axes = tuple(parse_axis(g) for g in grid)
    cells = plan_cells(data, axes, source)
    if settings is not None:
        from aca_games.app.simulate_cmd import prepare

        for params in cells:
            try:
                prepare(scenario_from_dict(apply_params(data, params), source=source), settings)
            except ACAInputError as err:
                where = ", ".join(f"{k}={val!r}" for k, val in params.items())
                raise ACAInputError(f"--grid {where}: {err}") from None
    plain = None if settings is None else settings.as_dict()
    keys = tuple(cell_key(data, params, plain) for params in cells)
    sweep_id = cell_key(data, {"axes": [[a.path, list(a.values)] for a in axes]}, plain)[:16]
    return Sweep(source, data, axes, settings, tuple(cells), keys, sweep_id)


def predictions(scenario) -> dict:
    """The oracle and every bound for each collective of ``scenario`` (module docstring):
    ``{name: {"size", "success", "success_alone", "meets_target", "bounds", "critical_mass",
    "per_point", "multi_closed_form", "bloc", "notes"}}``."""
    from aca_games.app.report import single_collective_report, together_report

    together = together_report(scenario)["rows"]
    out = {}
    for row, joint in zip(single_collective_report(scenario), together, strict=True):
        out[row["name"]] = {
            "size": row["size"],
            "success": row["success_together"],
            "success_alone": row["success"],
            "meets_target": row["meets_target"],
            "bounds": row["bounds"],
            "critical_mass": row["critical_mass"],
            **{k: joint[k] for k in ("per_point", "multi_closed_form", "bloc")},
            "notes": "; ".join(row["notes"]) or None,
        }
    return out


_CACHE_READY = False


def run_chunk(data: dict, source: str, cells: Sequence[tuple[int, str, dict]], settings: dict | None) -> list:
    """Compute a chunk of cells (the executor's task; a top-level function so it pickles).

    Returns ``[(position, key, params, result, error, seconds)]``; an input error in a cell is
    returned as its ``error`` (a cell is deterministic, so retrying it would fail the same way).
    """
    global _CACHE_READY
    from aca_games.app.scenario import scenario_from_dict
    from aca_games.app.simulate_cmd import prepare

    if not _CACHE_READY:  # workers share the CLI's on-disk compilation cache
        from aca_games.app.cli import _enable_jax_cache

        _enable_jax_cache()
        _CACHE_READY = True
    run = RunSettings(**settings) if settings is not None else None
    done, prepared = [], []
    for position, key, params in cells:
        start = time.perf_counter()
        try:
            scenario = scenario_from_dict(apply_params(data, params), source=source)
            result = {"collectives": predictions(scenario)}
            if run is not None:
                prepared.append((len(done), prepare(scenario, run)))
            done.append([position, key, params, result, None, time.perf_counter() - start])
        except ACAInputError as err:
            done.append([position, key, params, None, str(err), time.perf_counter() - start])
    if prepared:
        _add_trained(done, prepared, run)
    return [tuple(d) for d in done]


def _add_trained(done: list, prepared: list, run: RunSettings) -> None:
    """The trained runs of the prepared cells, grouped by platform shape, one vmapped call each."""
    import jax

    from aca_games.app.simulate_cmd import finish
    from aca_games.simulate import seed_keys
    from aca_games.simulate.runs import run_cells

    keys = seed_keys(run.seed, run.seeds)
    groups: dict = {}
    for index, p in prepared:
        groups.setdefault(str(jax.tree.map(lambda x: x.shape, p.spec)), []).append((index, p))
    for members in groups.values():
        start = time.perf_counter()
        runs = run_cells([p.spec for _, p in members], members[0][1].learner, keys)
        for (index, p), r in zip(members, runs, strict=True):
            trained = finish(p, r)
            for row in trained["collectives"]:
                done[index][3]["collectives"][row.pop("name")]["trained"] = row
            done[index][3]["trained_settings"] = trained["settings"]
        share = (time.perf_counter() - start) / len(members)
        for index, _ in members:
            done[index][5] += share


def run_sweep(
    sweep: Sweep,
    db: str | Path,
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    chunk: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepSummary:
    """Run the cells of ``sweep`` not yet in ``db`` and write each as it finishes.

    Args:
        sweep: from :func:`plan_sweep`.
        db: the SQLite results file (created if missing; :mod:`aca_games.results`).
        executor: where chunks run (e.g. a Dask client's ``get_executor()``); default a local
            process pool of ``workers`` processes, or this process if ``workers == 0``.
        workers: pool size (default: the number of CPUs).
        chunk: cells per task (default: up to 8, so that every worker gets a few tasks).
        progress: called with ``(finished cells, all cells)`` after every chunk.
    """
    with Store(db) as store:
        done = store.finished(sweep.keys)
        pending = [
            (i, k, p) for i, (k, p) in enumerate(zip(sweep.keys, sweep.cells, strict=True)) if k not in done
        ]
        total, finished, errors = len(sweep.cells), len(sweep.cells) - len(pending), 0
        if progress is not None:
            progress(finished, total)
        if workers is None:
            workers = os.cpu_count() or 1
        if workers < 0:
            raise ACAInputError(f"--workers: {workers} is negative; give 0 (this process) or more")
        if chunk is not None and chunk < 1:
            raise ACAInputError(f"--chunk: {chunk} must be >= 1 (cells per task)")
        size = chunk or max(1, min(8, math.ceil(len(pending) / (2 * max(workers, 1)))))
        tasks = [pending[i : i + size] for i in range(0, len(pending), size)]
        args = (sweep.data, sweep.source)
        settings = sweep.settings_dict()

        def record(rows) -> None:
            nonlocal finished, errors
            for position, key, params, result, error, seconds in rows:
                store.write(key, sweep.id, position, params, settings, result, error, seconds)
                errors += error is not None
            finished += len(rows)
            if progress is not None:
                progress(finished, total)

        if not tasks:
            pass
        elif executor is None and workers == 0:
            for task in tasks:
                record(run_chunk(*args, task, settings))
        else:
            own = executor is None
            if own:
                import multiprocessing

                spawn = multiprocessing.get_context("spawn")  # JAX is not fork-safe
                executor = ProcessPoolExecutor(min(workers, len(tasks)), mp_context=spawn)
            try:
                futures = [executor.submit(run_chunk, *args, task, settings) for task in tasks]
                for future in as_completed(futures):
                    record(future.result())
            finally:
                if own:
                    executor.shutdown(wait=True, cancel_futures=True)
    return SweepSummary(total, total - len(pending), len(pending), errors)
