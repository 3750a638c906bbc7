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

**Large games.** The normal form has ``Π m_i`` profiles, so building it is refused past
:data:`MAX_TABLE_ENTRIES` (an :class:`ACAInputError` naming the size; use
:func:`solvers.find_equilibrium`). Games of any size are solved from *deviation payoffs*: the training
mass is ``P = (1 - Σ_j α_j) P0 + Σ_j α_j E_j(a_j)``, so with the others' aggregate
``A_{-p} = Σ_{j≠p} α_j E_j(a_j)`` (one sum, computed once) player ``p``'s mass after switching to
option ``b`` is ``P_b = (1 - Σ_{j≠p} α_j - α_b) P0 + A_{-p} + α_b E_b`` and ``u_p(b, a_{-p})`` needs
only ``p``'s own bound at ``P_b``: ``O(P L)`` per option instead of a whole profile
(:meth:`ACAGame.deviation_payoffs`, :meth:`ACAGame.all_deviation_payoffs`, ``Σ m_i`` evaluations for
every player at once). The closed form (B1) is not a function of ``P``; its deviation uses the
conflict masses ``ρ`` of ``p``'s option against the others' current options. Deviation payoffs equal
:meth:`ACAGame.payoffs` at the deviated profile up to float rounding in the sum ``P``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import _game_kernels as kernels
from aca_games import _knapsack as ks
from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games._game_kernels import GameArrays
from aca_games._pytree import stack_trees, to_device
from aca_games.bounds.multi import stacked_terms
from aca_games.bounds.smooth import check_tau
from aca_games.collective import Collective
from aca_games.learner import check_eps, slack
from aca_games.oracle import METHOD_LABELS, METHODS
from aca_games.planting import plant
from aca_games.world import World

#: Payoff bounds available in games. "smooth" is the surrogate of the exact oracle (temperature tau).
GAME_BOUNDS = ("exact", "per_point", "closed_form", "smooth")
#: Largest normal form built: ``n_players · Π m_i`` payoff entries (160 MB in float64). Past it
#: :meth:`ACAGame.payoff_tensor` (and everything built on it: pure/mixed Nash, price of anarchy,
#: profile enumeration) raises instead of allocating; ``solvers.find_equilibrium`` works at any size.
MAX_TABLE_ENTRIES = 20_000_000
#: Profiles evaluated per vectorised chunk when the normal form is built (bounds peak memory).
TABLE_CHUNK = 4096
#: Cells (option x point x label, or x flip set) per vectorised chunk of players in the deviation
#: table (:meth:`ACAGame.deviation_chunk`): 4M float64 intermediates, ~32 MB each.
DEVIATION_CELLS = 2**22


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


def _resolve(world: World, players: Sequence[Player], bound: str, kappa, tau) -> GameArrays:
    """Every option of every player resolved into padded arrays ``(n_players, max_options, ...)``.

    The closed-form terms (and their coverage mask) are resolved only for ``bound="closed_form"``:
    the other bounds never read them, and they cost more than the planting itself.
    """
    width = max(len(p.options) for p in players)
    pad = lambda opts: list(opts) + [opts[-1]] * (width - len(opts))  # noqa: E731
    closed_form = bound == "closed_form"
    plantings, sizes, terms, covered, costs = [], [], [], [], []
    for p in players:
        opts = pad(p.options)
        plantings.append(stack_trees([plant(world, o) for o in opts]))
        sizes.append([float(o.size) for o in opts])
        if closed_form:
            option_terms, option_covered = stacked_terms(world, opts)
            terms.append(option_terms)
            covered.append(option_covered)
        costs.append(pad(p.costs))
    return GameArrays(
        base=world.base,
        planting=stack_trees(plantings),
        sizes=to_device(sizes),
        costs=to_device(costs),
        terms=stack_trees(terms) if closed_form else None,
        covered=stack_trees(covered) if closed_form else None,
        counts=to_device([len(p.options) for p in players]),
        values=to_device([p.value for p in players]),
        size_costs=to_device([p.size_cost for p in players]),
        kappa=to_device(kappa, dtype=jnp.float64),
        tau=to_device(tau, dtype=jnp.float64),
    )


