"""``aca-games reproduce``: the founding papers' headline results as synthetic analogues.

``aca-games reproduce --list`` lists the reproductions; ``aca-games reproduce NAME [--quick]
[--out DIR] [--json]`` runs one (:mod:`aca_games.app.reproduce`) and prints its headline (metric,
value computed by the run, the published number, notes). ``--out DIR`` writes ``DIR/NAME.json``
and the figure ``DIR/NAME.png``/``.svg``; ``--json`` prints only the JSON document.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from aca_games._errors import ACAInputError


def reproduce(
    name: Annotated[str | None, typer.Argument(help="A reproduction (see --list).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the reproductions and exit.")] = False,
    quick: Annotated[
        bool, typer.Option("--quick", help="Reduced size (under two minutes on 2 cores).")
    ] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print only the JSON document.")] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Write NAME.json, NAME.png and NAME.svg here.", file_okay=False),
    ] = None,
):
    """Reproduce a founding paper's headline result (a seeded synthetic analogue)."""
    from aca_games.app.commands._common import console, enable_jax_cache
    from aca_games.app.reproduce import REPRODUCTIONS, reproduce, write

    out = console()
    if list_:
        for key, (_, summary) in REPRODUCTIONS.items():
            out.print(f"{key:8s} {summary}", highlight=False, markup=False)
        return
    if name is None:
        raise ACAInputError("reproduce: give a NAME (one of " + ", ".join(REPRODUCTIONS) + ") or --list")
    if name not in REPRODUCTIONS:
        raise ACAInputError(f"reproduce: unknown name {name!r}; choose one of {', '.join(REPRODUCTIONS)}")
    enable_jax_cache()
    if json_:
        result = reproduce(name, quick=quick)
    else:
        with console(stderr=True).status(f"reproducing {name}{' (quick)' if quick else ''}..."):
            result = reproduce(name, quick=quick)
    if out_dir is not None:
        try:
            paths = write(name, result, out_dir)
        except OSError as e:
            raise ACAInputError(
                f"--out: cannot write to {out_dir} ({e.strerror}); pick a writable folder"
            ) from None
    if json_:
        sys.stdout.write(json.dumps(result.document, indent=2) + "\n")
        return
    h = result.document["headline"]
    out.print(f"[bold]{name}[/] ({result.document['size']})", highlight=False)
    out.print(f"{h['metric']}: {h['value']} (published: {h['published']})", highlight=False, markup=False)
    out.print(h["notes"], style="dim", highlight=False, markup=False)
    if out_dir is not None:
        out.print("wrote " + ", ".join(str(p) for p in paths), highlight=False, markup=False)
