"""Mutation testing of the core modules with mutmut 2 (issue 11; docs/verification.md §7).

    python tools/mutate.py                          # every core module (what `make mutate` runs)
    python tools/mutate.py aca_games/critical.py    # one module (`make mutate MODULE=...`)
    python tools/mutate.py --sample 0.2 MODULE      # a fixed pseudo-random 20% of the mutants
    python tools/mutate.py --fresh ...              # forget the modules' earlier results first
    python tools/mutate.py --report                 # the table of the last run, from .mutmut-cache

mutmut writes each mutant into the source file and runs a command; a mutant is *killed* when the
command fails. The command (:func:`run_tests`) runs the tests of :data:`TESTS` for the mutated
module, a subset of the default suite (``-m "not slow"``), in one pytest process, stopping at the
first failure, with a fixed hypothesis seed so that a run can be repeated. A mutant killed by the
subset is killed by the default suite with that seed, so the kill rate can only be under-counted.

Lines inside ``raise`` statements (error messages; the conditions that raise are mutated) are
skipped by :func:`pre_mutation`, the hook mutmut imports from ``mutmut_config.py``. With
``--sample f`` the hook also skips the mutants outside a fixed pseudo-random fraction ``f``
(chosen by a hash of the file, the line and the mutant's index on it, so the same ones each time):
the kill rate of a sample estimates the full one, at a fraction of the time.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The tests (files or pytest node ids) that exercise each core module; its doctests run too.
#: Keep each list short, fast tests first: every surviving mutant runs all of it.
TESTS: dict[str, list[str]] = {
    "aca_games/critical.py": [
        "tests/test_critical_mass.py",
        "tests/test_tie_rule.py::test_closed_form_critical_mass_agrees_with_the_bound",
        *(
            f"tests/test_population.py::test_{name}"
            for name in (
                "exact_critical_mass_with_eps_is_the_infimum",
                "feature_only_needs_more_than_feature_label",
                "bad_input",
                "staircase_critical_mass_is_the_smallest",
                "exact_critical_mass_is_the_smallest",
                "critical_masses_are_ordered",
            )
        ),
    ],
    "aca_games/planting.py": [
        "tests/test_oracle_reference.py",
        "tests/test_references.py",
        "tests/test_input_edges.py",
        "tests/test_finite_sample.py::test_estimated_planting_with_true_tables_is_planting",
        "tests/test_population.py::test_staircase_equals_oracle_at_zero_eps",
        "tests/test_population.py::test_closed_form_is_sound",
    ],
    "aca_games/bounds/population.py": [
        "tests/test_tie_rule.py",
        "tests/test_references.py",
        *(
            f"tests/test_population.py::test_{name}"
            for name in (
                "published_form_without_noise",
                "twice_the_size_four_times_the_noise",
                "bad_input",
                "closed_form_signs_by_grad",
                "staircase_equals_oracle_at_zero_eps",
                "closed_form_is_sound",
                "staircase_is_sound",
            )
        ),
    ],
    "aca_games/oracle.py": [
        "tests/test_oracle.py::test_size_batch_equals_loop",
        "tests/test_tie_rule.py",
        "tests/test_knapsack.py",
        "tests/test_oracle_reference.py",
        "tests/test_oracle.py",
        "tests/test_oracle_methods.py",
    ],
    "aca_games/_knapsack.py": [
        "tests/test_knapsack.py",
        "tests/test_oracle_reference.py",
        "tests/test_oracle.py",
    ],
    "aca_games/_knapsack_search.py": [
        "tests/test_knapsack.py",
        "tests/test_oracle_reference.py",
        "tests/test_oracle.py::test_huber_worst_case_matches_brute_force",
    ],
    "aca_games/bounds/multi.py": [
        "tests/test_tie_rule.py",
        "tests/test_references.py",
        "tests/test_multi.py",
    ],
    "aca_games/bounds/_partial.py": [
        "tests/test_tie_rule.py",
        "tests/test_partial.py",
        "tests/test_best_response.py",
    ],
    "aca_games/bounds/partial.py": ["tests/test_tie_rule.py", "tests/test_partial.py"],
    "aca_games/bounds/bayesian.py": [
        "tests/test_tie_rule.py",
        "tests/test_partial.py",
        "tests/test_best_response.py",
    ],
    "aca_games/bounds/finite_sample.py": [
        "tests/test_tie_rule.py",
        "tests/test_references.py::test_union_delta_matches_the_reference",
        "tests/test_finite_sample.py",
        "tests/test_simulate.py::test_every_user_submits_one_example",
    ],
    "aca_games/bounds/finite_partial.py": ["tests/test_partial.py"],
    "aca_games/bounds/smooth.py": ["tests/test_smooth.py", "tests/test_tie_rule.py"],
    "aca_games/bounds/parametric.py": ["tests/test_parametric.py"],
    "solvers/equilibrium/_regret.py": [
        "tests/test_certificates.py",
        "tests/test_pure_nash.py",
        "tests/test_two_player.py",
    ],
}

CACHE = ROOT / ".mutmut-cache"
JAX_CACHE = ROOT / ".jax-cache"


def _pytest_args(modules: list[str]) -> list[str]:
    tests = dict.fromkeys(t for m in modules for t in TESTS[m])
    return ["-x", "-q", "-p", "no:randomly", "-m", "not slow", "--hypothesis-seed=0", *modules, *tests]


def run_tests(modules: list[str]) -> int:
    """mutmut's runner: 1 if any test of ``modules`` fails (collection errors included), else 0.

    mutmut counts only exit status 1 as a kill, while pytest exits 2 when a mutant breaks the
    import of a module; both mean the default suite fails. Hypothesis gets an empty example
    database, so that no mutant is killed by an example another mutant made it save. With a
    :func:`serve` process listening (``ACA_MUTATE_SOCKET``), the tests run in a fork of it.
    """
    address = os.environ.get("ACA_MUTATE_SOCKET")
    if address:
        with socket.socket(socket.AF_UNIX) as conn:
            conn.connect(address)
            conn.sendall("\0".join(modules).encode() + b"\n")
            return int(conn.makefile().readline())
    return _pytest(modules)


def _pytest(modules: list[str]) -> int:
    import pytest

    with tempfile.TemporaryDirectory() as db:
        os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = db
        return 0 if pytest.main(_pytest_args(modules)) == 0 else 1


#: Imported once by :func:`serve` and inherited by every fork: third-party packages only, never
#: the project (a fork must import the mutated source from disk). ``import jax`` starts no
#: thread; its backend (not fork-safe) starts in the fork, at the first array.
PRELOAD = ("numpy", "scipy.optimize", "scipy.stats", "jax", "jax.numpy", "hypothesis",
           "hypothesis.extra.numpy", "pytest", "cvxpy", "highspy")


def serve(address: str) -> None:
    """Run each request's tests (module paths, NUL-separated) in a fork of a warm process: a
    mutant then costs its tests, not the ~4 s of importing JAX, pytest and hypothesis again."""
    import importlib

    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(address)
        server.listen()
        while True:
            conn, _ = server.accept()
            with conn:
                modules = conn.makefile().readline().rstrip("\n").split("\0")
                pid = os.fork()
                if pid == 0:  # the child: run, report through the exit status, never return
                    code = 1
                    try:
                        code = _pytest(modules)
                    finally:
                        os._exit(code)
                status = os.waitpid(pid, 0)[1]
                conn.sendall(f"{1 if os.waitstatus_to_exitcode(status) else 0}\n".encode())


@functools.cache
def _raise_lines(filename: str) -> frozenset[int]:
    """0-based numbers of the lines inside ``raise`` statements of a source file."""
    tree = ast.parse(Path(filename).read_text())
    return frozenset(
        line - 1
        for node in ast.walk(tree)
        if isinstance(node, ast.Raise)
        for line in range(node.lineno, node.end_lineno + 1)
    )


def _sampled(filename: str, line: str, index: int) -> bool:
    fraction = float(os.environ.get("ACA_MUTATE_SAMPLE", "1"))
    return zlib.crc32(f"{filename}:{line.strip()}:{index}".encode()) < fraction * 2**32


def pre_mutation(context) -> None:
    """mutmut hook: skip error messages and unsampled mutants; run the mutated module's tests only."""
    mid = context.mutation_id
    if context.current_line_index in _raise_lines(context.filename) or not _sampled(
        context.filename, mid.line, mid.index
    ):
        context.skip = True
        return
    context.config.test_command = _runner([os.path.relpath(context.filename, ROOT)])