def _pick(arrays: GameArrays, profile):
    """The options of a profile (one index per player): plantings, sizes, terms, costs, coverage."""
    rows = jnp.arange(arrays.sizes.shape[0])
    take = lambda x: x[rows, profile]  # noqa: E731
    return (jax.tree_util.tree_map(take, arrays.planting), take(arrays.sizes),
            jax.tree_util.tree_map(take, arrays.terms), take(arrays.costs),
            None if arrays.covered is None else take(arrays.covered))


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
        ...           landing={"g": [[0.5, 0.0], [0.2, 0.3]], "h": [[0.0, 0.0], [0.7, 0.3]]})
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
        self.oracle_method = v.choice("oracle_method", oracle_method, METHODS)
        bayes = v.is_concrete(eps) and float(eps) == 0.0
        self._method = "bayes" if bayes else self.oracle_method  # Bayes-optimal: no knapsack
        if self.bound != "exact":
            self.method = self.bound
        else:
            self.method = METHOD_LABELS["exact" if bayes else self.oracle_method]
        self.is_exact = self.method == METHOD_LABELS["exact"]
        #: Every option resolved into arrays (a pytree read by the kernels of ``_game_kernels``).
        self.arrays = _resolve(world, self.players, self.bound, slack(eps, reading), self.tau)
        #: The static part of the kernels: ``(bound, reading, oracle method)``.
        self.config = (self.bound, self.reading, self._method)

    def __repr__(self) -> str:
        """A Python literal (worlds and collectives print as literals too)."""
        number = lambda x: float(x) if v.is_concrete(x) else x  # noqa: E731
        return (f"ACAGame({self.world!r}, {list(self.players)!r}, bound={self.bound!r}, "
                f"eps={number(self.eps)!r}, reading={self.reading!r}, tau={number(self.tau)!r})")

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of options of each player."""
        return tuple(len(p.options) for p in self.players)

    @property
    def values(self) -> jax.Array:
        return self.arrays.values

    @property
    def n_profiles(self) -> int:
        """``Π m_i``: the number of pure profiles, an exact Python integer (nothing is allocated)."""
        return math.prod(self.shape)

    def check_table_size(self, what: str = "payoff_tensor") -> None:
        """Raise :class:`ACAInputError` if a table over all profiles would pass
        :data:`MAX_TABLE_ENTRIES` (``n_players · Π m_i`` entries); ``what`` names the caller.

        >>> w = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.2]], landing={"g": [[0.5, 0.5]]})
        >>> menu = [Collective("c", 0.0, "g", target="y"), Collective("c", 0.001, "g", target="y")]
        >>> ACAGame(w, [Player(f"p{i}", menu) for i in range(100)]).check_table_size()
        Traceback (most recent call last):
        ...
        aca_games._errors.ACAInputError: payoff_tensor: the game has 1.27e30 pure profiles (100 players ...
        """
        entries = len(self.players) * self.n_profiles
        if entries > MAX_TABLE_ENTRIES:
            lo, hi = min(self.shape), max(self.shape)
            menus = f"{lo}" if lo == hi else f"{lo} to {hi}"
            raise ACAInputError(
                f"{what}: the game has {format_count(self.n_profiles)} pure profiles ({len(self.players)} "
                f"players with {menus} options each), {format_count(entries)} payoff entries, past the "
                f"budget MAX_TABLE_ENTRIES = {MAX_TABLE_ENTRIES:,} of aca_games.game; use "
                "solvers.find_equilibrium(game), which never builds the table (best-response dynamics "
                "certified by the Σ m_i deviation payoffs)"
            )

    def profiles(self) -> np.ndarray:
        """All pure profiles, shape ``(Π m_i, n_players)``, in C order of the payoff tensor.

        Raises :class:`ACAInputError` past :data:`MAX_TABLE_ENTRIES` (see :meth:`check_table_size`).
        """
        self.check_table_size("profiles")
        return np.array(list(itertools.product(*(range(m) for m in self.shape))), dtype=np.int32)

    def success_at(self, profile, sizes=None) -> jax.Array:
        """``B_i`` for every player at a profile (sizes optionally overridden, differentiable)."""
        planting, option_sizes, terms, _, covered = _pick(self.arrays, jnp.asarray(profile))
        alphas = option_sizes if sizes is None else jnp.asarray(sizes, dtype=jnp.float64)
        bound, reading, method = self.config
        return kernels.bound_kernel(self.world.base, planting, alphas, terms, covered, self.arrays.kappa,
                                    self.arrays.tau, bound=bound, reading=reading, method=method)

    def payoffs(self, profile) -> jax.Array:
        """``u_i`` of every player at a pure profile (one option index per player)."""
        return self.payoffs_at(profile)

    def payoffs_at(self, profile, sizes=None) -> jax.Array:
        """Payoffs at a profile with sizes optionally overridden (continuous games)."""
        _, option_sizes, _, costs, _ = _pick(self.arrays, jnp.asarray(profile))
        alphas = option_sizes if sizes is None else jnp.asarray(sizes, dtype=jnp.float64)
        return self.values * self.success_at(profile, alphas) - costs - self.arrays.size_costs * alphas

    def payoff_tensor(self) -> np.ndarray:
        """The normal form: ``U[i, a_1, ..., a_n] = u_i(a)``, shape ``(n_players, m_1, ..., m_n)``.

        One jitted ``vmap`` over all ``Π m_i`` profiles (in chunks). Raises :class:`ACAInputError`
        past :data:`MAX_TABLE_ENTRIES` before allocating anything.
        """
        return self._table("payoffs")

    def success_tensor(self) -> np.ndarray:
        """``B_i`` at every profile, shape ``(n_players, m_1, ..., m_n)`` (same size limit)."""
        return self._table("success_at")

    def _table(self, method: str) -> np.ndarray:
        self.check_table_size("payoff_tensor" if method == "payoffs" else "success_tensor")
        table = self._compiled(method)(to_device(self.profiles()))  # (profiles, n)
        return np.asarray(table).T.reshape((len(self.players), *self.shape))

    def _compiled(self, method: str):
        """``jit`` of ``self.<method>`` mapped over a batch of profiles in chunks, compiled once per
        game and method."""
        cache = self.__dict__.setdefault("_jit_cache", {})
        if method not in cache:
            fn, chunk = getattr(self, method), self._chunk()
            cache[method] = jax.jit(lambda profiles: jax.lax.map(fn, profiles, batch_size=chunk))
        return cache[method]

    def _chunk(self) -> int:
        """Profiles per vectorised chunk: :data:`TABLE_CHUNK`, fewer when the exact knapsack
        enumerates the flip sets of its core (up to ``2^CORE_MAX``) per collective."""
        if self.bound == "exact" and self._method == "exact":
            per_profile = len(self.players) * self._flip_sets() * 2
            return max(1, min(TABLE_CHUNK, TABLE_CHUNK * 2**12 // per_profile))
        return TABLE_CHUNK

    # -- deviation payoffs: games of any size --------------------------------------------------
    def deviation_payoffs(self, profile, player) -> jax.Array:
        """``u_p(b, a_{-p})`` for every option ``b`` of ``player`` (index or name) at the pure
        ``profile``, shape ``(m_p,)``: one jitted ``vmap`` over ``p``'s menu against the others'
        aggregate, computed once (module docstring).

        >>> w = World(points=["a", "b"], labels=["n", "y"], base=[[0.3, 0.1], [0.2, 0.2]],
        ...           landing={"g": [[0.5, 0.0], [0.2, 0.3]], "h": [[0.0, 0.0], [0.7, 0.3]]})
        >>> i = Player("i", [Collective("i", 0.2, "g", target="y"),
        ...                  Collective("i", 0.4, "g", target="y")], costs=[0.0, 0.3])
        >>> j = Player("j", [Collective("j", 0.05, "h", target="n"),
        ...                  Collective("j", 0.2, "h", target="n")], costs=[0.0, 0.1])
        >>> game = ACAGame(w, [i, j])
        >>> game.deviation_payoffs((1, 0), "j").tolist() == game.payoff_tensor()[1, 1, :].tolist()
        True
        """
        p = self._player_index(player)
        profile = jnp.asarray(self._check_profile(profile))
        return kernels.deviation_row_jit(self.arrays, profile, p, self.config)[: self.shape[p]]

    def all_deviation_payoffs(self, profiles) -> jax.Array:
        """``D[p, b] = u_p(b, a_{-p})`` for every player and option: ``Σ m_i`` evaluations, shape
        ``(n_players, max m_i)`` with ``-inf`` past a player's menu; a batch of profiles ``(B, n)``
        gives ``(B, n_players, max m_i)``. ``D[p, a_p]`` is ``u_p(a)``, so the largest unilateral
        gain at ``a`` is ``max_p (max_b D[p, b] - D[p, a_p])``.

        >>> w = World(points=["a"], labels=["n", "y"], base=[[0.3, 0.2]], landing={"g": [[0.5, 0.5]]})
        >>> menu = [Collective("c", 0.0, "g", target="y"), Collective("c", 0.1, "g", target="y")]
        >>> game = ACAGame(w, [Player("p", menu, size_cost=1.0), Player("q", menu[:1])])
        >>> game.all_deviation_payoffs((0, 0)).tolist()       # p: abstain 0, plant 0.1 -> 1 - 0.1
        [[0.0, 0.9], [0.0, -inf]]
        """
        arr = self._check_profile(profiles, batched=True)
        batch = to_device(arr.reshape(-1, len(self.players)))
        out = kernels.deviation_tables(self.arrays, batch, self.config, self.deviation_chunk())
        return to_device(np.asarray(out)[0]) if arr.ndim == 1 else out  # no eager squeeze program

    def deviation_kernel(self, profile, player) -> jax.Array:
        """Pure, traceable form of :meth:`deviation_payoffs` (``profile`` and ``player`` may be
        traced): shape ``(max m_i,)`` with ``-inf`` past the player's menu; no input checks. A
        function of :attr:`arrays` and the static :attr:`config` only
        (:func:`aca_games._game_kernels.deviation_row`), so loops jitted around it are shared by
        every game of the same shapes."""
        return kernels.deviation_row(self.arrays, profile, player, self.config)

    def all_deviation_kernel(self, profile) -> jax.Array:
        """Pure, traceable form of :meth:`all_deviation_payoffs` for one profile (no checks)."""
        return kernels.deviation_table(self.arrays, profile, self.config, self.deviation_chunk())

    def deviation_chunk(self) -> int:
        """Players per vectorised chunk of the deviation table: each evaluates its whole menu, on
        ``(P, L)`` cells (times the ``n`` conflict rows of B1, or the flip sets of the exact
        knapsack's core); a chunk holds about :data:`DEVIATION_CELLS` of them."""
        n_points, n_labels = self.world.base.shape
        per_option = n_points * n_labels
        if self.bound == "closed_form":
            per_option *= len(self.players)
        elif self.bound == "exact" and self._method == "exact":
            per_option = self._flip_sets() * 2
        return max(1, min(len(self.players), DEVIATION_CELLS // (per_option * max(self.shape))))

    def _flip_sets(self) -> int:
        """Flip sets the exact knapsack enumerates per evaluation (larger cores are searched on
        the host, :mod:`aca_games._knapsack_search`)."""
        return 2 ** min(len(self.world.points), ks.CORE_MAX)

    def _player_index(self, player) -> int:
        names = [p.name for p in self.players]
        if isinstance(player, str):
            if player not in names:
                raise ACAInputError(f"player: no player named {player!r}; the players are {names}")
            return names.index(player)
        if isinstance(player, (bool, np.bool_)) or not isinstance(player, (int, np.integer)):
            raise ACAInputError(f"player: expected a player index (int) or name, got {player!r}")
        if not 0 <= int(player) < len(names):
            raise ACAInputError(f"player: index {int(player)} out of range 0..{len(names) - 1}")
        return int(player)

    def _check_profile(self, profile, batched: bool = False) -> np.ndarray:
        """A pure profile (or a batch ``(B, n)`` if ``batched``) as an int32 array, range-checked."""
        n = len(self.players)
        try:
            arr = np.asarray(profile)
        except (TypeError, ValueError):
            arr = np.asarray([], dtype=object)
        ok_shape = arr.ndim == 1 or (batched and arr.ndim == 2)
        if not ok_shape or arr.shape[-1] != n or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
            want = "(n_players,) or (batch, n_players)" if batched else "(n_players,)"
            raise ACAInputError(
                f"profile: expected option indices of shape {want} with n_players = {n}, got "
                f"{profile!r:.200}"
            )
        bad = np.argwhere((arr < 0) | (arr >= np.asarray(self.shape)))
        if bad.size:
            where = tuple(int(i) for i in bad[0])
            p = where[-1]
            raise ACAInputError(
                f"profile{list(where)}: option {int(arr[where])} out of range, player {p} "
                f"({self.players[p].name!r}) has {self.shape[p]} options (0..{self.shape[p] - 1})"
            )
        return arr.astype(np.int32)

    def _repr_html_(self) -> str:
        from aca_games._html import game_html

        return game_html(self)

    def welfare(self, profile) -> float:
        """Sum of payoffs at a pure profile."""
        return float(jnp.sum(self.payoffs(profile)))


def format_count(count: int) -> str:
    """An exact integer for people: ``"46,656"`` or ``"1.27e30"`` (no float overflow)."""
    if count < 10**7:
        return f"{count:,}"
    mantissa, exponent = format(Decimal(count), ".2e").lower().split("e")
    return f"{mantissa}e{int(exponent)}"
