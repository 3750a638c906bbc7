"""pyproject.toml: metadata that build tools accept without deprecation warnings, and a console
script that points at a real object."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text("utf-8"))


def test_license_is_an_spdx_string_with_a_setuptools_that_accepts_it():
    # setuptools < 77 rejects the string form; >= 77 warns that the table form is deprecated
    assert PYPROJECT["project"]["license"] == "MIT"
    requires = " ".join(PYPROJECT["build-system"]["requires"])
    match = re.search(r"setuptools>=(\d+)", requires)
    assert match is not None and int(match.group(1)) >= 77, requires


def test_console_script_points_at_the_cli():
    module, _, attr = PYPROJECT["project"]["scripts"]["aca-games"].partition(":")
    assert module == "aca_games.app.cli"
    assert callable(getattr(importlib.import_module(module), attr))


@pytest.mark.parametrize("package", ["aca_games", "solvers"])
def test_public_names_survive_importing_every_submodule_first(package):
    """Importing ``aca_games.x`` binds the *module* ``x`` on the package; no public name may be a
    submodule's name unless it is that module, or the lazy export is shadowed by import order
    (``solvers.best_response`` is both: the package keeps the function)."""
    import aca_games

    code = (
        f"import importlib, pkgutil, {package} as pkg\n"
        "for module, _ in pkg._EXPORTS.values():\n"
        "    importlib.import_module(module)\n"
        f"for info in pkgutil.walk_packages(pkg.__path__, '{package}.'):\n"
        "    importlib.import_module(info.name)\n"
        "for name, (module, attribute) in pkg._EXPORTS.items():\n"
        "    expected = importlib.import_module(module)\n"
        "    if attribute is not None:\n"
        "        expected = getattr(expected, attribute)\n"
        "    assert getattr(pkg, name) is expected, name\n"
    )
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert aca_games.critical_mass.__name__ == "critical_mass"


def test_import_solvers_loads_neither_jax_nor_cvxpy():
    """``import solvers`` is lazy (PEP 562): the heavy dependencies load with the first solver."""
    import subprocess
    import sys

    code = "import sys, solvers; print(sorted({'jax', 'cvxpy', 'matplotlib'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
