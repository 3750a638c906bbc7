"""The README's Python example and docs/testing.md's example run and print what they claim."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def test_readme_example_prints_its_comments():
    block = _python_blocks(ROOT / "README.md")[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(block, {})  # the README's own example
    lines = out.getvalue().splitlines()
    comments = re.findall(r"print\(.*?\)\s+# (.*)", block)
    checked = 0
    for line, comment in zip(lines, comments, strict=False):  # the last print spans two lines
        for number in re.findall(r"-?\d+\.\d+", comment):
            assert number in line, (line, comment)
            checked += 1
    assert checked >= 5  # oracle, staircase, closed form, critical mass, externality


def test_testing_guide_example_runs():
    namespace: dict = {}
    exec(_python_blocks(ROOT / "docs" / "testing.md")[0], namespace)
    tests = [f for name, f in namespace.items() if name.startswith("test_")]
    assert len(tests) == 2
    for test in tests:
        test()  # hypothesis runs each over the active profile's examples
