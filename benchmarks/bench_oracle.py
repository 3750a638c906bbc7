"""Exact oracle and population bounds against hand-written numpy, in one process.

DESIGN.md ("Performance — measured, as ratios in one run") targets the exact oracle and the bounds
at ``>= 1e7`` collective evaluations per second on 2 cores, and within 3x of a hand-written numpy
loop-free baseline. One *evaluation* is one collective's success (or bound) for one size vector.

Workloads (random world: ``P`` relevant points, ``L`` labels, ``K`` feature-label collectives with
distinct signals and targets ``k mod L``; ``B`` random size vectors with ``Σ α < 0.95``):

* ``oracle eps=0``: :func:`aca_games.oracle.success` on the whole batch (public call, as a user
  writes it) and the jitted kernel ``aca_games.oracle._success_batch`` without Python overhead;
* ``worst eps=...``: the worst case over ``ε``-suboptimal learners, both readings, ``exact`` and
  ``greedy``, on a smaller batch; numpy baselines exist for the huber reading only (the tv costs
  are a per-point LP, not re-implemented here);
* ``staircase`` / ``closed_form``: :mod:`aca_games.bounds` vmapped over the size of collective 0,
  ``jax.jit(jax.vmap(lambda a: staircase(world, c.with_size(a))))``.

Every numpy baseline is checked against ours (``np.testing.assert_allclose``) before timing. Timings
are warm medians of ``--repeats`` runs, interleaved round-robin between implementations so that
load from other processes hits all of them alike; the first call (trace + compile + one run) is
reported separately.

Diagnostic column ``ynn off``: the same jitted kernel compiled with
``compiler_options={"xla_cpu_experimental_ynn_fusion_type": ""}``, i.e. without XLA:CPU's YNNPACK
fusions (see benchmarks/RESULTS.md for why).

Run: ``python -m benchmarks.bench_oracle [--quick] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import functools
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

import aca_games  # noqa: F401  (enables float64)
from aca_games import Collective, World, oracle, plant_all
from aca_games._knapsack import TIE_TOL
from aca_games.learner import slack
from aca_games.world import split_landing

#: DESIGN.md targets.
TARGET_RATE = 1e7
TARGET_RATIO = 1 / 3

#: Agreement tolerance ours vs numpy: both sum at most P landing masses in a different order.
AGREE_ATOL = 1e-12

#: XLA:CPU option that switches the YNNPACK fusions off (diagnostic column).
NO_YNN = {"xla_cpu_experimental_ynn_fusion_type": ""}

#: Sentinel for "no such label" in the numpy baselines (same value as the library's).
NEG = -1e30


@dataclasses.dataclass(frozen=True)
class Config:
    n_points: int = 12
    n_labels: int = 3
    n_collectives: int = 3
    batch: int = 200_000
    batch_worst: int = 2_000
    eps: float = 0.02
    repeats: int = 7
    seed: int = 0
    readings: tuple[str, ...] = ("huber", "tv")
    ynn_column: bool = True
    bounds: bool = True


QUICK = dict(batch=20_000, batch_worst=200, repeats=5)


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------
def make_world(cfg: Config) -> tuple[World, list[Collective]]:
    """Random world, ``K`` feature-label collectives with distinct signals, target ``k mod L``."""
    rng = np.random.default_rng(cfg.seed)
    P, L, K = cfg.n_points, cfg.n_labels, cfg.n_collectives
    base = rng.dirichlet(np.ones(P * L + 1))[:-1].reshape(P, L)  # total < 1: mass elsewhere
    landing = {}
    for k in range(K):
        support = rng.random(P) < 0.7
        support[rng.integers(P)] = True
        table = rng.dirichlet(np.ones(P * L)).reshape(P, L) * support[:, None]
        # rows re-split with one label marginal, at least the base's: a consistent world (THEORY §1)
        marginal = base.sum(axis=0) + (1 - base.sum()) / L
        landing[f"g{k}"] = split_landing(table.sum(axis=1) / table.sum(), marginal)
    world = World(
        points=[f"p{i}" for i in range(P)],
        labels=[f"y{j}" for j in range(L)],
        base=base,
        landing=landing,
    )
    collectives = [Collective(f"c{k}", 0.1, f"g{k}", target=f"y{k % L}") for k in range(K)]
    return world, collectives


def make_sizes(cfg: Config, n_rows: int, seed_offset: int = 1) -> np.ndarray:
    """``n_rows`` size vectors of ``K`` sizes with sum below 0.95."""
    rng = np.random.default_rng(cfg.seed + seed_offset)
    return rng.dirichlet(np.ones(cfg.n_collectives + 1), size=n_rows)[:, :-1] * 0.95


# ---------------------------------------------------------------------------------------------
# Hand-written numpy baselines (loop-free: whole-batch array expressions)
# ---------------------------------------------------------------------------------------------
class NumpyOracle:
    """numpy re-implementation of the oracle from the planting tables.

    Layout is label-major, ``(L, B, K, P)``, so that the max over labels is an elementwise maximum
    of contiguous blocks (numpy's reductions over a length-3 last axis are ~2x slower); the
    training mass ``P = α_0 P0 + Σ_j α_j E_j`` is one ``(B, K+1) @ (K+1, L·P)`` product.
    """

    def __init__(self, world: World, collectives: Sequence[Collective]):
        p = plant_all(world, collectives)
        base = np.asarray(world.base)  # (P, L)
        planted = np.asarray(p.planted)  # (K, P, L)
        target = np.asarray(p.target)  # (K, P, L)
        self.landing = np.asarray(p.landing)  # (K, P)
        self.n_points, self.n_labels = base.shape
        tables = np.concatenate([base[None], planted])  # (K+1, P, L)
        self.weights = tables.transpose(0, 2, 1).reshape(len(tables), -1)  # (K+1, L*P)
        self.target_pen = np.where(target, 0.0, NEG).transpose(2, 0, 1)[:, None]  # (L,1,K,P)
        self.rival_pen = np.where(target, NEG, 0.0).transpose(2, 0, 1)[:, None]

    def training_mass(self, sizes: np.ndarray) -> np.ndarray:
        """``P`` in label-major layout ``(L, B, 1, P)``."""
        mix = np.concatenate([1.0 - sizes.sum(-1, keepdims=True), sizes], axis=-1)  # (B, K+1)
        P = (mix @ self.weights).reshape(len(sizes), self.n_labels, self.n_points)
        return P.transpose(1, 0, 2)[:, :, None, :]

    def margins(self, sizes: np.ndarray) -> np.ndarray:
        """``max_{y∈T} P - max_{y∉T} P`` per row, collective and point, ``(B, K, P)``."""
        P = self.training_mass(sizes)
        return (P + self.target_pen).max(axis=0) - (P + self.rival_pen).max(axis=0)

    def success(self, sizes: np.ndarray) -> np.ndarray:
        """Bayes learner: ``S_j = Σ_x m_j(x) 1[margin > tol]``, ``(B, K)``."""
        return np.where(self.margins(sizes) > TIE_TOL, self.landing, 0.0).sum(-1)

    def worst_huber_greedy(self, sizes: np.ndarray, kappa: float) -> np.ndarray:
        """Huber worst case, fractional relaxation (greedy by cost/value ratio), ``(B, K)``."""
        margin = self.margins(sizes)
        value = np.where(margin > TIE_TOL, self.landing, 0.0)
        flippable = value > 0
        cost = np.where(flippable, np.maximum(margin, 0.0), np.inf)
        order = np.argsort(cost / np.where(flippable, value, 1.0), axis=-1, kind="stable")
        value = np.take_along_axis(value, order, axis=-1)
        cost = np.take_along_axis(cost, order, axis=-1)
        with np.errstate(invalid="ignore"):  # inf - inf for unflippable points, masked below
            room = kappa + TIE_TOL - (np.cumsum(cost, axis=-1) - cost)
            share = np.clip(np.where(cost > 0, room / np.where(cost > 0, cost, 1.0), 1.0), 0, 1)
            share = np.where((room > 0) & np.isfinite(cost), share, 0.0)
        return value.sum(-1) - (value * share).sum(-1)

    def worst_huber_exact(self, sizes: np.ndarray, kappa: float) -> np.ndarray:
        """Huber worst case by enumerating all ``2^P`` flip sets, ``(B, K)``."""
        margin = self.margins(sizes)
        value = np.where(margin > TIE_TOL, self.landing, 0.0)
        cost = np.where(value > 0, margin, 0.0)  # points worth nothing never block a set
        ids = np.arange(2**self.n_points)[:, None]
        subsets = ((ids >> np.arange(self.n_points)) & 1).astype(np.float64).T  # (P, 2^P)
        feasible = cost @ subsets <= kappa + TIE_TOL
        flipped = np.where(feasible, value @ subsets, 0.0).max(-1)
        return value.sum(-1) - flipped


class NumpyBounds:
    """numpy staircase and closed form for one collective acting alone."""

    def __init__(self, world: World, c: Collective):
        p = aca_games.plant(world, c)
        self.base = np.asarray(world.base)
        self.planted = np.asarray(p.planted)
        self.own = np.asarray(jax.nn.one_hot(p.label, self.base.shape[1], dtype=bool))
        self.rival_pen = np.where(np.asarray(p.target), -np.inf, 0.0)
        self.landing = np.asarray(p.landing)
        self.terms = {
            k: float(val)
            for k, val in aca_games.bounds.closed_form_terms(world, c)._asdict().items()
        }

    def staircase(self, alpha: np.ndarray, kappa: float = 0.0) -> np.ndarray:
        a = alpha[:, None, None]
        P = (1.0 - a) * self.base + a * self.planted  # (B, P, L)
        own = np.where(self.own, P, 0.0).sum(-1)
        rival = (P + self.rival_pen).max(-1)
        margin = np.where(np.isfinite(rival), own - rival, np.inf)
        return np.where(margin > kappa + TIE_TOL, self.landing, 0.0).sum(-1)

    def closed_form(self, alpha: np.ndarray, kappa: float = 0.0) -> np.ndarray:
        t = self.terms
        planted = alpha * t["net_rate"]
        against = (1.0 - t["bystander_rate"] * alpha) * t["delta"] * t["xi"]
        against = against + alpha * t["resistance"] * t["xi"] + kappa + t["ties"]  # tie allowance
        safe = np.where(planted > 0, planted, 1.0)
        return np.where(planted > 0, np.clip(1.0 - against / safe, 0.0, 1.0), 0.0)


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------
def _block(x):
    return jax.block_until_ready(x) if isinstance(x, jax.Array) else x


def first_call(fn: Callable[[], object]) -> tuple[np.ndarray, float]:
    """Result and wall time of a first call (trace + compile + one run for a jitted function)."""
    t0 = time.perf_counter()
    out = _block(fn())
    return np.asarray(out), time.perf_counter() - t0


def time_all(
    impls: dict[str, Callable[[], object]], repeats: int, first: dict[str, float]
) -> dict[str, dict]:
    """``repeats`` warm calls of each implementation, interleaved round-robin.

    Every implementation must have been called once already (its answer checked); ``first`` holds
    the wall time of those first calls.
    """
    out = {name: {"first_call_s": first.get(name), "times_s": []} for name in impls}
    for _ in range(repeats):
        for name, fn in impls.items():
            t0 = time.perf_counter()
            _block(fn())
            out[name]["times_s"].append(time.perf_counter() - t0)
    for rec in out.values():
        rec["median_s"] = float(np.median(rec["times_s"]))
        rec["min_s"] = float(np.min(rec["times_s"]))
    return out


def ynn_off_supported() -> bool:
    """Whether this jaxlib accepts the option that switches YNNPACK fusions off."""
    try:
        jax.jit(lambda x: x + 1.0, compiler_options=NO_YNN)(jnp.zeros(2)).block_until_ready()
    except Exception:  # unknown option in another jaxlib: the column is left out
        return False
    return True


def _ynn_off_success_batch():
    """The library's batch kernel: it now compiles without YNNPACK fusions itself
    (:func:`aca_games.oracle.compiler_options`), so this column only confirms the fix is active."""
    return oracle._success_batch


# ---------------------------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------------------------
def _row(workload, n_rows, n_evals, timings, agree, note=""):
    rates = {name: n_evals / rec["median_s"] for name, rec in timings.items()}
    ours = rates.get("ours")
    numpy_rate = rates.get("numpy")
    ratio = ours / numpy_rate if numpy_rate else None
    return {
        "workload": workload,
        "rows": n_rows,
        "evaluations": n_evals,
        "rate": rates,
        "first_call_s": {k: v["first_call_s"] for k, v in timings.items()},
        "median_s": {k: v["median_s"] for k, v in timings.items()},
        "min_s": {k: v["min_s"] for k, v in timings.items()},
        "ratio_ours_numpy": ratio,
        "meets_rate": bool(ours >= TARGET_RATE),
        "meets_ratio": None if ratio is None else bool(ratio >= TARGET_RATIO),
        "agree_max_abs_diff": agree,
        "note": note,
    }


def _check(ours, ref) -> float:
    ours, ref = np.asarray(ours), np.asarray(ref)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=AGREE_ATOL)
    return float(np.max(np.abs(ours - ref))) if ours.size else 0.0


def _first_calls(impls: dict[str, Callable[[], object]]) -> tuple[dict, dict]:
    """Call each implementation once (timed); every jax answer must equal ``ours``.

    Returns the answers and the first-call times. Agreement with numpy is checked by the caller.
    """
    answers, first = {}, {}
    for name, fn in impls.items():
        answers[name], first[name] = first_call(fn)
    for name, ans in answers.items():
        if name.startswith("ours_"):
            _check(ans, answers["ours"])
    return answers, first


def bench_oracle_bayes(cfg, world, cols, ynn) -> list[dict]:
    sizes = make_sizes(cfg, cfg.batch)
    sizes_dev = jnp.asarray(sizes)
    planting = plant_all(world, cols)
    kappa = slack(0.0)
    static = dict(reading="huber", method="exact", bayes=True)
    ref = NumpyOracle(world, cols)

    public = functools.partial(oracle.success, world, cols, sizes=sizes)
    jitted = functools.partial(
        oracle._success_batch, world.base, planting, sizes_dev, kappa, **static
    )
    impls = {"ours": public, "ours_jit": jitted, "numpy": functools.partial(ref.success, sizes)}
    if ynn:
        impls["ours_jit_ynn_off"] = functools.partial(
            _ynn_off_success_batch(), world.base, planting, sizes_dev, kappa, **static
        )
    answers, first = _first_calls(impls)
    ours = answers["ours"]
    agree = _check(ours, answers["numpy"])
    timings = time_all(impls, cfg.repeats, first)
    n_evals = sizes.size
    row = _row("oracle eps=0 (Bayes)", len(sizes), n_evals, timings, agree)
    row["answers"] = {
        "mean_success": float(ours.mean()),
        # 1e-9 margin: a full win may sum its landing masses to 1 - 1 ulp
        "fraction_strictly_between_0_and_1": float(np.mean((ours > 1e-9) & (ours < 1 - 1e-9))),
    }
    return [row]


def bench_oracle_worst(cfg, world, cols, ynn) -> list[dict]:
    sizes = make_sizes(cfg, cfg.batch_worst, seed_offset=2)
    sizes_dev = jnp.asarray(sizes)
    planting = plant_all(world, cols)
    ref = NumpyOracle(world, cols)
    bayes = np.asarray(oracle.success(world, cols, sizes=sizes))
    no_ynn_fn = _ynn_off_success_batch() if ynn else None
    rows = []
    for reading in cfg.readings:
        kappa = slack(cfg.eps, reading)
        for method in ("exact", "greedy"):
            public = functools.partial(
                oracle.success, world, cols, cfg.eps, reading, sizes=sizes, method=method
            )
            static = dict(reading=reading, method=method, bayes=False)
            jitted = functools.partial(
                oracle._success_batch, world.base, planting, sizes_dev, kappa, **static
            )
            impls = {"ours": public, "ours_jit": jitted}
            note = ""
            if reading == "huber":
                np_fn = ref.worst_huber_exact if method == "exact" else ref.worst_huber_greedy
                impls["numpy"] = functools.partial(np_fn, sizes, float(kappa))
            else:
                note = "no numpy baseline (tv flip costs are a per-point LP)"
            if no_ynn_fn is not None:
                impls["ours_jit_ynn_off"] = functools.partial(
                    no_ynn_fn, world.base, planting, sizes_dev, kappa, **static
                )
            answers, first = _first_calls(impls)
            ours = answers["ours"]
            agree = _check(ours, answers["numpy"]) if "numpy" in answers else None
            timings = time_all(impls, cfg.repeats, first)
            row = _row(
                f"worst eps={cfg.eps:g} {reading} {method}",
                len(sizes),
                sizes.size,
                timings,
                agree,
                note,
            )
            row["answers"] = {
                "mean_success": float(ours.mean()),
                "mean_drop_vs_bayes": float((bayes - ours).mean()),
            }
            rows.append(row)
    return rows


def bench_bounds(cfg, world, cols, ynn) -> list[dict]:
    from aca_games.bounds import closed_form, staircase

    c = cols[0]
    alpha = make_sizes(cfg, cfg.batch, seed_offset=3)[:, 0]
    alpha_dev = jnp.asarray(alpha)
    ref = NumpyBounds(world, c)
    rows = []
    for name, bound, np_fn in (
        ("staircase", staircase, ref.staircase),
        ("closed_form", closed_form, ref.closed_form),
    ):
        def one(a, bound=bound):
            return bound(world, c.with_size(a))

        impls = {
            "ours": functools.partial(jax.jit(jax.vmap(one)), alpha_dev),
            "numpy": functools.partial(np_fn, alpha),
        }
        if ynn:
            impls["ours_jit_ynn_off"] = functools.partial(
                jax.jit(jax.vmap(one), compiler_options=NO_YNN), alpha_dev
            )
        answers, first = _first_calls(impls)
        ours = answers["ours"]
        agree = _check(ours, answers["numpy"])
        timings = time_all(impls, cfg.repeats, first)
        row = _row(
            f"bounds.{name} eps=0 (vmap over size)",
            len(alpha),
            alpha.size,
            timings,
            agree,
            "one collective; ours = jax.jit(jax.vmap(lambda a: bound(world, c.with_size(a))))",
        )
        row["answers"] = {"mean_bound": float(ours.mean())}
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
def machine_info() -> dict:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "jaxlib": getattr(getattr(jax, "lib", None), "__version__", None) or _jaxlib_version(),
        "numpy": np.__version__,
        "jax_backend": jax.default_backend(),
        "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
        "git_commit": _git_commit(),
        "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def _git_commit():
    """HEAD of the working tree the benchmark ran in (``+dirty`` with uncommitted changes)."""
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "aca_games"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return None
    return (head + ("+dirty" if dirty else "")) or None


def _jaxlib_version():
    try:
        import jaxlib

        return jaxlib.__version__
    except Exception:
        return None


def _fmt_rate(x):
    return "-" if x is None else f"{x:.3g}"


def format_table(rows: list[dict]) -> str:
    head = (
        "| workload | rows | ours (evals/s) | ours jit | ours jit, ynn off | numpy (evals/s) "
        "| ours/numpy | first call s | >= 1e7/s | within 3x numpy |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        rate = r["rate"]
        ratio = r["ratio_ours_numpy"]
        lines.append(
            "| {} | {} | {} | {} | {} | {} | {} | {:.2f} | {} | {} |".format(
                r["workload"],
                r["rows"],
                _fmt_rate(rate.get("ours")),
                _fmt_rate(rate.get("ours_jit")),
                _fmt_rate(rate.get("ours_jit_ynn_off")),
                _fmt_rate(rate.get("numpy")),
                "-" if ratio is None else f"{ratio:.2f}",
                r["first_call_s"]["ours"] or 0.0,
                "yes" if r["meets_rate"] else "no",
                {None: "n/a", True: "yes", False: "no"}[r["meets_ratio"]],
            )
        )
    return "\n".join(lines)


def run(cfg: Config) -> dict:
    """Run every workload; raises ``AssertionError`` if ours and numpy disagree."""
    world, cols = make_world(cfg)
    ynn = cfg.ynn_column and ynn_off_supported()
    started = datetime.datetime.now(datetime.UTC)
    load_before = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    rows = bench_oracle_bayes(cfg, world, cols, ynn)
    rows += bench_oracle_worst(cfg, world, cols, ynn)
    if cfg.bounds:
        rows += bench_bounds(cfg, world, cols, ynn)
    machine = machine_info()
    machine["loadavg_before"] = load_before
    return {
        "date_utc": started.isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks.bench_oracle", *sys.argv[1:]]),
        "config": dataclasses.asdict(cfg),
        "machine": machine,
        "unit": "evaluations/s; one evaluation = one collective's success for one size vector",
        "targets": {"rate": TARGET_RATE, "ours_over_numpy_at_least": TARGET_RATIO},
        "rows": rows,
    }


def parse_args(argv: Sequence[str] | None) -> tuple[Config, argparse.Namespace]:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_oracle", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--quick", action="store_true", help="small batches (< 20 s)")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON")
    ap.add_argument("--batch", type=int, help="rows for the eps=0 oracle and the bounds")
    ap.add_argument("--batch-worst", type=int, help="rows for the eps > 0 worst case")
    ap.add_argument("--repeats", type=int, help="warm repeats (median); at least 1")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--readings", default="huber,tv", help="comma-separated readings for the eps > 0 rows"
    )
    ap.add_argument("--ynn-column", action="store_true", help="add the (now redundant) ynn-off column")
    ap.add_argument("--no-bounds", action="store_true", help="skip the bounds workloads")
    args = ap.parse_args(argv)
    fields = dict(QUICK) if args.quick else {}
    for key in ("batch", "batch_worst", "repeats"):
        if getattr(args, key) is not None:
            fields[key] = getattr(args, key)
    readings = tuple(r.strip() for r in args.readings.split(",") if r.strip())
    unknown = set(readings) - {"huber", "tv"}
    if unknown:
        ap.error(f"--readings: unknown {sorted(unknown)}; choose from huber, tv")
    cfg = Config(
        seed=args.seed,
        readings=readings,
        ynn_column=args.ynn_column,
        bounds=not args.no_bounds,
        **fields,
    )
    return cfg, args


def main(argv: Sequence[str] | None = None) -> dict:
    cfg, args = parse_args(argv)
    results = run(cfg)
    m = results["machine"]
    print(f"aca_games oracle/bounds benchmark  {results['date_utc']}")
    print(
        f"machine: {m['platform']}  cpus={m['cpu_count']}  jax {m['jax']} (jaxlib {m['jaxlib']}, "
        f"{m['jax_backend']})  numpy {m['numpy']}"
    )
    print(f"aca_games at git {m['git_commit']}")
    print(f"load average (1, 5, 15 min) before: {m['loadavg_before']}  after: {m['loadavg']}")
    if m["XLA_FLAGS"]:
        print(f"XLA_FLAGS={m['XLA_FLAGS']}")
    print(
        f"world: P={cfg.n_points} points, L={cfg.n_labels} labels, K={cfg.n_collectives} "
        f"feature-label collectives (distinct signals); median of {cfg.repeats} warm runs"
    )
    print(f"unit: {results['unit']}\n")
    print(format_table(results["rows"]))
    for r in results["rows"]:
        if r["note"]:
            print(f"  note [{r['workload']}]: {r['note']}")
    rows = results["rows"]
    fast = [r["workload"] for r in rows if r["meets_rate"]]
    slow = [r["workload"] for r in rows if r["meets_ratio"] is False]
    print(f"\n>= {TARGET_RATE:.0e} evals/s (public call): {len(fast)}/{len(rows)} workloads")
    print(f"below 1/3 of numpy's rate: {', '.join(slow) if slow else 'none'}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
        print(f"\nwrote {args.json}")
    return results


if __name__ == "__main__":
    main()
