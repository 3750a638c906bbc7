"""The documentation stands alone: every relative link in README.md and docs/*.md resolves to a
file (and heading) inside the repository, and the numbers the theory page quotes are true."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

import aca_games as ag
from aca_games import bounds

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def prose(path: Path) -> str:
    """The page without its fenced code blocks and inline code (links there are not links)."""
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return re.sub(r"`[^`\n]*`", "", text)


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    found = set()
    for line in FENCE.sub("", path.read_text(encoding="utf-8")).splitlines():
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            title = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1))
            found.add(re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-"))
    return found


def relative_links(path: Path) -> list[str]:
    return [t for t in LINK.findall(prose(path)) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


def test_the_pages_exist():
    names = {p.name for p in PAGES}
    assert {"README.md", "theory.md", "verification.md", "solvers.md", "performance.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves_inside_the_repository(page):
    links = relative_links(page)
    assert links or page.name == "README.md", f"{page.name} links to nothing"
    for link in links:
        target, _, anchor = link.partition("#")
        resolved = (page.parent / target).resolve() if target else page
        assert resolved.is_relative_to(ROOT), f"{page.name}: {link} points outside the repository"
        assert resolved.exists(), f"{page.name}: {link} does not exist"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved), f"{page.name}: no heading #{anchor} in {resolved.name}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_reference_to_files_outside_the_repository(page):
    text = page.read_text(encoding="utf-8")
    assert "shared/" not in text and "THEORY.md" not in text and "PEERS.md" not in text


def test_readme_states_the_python_version_and_how_to_call_the_cli():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["requires-python"]
    assert requires == ">=3.11" and "Python ≥ 3.11" in readme
    assert ".venv/bin/aca-games" in readme and "source .venv/bin/activate" in readme
    for page in ("docs/theory.md", "docs/verification.md", "docs/solvers.md", "docs/performance.md"):
        assert f"]({page})" in readme, f"the README does not link {page}"


def test_theory_counterexamples_hold():
    """docs/theory.md §5 quotes these numbers; they are computed here with the public API."""
    text = (ROOT / "docs" / "theory.md").read_text(encoding="utf-8")
    world = ag.World(points=["x", "z"], labels=["no", "yes"], base=[[0.10, 0.22], [0, 0]],
                     landing={"g": [[0.05, 0], [0.40, 0.55]]})
    c = ag.Collective("c", 0.28, "g", target="yes")
    exact = ag.success(world, c, 0.05, "tv", sizes=[[0.28], [0.30]])[:, 0]
    np.testing.assert_allclose(exact, [1.00, 0.95], atol=1e-12)
    stairs = [float(bounds.staircase(world, c.with_size(a), 0.05, "tv")) for a in (0.28, 0.30)]
    np.testing.assert_allclose(stairs, [1.00, 0.95], atol=1e-12)
    assert "**1.00 at α = 0.28 and 0.95 at α = 0.30**" in text
    # more drop noise raises success at ε > 0: effective size 0.30 (1 - 1/15) = 0.28
    noisy = [float(ag.success(world, c.replace(size=0.30, noise=s), 0.05, "tv")[0]) for s in (0.0, 1 / 15)]
    np.testing.assert_allclose(noisy, [0.95, 1.00], atol=1e-12)
    assert "**1.00 with `σ = 1/15`**" in text

    hardt_world = ag.World(points=["x", "z"], labels=["no", "yes"], base=[[0.20, 0.30], [0.45, 0.05]],
                           landing={"g": [[0.45, 0.05], [0.20, 0.30]]})
    hardt = ag.Collective("c", 0.0, "g", target="yes", strategy="feature_only", variant="hardt")
    sizes = np.array([0.05, 0.2, 0.39, 0.41, 0.7, 0.95])[:, None]
    np.testing.assert_allclose(ag.success(hardt_world, hardt, sizes=sizes)[:, 0], [0.5] * 3 + [0.0] * 3)
    assert "**0.5 for α < 0.4 and 0 above**" in text
