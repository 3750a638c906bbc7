"""Property-testing kit: hypothesis strategies and checkers for success bounds.

A bound in this library is a claim checked against the exact oracle (THEORY §2) on random worlds.
This module lets a researcher test a new bound the way the project tests its own::

    from hypothesis import given
    from aca_games import bounds, testing

    @given(testing.instances())
    def test_my_bound_is_sound(inst):
        testing.assert_sound(bounds.staircase, *inst.alone)

**Strategies** (shrinkable: they draw the arrays themselves, never a seed):

* :func:`worlds`: consistent worlds (THEORY §1), each reduced from a full joint table ``P0(x, y)``
  with integer signal maps by :meth:`World.from_table`. The relevant points are the first rows of
  the table, so every world has one of a few fixed shapes :data:`SHAPES` (points no signal reaches
  pad it); JAX then compiles each kernel a few times only. Much of the population may live outside
  the relevant points (a drawn dilution), which makes ``ξ`` small and the bounds non-trivial.
* :func:`collectives`: every strategy, feature-only variant and noise mode, with targets and
  planted labels drawn from the world's labels; :func:`rivals` draws collectives whose signal
  overlaps several points of another's signal set and that plant a conflicting label.
* :func:`sizes`: a size for one collective *at and around* the sizes where a margin on its signal
  set crosses 0 or the learner's slack (crack levels, exact-oracle breakpoints) and where the
  closed form (B1) reaches 0.5, 0.9 or 1: the places where a wrong bound shows.
* :func:`instances` puts these together (:class:`Instance`: world, collectives, ``ε``, reading);
  :func:`menus`, :func:`players` and :func:`games` draw option menus, players and :class:`ACAGame`.

**Checkers**: :func:`assert_sound` (``bound <= oracle``) and :func:`assert_monotone` (a sweep of
one parameter). On failure each prints the counterexample as Python source one can paste
(:func:`literal`; ``World`` and ``Collective`` reprs are literals too, so hypothesis's own
"Falsifying example" line is pasteable as well), after hypothesis has shrunk it.

Needs ``hypothesis`` (the ``test`` extra).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from aca_games.bounds.multi import conflict_mass
from aca_games.bounds.population import closed_form_critical_mass, closed_form_terms
from aca_games.collective import NOISE_MODES, STRATEGIES, VARIANTS, Collective
from aca_games.game import GAME_BOUNDS, ACAGame, Player
from aca_games.learner import READINGS, slack
from aca_games.oracle import success
from aca_games.planting import plant_all
from aca_games.world import World

#: ``(points, labels)`` of the drawn worlds: a few buckets, smallest first (hypothesis shrinks there).
SHAPES = ((2, 2), (4, 3), (8, 5))
#: Learner suboptimality drawn by default (0 twice as often: the Bayes-optimal learner).
EPS = (0.0, 0.0, 0.01, 0.05)
#: Coordination-noise levels drawn besides a free float in [0.01, 0.6].
NOISE_LEVELS = (0.0, 0.1, 0.25, 0.5)
#: Weight of the population outside the relevant points, relative to the weights on them.
DILUTIONS = (1, 4, 32)
#: Sizes away from thresholds lie on a grid of this many steps (short literals, no subnormals).
GRID = 1000
#: Offsets from a threshold size: exactly at it, just around it (ties, rounding), a bit further.
OFFSETS = (0.0, -1e-9, 1e-9, -1e-4, 1e-4, -0.01, 0.01)
#: Closed-form targets whose critical masses are drawn as sizes.
TARGETS = (0.5, 0.9, 1.0)
#: Largest total size of the collectives drawn by :func:`instances` (bystanders keep the rest).
ROOM = 0.95
#: Drawn sizes below this are drawn as 0: the margins such a collective creates are of the order
#: of the tie tolerance (1e-12), where the tie rule, not the bound, decides.
MIN_SIZE = 1e-6
#: Tolerance of the checkers: rounding in float64 sums, far below any margin the model resolves.
TOL = 1e-12


class Instance(NamedTuple):
    """A drawn test case. ``bound(*instance)`` calls a multi-collective bound."""

    world: World
    collectives: tuple[Collective, ...]
    eps: float
    reading: str

    @property
    def alone(self) -> tuple:
        """``(world, collectives[0], eps, reading)``: arguments of a single-collective bound."""
        return self.world, self.collectives[0], self.eps, self.reading


# -- worlds ------------------------------------------------------------------------------------------
@st.composite
def worlds(draw, shapes: Sequence[tuple[int, int]] = SHAPES, n_signals: int = 3, weights: int = 6) -> World:
    """A consistent world with ``n_signals`` signals, reduced from a drawn full table.

    The full table has ``2P`` features and ``L`` labels (``(P, L)`` from ``shapes``) with integer
    weights in ``0..weights``; the last ``P`` features (outside every signal set) are scaled by a
    dilution from :data:`DILUTIONS`. Each signal maps every feature to one of the first ``P``
    rows, the relevant points ``x0..x{P-1}``; labels are ``y0..y{L-1}``, signals ``g0, g1, ...``.
    """
    n_points, n_labels = draw(st.sampled_from(list(shapes)))
    n_features = 2 * n_points
    cell = st.integers(0, weights)
    table = draw(hnp.arrays(np.int64, (n_features, n_labels), elements=cell, fill=st.nothing()))
    table = table.astype(np.float64)
    table[n_points:] *= draw(st.sampled_from(DILUTIONS))
    if table.sum() == 0:
        table[-1, 0] = 1.0
    targets = hnp.arrays(np.int64, (n_features,), elements=st.integers(0, n_points - 1), fill=st.nothing())
    maps = {f"g{s}": draw(targets) for s in range(n_signals)}
    return World.from_table(
        table / table.sum(),
        maps,
        labels=[f"y{j}" for j in range(n_labels)],
        relevant=range(n_points),
    )


# -- collectives -------------------------------------------------------------------------------------
@st.composite
def collectives(
    draw,
    world: World,
    name: str = "c",
    strategies: Sequence[str] = STRATEGIES,
    noise: bool = True,
    size: float = 0.0,
    signals: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    max_targets: int | None = None,
    noise_modes: Sequence[str] = NOISE_MODES,
    min_noise: float = 0.0,
) -> Collective:
    """A collective on ``world``: strategy from ``strategies``, signal from ``signals`` (default
    all), planted label from ``labels`` (default all; feature-label and feature-only only), a
    target set around it of at most ``max_targets`` labels (default ``L - 1``: some label is a
    rival), and with ``noise`` a noise level of at least ``min_noise`` and a mode from
    ``noise_modes`` (misfire with its default or a named wrong label; erasing, and a target set of
    every label, cannot misfire). ``size`` is fixed; draw it with :func:`sizes`."""
    strategy = draw(st.sampled_from(list(strategies)))
    signal = draw(st.sampled_from(list(signals or world.signals)))
    names = list(world.labels)
    if labels is None:  # mostly a label the base does not already favour on the signal set
        labels = _challengers(world, signal) if draw(st.booleans()) else names
    target, label, variant = (), None, None
    if strategy == "unplant":
        avoid = draw(st.sampled_from(names))
        target = tuple(y for y in names if y != avoid)
    elif strategy != "erase":
        label = draw(st.sampled_from(list(labels or names)))
        others = [y for y in names if y != label]
        most = len(others) - 1 if max_targets is None else min(max_targets - 1, len(others))
        extra = draw(st.lists(st.sampled_from(others), max_size=most, unique=True)) if most else []
        target = (label, *extra)
        variant = draw(st.sampled_from(VARIANTS[strategy])) if strategy in VARIANTS else None
    sigma, mode, wrong = 0.0, "drop", None
    if noise:
        misfire = strategy != "erase" and len(target) < len(names)  # a wrong label to plant
        modes = [m for m in noise_modes if misfire or m != "misfire"] or ["drop"]
        mode = draw(st.sampled_from(modes))
        levels = [x for x in NOISE_LEVELS if x >= min_noise]
        sigma = draw(st.one_of(st.sampled_from(levels), st.floats(max(min_noise, 0.01), 0.6)))
        if mode == "misfire" and draw(st.booleans()):
            wrong = draw(st.sampled_from([y for y in names if y not in target]))
    return Collective(
        name, size, signal, target=target, label=label, strategy=strategy, variant=variant,
        noise=sigma, noise_mode=mode, misfire_label=wrong,
    )  # fmt: skip


def _challengers(world: World, signal: str) -> list[str]:
    """Labels that trail the base's leading label at some point of the signal set (all labels if
    the base is empty there): planting them has to overcome the base."""
    base = np.asarray(world.base)[np.asarray(world.landing_mass(signal)) > 0]
    trailing = (base < base.max(axis=1, keepdims=True)).any(axis=0)
    return [y for y, t in zip(world.labels, trailing, strict=True) if t] or list(world.labels)


def rivals(world: World, of: Collective, name: str = "r", strategies: Sequence[str] = STRATEGIES,
           noise: bool = True, size: float = 0.0, **options) -> st.SearchStrategy[Collective]:
    """A collective that competes with ``of``: its signal overlaps ``of``'s signal set on at least
    two points when the world has such a signal, and (planting strategies) it plants a label
    outside ``of``'s target set when there is one. ``options`` go to :func:`collectives`."""
    own = set(world.signal_set(of.signal))
    overlapping = [s for s in world.signals if len(own & set(world.signal_set(s))) >= 2]
    conflicting = [y for y in world.labels if y not in of.target] if of.target else None
    return collectives(world, name, strategies, noise, size, overlapping or None, conflicting or None,
                       **options)


