"""Reference closed-form terms, conflict masses and bounds, from THEORY.md §1, §3.1-§3.3.

Written from the definitions (and the generalisations stated in the library's docstrings:
feature-only, noise), in plain numpy, one point and one collective at a time where that is
clearer. Nothing here imports ``aca_games``: a world is read through ``points``, ``labels``,
``base``, ``landing`` and ``feature_count``; a collective through its fields.
"""

from __future__ import annotations

import math

import numpy as np

#: THEORY §4: a margin <= 1e-12 is a tie, and a tie is a failure for the collective.
TIE = 1e-12


def slack(eps: float, reading: str) -> float:
    """THEORY §1: κ = 2ε (tv), ε/(1-ε) (huber)."""
    return 2 * eps if reading == "tv" else eps / (1 - eps)


# -- the model (THEORY §1) -------------------------------------------------------------------------
def _arrays(world, c):
    base = np.asarray(world.base, dtype=float)
    land = np.asarray(world.landing[c.signal], dtype=float)
    return base, land, land.sum(axis=1)


def target_sets(world, c) -> list[set[int]]:
    """``T(x̃)`` at every point: the named labels, or for erasing the base modal labels there."""
    base = np.asarray(world.base, dtype=float)
    if c.strategy == "erase":
        return [{y for y in range(base.shape[1]) if base[x, y] >= base[x].max()} for x in range(len(base))]
    names = set(c.target)
    return [{y for y, name in enumerate(world.labels) if name in names} for _ in range(len(base))]


def planted_labels(world, c) -> list[int]:
    """``ℓ(x̃)``: the named label; unplanting: the strongest base label of the target set;
    erasing: the base modal label (ties: the first label, the library's convention)."""
    base, _, _ = _arrays(world, c)
    out = []
    for x in range(len(base)):
        if c.strategy == "erase":
            out.append(int(np.argmax(base[x])))
        elif c.strategy == "unplant":
            allowed = sorted(target_sets(world, c)[x])
            out.append(max(allowed, key=lambda y, x=x: (base[x, y], -y)))
        else:
            out.append(list(world.labels).index(c.label))
    return out


def wrong_label(world, c) -> int:
    """The label misfiring members plant: ``misfire_label`` or the first label outside ``T``."""
    if c.misfire_label is not None:
        return list(world.labels).index(c.misfire_label)
    return next(y for y, name in enumerate(world.labels) if name not in c.target)


def planted(world, c) -> np.ndarray:
    """``E(x̃, y)``: what one unit of the collective submits, noise included (THEORY §1)."""
    base, land, mass = _arrays(world, c)
    n_points, n_labels = base.shape
    labels = planted_labels(world, c)
    members = np.zeros_like(base)
    for x in range(n_points):
        ell = labels[x]
        if c.strategy == "feature_only":
            members[x, ell] = land[x, ell]  # only members with y = ℓ move to the signal
            if c.variant == "hardt":  # the others submit their own data, unchanged
                for y in range(n_labels):
                    if y != ell:
                        members[x, y] = base[x, y]
        else:
            members[x, ell] = mass[x]
    sigma = float(c.noise)
    if c.noise_mode == "drop":  # deviators act as bystanders
        deviators = base.copy()
    elif c.noise_mode == "scatter":  # a uniformly random label on the signal
        deviators = np.repeat(mass[:, None] / n_labels, n_labels, axis=1)
    else:  # misfire: a fixed wrong label on the signal
        deviators = np.zeros_like(base)
        deviators[:, wrong_label(world, c)] = mass
    return (1 - sigma) * members + sigma * deviators


def training(world, collectives, sizes) -> np.ndarray:
    """``P = (1 - Σ α_j) P0 + Σ α_j E_j``."""
    P = (1 - sum(sizes)) * np.asarray(world.base, dtype=float)
    for c, a in zip(collectives, sizes, strict=True):
        P = P + a * planted(world, c)
    return P


# -- per-point bounds (THEORY §3.1, §3.3) ----------------------------------------------------------
def per_point(world, collectives, sizes, kappa: float) -> np.ndarray:
    """``S_i >= Σ m_i(x̃) 1[P(x̃, ℓ_i) - max_{y∉T_i} P(x̃, y) > κ]`` (a tie fails)."""
    P = training(world, collectives, sizes)
    out = []
    for c in collectives:
        _, _, mass = _arrays(world, c)
        labels, targets = planted_labels(world, c), target_sets(world, c)
        won = 0.0
        for x in range(len(P)):
            rivals = [P[x, y] for y in range(P.shape[1]) if y not in targets[x]]
            margin = P[x, labels[x]] - max(rivals) if rivals else math.inf
            won += mass[x] if margin > kappa + TIE else 0.0
        out.append(won)
    return np.array(out)


