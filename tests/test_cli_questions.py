"""The question commands (best-response, equilibria, coalition, critical-mass) end to end on every
bundled scenario: --json parses and its numbers equal the Python API's, computed here from the
public API (the game's payoffs, aca_games.critical_mass, the solvers, brute force) and not through
the commands' helpers; exit codes 0 / 2; stdout holds only JSON; the help is light and clean."""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import solvers
from aca_games import ACAInputError, critical_mass, success
from aca_games.app.cli import app
from aca_games.app.commands._common import silenced
from aca_games.app.game_report import default_game
from aca_games.app.scenario import bundled_scenarios, load_scenario, with_settings
from aca_games.bounds import partial

ROOT = Path(__file__).resolve().parents[1]
#: Bundled scenarios small enough for the default suite (larger ones run in the slow suite).
SMALL = 10


def _bundled():
    out = []
    for name, path in sorted(bundled_scenarios().items()):
        small = len(load_scenario(path).collectives) <= SMALL
        out.append(pytest.param(name, marks=() if small else pytest.mark.slow))
    return out


SCENARIOS = _bundled()
TOL = 2e-6  # JSON keeps 6 decimals


@pytest.fixture(scope="module")
def runner():
    return CliRunner(env={"ACA_GAMES_JAX_CACHE": "off"})


def ask(runner, *args) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # stdout holds only the JSON document


def _game(s):
    """The scenario's game: the file's menus (version 2) or the default game (version 1)."""
    return default_game(s), s.configured or (0,) * len(s.collectives)


def _close(a, b):
    if b == math.inf:
        return a == "unreachable"
    return a is not None and abs(a - b) <= TOL


# -- critical mass ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SCENARIOS)
def test_critical_mass_equals_the_api(runner, name):
    s = load_scenario(bundled_scenarios()[name])
    a = s.analysis
    doc = ask(runner, "critical-mass", name)
    assert doc["target_success"] == a.target_success and doc["platform"]["eps"] == a.eps
    assert [r["collective"] for r in doc["collectives"]] == [c.name for c in s.collectives]
    for c, row in zip(s.collectives, doc["collectives"], strict=True):
        alone = float(success(s.world, [c], eps=a.eps, reading=a.reading)[0])
        assert abs(row["success_alone"]["value"] - alone) <= TOL
        for e in row["critical_mass"]:
            bound = e["bound"]
            try:
                expected = float(
                    critical_mass(s.world, c, a.target_success, bound=bound, eps=a.eps, reading=a.reading)
                )
            except ACAInputError:
                assert e["status"] == "not applicable" and e["value"] is None
                continue
            assert _close(e["value"], expected), (c.name, bound, e, expected)
            # a lower bound is never called exact; the oracle is exact only where it is
            assert (e["kind"] == "exact") == (bound == "exact" and a.eps == 0.0)


# -- best responses -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", SCENARIOS)
def test_best_response_to_the_configured_profile_equals_the_game(runner, name):
    s = load_scenario(bundled_scenarios()[name])
    game, configured = _game(s)
    for i, p in enumerate(game.players):
        doc = ask(runner, "best-response", name, "--player", p.name)
        assert doc["against"] == {
            "kind": "profile",
            "profile": {
                q.name: q.option_names[k]
                for q, k in zip(game.players, configured, strict=True)
                if q.name != p.name
            },
        }
        payoffs, successes = {}, {}
        for o, option in enumerate(p.option_names):
            profile = list(configured)
            profile[i] = o
            payoffs[option] = float(game.payoffs(tuple(profile))[i])
            successes[option] = float(game.success_at(tuple(profile))[i])
        ranking = doc["ranking"]
        assert {r["option"] for r in ranking} == set(p.option_names)
        for r in ranking:
            assert abs(r["payoff"]["value"] - payoffs[r["option"]]) <= TOL
            assert abs(r["success"]["value"] - successes[r["option"]]) <= TOL
        assert doc["best"] == ranking[0]["option"]
        assert payoffs[doc["best"]] == pytest.approx(max(payoffs.values()), abs=1e-12)
        values = [r["payoff"]["value"] for r in ranking]
        assert values == sorted(values, reverse=True)