def _runner(modules: list[str]) -> str:
    return " ".join([sys.executable, str(Path(__file__).relative_to(ROOT)), "--pytest", *modules])


def _mutants(filename: str) -> tuple[int, int]:
    """(mutants outside error messages, mutants in them) of the unmutated source of a module."""
    from mutmut import ALL, Context, list_mutations

    pristine = Path(filename + ".bak") if Path(filename + ".bak").exists() else Path(filename)
    ids = list_mutations(Context(source=pristine.read_text(), filename=filename, mutation_id=ALL))
    messages = sum(m.line_number in _raise_lines(str(pristine)) for m in ids)
    return len(ids) - messages, messages


def report() -> list[tuple[str, ...]]:
    """Per module mutated so far: mutants, mutants in messages, tested, killed, survived, timeout."""
    rows = sqlite3.connect(CACHE).execute(
        "SELECT s.filename, m.status, COUNT(*) FROM mutant m JOIN line l ON m.line = l.id "
        "JOIN sourcefile s ON l.sourcefile = s.id GROUP BY s.filename, m.status"
    )
    counts: dict[str, dict[str, int]] = {}
    for filename, status, n in rows:
        counts.setdefault(filename, {})[status] = n
    out = []
    for filename, c in sorted(counts.items()):
        killed = c.get("ok_killed", 0) + c.get("ok_suspicious", 0)
        survived, timeout = c.get("bad_survived", 0), c.get("bad_timeout", 0)
        out.append((filename, *_mutants(filename), killed + survived + timeout, killed, survived, timeout))
    return out