# -- sizes -------------------------------------------------------------------------------------------
def thresholds(world: World, collectives: Sequence[Collective], index: int = 0, kappa=0.0) -> np.ndarray:
    """Sizes of collective ``index`` (the others' sizes fixed) where a bound or the oracle may jump.

    * where a margin ``P(x̃, y) - P(x̃, y')`` (``y`` in its target set, ``y'`` outside, ``x̃`` on its
      signal set) crosses 0 or ``κ``: the training table is affine in the size, so each margin is;
    * where the closed form (B1) of a feature-label or feature-only collective reaches each of
      :data:`TARGETS`.

    Returns the sorted distinct levels in ``[0, 1)``.

    >>> w = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.1]], landing={"g": [[0.6, 0.4]]})
    >>> thresholds(w, [Collective("c", 0.0, "g", target="y")]).round(4).tolist()  # crack, S* = .5, .9
    [0.1667, 0.2857, 0.6667]
    """
    cs = list(collectives)
    p = plant_all(world, cs)
    planted, base = np.asarray(p.planted), np.asarray(world.base)
    fixed = np.array([float(c.size) for c in cs])
    fixed[index] = 0.0
    const = (1.0 - fixed.sum()) * base + np.einsum("k,kpl->pl", fixed, planted)
    slope = planted[index] - base
    target = np.asarray(p.target[index])
    pair = target[:, :, None] & ~target[:, None, :] & (np.asarray(p.landing[index]) > 0)[:, None, None]
    a = const[:, :, None] - const[:, None, :]
    b = slope[:, :, None] - slope[:, None, :]
    levels = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for crossing in (0.0, float(kappa)):
            levels.append(np.where(pair & (b != 0), (crossing - a) / b, np.nan).ravel())
        c = cs[index]
        if c.strategy in ("feature_label", "feature_only"):
            # B1 is the closed form with the slack κ + Σ ρ α_j - (Σ others) Δξ
            t = closed_form_terms(world, c)
            rho = np.asarray(conflict_mass(world, cs))[index]
            shifted = float(kappa) + float(rho @ fixed) - fixed.sum() * float(t.delta * t.xi)
            levels.append(np.array([float(closed_form_critical_mass(t, shifted, goal)) for goal in TARGETS]))
    out = np.concatenate(levels)
    return np.unique(out[np.isfinite(out) & (out >= 0) & (out < 1)])


