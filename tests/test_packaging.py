"""pyproject.toml: metadata that build tools accept without deprecation warnings, and a console
script that points at a real object."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

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