# -- closed-form terms (THEORY §3.1; feature-only and noise as in bounds/population.py) -----------
def conditional(world) -> np.ndarray:
    """``P0(y | x̃)``, 0 where the base has no mass."""
    base = np.asarray(world.base, dtype=float)
    total = base.sum(axis=1, keepdims=True)
    return np.divide(base, total, out=np.zeros_like(base), where=total > 0)


def gap(world, signal: str, target: set[int], label: int) -> float:
    """Conditional gap ``Δ = max_{x̃∈X*} [max_{y∉T} P0(y|x̃) - P0(ℓ|x̃)]_+``."""
    cond = conditional(world)
    inside = np.asarray(world.landing[signal], dtype=float).sum(axis=1) > 0
    out = 0.0
    for x in np.flatnonzero(inside):
        rivals = [cond[x, y] for y in range(cond.shape[1]) if y not in target]
        if rivals:
            out = max(out, max(rivals) - cond[x, label])
    return out


def terms(world, c) -> dict[str, float]:
    """``Δ, ξ, ν, b, hΓ`` of a feature-label or feature-only collective.

    ``ν = r(1-σ) - σ·1[misfire]`` with the label share ``r = min_{X*} m(x̃,ℓ)/m(x̃)`` (1 for
    feature-label); ``b = 1-σ`` under drop (deviators are bystanders), else 1; ``hΓ = (1-σ)·
    max_{X*} max_{y∉T} P0(y|x̃)`` for feature-only "hardt" (its unmoved members), else 0.
    """
    base, land, mass = _arrays(world, c)
    inside = np.flatnonzero(mass > 0)
    label = planted_labels(world, c)[0]
    target = target_sets(world, c)[0]
    sigma = float(c.noise)
    share = 1.0
    resistance = 0.0
    if c.strategy == "feature_only":
        share = min(land[x, label] / mass[x] for x in inside)
        if c.variant == "hardt":
            cond = conditional(world)
            rival = max((cond[x, y] for x in inside for y in range(cond.shape[1]) if y not in target),
                        default=0.0)
            resistance = (1 - sigma) * rival
    return {
        "delta": gap(world, c.signal, target, label),
        "xi": float(base[inside].sum()),
        "net_rate": share * (1 - sigma) - (sigma if c.noise_mode == "misfire" else 0.0),
        "bystander_rate": 1 - sigma if c.noise_mode == "drop" else 1.0,
        "resistance": resistance,
    }


def ties(world, c) -> float:
    """The tie allowance ``|X*| τ``: a tie (margin <= τ) at every point of the signal set is a
    failure, so a ratio bound counts ``τ`` more mass against the collective at each of them."""
    return float((np.asarray(world.landing[c.signal]).sum(axis=1) > 0).sum()) * TIE


def ratio(numerator_rate: float, against: float) -> float:
    """``clip(1 - against / rate, 0, 1)``, and 0 when the rate is not positive."""
    return 0.0 if numerator_rate <= 0 else min(max(1 - against / numerator_rate, 0.0), 1.0)


def closed_form(world, c, eps: float, reading: str) -> float:
    """``S >= 1 - [(1 - bα) Δξ + α hΓ ξ + κ + |X*|τ] / (α ν)`` [HMMZ23 Thm 1, generalised]."""
    t = terms(world, c)
    alpha = float(c.size)
    against = (1 - t["bystander_rate"] * alpha) * t["delta"] * t["xi"]
    against += alpha * t["resistance"] * t["xi"] + slack(eps, reading) + ties(world, c)
    return ratio(alpha * t["net_rate"], against)


# -- several collectives (THEORY §3.3) -------------------------------------------------------------
def conflict(world, i, j, relative: bool = True) -> float:
    """``ρ_ij = Σ_{x̃∈X*_i} max_{y∉T_i} [E_j(x̃, y) - E_j(x̃, ℓ_i)]_+`` (``relative=False``: without
    the subtracted term). For a feature-label ``j`` planting outside ``T_i`` this is THEORY's
    ``Σ_{X*_i} m_j``."""
    _, _, mass_i = _arrays(world, i)
    E = planted(world, j)
    labels, targets = planted_labels(world, i), target_sets(world, i)
    total = 0.0
    for x in np.flatnonzero(mass_i > 0):
        own = E[x, labels[x]] if relative else 0.0
        excess = [E[x, y] - own for y in range(E.shape[1]) if y not in targets[x]]
        total += max([0.0, *excess])
    return total


def conflict_matrix(world, collectives) -> np.ndarray:
    k = len(collectives)
    return np.array([[conflict(world, collectives[i], collectives[j]) if i != j else 0.0
                      for j in range(k)] for i in range(k)])


