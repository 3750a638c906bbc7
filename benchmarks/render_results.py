"""RESULTS.md from the benchmarks' JSON files (``benchmarks/results/*.json``): nothing hand-typed.

:func:`render` writes the issue-8 targets table (target, measured value, met, the benchmark that
measured it) and then each benchmark's own table (its ``format_table``), with the command, date,
commit and machine load of the run. Earlier hand-written reports are kept in ``HISTORY.md``.
"""

from __future__ import annotations

import json
from pathlib import Path

#: Issue 8 throughput target for the exact oracle (ε = 0 public call) and user-jitted bounds.
TARGET_RATE = 2e7


def _load(folder: Path, name: str) -> dict | None:
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _yes(met) -> str:
    return {True: "yes", False: "**no**", None: "-"}[met]


def _x(v) -> str:
    return "-" if v is None else f"{v:.3g}x"


def _ms(s: float) -> str:
    return "timeout" if s == float("inf") else f"{s * 1e3:.3g} ms"


def _targets_eq(eq: dict) -> list[tuple]:
    out = []
    for r in eq["rows"]:
        if r["target"] is None:
            continue
        peer = r["peer"].split(",")[0]
        measured = f"{_x(r['speedup'])} ({r['answers']})"
        if r["workload"].startswith("mixed"):
            measured = f"ours {_ms(r['ours_s'])} vs {_ms(r['peer_s'])}; {r['answers']}"
        out.append((f"{r['workload']} vs {peer}: {r['target']}", measured, r["met"], "equilibria"))
    return out


def _targets_oracle(orc: dict) -> list[tuple]:
    out = []
    for r in orc["rows"]:
        w = r["workload"]
        if w.startswith("oracle eps=0") or w.startswith("bounds.staircase"):
            rate = r["rate"]["ours"]
            label = "exact oracle, public call, ε = 0" if w.startswith("oracle") else "jit(vmap(staircase))"
            out.append((f"{label}, batch {r['rows']}: >= {TARGET_RATE:.0e} evals/s", f"{rate:.3g}/s",
                        rate >= TARGET_RATE, "oracle"))  # fmt: skip
    return out


def _targets_startup(st: dict) -> list[tuple]:
    out = []
    for r in st["rows"]:
        if r["target_s"] is not None:
            target = f"{r['workload']} < {r['target_s']:g} s"
            out.append((target, f"{r['median_s']:.3g} s", r["met"], "startup"))
    solvers = [r for r in st["rows"] if "first_s" in r]
    if solvers:
        text = "; ".join(
            f"{r['workload'].split(': ')[1]} {r['first_s']:.2g} s / {r['warm_s'] * 1e3:.3g} ms"
            for r in solvers
        )
        out.append(("first call of each solver reported beside its warm time", text, None, "startup"))
    return out


def _targets_other(folder: Path) -> list[tuple]:
    out = []
    ex = _load(folder, "exact_oracle")
    if ex:
        big = max(ex["rows"], key=lambda r: r["points"])
        slowest = max(r["slowest_per_evaluation_s"] for r in ex["rows"] if r["points"] == big["points"])
        out.append((f"exact ε > 0 oracle < 1 s per evaluation (measured at {big['points']} points; target "
                    "at 500)", f"{slowest:.3g} s", slowest < 1.0 if big["points"] >= 500 else None,
                    "exact_oracle"))  # fmt: skip
    co = _load(folder, "coalition")
    if co:
        worst = max(r["median_s"] for r in co["rows"])
        out.append(("coalition MILP, 50 groups x 40 points < 1 s, re-checked", f"worst median {worst:.3g} s",
                    all(r["met"] for r in co["rows"]), "coalition"))  # fmt: skip
    lg = _load(folder, "large_games")
    if lg:
        hundred = next((r for r in lg["rows"] if r["n"] == 100), None)
        if hundred is None:
            measured, met = "not run at quick sizes", None
        else:
            measured = f"{hundred['first_call_s']:.3g} s, {hundred['status']}"
            met = hundred["first_call_s"] < 10 and hundred["status"] == "converged"
        out.append(("certified equilibrium of a 100-collective game < 10 s (first call)", measured, met,
                    "large_games"))  # fmt: skip
    cn = _load(folder, "continuous")
    if cn:
        ours = cn["rows"][0]["certified_s"]
        peers = [r for r in cn["rows"] if not r["solver"].startswith("ours") and r["certified_s"]]
        if peers:
            best = min(peers, key=lambda r: r["certified_s"])
            out.append(("continuous sizing: certified gap <= 1e-8 faster than NashOpt (+ our certificate)",
                        f"ours {ours * 1e3:.3g} ms vs {best['solver']} {best['certified_s'] * 1e3:.3g} ms",
                        ours < best["certified_s"], "continuous"))  # fmt: skip
    return out