def test_best_response_against_beliefs_equals_the_bounds(runner):
    s = load_scenario(bundled_scenarios()["smart_city_v2"])
    a = s.analysis
    for p in s.players:
        beliefs = s.beliefs[p.name]
        doc = ask(runner, "best-response", "smart_city_v2", "--player", p.name, "--against", "beliefs")
        assert doc["against"]["kind"] == "beliefs"
        rows = {r["option"]: r for r in doc["ranking"]}
        for option, c, cost in zip(p.option_names, p.options, p.costs, strict=True):
            guarantee = float(partial.robust(s.world, c, beliefs, a.eps, a.reading))
            row = rows[option]
            assert abs(row["guaranteed_success"]["value"] - guarantee) <= TOL
            payoff = p.value * guarantee - cost - p.size_cost * float(c.size)
            assert abs(row["guaranteed_payoff"]["value"] - payoff) <= TOL
            if beliefs.kind == "scenarios":
                expected = float(partial.bayes_exact(s.world, c, beliefs, a.eps, a.reading))
                assert abs(row["expected_success"]["value"] - expected) <= TOL
        ranked = [r[r["ranked_by"]]["value"] for r in doc["ranking"]]
        assert ranked == sorted(ranked, reverse=True)
        assert doc["against"]["criterion"] == ("bayes" if beliefs.kind == "scenarios" else "robust")


def test_best_response_against_a_mixed_profile(runner):
    s = load_scenario(bundled_scenarios()["smart_city_v2"])
    game, _ = _game(s)
    riverside, hillside, shops = (p.option_names for p in game.players)
    doc = ask(
        runner,
        "best-response",
        "smart_city_v2",
        "--player",
        "Market street shops",
        "--against",
        "Riverside tenants=abstain; Hillside seniors=0.25*form + 0.75*abstain",
    )
    assert doc["against"]["distribution"] == {
        "Riverside tenants": {"abstain": 1.0},
        "Hillside seniors": {"form": 0.25, "abstain": 0.75},
    }
    r, f, h = riverside.index("abstain"), hillside.index("form"), hillside.index("abstain")
    for row in doc["ranking"]:
        o = shops.index(row["option"])
        expected = 0.25 * float(game.payoffs((r, f, o))[2]) + 0.75 * float(game.payoffs((r, h, o))[2])
        assert abs(row["payoff"]["value"] - expected) <= TOL
        assert row["payoff"]["method"].startswith("expected ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--player", "Hillside"], "--player: no player named 'Hillside'; did you mean 'Hillside seniors'"),
        (["--player", "Hillside seniors", "--against", "Hillside seniors=form"], "the player itself"),
        (["--player", "Hillside seniors", "--against", "Market street shops=tagg"], "did you mean 'tag'"),
        (["--player", "Hillside seniors", "--against", "Market street shops"], "is not NAME=OPTION"),
        (
            ["--player", "Hillside seniors", "--against", "Market street shops=0.5*tag + abstain"],
            "no option named 'tag \\+ abstain'",
        ),
        (
            ["--player", "Hillside seniors", "--against", "Market street shops=0.5*tag + 0.5*"],
            "is not P\\*OPTION",
        ),
        (
            ["--player", "Hillside seniors", "--against", "Market street shops=0.5*tag + 0.6*abstain"],
            "sum to",
        ),
        (["--player", "Hillside seniors", "--criterion", "robust"], "--criterion: only used with"),
    ],
)
def test_best_response_bad_input_exits_2(runner, args, message):
    result = runner.invoke(app, ["best-response", "smart_city_v2", *args])
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and "Traceback" not in result.output
    import re

    assert re.search(message, result.stderr), result.stderr