@st.composite
def sizes(draw, world: World, collectives: Sequence[Collective], index: int = 0, kappa=0.0,
          room: float | None = None) -> float:
    """A size for collective ``index``: at or around one of its :func:`thresholds` (offsets
    :data:`OFFSETS`), or on a grid of :data:`GRID` steps in ``(0, room)`` (default: what the
    others leave, up to :data:`ROOM`)."""
    others = sum(float(c.size) for j, c in enumerate(collectives) if j != index)
    room = ROOM - others if room is None else room
    levels = thresholds(world, collectives, index, kappa)
    levels = levels[(levels >= MIN_SIZE) & (levels < room)]
    anywhere = st.integers(1, GRID - 1).map(lambda k: (k * room / GRID, 0.0))
    near = st.tuples(st.sampled_from(levels.tolist()), st.sampled_from(OFFSETS))
    at_threshold = levels.size and draw(st.sampled_from((True, True, False)))  # 2:1 near a threshold
    level, offset = draw(near if at_threshold else anywhere)
    return _floor(float(np.clip(level + offset, 0.0, np.nextafter(room, 0.0))))


def _floor(size: float) -> float:
    return 0.0 if size < MIN_SIZE else size


# -- instances ---------------------------------------------------------------------------------------
@st.composite
def instances(
    draw,
    n_collectives: Sequence[int] = (1,),
    strategies: Sequence[str] = STRATEGIES,
    rival_strategies: Sequence[str] | None = None,
    noise: bool = True,
    eps: Sequence[float] = EPS,
    readings: Sequence[str] = READINGS,
    shapes: Sequence[tuple[int, int]] = SHAPES,
    shared_signal: bool = False,
    max_targets: int | None = None,
    noise_modes: Sequence[str] = NOISE_MODES,
    min_noise: float = 0.0,
) -> Instance:
    """A world, ``K`` collectives (``K`` from ``n_collectives``), ``ε`` and a reading.

    The first collective is the one the bounds are made to bite on: its size comes from
    :func:`sizes` given the others'; ``max_targets`` limits its target set (1: the planted label
    alone). The others are :func:`rivals` of it (strategies ``rival_strategies``, default
    ``strategies``) with sizes in ``[0, 0.5/(K-1)]``; with ``shared_signal`` they all use the
    first collective's signal (blocs). ``noise_modes`` and ``min_noise`` apply to every
    collective (see :func:`collectives`).
    """
    world = draw(worlds(shapes))
    k = draw(st.sampled_from(list(n_collectives)))
    noisy = dict(noise_modes=noise_modes, min_noise=min_noise)
    first = draw(collectives(world, "c0", strategies, noise, max_targets=max_targets, **noisy))
    others = []
    for j in range(1, k):
        rival = draw(rivals(world, first, f"c{j}", rival_strategies or strategies, noise, **noisy))
        share = draw(st.one_of(st.sampled_from((0.0, 0.1)), st.floats(0.0, 1.0)))
        rival = rival.replace(size=_floor(0.5 / (k - 1) * share))
        others.append(rival.replace(signal=first.signal) if shared_signal else rival)
    e = draw(st.sampled_from(list(eps)))
    reading = draw(st.sampled_from(list(readings)))
    cs = [first, *others]
    alpha = draw(sizes(world, cs, 0, slack(e, reading)))
    return Instance(world, (first.with_size(alpha), *others), e, reading)


