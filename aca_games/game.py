"""Games between collectives (THEORY §5).

Each player is a collective with a finite *menu* of options (a :class:`Collective` per option: a
signal, a planted label in its target set, a strategy, a noise mode and a recruited size) and a
value ``v_i`` of success. The payoff of a profile is

    u_i = v_i · B_i(profile) - c_i(option) - k_i · α_i,

with ``B_i`` a chosen bound: the exact oracle, the per-point (staircase) bound, the aggregative
closed form (B1) or a smooth surrogate, ``c_i`` a per-option cost and ``k_i`` a cost per unit of
size. Every option is resolved once into arrays (its planting, size and closed-form terms); a
profile is then a gather, and the whole normal form is one ``vmap`` over profiles.

For continuous games, :meth:`ACAGame.payoffs_at` evaluates the payoffs at arbitrary sizes for fixed
options; it is differentiable whenever the bound is (closed form, smooth surrogate).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games.bounds.multi import b1_kernel, per_point_kernel, stacked_terms
from aca_games.bounds.smooth import check_tau, smooth_kernel
from aca_games.collective import Collective
from aca_games.learner import check_eps, slack
from aca_games.oracle import METHOD_LABELS, METHODS, success_kernel
from aca_games.planting import Planting, plant
from aca_games.world import World

#: Payoff bounds available in games. "smooth" is the surrogate of the exact oracle (temperature tau).
GAME_BOUNDS = ("exact", "per_point", "closed_form", "smooth")


@dataclass(frozen=True)
class Player:
    """A player: a collective choosing among ``options``.

    Args:
        name: display name.
        options: the menu, one :class:`Collective` per option (sizes included).
        value: ``v_i``, the value of full success.
        costs: cost of each option (default 0).
        size_cost: cost per unit of recruited size ``k_i`` (default 0).
        option_names: labels for the options (default ``"signal:label@size"``).
    """

    name: str
    options: tuple[Collective, ...]
    value: float = 1.0
    costs: tuple[float, ...] | None = None
    size_cost: float = 0.0
    option_names: tuple[str, ...] | None = field(default=None)

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "options", tuple(self.options))
        if not self.options or not all(isinstance(o, Collective) for o in self.options):
            raise ACAInputError(f"{self.name}.options: need a non-empty list of Collective objects")
        costs = (0.0,) * len(self.options) if self.costs is None else tuple(self.costs)
        if len(costs) != len(self.options):
            raise ACAInputError(f"{self.name}.costs: {len(costs)} costs for {len(self.options)} options")
        set_(self, "costs", tuple(float(c) for c in v.finite_array(f"{self.name}.costs", costs, ndim=1)))
        set_(self, "value", float(v.finite_array(f"{self.name}.value", self.value, ndim=0)))
        set_(self, "size_cost", float(v.finite_array(f"{self.name}.size_cost", self.size_cost, ndim=0)))
        names = self.option_names or tuple(_describe(o) for o in self.options)
        if len(names) != len(self.options):
            raise ACAInputError(f"{self.name}.option_names: one name per option expected")
        set_(self, "option_names", tuple(names))


def _describe(c: Collective) -> str:
    label = c.label if c.label is not None else c.strategy
    return f"{c.signal}:{label}@{float(c.size):g}"


class _Menus:
    """Every option of every player resolved into padded arrays ``(n_players, max_options, ...)``."""

    def __init__(self, world: World, players: Sequence[Player]):
        width = max(len(p.options) for p in players)
        pad = lambda opts: list(opts) + [opts[-1]] * (width - len(opts))  # noqa: E731
        plantings, sizes, terms, covered, costs = [], [], [], [], []
        for p in players:
            opts = pad(p.options)
            plantings.append(_stack([plant(world, o) for o in opts]))
            sizes.append(jnp.asarray([float(o.size) for o in opts]))
            option_terms, option_covered = stacked_terms(world, opts)
            terms.append(option_terms)
            covered.append(option_covered)
            costs.append(jnp.asarray(list(p.costs) + [p.costs[-1]] * (width - len(p.costs))))
        self.planting = _stack(plantings)  # leaves (n, m, ...)
        self.sizes = jnp.stack(sizes)
        self.terms = _stack(terms)
        self.covered = jnp.stack(covered)
        self.costs = jnp.stack(costs)

    def pick(self, profile):
        """Gather the options of a profile (one index per player)."""
        rows = jnp.arange(self.sizes.shape[0])
        take = lambda x: x[rows, profile]  # noqa: E731
        return (jax.tree_util.tree_map(take, self.planting), take(self.sizes),
                jax.tree_util.tree_map(take, self.terms), take(self.costs), take(self.covered))


def _stack(items):
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *items)


class ACAGame:
    """A game between collectives on one world.

    Args:
        world: the world.
        players: the players (see :class:`Player`).
        bound: the payoff bound ``B_i``, one of :data:`GAME_BOUNDS`.
        eps, reading: the learner (see :mod:`aca_games.learner`).
        tau: temperature of the ``"smooth"`` bound.
        oracle_method: with ``bound="exact"`` and ``ε > 0``, how the worst case is solved:
            ``"exact"`` (default, any number of points) or ``"greedy"`` (a lower bound on success,
            faster); see :func:`aca_games.oracle.success`. Ignored by the other bounds.

    Attributes:
        method: what the payoff bound ``B_i`` is, for display: ``"exact"`` only for the exact
            oracle solved exactly; ``"lower bound (greedy relaxation)"`` for the exact bound with
            ``oracle_method="greedy"`` at ``ε > 0``; otherwise the bound's name.
        is_exact: ``True`` iff ``B_i`` is the exact (worst-case) success.

    Example:
        >>> w = World(points=["a", "b"], labels=["n", "y"], base=[[0.3, 0.1], [0.2, 0.2]],
        ...           landing={"g": [[0.5, 0.0], [0.3, 0.2]], "h": [[0.0, 0.0], [1.0, 0.0]]})
        >>> i = Player("i", [Collective("i", 0.2, "g", target="y"),
        ...                  Collective("i", 0.4, "g", target="y")], costs=[0.0, 0.3])
        >>> j = Player("j", [Collective("j", 0.05, "h", target="n"),
        ...                  Collective("j", 0.2, "h", target="n")], costs=[0.0, 0.1])
        >>> game = ACAGame(w, [i, j])
        >>> game.payoff_tensor().shape
        (2, 2, 2)
        >>> game.payoffs((1, 0)).tolist()     # i wins both points, j loses its point
        [0.7, 0.0]
    """

    def __init__(
        self,
        world: World,
        players: Sequence[Player],
        bound: str = "exact",
        eps=0.0,
        reading: str = "huber",
        tau=1e-2,
        oracle_method: str = "exact",
    ):
        self.world = world
        self.players = tuple(players)
        if not self.players:
            raise ACAInputError("players: a game needs at least one player")
        names = [p.name for p in self.players]
        if len(set(names)) != len(names):
            raise ACAInputError(f"players: names must be unique, got {names}")
        self.bound = v.choice("bound", bound, GAME_BOUNDS)
        self.eps, self.reading = check_eps(eps, reading), reading
        self.tau = check_tau(tau)
        largest = sum(max(float(o.size) for o in p.options) for p in self.players)
        if largest >= 1:
            raise ACAInputError(
                f"players: the largest options' sizes sum to {largest:.3g} >= 1; every profile must "
                "leave bystanders (Σ α_i < 1)"
            )
        self._menus = _Menus(world, self.players)
        self._kappa = slack(eps, reading)
        self.oracle_method = v.choice("oracle_method", oracle_method, METHODS)
        bayes = v.is_concrete(eps) and float(eps) == 0.0
        self._method = "bayes" if bayes else self.oracle_method  # Bayes-optimal: no knapsack
        if self.bound != "exact":
            self.method = self.bound
        else:
            self.method = METHOD_LABELS["exact" if bayes else self.oracle_method]
        self.is_exact = self.method == METHOD_LABELS["exact"]

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of options of each player."""
        return tuple(len(p.options) for p in self.players)

    @property
    def values(self) -> jax.Array:
        return jnp.asarray([p.value for p in self.players])

    def profiles(self) -> np.ndarray:
        """All pure profiles, shape ``(Π m_i, n_players)``, in C order of the payoff tensor."""
        return np.array(list(itertools.product(*(range(m) for m in self.shape))), dtype=np.int32)

    def success_at(self, profile, sizes=None) -> jax.Array:
        """``B_i`` for every player at a profile (sizes optionally overridden, differentiable)."""
        planting, option_sizes, terms, _, covered = self._menus.pick(jnp.asarray(profile))
        alphas = option_sizes if sizes is None else jnp.asarray(sizes, dtype=jnp.float64)
        return _bound_kernel(self.world.base, planting, alphas, terms, covered, self._kappa, self.tau,
                             bound=self.bound, reading=self.reading, method=self._method)

    def payoffs(self, profile) -> jax.Array:
        """``u_i`` of every player at a pure profile (one option index per player)."""
        return self.payoffs_at(profile)

    def payoffs_at(self, profile, sizes=None) -> jax.Array:
        """Payoffs at a profile with sizes optionally overridden (continuous games)."""
        _, option_sizes, _, costs, _ = self._menus.pick(jnp.asarray(profile))
        alphas = option_sizes if sizes is None else jnp.asarray(sizes, dtype=jnp.float64)
        size_costs = jnp.asarray([p.size_cost for p in self.players])
        return self.values * self.success_at(profile, alphas) - costs - size_costs * alphas

    def payoff_tensor(self) -> np.ndarray:
        """The normal form: ``U[i, a_1, ..., a_n] = u_i(a)``, shape ``(n_players, m_1, ..., m_n)``.

        One jitted ``vmap`` over all ``Π m_i`` profiles.
        """
        table = self._compiled("payoffs")(jnp.asarray(self.profiles()))  # (profiles, n)
        return np.asarray(table).T.reshape((len(self.players), *self.shape))

    def success_tensor(self) -> np.ndarray:
        """``B_i`` at every profile, shape ``(n_players, m_1, ..., m_n)``."""
        table = self._compiled("success_at")(jnp.asarray(self.profiles()))
        return np.asarray(table).T.reshape((len(self.players), *self.shape))

    def _compiled(self, method: str):
        """``jit(vmap(self.<method>))``, compiled once per game and method."""
        cache = self.__dict__.setdefault("_jit_cache", {})
        if method not in cache:
            cache[method] = jax.jit(jax.vmap(getattr(self, method)))
        return cache[method]

    def _repr_html_(self) -> str:
        from aca_games._html import game_html

        return game_html(self)

    def welfare(self, profile) -> float:
        """Sum of payoffs at a pure profile."""
        return float(jnp.sum(self.payoffs(profile)))


@functools.partial(jax.jit, static_argnames=("bound", "reading", "method"))
def _bound_kernel(base, planting: Planting, sizes, terms, covered, kappa, tau, *, bound, reading, method):
    """``B_i`` for all players from arrays: the oracle, the per-point bound, B1 or the surrogate."""
    if bound == "exact":
        return success_kernel(base, planting, sizes, kappa, reading=reading,
                              method=method, bayes=method == "bayes")
    if bound == "per_point":
        return per_point_kernel(base, planting, sizes, kappa)
    if bound == "smooth":
        return smooth_kernel(base, planting, sizes, kappa, tau)
    return b1_kernel(planting, terms, covered, sizes, kappa)