def test_beliefs_are_required_for_against_beliefs(runner):
    result = runner.invoke(
        app, ["best-response", "noisy_drivers", "--player", "Couriers' union", "--against", "beliefs"]
    )
    assert result.exit_code == 2 and 'gives no beliefs for "Couriers\' union"' in result.stderr


# -- equilibria ---------------------------------------------------------------------------------
def _brute_force(tensor: np.ndarray):
    """Every pure equilibrium, and each player's best deviation gain at every profile (numpy)."""
    n = tensor.shape[0]
    best = [tensor[i].max(axis=i, keepdims=True) for i in range(n)]
    gains = np.stack([best[i] - tensor[i] for i in range(n)])  # (n, m_1, ..., m_n)
    equilibria = {
        a for a in itertools.product(*map(range, tensor.shape[1:])) if gains[(slice(None), *a)].max() <= 0
    }
    return equilibria, gains


@pytest.mark.parametrize("name", SCENARIOS)
def test_equilibria_equal_brute_force(runner, name):
    _check_equilibria(runner, name, load_scenario(bundled_scenarios()[name]))


@pytest.mark.parametrize("steps", [5, 25], ids=["vertex enumeration", "one mixed equilibrium"])
def test_two_player_equilibria(runner, tmp_path, steps):
    """Two players: every extreme equilibrium up to 20 options each, else one mixed equilibrium."""
    import tomllib

    from test_scenario import dumps

    doc = tomllib.loads(bundled_scenarios()["smart_city_v2"].read_text(encoding="utf-8"))
    doc["collectives"] = doc["collectives"][:2]
    riverside = doc["collectives"][0]
    riverside["menu"][1]["steps"] = steps
    riverside["beliefs"]["others"] = riverside["beliefs"]["others"][:1]
    path = tmp_path / "two.toml"
    path.write_text(dumps(doc), encoding="utf-8")
    out = _check_equilibria(runner, str(path), load_scenario(path))
    method = out["mixed_equilibria"]["method"]
    assert method.startswith("vertex enumeration" if steps == 5 else "one equilibrium")


def _check_equilibria(runner, arg: str, s) -> dict:
    """The command's equilibria against brute force on the game's payoffs (numpy)."""
    game, configured = _game(s)
    doc = ask(runner, "equilibria", arg)
    tensor = np.stack([np.asarray(game.payoffs(a)) for a in itertools.product(*map(range, game.shape))])
    tensor = tensor.T.reshape((len(game.players), *game.shape))
    equilibria, gains = _brute_force(tensor)
    names = [p.name for p in game.players]
    index = {p.name: list(p.option_names) for p in game.players}
    found = {tuple(index[n].index(e["profile"][n]) for n in names) for e in doc["pure_equilibria"]["value"]}
    assert found == equilibria
    for e in doc["pure_equilibria"]["value"]:
        a = tuple(index[n].index(e["profile"][n]) for n in names)
        assert all(abs(e["payoffs"][n] - tensor[(i, *a)]) <= TOL for i, n in enumerate(names))
    c = doc["configured"]
    assert c["is_equilibrium"] == (tuple(configured) in equilibria)
    for i, n in enumerate(names):
        assert abs(c["largest_gain"]["value"][n] - gains[(i, *configured)]) <= TOL
    mixed = doc["mixed_equilibria"]["value"] or []
    for e in mixed:
        xs = [np.array([e["strategies"][n].get(o, 0.0) for o in index[n]]) for n in names]
        assert max(_regrets(tensor, xs)) <= 1e-5  # probabilities are rounded to 6 decimals
    if doc["mixed_equilibria"]["method"].startswith("vertex enumeration"):  # pure ones are extreme
        pure = [{n: {index[n][a[i]]: 1.0} for i, n in enumerate(names)} for a in equilibria]
        assert all(p in [e["strategies"] for e in mixed] for p in pure)
    welfare = tensor.sum(axis=0)
    poa = doc["price_of_anarchy"]["value"]
    assert abs(poa["optimum"] - welfare.max()) <= TOL
    if equilibria and not doc["mixed_equilibria"]["method"].startswith("vertex enumeration"):
        assert abs(poa["worst_equilibrium"] - min(welfare[a] for a in equilibria)) <= TOL
    return doc