# -- menus and games ---------------------------------------------------------------------------------
@st.composite
def menus(draw, world: World, name: str, n_options: Sequence[int] = (1, 2, 3),
          strategies: Sequence[str] = STRATEGIES, noise: bool = True, max_size: float = 0.3):
    """A menu: a list of options (collectives named ``name``) with sizes in ``[0, max_size]``."""
    m = draw(st.sampled_from(list(n_options)))
    size = st.one_of(st.sampled_from((0.0, max_size / 2)), st.floats(0.0, max_size).map(_floor))
    return [draw(collectives(world, name, strategies, noise, draw(size))) for _ in range(m)]


@st.composite
def players(draw, world: World, name: str, n_options: Sequence[int] = (1, 2, 3),
            strategies: Sequence[str] = STRATEGIES, noise: bool = True, max_size: float = 0.3) -> Player:
    """A :class:`Player` with a drawn menu, value in [0.5, 2], option costs in [0, 0.2] and a size
    cost of 0 or 0.1."""
    options = draw(menus(world, name, n_options, strategies, noise, max_size))
    value = draw(st.floats(0.5, 2.0))
    costs = draw(st.lists(st.floats(0.0, 0.2), min_size=len(options), max_size=len(options)))
    return Player(name, options, value=value, costs=costs, size_cost=draw(st.sampled_from((0.0, 0.1))))