def print_report() -> None:
    columns = ("mutants", "messages", "tested", "killed", "survived", "timeout", "rate")
    print(f"{'module':<36}" + "".join(f"{c:>9}" for c in columns))
    rows = report()
    total = ("total", *(sum(r[k] for r in rows) for k in range(1, 7)))
    for row in [*rows, total]:
        tested, killed = row[3], row[4]
        rate = f"{killed / tested:.1%}" if tested else "-"
        print(f"{row[0]:<36}" + "".join(f"{n:>9}" for n in row[1:]) + f"{rate:>9}")
    print("mutants: outside error messages (the messages are not mutated); tested: all of them, or the")
    print(
        "sample; a timeout counts as not killed. After a run: `.venv/bin/mutmut results`, `mutmut show ID`."
    )


def main(argv: list[str]) -> int:
    os.chdir(ROOT)
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(JAX_CACHE))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")
    if argv[:1] == ["--pytest"]:
        return run_tests(argv[1:])
    if argv[:1] == ["--serve"]:
        serve(argv[1])
    if argv[:1] == ["--report"]:
        print_report()
        return 0
    fresh = argv[:1] == ["--fresh"]
    argv = argv[fresh:]
    if argv[:1] == ["--sample"]:
        os.environ["ACA_MUTATE_SAMPLE"] = argv[1]
        argv = argv[2:]
    modules = argv or list(TESTS)
    unknown = [m for m in modules if m not in TESTS]
    if unknown:
        print(f"no test map for {unknown}; core modules: {list(TESTS)}", file=sys.stderr)
        return 2
    # mutmut keeps a module's results while its source is unchanged: killed mutants stay killed
    # (more tests cannot revive them) and the others are retested when a test file changes.
    # Skipped mutants are always reconsidered (another --sample may take them); --fresh measures
    # the chosen modules again from scratch.
    if CACHE.exists():
        statuses = "" if fresh else " AND status = 'skipped'"
        with sqlite3.connect(CACHE) as db:
            db.execute(
                "UPDATE mutant SET status = 'untested' WHERE line IN (SELECT l.id FROM line l JOIN "
                f"sourcefile s ON l.sourcefile = s.id WHERE s.filename IN ({','.join('?' * len(modules))}))"
                + statuses,
                modules,
            )
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"  # a mutant must never leave a stale .pyc behind
    mutmut = [str(Path(sys.executable).with_name("mutmut")), "run", "--no-progress", "--simple-output"]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ACA_MUTATE_SOCKET"] = address = os.path.join(tmp, "tests.sock")
        server = subprocess.Popen([sys.executable, __file__, "--serve", address])
        try:
            while not os.path.exists(address) and server.poll() is None:
                time.sleep(0.1)
            subprocess.run(
                [*mutmut, "--paths-to-mutate", ",".join(modules), "--runner", _runner(modules)],
                check=False,
            )
        finally:
            server.terminate()
    print_report()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