def _section(name: str, doc: dict | None, status: dict | None, table: str | None) -> str:
    lines = [f"## {name}", ""]
    if status and status.get("returncode"):
        lines += [f"**Failed** (exit {status['returncode']}): `{status['command']}`", "", "```",
                  status.get("error", "").strip()[-1500:], "```", ""]  # fmt: skip
    if doc is None:
        return "\n".join(lines + ["not run", ""])
    m = doc.get("machine", {})
    load = m.get("loadavg_before"), m.get("loadavg")
    command = status["command"] if status else doc.get("command", "")
    lines += [
        f"Command: `{command}` — {doc.get('date_utc', '')} git {m.get('git_commit')}, "
        f"{m.get('platform', '')}, {m.get('cpu_count')} CPUs, load average before {load[0]} after {load[1]}.",
        "",
    ]
    if table:
        lines += [table, ""]
    return "\n".join(lines)


def _tables(folder: Path) -> dict[str, str | None]:
    """Each benchmark's own table, from its module's formatter."""
    tables: dict[str, str | None] = {}
    docs = {name: _load(folder, name) for name in
            ("startup", "equilibria", "oracle", "exact_oracle", "continuous", "coalition", "large_games",
             "simulate")}
    if docs["startup"]:
        from benchmarks import bench_startup

        tables["startup"] = bench_startup.format_table(docs["startup"]["rows"])
    if docs["equilibria"]:
        from benchmarks import bench_equilibria

        tables["equilibria"] = bench_equilibria.format_table(docs["equilibria"]["rows"])
    if docs["oracle"]:
        from benchmarks import bench_oracle

        tables["oracle"] = bench_oracle.format_table(docs["oracle"]["rows"])
    if docs["exact_oracle"]:
        from benchmarks import bench_exact_oracle

        tables["exact_oracle"] = bench_exact_oracle.format_table(docs["exact_oracle"]["rows"])
    if docs["continuous"]:
        from benchmarks import bench_continuous

        tables["continuous"] = "```\n" + bench_continuous.format_report(docs["continuous"]) + "\n```"
    for name, key in (("coalition", "rows"), ("large_games", "rows"), ("simulate", "seeds"),
                      ("simulate_sweep", "sweep")):  # fmt: skip
        doc = docs["simulate" if name.startswith("simulate") else name]
        if doc and doc.get(key):
            tables[name] = _dict_table(doc[key])
    if "simulate_sweep" in tables:
        tables["simulate"] = (tables.get("simulate") or "") + "\n\n" + tables.pop("simulate_sweep")
    return tables


def _dict_table(rows: list[dict]) -> str:
    keys = list(rows[0])
    fmt = lambda v: f"{v:.3g}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt(r.get(k)) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


TITLES = {
    "startup": "Start-up (`benchmarks/bench_startup.py`)",
    "equilibria": "Equilibria vs QuantEcon, pygambit (`benchmarks/bench_equilibria.py`)",
    "oracle": "Oracle and bounds throughput (`benchmarks/bench_oracle.py`)",
    "exact_oracle": "Exact ε > 0 oracle (`benchmarks/bench_exact_oracle.py`)",
    "continuous": "Continuous sizing games vs NashOpt (`benchmarks/bench_continuous.py`)",
    "coalition": "Coalition MILP (`benchmarks/bench_coalition.py`)",
    "large_games": "Large games, find_equilibrium (`benchmarks/bench_large_games.py`)",
    "simulate": "Trained platforms and sweeps (`benchmarks/bench_simulate.py`)",
}


def render(folder: Path, status: dict) -> str:
    targets = []
    extractors = {"startup": _targets_startup, "equilibria": _targets_eq, "oracle": _targets_oracle}
    for name, extract in extractors.items():
        doc = _load(folder, name)
        if doc:
            targets += extract(doc)
    targets += _targets_other(folder)
    full = all("--quick" not in s["command"] for s in status.values())
    lines = [
        "# Benchmark results",
        "",
        "Generated by `make bench` (`python -m benchmarks.run_all`) from `benchmarks/results/*.json`; do not "
        "edit by hand. " + ("Full sizes (`make bench FULL=1`)." if full else
                            "Quick sizes (`make bench`; `make bench FULL=1` for full sizes)."),
        "Every answer is checked (equal sets, our NashConv, or agreement with a reference) before timing; "
        "ratios are warm medians interleaved in one process. The machine has 2 cores shared with other "
        "jobs: the load average of each run is shown. Earlier hand-written reports: `HISTORY.md`.",
        "",
        "## Targets (issue 8, DESIGN.md)",
        "",
        "| target | measured | met | benchmark |",
        "|---|---|---|---|",
    ]
    lines += [f"| {t} | {m} | {_yes(ok)} | {b} |" for t, m, ok, b in targets]
    lines.append("")
    tables = _tables(folder)
    for name, title in TITLES.items():
        lines.append(_section(title, _load(folder, name), status.get(name), tables.get(name)))
    return "\n".join(lines)