@st.composite
def games(draw, n_players: Sequence[int] = (1, 2, 3), n_options: Sequence[int] = (1, 2, 3),
          bounds: Sequence[str] = GAME_BOUNDS, strategies: Sequence[str] = STRATEGIES,
          noise: bool = True, eps: Sequence[float] = EPS, readings: Sequence[str] = READINGS,
          shapes: Sequence[tuple[int, int]] = SHAPES) -> ACAGame:
    """An :class:`ACAGame` on a drawn world: ``n`` players (sizes below ``0.9/n`` each, so every
    profile leaves bystanders) and a payoff bound from ``bounds``."""
    world = draw(worlds(shapes))
    n = draw(st.sampled_from(list(n_players)))
    cast = [draw(players(world, f"p{i}", n_options, strategies, noise, 0.9 / n)) for i in range(n)]
    bound = draw(st.sampled_from(list(bounds)))
    return ACAGame(world, cast, bound=bound, eps=draw(st.sampled_from(list(eps))),
                   reading=draw(st.sampled_from(list(readings))))


# -- checkers ----------------------------------------------------------------------------------------
def literal(world: World, collectives, eps=0.0, reading: str = "huber") -> str:
    """Python source that rebuilds the case (floats printed exactly)."""
    cs = collectives if isinstance(collectives, Collective) else list(collectives)
    return (
        "from aca_games import Collective, World\n"
        f"world = {world!r}\n"
        f"collectives = {cs!r}\n"
        f"eps, reading = {float(eps)!r}, {reading!r}"
    )


def _name(bound) -> str:
    return getattr(bound, "__name__", repr(bound))


def _values(bound, world, collectives, eps, reading) -> np.ndarray:
    return np.atleast_1d(np.asarray(bound(world, collectives, eps, reading), dtype=np.float64))


def assert_sound(bound: Callable, world: World, collectives, eps=0.0, reading: str = "huber",
                 *, atol: float = TOL) -> tuple[np.ndarray, np.ndarray]:
    """Check ``bound(world, collectives, eps, reading) <= success(world, ...) + atol``.

    ``collectives`` is passed to ``bound`` unchanged: a single :class:`Collective` (a
    single-collective bound, compared with that collective acting alone) or a sequence (a
    multi-collective bound returning one value per collective, or one value for the first).

    Returns ``(bound values, oracle values)`` so a test can also count non-trivial cases. Raises
    ``AssertionError`` with a pasteable counterexample (:func:`literal`) otherwise.
    """
    cs = [collectives] if isinstance(collectives, Collective) else list(collectives)
    value = _values(bound, world, collectives, eps, reading)
    exact = np.asarray(success(world, cs, eps, reading), dtype=np.float64)
    if value.size == 1:
        exact = exact[:1]
    if value.shape != exact.shape:
        raise ValueError(f"{_name(bound)} returned shape {value.shape}, expected {exact.shape} or ()")
    bad = np.flatnonzero(value > exact + atol)
    if bad.size:
        i = int(bad[0])
        raise AssertionError(
            f"{_name(bound)} is not sound: {float(value[i])!r} for collective {cs[i].name!r}, above "
            f"the exact oracle's {float(exact[i])!r} (eps={float(eps)!r}, reading={reading!r}).\n"
            f"Counterexample:\n{literal(world, collectives, eps, reading)}"
        )
    return value, exact