def b1(world, collectives, eps: float, reading: str) -> np.ndarray:
    """``S_i >= 1 - [β_0 Δ_i ξ_i + α_i h_iΓ_i ξ_i + Σ_{j≠i} α_j ρ_ij + κ + |X*_i|τ]/(α_i ν_i)``, with
    ``β_0 = 1 - Σ_{j≠i} α_j - b_i α_i``; 0 for strategies the form does not cover."""
    sizes = [float(c.size) for c in collectives]
    out = []
    for i, c in enumerate(collectives):
        if c.strategy not in ("feature_label", "feature_only"):
            out.append(0.0)
            continue
        t = terms(world, c)
        others = sum(sizes) - sizes[i]
        bystanders = 1 - others - t["bystander_rate"] * sizes[i]
        against = (bystanders * t["delta"] + sizes[i] * t["resistance"]) * t["xi"] + slack(eps, reading)
        against += ties(world, c)
        against += sum(sizes[j] * conflict(world, c, d) for j, d in enumerate(collectives) if j != i)
        out.append(ratio(sizes[i] * t["net_rate"], against))
    return np.array(out)


def label_shares(world, c) -> np.ndarray:
    """``a_j(y)``: share of a feature-label collective's landing planted on each label (drop
    deviators plant nothing: they are bystanders)."""
    n_labels = len(world.labels)
    shares = np.zeros(n_labels)
    sigma = float(c.noise)
    shares[list(world.labels).index(c.label)] += 1 - sigma
    if c.noise_mode == "scatter":
        shares += sigma / n_labels
    elif c.noise_mode == "misfire":
        shares[wrong_label(world, c)] += sigma
    return shares


def bloc_margin(world, collectives, c) -> tuple[list[int], int, float]:
    """``c``'s bloc (feature-label collectives on its signal), its leading target label ``y_T`` and
    the bloc margin ``μ = max_{y∈T} ā_y - max_{y∉T} ā_y`` of the pooled shares ``ā``."""
    sizes = [float(d.size) for d in collectives]
    bloc = [j for j, d in enumerate(collectives) if d.strategy == "feature_label" and d.signal == c.signal]
    pooled = sum(sizes[j] * label_shares(world, collectives[j]) for j in bloc)
    target = target_sets(world, c)[0]
    lead = max(sorted(target), key=lambda y: (pooled[y], -y))
    rivals = [pooled[y] for y in range(len(pooled)) if y not in target]
    return bloc, lead, pooled[lead] - max(rivals) if rivals else math.inf


def b2(world, collectives, eps: float, reading: str) -> np.ndarray:
    """Bloc form: feature-label collectives on ``i``'s signal pool ``ā_y = Σ_bloc α_j a_j(y)``;
    with ``μ_i = max_{y∈T_i} ā_y - max_{y∉T_i} ā_y`` and ``y_T`` the leading target label,
    ``S_i >= 1 - [β_0 Δ_i(y_T) ξ_i + Σ_{j∉bloc} α_j ρ_ij + κ + |X*_i|τ] / μ_i`` (ρ without the
    subtracted term), ``β_0 = 1 - Σ_j α_j + Σ_{bloc, drop} σ_j α_j``; 0 if ``μ_i <= 0``."""
    sizes = [float(c.size) for c in collectives]
    base = np.asarray(world.base, dtype=float)
    out = []
    for c in collectives:
        if c.strategy != "feature_label":
            out.append(0.0)
            continue
        bloc, lead, margin = bloc_margin(world, collectives, c)
        target = target_sets(world, c)[0]
        dropped = sum(sizes[j] * float(collectives[j].noise) for j in bloc
                      if collectives[j].noise_mode == "drop")
        bystanders = 1 - sum(sizes) + dropped
        inside = np.asarray(world.landing[c.signal]).sum(axis=1) > 0
        against = bystanders * gap(world, c.signal, target, lead) * base[inside].sum()
        against += sum(sizes[j] * conflict(world, c, d, relative=False)
                       for j, d in enumerate(collectives) if j not in bloc)
        out.append(ratio(margin, against + slack(eps, reading) + ties(world, c)))
    return np.array(out)


# -- finite sample (THEORY §3.2) -------------------------------------------------------------------
def union_delta(world, strategy: str, delta: float) -> float:
    """``δ̃``: ``δ/(2 + 2|X̃| + 2|X̃||Y|)`` (FL, FO), ``δ/(2 + 6|X̃|)`` (unplanting),
    ``δ/(2 + |X̃||Y| + 2|X| + 2|X||Y|)`` (erasing)."""
    points, labels, features = len(world.points), len(world.labels), world.feature_count
    if strategy == "unplant":
        return delta / (2 + 6 * points)
    if strategy == "erase":
        return delta / (2 + points * labels + 2 * features + 2 * features * labels)
    return delta / (2 + 2 * points + 2 * points * labels)