def _regrets(tensor, xs):
    """max_a u_p(a, x_-p) - u_p(x) per player, by explicit sums over profiles."""
    n = tensor.shape[0]
    out = []
    for p in range(n):
        dev = np.zeros(tensor.shape[1 + p])
        for a in itertools.product(*map(range, tensor.shape[1:])):
            weight = math.prod(xs[q][a[q]] for q in range(n) if q != p)
            dev[a[p]] += weight * tensor[(p, *a)]
        out.append(dev.max() - dev @ xs[p])
    return out


# -- coalition ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SCENARIOS)
def test_coalition_equals_the_solvers_and_meets_the_target(runner, name):
    s = load_scenario(bundled_scenarios()[name])
    a, cs = s.analysis, list(s.collectives)
    doc = ask(runner, "coalition", name)
    assert doc["target_success"] == a.target_success
    for entry in doc["joint_sizes"]:
        if entry["status"] == "not applicable":
            continue
        sol = solvers.min_joint_sizes(
            s.world, cs, a.target_success, bound=entry["bound"], eps=a.eps, reading=a.reading
        )
        assert entry["status"] == sol.status
        if sol.value is None:
            assert "sizes" not in entry
            continue
        sizes = entry["sizes"]["value"]
        assert abs(entry["total"]["value"] - sol.value["total"]) <= 1e-5 * len(cs)
        reached = success(
            s.world, cs, eps=a.eps, reading=a.reading, sizes=np.array([sizes[c.name] for c in cs])
        )
        for c, x in zip(cs, reached, strict=True):
            assert abs(entry["success_at_sizes"]["value"][c.name] - float(x)) <= TOL
            assert float(x) >= a.target_success - 1e-9  # the rounded-up sizes still meet the target
    f = doc["formation"]
    if f["status"] != "not applicable":
        caps = [max(float(o.size) for o in p.options) for p in s.players] or [float(c.size) for c in cs]
        sol = solvers.form_coalition(s.world, cs, caps, a.target_success, eps=a.eps, reading=a.reading)
        assert f["status"] == sol.status
        if sol.value is not None:
            assert f["selected"] == sol.value["selected"] and f["label"] == sol.value["label"]
            assert abs(f["total"]["value"] - sol.value["total"]) <= TOL


# -- overrides, --out, methods --------------------------------------------------------------------
def test_overrides_reach_the_numbers(runner, tmp_path):
    s = with_settings(
        load_scenario(bundled_scenarios()["noisy_drivers"]), eps=0.01, reading="tv", target_success=0.5
    )
    out = tmp_path / "results"
    doc = ask(
        runner,
        "critical-mass",
        "noisy_drivers",
        "--eps",
        "0.01",
        "--reading",
        "tv",
        "--target",
        "0.5",
        "--out",
        str(out),
    )
    assert doc["platform"] == {"eps": 0.01, "reading": "tv"} and doc["target_success"] == 0.5
    assert json.loads((out / "critical-mass.json").read_text(encoding="utf-8")) == doc
    c = s.collectives[0]
    expected = float(critical_mass(s.world, c, 0.5, bound="staircase", eps=0.01, reading="tv"))
    assert _close(doc["collectives"][0]["critical_mass"][1]["value"], expected)
    for args, option in [
        (["--eps", "0.7", "--reading", "tv"], "--eps"),
        (["--target", "0"], "--target"),
        (["--reading", "hubr"], "--reading"),
    ]:
        result = runner.invoke(app, ["critical-mass", "noisy_drivers", *args])
        assert result.exit_code == 2 and result.stderr.startswith(f"error: {option}: "), result.output