#: Parameters :func:`assert_monotone` sweeps by name (besides a callable).
PARAMETERS = ("size", "noise", "eps")


def assert_monotone(
    bound: Callable,
    parameter: str | Callable,
    sign: int,
    world: World,
    collectives,
    eps=0.0,
    reading: str = "huber",
    *,
    grid: Sequence[float] | None = None,
    index: int = 0,
    of: int | None = None,
    atol: float = TOL,
) -> np.ndarray:
    """Check that output ``index`` of ``bound`` moves with ``sign`` (+1 up, -1 down) along a sweep.

    ``parameter`` is ``"size"`` or ``"noise"`` (of collective ``of``, default ``index``; the size
    grid spans what the others leave and includes its :func:`thresholds` and their neighbours),
    ``"eps"``, or a callable ``(world, collectives, eps, t) -> (world, collectives, eps)`` for a
    custom sweep over ``grid``. Returns the values along the grid; raises ``AssertionError`` with
    the first pair that moves the wrong way and a pasteable counterexample.
    """
    if sign not in (1, -1):
        raise ValueError(f"sign: expected +1 or -1, got {sign!r}")
    alone = isinstance(collectives, Collective)
    cs = [collectives] if alone else list(collectives)
    of = index if of is None else of
    if grid is None:
        grid = _default_grid(parameter, world, cs, of, eps, reading)
    cases = [_apply(parameter, world, cs, eps, float(t), of) for t in grid]
    values = np.array([
        _values(bound, w, c[0] if alone else c, e, reading)[index] for w, c, e in cases
    ])  # fmt: skip
    steps = sign * np.diff(values)
    bad = np.flatnonzero(steps < -atol)
    if bad.size:
        k = int(bad[0])
        w, c, e = cases[k]
        what = parameter if isinstance(parameter, str) else _name(parameter)
        direction = "non-decreasing" if sign > 0 else "non-increasing"
        raise AssertionError(
            f"{_name(bound)} is not {direction} in {what}: {float(values[k])!r} at {what} = "
            f"{float(grid[k])!r}, {float(values[k + 1])!r} at {what} = {float(grid[k + 1])!r} "
            f"(output {index}).\n"
            f"Counterexample at {what} = {float(grid[k])!r}:\n{literal(w, c[0] if alone else c, e, reading)}"
        )
    return values


def _default_grid(parameter, world, cs, of, eps, reading) -> np.ndarray:
    if parameter == "size":
        room = 1.0 - sum(float(c.size) for j, c in enumerate(cs) if j != of) - 1e-9
        levels = thresholds(world, cs, of, slack(eps, reading))
        near = np.concatenate([levels - 1e-9, levels, levels + 1e-9, [float(cs[of].size)]])
        grid = np.concatenate([np.linspace(0.0, room, 25), near])
        return np.unique(grid[(grid >= 0) & (grid < room)])
    if parameter == "noise":
        return np.unique(np.append(np.linspace(0.0, 1.0, 21), float(cs[of].noise)))
    if parameter == "eps":
        return np.array([0.0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4])
    raise ValueError(f"grid: needed for parameter {parameter!r} (named ones: {PARAMETERS})")


def _apply(parameter, world, cs, eps, t, of):
    if callable(parameter):
        return parameter(world, cs, eps, t)
    if parameter == "eps":
        return world, cs, t
    if parameter in ("size", "noise"):
        out = list(cs)
        out[of] = cs[of].replace(**{parameter: t})
        return world, out, eps
    raise ValueError(f"parameter: expected one of {PARAMETERS} or a callable, got {parameter!r}")
