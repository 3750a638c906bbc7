"""Reproductions of the founding papers' headline results, as seeded synthetic analogues.

Each reproduction (specified in the module that holds it) is a function ``run(quick: bool) ->
Reproduction``: it builds a seeded world, trains the same *kind* of learner as the paper (vmapped
over seeds), measures the paper's metric and returns a figure and a JSON document whose
``headline`` holds ``metric``, ``value`` (computed by the run), ``published`` (the paper's number,
or ``None`` where none could be read) and ``notes`` (how the analogue differs from the paper).
``quick=True`` is a reduced size that finishes in well under two minutes on 2 cores; the full size
is stated in the document's ``size``.

:data:`REPRODUCTIONS` maps each name to its module; :func:`reproduce` runs one and
:func:`write` stores ``NAME.json``, ``NAME.png`` and ``NAME.svg``.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from aca_games._errors import ACAInputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["REPRODUCTIONS", "Reproduction", "reproduce", "write"]

#: name -> (module in this package, one-line summary).
REPRODUCTIONS = {
    "hmmz23": ("platforms", "success vs size of a trained classifier, unique vs less unique signal [HMMZ23]"),
    "kkvs25": ("platforms", "success sinking under coordination noise; 2x size vs 4x noise [KKVS25]"),
    "kvks25": (
        "platforms",
        "one collective's efficacy falling when a second acts on a colliding signal [KVKS25]",
    ),
    "sbac25": ("platforms", "critical mass growing as DP-SGD privacy tightens [SBAC25]"),
    "gbj25": (
        "finite",
        "finite-sample bound tightening as the platform grows; critical fraction at N = 1M [GBJ25]",
    ),
    "bmd24": ("recsys", "song amplification vs collective size: DirLoF, InClust, random [BMD24]"),
}


class Reproduction(NamedTuple):
    """One run's document (JSON-ready) and figure."""

    document: dict
    figure: Figure


def headline(metric: str, value, published, notes: str) -> dict:
    """The ``headline`` object (module docstring); ``value`` is rounded to 6 significant digits."""
    value = None if value is None else float(f"{float(value):.6g}")
    return {"metric": metric, "value": value, "published": published, "notes": notes}


def reproduce(name: str, quick: bool = False) -> Reproduction:
    """Run reproduction ``name`` (a key of :data:`REPRODUCTIONS`)."""
    if name not in REPRODUCTIONS:
        raise ACAInputError(
            f"reproduction: unknown name {name!r}; choose one of {', '.join(REPRODUCTIONS)} "
            "(aca-games reproduce --list)"
        )
    module = importlib.import_module(f"aca_games.app.reproduce.{REPRODUCTIONS[name][0]}")
    result = getattr(module, name)(quick)
    result.document.update({"reproduction": name, "quick": bool(quick)})
    return result


def write(name: str, result: Reproduction, out_dir: Path) -> list[Path]:
    """Write ``NAME.json``, ``NAME.png`` and ``NAME.svg`` into ``out_dir`` (created if needed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.json", out_dir / f"{name}.png", out_dir / f"{name}.svg"]
    paths[0].write_text(json.dumps(result.document, indent=2) + "\n")
    result.figure.savefig(paths[1], dpi=120)
    result.figure.savefig(paths[2])
    return paths