def _numbers_without_method(node, path="") -> list[str]:
    """Paths of computed numbers that are not inside a {"value", "method"} object."""
    if isinstance(node, dict):
        if "method" in node:
            return []
        return [p for k, v in node.items() for p in _numbers_without_method(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _numbers_without_method(v, f"{path}[{i}]")]
    return [path] if isinstance(node, float) else []


#: Plain numbers that are inputs echoed back, not results (besides sizes, caps and size ranges).
ECHOED = {".platform.eps", ".target_success"}


@pytest.mark.parametrize(
    "command",
    [["critical-mass"], ["equilibria"], ["coalition"], ["best-response", "--player", "Riverside tenants"]],
)
def test_every_computed_number_carries_its_method(runner, command):
    doc = ask(runner, command[0], "smart_city_v2", *command[1:])
    bare = [
        p
        for p in _numbers_without_method(doc)
        if p not in ECHOED
        and not p.startswith(".formation.caps")
        and not p.endswith("].size")
        and ".range[" not in p
    ]
    assert bare == []


# -- stdout holds only JSON; exit codes; help -------------------------------------------------------
def test_silenced_discards_python_and_file_descriptor_output(capfd):
    with silenced():
        print("from python")
        os.write(1, b"from C\n")
    print("after")
    assert capfd.readouterr().out == "after\n"


def _cli(*args, timeout=600):
    env = os.environ | {"ACA_GAMES_JAX_CACHE": "off"}
    return subprocess.run(
        [sys.executable, "-m", "aca_games.app.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
    )


@pytest.mark.parametrize("command", ["coalition", pytest.param("run", marks=pytest.mark.slow)])
def test_json_on_stdout_parses_in_a_fresh_process(command):
    """HiGHS prints its banner from C++ on first use in a process: piping into json.loads works
    (issue 7: `aca-games run noisy_drivers --json | python -m json.tool` failed)."""
    done = _cli(command, "noisy_drivers", "--json")
    assert done.returncode == 0, done.stderr
    assert "Running HiGHS" not in done.stdout and "Copyright" not in done.stdout
    doc = json.loads(done.stdout)
    assert doc["scenario"] == load_scenario(bundled_scenarios()["noisy_drivers"]).name


def test_help_imports_neither_jax_nor_the_solvers():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from aca_games.app.cli import app\n"
        "for args in (['--help'], ['-h'], ['run', '-h'], ['best-response', '--help']):\n"
        "    assert CliRunner().invoke(app, args).exit_code == 0, args\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('jax', 'solvers', 'cvxpy'))\n"
        "print(heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


COMMANDS = ["run", "best-response", "equilibria", "coalition", "critical-mass", "validate", "scenarios"]


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_help_has_no_type_placeholders(runner, command):
    for flag in ("--help", "-h"):
        result = runner.invoke(app, [*command, flag], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        assert "<bool>" not in result.stdout and "<str>" not in result.stdout
        assert "Usage: aca-games" in result.stdout
    if command and command[0] in ("best-response", "equilibria", "coalition", "critical-mass", "run"):
        for option in ("--json", "--out", "--eps", "--reading"):
            assert option in result.stdout


def test_version(runner):
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"aca-games {version('aca-games')}"


@pytest.mark.parametrize("command", ["best-response", "equilibria", "coalition", "critical-mass"])
def test_missing_file_exits_2(runner, tmp_path, command):
    extra = ["--player", "x"] if command == "best-response" else []
    result = runner.invoke(app, [command, str(tmp_path / "nope.toml"), *extra, "--json"])
    assert result.exit_code == 2 and "not found" in result.stderr and result.stdout == ""


def test_internal_error_exits_1(runner, monkeypatch):
    monkeypatch.setattr(solvers, "pure_nash", lambda *a, **k: 1 / 0)
    result = runner.invoke(app, ["equilibria", "smart_city_v2", "--json"])
    assert result.exit_code == 1 and "internal error: ZeroDivisionError" in result.stderr


# -- the README's commands run ----------------------------------------------------------------------
def readme_commands() -> list[list[str]]:
    """The ``aca-games ...`` lines of the README's bash blocks, split like a shell would."""
    import shlex

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in text.split("```bash")[1:]:
        for line in block.split("```")[0].replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == "aca-games":
                commands.append(words[1:])
    return commands


def test_readme_lists_every_question():
    listed = {c[0] for c in readme_commands() if c}
    assert {"run", "best-response", "equilibria", "coalition", "critical-mass", "validate"} <= listed


#: Commands that train platforms, run sweeps or reproduce papers take minutes: run by `make test-all`.
HEAVY = ("simulate", "sweep", "reproduce")


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(a, marks=pytest.mark.slow) if a[0] in HEAVY else a
        for a in readme_commands()
        if "--scheduler" not in a  # needs a running Dask cluster (tests/test_sweep.py starts one)
    ],
    ids=" ".join,
)
def test_readme_commands_run(runner, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    if "--json" in args:
        json.loads(result.stdout)


def test_run_on_a_version_2_file_analyses_its_game(runner):
    s = load_scenario(bundled_scenarios()["smart_city_v2"])
    game = ask(runner, "run", "smart_city_v2")["game"]
    assert game["menus"] == [list(p.option_names) for p in s.players]
    assert game["game"].startswith("The scenario's game")
    payoffs = default_game(s).payoffs(s.configured)  # the file's `play` options
    for i, (p, r) in enumerate(zip(s.players, game["best_responses"], strict=True)):
        assert r["collective"] == p.name
        assert abs(r["configured_payoff"] - float(payoffs[i])) <= TOL


def test_best_size_within_a_range(runner):
    """A size range is searched on a fine grid against a pure profile: the reported size is in the
    range, its payoff is the game's there, and no sampled step of the range (nor any size of an
    independent coarser grid) does better."""
    s = load_scenario(bundled_scenarios()["smart_city_v2"])
    game, configured = _game(s)
    (r,) = s.ranges["Riverside tenants"]
    doc = ask(runner, "best-response", "smart_city_v2", "--player", "Riverside tenants")
    (found,) = doc["size_ranges"]
    assert found["option"] == r.name == "recruit" and found["range"] == [r.lo, r.hi]
    best = found["best_size"]["value"]
    assert r.lo <= best <= r.hi
    profile = (r.options[0], *configured[1:])
    base = [float(p.options[k].size) for p, k in zip(game.players, profile, strict=True)]

    def payoff(size):
        return float(game.payoffs_at(profile, [size, *base[1:]])[0])

    assert abs(found["payoff"]["value"] - payoff(best)) <= TOL
    steps = [row["payoff"]["value"] for row in doc["ranking"] if row["option"].startswith("recruit @")]
    coarse = [payoff(x) for x in np.linspace(r.lo, r.hi, 41)]
    assert found["payoff"]["value"] >= max(steps + coarse) - TOL


@pytest.mark.parametrize("name", ["smart_city", "smart_city_v2", "noisy_drivers"])
def test_report_deviations_read_off_the_tensor_equal_the_deviation_kernel(name):
    """An enumerated game's report reads the deviation payoffs at the configured profile (and at
    every other profile it could be asked about) off the payoff tensor; they equal the library's
    separate deviation kernel, padding included."""
    from aca_games.app.game_report import _deviations
    from aca_games.app.scenario import bundled_scenarios, load_scenario

    s = load_scenario(bundled_scenarios()[name])
    game = default_game(s)
    tensor = game.payoff_tensor()
    profiles = list(itertools.product(*(range(m) for m in game.shape)))[:: max(1, game.n_profiles // 7)]
    for profile in [tuple(s.configured or (0,) * len(game.players)), *profiles]:
        expected = np.asarray(game.all_deviation_payoffs(profile))
        np.testing.assert_allclose(_deviations(game, tensor, profile), expected, rtol=0, atol=1e-12)
        assert np.array_equal(np.isinf(_deviations(game, tensor, profile)), np.isinf(expected))
