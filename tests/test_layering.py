"""The one-way arrow model <- algorithms <- application (DESIGN "Layout"), read from the source.

Outside :mod:`aca_games.app`, no module of :mod:`aca_games` imports :mod:`solvers`; :mod:`solvers`
never imports :mod:`aca_games.app`. Imports are parsed with :mod:`ast` (function-level and
``TYPE_CHECKING`` imports included), so a lazy import cannot hide a reversed arrow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    """Every absolute module name ``path`` imports, anywhere in the file (relative imports are
    resolved against the file's package)."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def violations(folder: str, forbidden: str, allowed: str | None = None) -> list[str]:
    """``file: module`` for every import of ``forbidden`` (or a submodule) under ``folder``,
    skipping files under ``allowed``."""
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if allowed is not None and rel.startswith(allowed):
            continue
        for name in sorted(imported_modules(path)):
            if name == forbidden or name.startswith(forbidden + "."):
                found.append(f"{rel}: {name}")
    return found


def test_model_never_imports_solvers():
    assert violations("aca_games", "solvers", allowed="aca_games/app/") == []


def test_solvers_never_import_the_application_layer():
    assert violations("solvers", "aca_games.app") == []


def test_the_application_layer_is_what_imports_solvers():
    # the check above is not vacuous: the application layer does import the solvers
    assert violations("aca_games/app", "solvers")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import solvers", "solvers"),
        ("def f():\n    from solvers.coalition import min_joint_sizes", "solvers.coalition"),
        ("from aca_games import app", "aca_games.app"),
        ("from .app import cli", "aca_games.app"),
    ],
)
def test_imports_are_found_anywhere_in_a_file(tmp_path, monkeypatch, source, expected):
    folder = tmp_path / "aca_games"
    folder.mkdir()
    (folder / "mod.py").write_text(source + "\n", encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert expected in imported_modules(folder / "mod.py")
