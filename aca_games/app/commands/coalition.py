"""``aca-games coalition SCENARIO --target 0.9``: how large must the collectives be, together?

Two questions, each answered by a solver whose answer is re-checked with the exact oracle:

* **Minimum joint sizes** (:func:`solvers.min_joint_sizes`, via
  :func:`aca_games.app.game_report.coalition_report`): the smallest total size at which every
  collective of the scenario, acting together with its configured signal and label, meets the
  target: a MILP on the multi-collective staircase (per-point) bound and, for planting strategies,
  an LP on the aggregative closed form B1. Both bounds are lower bounds on success, so these sizes
  are *sufficient*; the exact minimum may be smaller.
* **Coalition formation** (:func:`solvers.form_coalition`): which collectives should merge into one
  bloc planting a common label, each contributing at most its cap (version 2: the largest size on
  its menu; version 1: its size), at minimum total size.
"""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from aca_games.app.commands._common import (
    EpsOpt,
    JsonOpt,
    OutOpt,
    ReadingOpt,
    ScenarioArg,
    TargetOpt,
    answer,
    fail_on_errors,
    header,
    measured,
    success_method,
)

NAME = "coalition"
JOINT_METHODS = {
    "staircase": "MILP on the multi-collective staircase (per-point) lower bound [GBJ25, BGNAD25], "
    "HiGHS; sufficient sizes, rounded up to 1e-6",
    "closed_form": "LP on the aggregative closed-form lower bound B1 [BGNAD25], HiGHS; "
    "sufficient sizes, rounded up to 1e-6",
}
FORMATION_METHOD = (
    "MILP per common label on the per-point lower bound of the pooled bloc [GBJ25, BGNAD25], HiGHS; "
    "sufficient sizes"
)


@fail_on_errors
def command(
    scenario: ScenarioArg = None,
    target: TargetOpt = None,
    eps: EpsOpt = None,
    reading: ReadingOpt = None,
    json_: JsonOpt = False,
    out_dir: OutOpt = None,
):
    """Minimum joint sizes for every collective to meet the target, and the best bloc to form."""
    answer(
        NAME,
        scenario,
        compute,
        render,
        as_json=json_,
        out_dir=out_dir,
        eps=eps,
        reading=reading,
        target=target,
        status="sizing the coalition (LP / MILP)...",
    )


def compute(s) -> dict:
    """Joint sizes and coalition formation as a JSON-ready document (see the module docstring)."""
    import jax.numpy as jnp

    from aca_games import success
    from aca_games.app.game_report import coalition_report

    a, cs = s.analysis, list(s.collectives)
    learner = {"eps": a.eps, "reading": a.reading}
    oracle = success_method(a.eps)
    joint = []
    for bound, r in coalition_report(s).items():
        entry = {"bound": bound, "status": r["status"], "reason": r["reason"]}
        if r["sizes"] is not None:
            sizes = [r["sizes"][c.name] for c in cs]
            reached = success(s.world, cs, sizes=jnp.asarray(sizes), **learner)
            entry |= {
                "sizes": measured(r["sizes"], JOINT_METHODS[bound]),
                "total": measured(r["total"], JOINT_METHODS[bound]),
                "success_at_sizes": measured(_by_name(cs, reached), oracle),
            }
        joint.append(entry)
    if len(joint) == 1:
        joint.append(
            {
                "bound": "closed_form",
                "status": "not applicable",
                "reason": "B1 covers planting strategies only",
            }
        )
    return header(NAME, s) | {
        "target_success": a.target_success,
        "joint_sizes": joint,
        "formation": _formation(s, oracle, learner),
    }


def _formation(s, oracle: str, learner: dict) -> dict:
    import solvers

    cs = list(s.collectives)
    if any(c.strategy not in ("feature_label", "feature_only") for c in cs):
        return {
            "status": "not applicable",
            "reason": "a bloc plants one common label: planting strategies only",
        }
    if s.players:
        caps = [max(float(o.size) for o in p.options) for p in s.players]
    else:
        caps = [float(c.size) for c in cs]
    sol = solvers.form_coalition(s.world, cs, caps, s.analysis.target_success, **learner)
    out = {"status": sol.status, "caps": {c.name: cap for c, cap in zip(cs, caps, strict=True)}}
    if sol.value is None:
        return out | {"reason": sol.stats.get("reason")}
    v = sol.value
    return out | {
        "selected": v["selected"],
        "label": v["label"],
        "sizes": measured(v["sizes"], FORMATION_METHOD),
        "total": measured(v["total"], FORMATION_METHOD),
        "success_at_sizes": measured(sol.certificate["oracle"], oracle),
    }


def _by_name(cs, values) -> dict[str, float]:
    return {c.name: float(x) for c, x in zip(cs, values, strict=True)}


def render(doc: dict) -> list:
    """A table of joint sizes per bound, then the bloc to form."""
    table = Table(
        title=f"Minimum joint sizes: every collective meets the target {doc['target_success']:g} together",
        title_justify="left",
        header_style="bold",
    )
    for column in ("bound", "status", "total", "sizes (exact success there)"):
        table.add_column(column, justify="right" if column == "total" else "left")
    for r in doc["joint_sizes"]:
        if "sizes" in r:
            reached = r["success_at_sizes"]["value"]
            cells = ", ".join(
                f"{escape(n)} {x:.6f} ({reached[n]:.3f})" for n, x in r["sizes"]["value"].items()
            )
            table.add_row(r["bound"].replace("_", " "), r["status"], f"{r['total']['value']:.4f}", cells)
        else:
            table.add_row(r["bound"].replace("_", " "), r["status"], "-", escape(str(r.get("reason") or "")))
    f = doc["formation"]
    if "selected" in f:
        sizes = ", ".join(f"{escape(n)} {x:.6f}" for n, x in f["sizes"]["value"].items())
        line = (
            f"Best bloc: {escape(', '.join(f['selected']))} planting {escape(f['label'])}, total "
            f"{f['total']['value']:.4f} ({sizes})"
        )
    else:
        line = f"Coalition formation: {f['status']} ({escape(str(f.get('reason') or ''))})"
    return [
        table,
        "[dim]sizes suffice under a lower bound on success (the exact minimum may be smaller); "
        "success in brackets: the exact oracle at those sizes[/]",
        line,
    ]
