"""Generate the bundled large scenario ``city.toml``: 100 neighbourhood collectives, 108 points.

Run ``python -m aca_games.scenarios.generate_city`` to rewrite ``city.toml`` next to this file
(``--out PATH`` writes elsewhere). The generator is seeded (:data:`SEED`) and its output is
reproducible byte for byte: a test regenerates the file and compares it with the shipped one.

**The story.** A city triages resident heat reports with a classifier that decides ``routine``,
``check_in`` (a welfare call) or ``cooling`` (a cooling intervention). Each of :data:`DISTRICTS`
offers two reporting channels, a phone *app* and a paper *form*; each channel buckets reports by
the indoor temperature band (:data:`BANDS`), and reports above 35 C from either channel go to the
district's shared *heat line*. Rewriting a report in a channel's format is a signal: signal
``<district>_app`` maps every report of band ``b`` to the app point of that band (the hottest band to
the heat line), likewise ``<district>_form``. So a district has 9 relevant points (4 app bands,
4 form bands, 1 heat line shared by both signals) and the city 108.

The world is built from a full table ``P0(x, y)`` over 168 features (the 108 channel points, where
some residents already report, plus 60 plain reports: district x band) and the 24 signal maps,
then reduced with :meth:`aca_games.World.from_table`: every landing table has the same label
marginal (the population's), and base mass at the relevant points is what collectives must outvote.

**Collectives.** 100 neighbourhood groups, 8 or 9 per district, each on its district's app or form:
tenants' associations (plant ``cooling``), seniors' groups (plant ``check_in``; they conflict with
cooling groups on shared points), families (plant ``cooling`` but accept either intervention: aligned
with both) and shopkeepers (``feature_only``: they relabel only their own cooling reports). About a
third coordinate imperfectly (noise: members who drop out or scatter labels). Sizes are population
shares around 0.35%, 37% of reports in all.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

#: Seed of every random draw.
SEED = 20_240_617
DISTRICTS = (
    "Riverside",
    "Hillside",
    "Market",
    "Harbour",
    "Northgate",
    "Eastfield",
    "Millbrook",
    "Old Town",
    "Parkview",
    "Southbank",
    "Westend",
    "Ashford",
)
BANDS = ("27-29 C", "29-31 C", "31-33 C", "33-35 C", "above 35 C")
CHANNELS = ("app", "form")
LABELS = ("routine", "check_in", "cooling")
STREETS = ("Elm", "Oak", "Station", "Mill", "Church", "Canal", "Park", "Bridge", "Garden", "Well")
#: Share of all reports filed through a channel (base mass at the relevant points).
CHANNEL_SHARE = 0.12
#: Share of reports in each temperature band.
BAND_SHARE = (0.32, 0.27, 0.20, 0.13, 0.08)
#: Group kinds: (name, share of groups, target labels, planted label, strategy).
KINDS = (
    ("tenants", 0.55, ["cooling"], "cooling", "feature_label"),
    ("seniors", 0.20, ["check_in"], "check_in", "feature_label"),
    ("families", 0.20, ["check_in", "cooling"], "cooling", "feature_label"),
    ("shopkeepers", 0.05, ["cooling"], "cooling", "feature_only"),
)
N_COLLECTIVES = 100
#: Table entries are integers in these units (so that they print exactly and total exactly 1).
UNITS = 1_000_000
DEFAULT_OUT = Path(__file__).with_name("city.toml")


def _slug(district: str) -> str:
    return district.lower().replace(" ", "_")


def features(districts=DISTRICTS) -> list[tuple[str, str, int]]:
    """``(district, kind, band)`` per feature: app/form points, the heat line, then plain reports."""
    out = []
    for d in districts:
        out += [(d, c, b) for c in CHANNELS for b in range(len(BANDS) - 1)] + [
            (d, "heat line", len(BANDS) - 1)
        ]
    out += [(d, "plain", b) for d in districts for b in range(len(BANDS))]
    return out


def feature_name(district: str, kind: str, band: int) -> str:
    if kind == "heat line":
        return f"{district} heat line, {BANDS[band]}"
    if kind == "plain":
        return f"{district} plain report, {BANDS[band]}"
    return f"{district} {kind}, {BANDS[band]}"


def _integers(weights: np.ndarray, total: int) -> np.ndarray:
    """Non-negative integers proportional to ``weights`` summing exactly to ``total``."""
    raw = weights / weights.sum() * total
    out = np.floor(raw).astype(np.int64)
    out[np.argsort(raw - out)[::-1][: total - out.sum()]] += 1
    return out


def build_table(rng: np.random.Generator, districts=DISTRICTS):
    """The full table ``P0`` (integer units), the feature list and the signal maps (2 per district)."""
    feats = features(districts)
    n_bands = len(BANDS)
    mass = np.zeros(len(feats))
    mix = np.zeros((len(feats), len(LABELS)))
    for k, (_, kind, band) in enumerate(feats):
        # hotter bands get more check-in and cooling decisions; every feature varies around that
        mean = np.array([0.70 - 0.12 * band, 0.18 + 0.05 * band, 0.12 + 0.07 * band])
        if kind != "plain":  # channel users have been mostly triaged as routine so far
            mean = mean * np.array([1.6, 1.0, 0.6])
        mix[k] = rng.dirichlet(40 * mean / mean.sum())
        if kind == "plain":
            mass[k] = (1 - CHANNEL_SHARE) * BAND_SHARE[band] * rng.lognormal(0.0, 0.2)
        else:  # two channels share a band's reports; usage varies a lot between points
            mass[k] = (
                CHANNEL_SHARE * BAND_SHARE[band] * rng.lognormal(0.0, 0.8) / (1 if kind == "heat line" else 2)
            )
    table = _integers((mass[:, None] * mix).ravel(), UNITS).reshape(len(feats), len(LABELS))
    index = {f: k for k, f in enumerate(feats)}
    maps = {}
    for d in districts:
        for c in CHANNELS:
            target = [index[(d, c, b)] for b in range(n_bands - 1)] + [index[(d, "heat line", n_bands - 1)]]
            maps[f"{_slug(d)}_{c}"] = [target[band] for _, _, band in feats]
    return table, feats, maps


def build_collectives(
    rng: np.random.Generator, n_collectives=N_COLLECTIVES, districts=DISTRICTS
) -> list[dict]:
    kinds = rng.choice(len(KINDS), size=n_collectives, p=[k[1] for k in KINDS])
    out, used = [], set()
    for i, k in enumerate(kinds):
        district = districts[i % len(districts)]
        kind, _, target, label, strategy = KINDS[k]
        street = next(s for s in rng.permutation(STREETS) if (s, kind, district) not in used)
        used.add((street, kind, district))
        channel = "form" if (kind == "seniors" and rng.random() < 0.8) else CHANNELS[int(rng.integers(2))]
        entry = {
            "name": f"{street} St {kind} ({district})",
            "size": round(float(np.clip(rng.lognormal(np.log(0.0035), 0.45), 0.0008, 0.012)), 5),
            "signal": f"{_slug(district)}_{channel}",
            "target": target,
            "label": label,
            "strategy": strategy,
        }
        if strategy == "feature_only":
            entry["variant"] = "gbj"
        if rng.random() < 0.33:
            entry["noise"] = round(float(rng.uniform(0.05, 0.3)), 3)
            entry["noise_mode"] = ("drop", "scatter")[int(rng.integers(2))]
        out.append(entry)
    return out


def _toml_value(x) -> str:
    if isinstance(x, str):
        return '"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(x, list):
        return "[" + ", ".join(_toml_value(v) for v in x) + "]"
    return repr(x)


def render(n_collectives: int = N_COLLECTIVES, n_districts: int = len(DISTRICTS)) -> str:
    """The scenario file's text (the bundled one with the defaults; tests use smaller cities)."""
    rng = np.random.default_rng(SEED)
    districts = DISTRICTS[:n_districts]
    table, feats, maps = build_table(rng, districts)
    collectives = build_collectives(rng, n_collectives, districts)
    n_points = len(districts) * (len(CHANNELS) * (len(BANDS) - 1) + 1)
    lines = [
        "# Generated by `python -m aca_games.scenarios.generate_city` (seeded; do not edit by hand).",
        f"# A city of {len(districts)} districts: {n_collectives} neighbourhood groups plant report "
        "formats so that a heat-risk",
        f"# classifier sends their blocks cooling (or welfare check-ins). {n_points} relevant points, "
        f"{len(maps)} signals.",
        "# See the generator's docstring for the story and the construction.",
        "",
        f'name = "City: {n_collectives} neighbourhoods, {n_points} report formats"',
        f'description = "Neighbourhood groups across {len(districts)} districts plant app and form '
        "report formats; tenants and families push for cooling, seniors for welfare check-ins, on "
        'shared heat lines."',
        "",
        "[world]",
        f"labels = {_toml_value(list(LABELS))}",
        "# P0(x, y) over every kind of report (columns: routine, check_in, cooling), total exactly 1",
        "table = [",
    ]
    lines += [
        f"    [{', '.join(f'{v / UNITS:.6f}' for v in row)}],  # {feature_name(*f)}"
        for row, f in zip(table, feats, strict=True)
    ]
    lines += ["]", "feature_names = ["]
    lines += [f"    {_toml_value(feature_name(*f))}," for f in feats]
    lines += ["]", ""]
    for name, g in maps.items():
        lines += [f"[world.signals.{name}]", f"map = {_toml_value(g)}", ""]
    for c in collectives:
        lines.append("[[collectives]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in c.items()]
        lines.append("")
    lines += [
        "[analysis]",
        "eps = 0.0                # Bayes-optimal learner: the exact oracle needs no knapsack",
        'reading = "huber"',
        "target_success = 0.8",
        "N = 2_000_000            # reports in the training data: switches on the finite-sample bound",
        "n_test = 5000",
        "delta = 0.05",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write (default: city.toml)")
    args = parser.parse_args(argv)
    args.out.write_text(render(), encoding="utf-8")
    return args.out


if __name__ == "__main__":  # pragma: no cover
    print(main())
