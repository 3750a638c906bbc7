"""Finite worlds in compact form (THEORY.md §1).

Only the points where signals land matter. A :class:`World` therefore holds

* ``points``  -- names of the relevant points ``x̃`` (the union of all signal sets),
* ``labels``  -- names of the labels ``Y = {0..L-1}``,
* ``base``    -- the base joint mass ``P0(x̃, y)`` on the relevant points, shape ``(P, L)``; its total
  is at most 1 (the rest of the population lives at points no signal reaches),
* ``landing`` -- for every named signal ``g`` its landing table
  ``m_g(x̃, y) = Pr_{(x,y)~P0}[g(x) = x̃, y]``, shape ``(P, L)``, total exactly 1.

The signal set ``X*_g`` is the support of the landing mass ``m_g(x̃) = Σ_y m_g(x̃, y)`` and the
signal uniqueness is ``ξ_g = P0(X*_g)``. :meth:`World.from_table` reduces a full joint table with
integer maps ``g: X -> X`` to this form.

Worlds are immutable JAX pytrees: ``base`` and the landing tables are leaves, so bounds can be
differentiated with respect to them; names are static.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from aca_games import _validate as v
from aca_games._errors import ACAInputError


@jax.tree_util.register_pytree_node_class
@dataclass(frozen=True, eq=False)
class World:
    """A finite world in compact form.

    Args:
        points: names of the relevant points, length ``P``.
        labels: names of the labels, length ``L >= 2``.
        base: base joint mass ``P0(x̃, y)``, shape ``(P, L)``, entries in [0, 1], total <= 1.
        landing: mapping signal name -> landing table ``m_g(x̃, y)``, shape ``(P, L)``, total 1.
        n_features: size ``|X|`` of the full feature space (used by the erasing union bound);
            defaults to ``P``.
        idempotent: names of signals known to satisfy ``g(g(x)) = g(x)``; ``None`` if unknown.

    Example:
        >>> w = World(points=["a", "b"], labels=["low", "high"],
        ...           base=[[0.3, 0.1], [0.1, 0.1]],
        ...           landing={"report": [[0.0, 0.0], [0.6, 0.4]]})
        >>> w.signal_set("report")
        ('b',)
        >>> round(float(w.xi("report")), 3)
        0.2
    """

    points: tuple[str, ...]
    labels: tuple[str, ...]
    base: jax.Array
    landing: Mapping[str, jax.Array]
    n_features: int | None = None
    idempotent: tuple[str, ...] | None = field(default=None)

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "points", tuple(str(p) for p in self.points))
        set_(self, "labels", tuple(str(y) for y in self.labels))
        if not isinstance(self.landing, Mapping):
            raise ACAInputError("landing: expected a mapping signal name -> (P, L) table")
        set_(self, "landing", {str(k): val for k, val in self.landing.items()})
        if self.idempotent is not None:
            set_(self, "idempotent", tuple(self.idempotent))
        if v.is_concrete((self.base, dict(self.landing))):
            self._validate()

    def _validate(self) -> None:
        n_points, n_labels = len(self.points), len(self.labels)
        for kind, names in (("points", self.points), ("labels", self.labels)):
            if len(set(names)) != len(names):
                raise ACAInputError(f"{kind}: names must be unique, got {list(names)}")
        if n_points == 0:
            raise ACAInputError("points: a world needs at least one relevant point")
        if n_labels < 2:
            raise ACAInputError(f"labels: need at least 2 labels, got {list(self.labels)}")
        base = v.probabilities("base", self.base, ndim=2)
        if base.shape != (n_points, n_labels):
            raise ACAInputError(
                f"base: shape {base.shape} does not match (points, labels) = {(n_points, n_labels)}"
            )
        v.sums_to_one("base", float(base.sum()), at_most=True)
        if not self.landing:
            raise ACAInputError("landing: the world needs at least one signal")
        tables = {}
        for name, table in self.landing.items():
            arr = v.probabilities(f"landing[{name!r}]", table, ndim=2)
            if arr.shape != base.shape:
                raise ACAInputError(f"landing[{name!r}]: shape {arr.shape} must equal base's {base.shape}")
            v.sums_to_one(f"landing[{name!r}]", float(arr.sum()))
            tables[name] = jnp.asarray(arr)
        object.__setattr__(self, "base", jnp.asarray(base))
        object.__setattr__(self, "landing", tables)
        if self.n_features is not None and self.n_features < n_points:
            raise ACAInputError(f"n_features: {self.n_features} is fewer than the {n_points} relevant points")
        unknown = set(self.idempotent or ()) - set(tables)
        if unknown:
            raise ACAInputError(f"idempotent: unknown signals {sorted(unknown)}")

    # -- pytree protocol: arrays are leaves, names are static ----------------------------------
    def tree_flatten(self):
        names = tuple(self.landing)
        children = (self.base, tuple(self.landing[n] for n in names))
        aux = (self.points, self.labels, names, self.n_features, self.idempotent)
        return children, aux

    @classmethod
    def tree_unflatten(cls, aux, children):
        points, labels, names, n_features, idempotent = aux
        world = object.__new__(cls)
        for key, val in (
            ("points", points),
            ("labels", labels),
            ("base", children[0]),
            ("landing", dict(zip(names, children[1], strict=True))),
            ("n_features", n_features),
            ("idempotent", idempotent),
        ):
            object.__setattr__(world, key, val)
        return world

    def _repr_html_(self) -> str:
        from aca_games._html import world_html

        return world_html(self)

    # -- derived quantities ----------------------------------------------------------------
    @property
    def signals(self) -> tuple[str, ...]:
        """Names of the signals, in insertion order."""
        return tuple(self.landing)

    @property
    def feature_count(self) -> int:
        """``|X|``: ``n_features`` if known, else the number of relevant points."""
        return self.n_features if self.n_features is not None else len(self.points)

    def landing_table(self, signal: str) -> jax.Array:
        """The landing table ``m_g(x̃, y)`` of ``signal``; clear error for an unknown name."""
        v.choice("signal", signal, self.landing)
        return self.landing[signal]

    def landing_mass(self, signal: str) -> jax.Array:
        """``m_g(x̃) = Pr[g(x) = x̃]``, shape ``(P,)``."""
        return self.landing_table(signal).sum(axis=-1)

    def signal_set(self, signal: str) -> tuple[str, ...]:
        """``X*_g``: the relevant points where ``signal`` lands with positive mass."""
        mass = np.asarray(self.landing_mass(signal))
        return tuple(p for p, m in zip(self.points, mass, strict=True) if m > 0)

    def xi(self, signal: str) -> jax.Array:
        """Signal uniqueness ``ξ_g = P0(X*_g)``: base mass already inside the signal set."""
        inside = self.landing_mass(signal) > 0
        return jnp.sum(jnp.where(inside, self.base.sum(axis=-1), 0.0))

    def label_index(self, label: str | int) -> int:
        """Index of a label given by name (or by integer position)."""
        if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
            if 0 <= label < len(self.labels):
                return int(label)
            raise ACAInputError(f"label index {label} out of range 0..{len(self.labels) - 1}")
        return self.labels.index(v.choice("label", str(label), self.labels))

    # -- construction from a full table ------------------------------------------------------
    @classmethod
    def from_table(
        cls,
        p0,
        signals: Mapping[str, Sequence[int]],
        labels: Sequence[str] | None = None,
        feature_names: Sequence[str] | None = None,
    ) -> World:
        """Reduce a full joint table ``P0(x, y)`` and integer maps ``g: X -> X`` to compact form.

        Relevant points are the union over signals of ``{g(x) : P0(x) > 0}``. For each signal the
        landing table is ``m_g(x̃, y) = Σ_{x: g(x) = x̃} P0(x, y)``; idempotence ``g(g(x)) = g(x)`` is
        recorded.

        Args:
            p0: joint table, shape ``(|X|, L)``, total 1.
            signals: signal name -> integer array of length ``|X|`` with entries in ``0..|X|-1``.
            labels: label names (default ``"0".."L-1"``).
            feature_names: names of the features (default ``"x0".."x{|X|-1}"``).

        Example:
            >>> p0 = [[0.3, 0.1], [0.2, 0.1], [0.1, 0.2]]
            >>> w = World.from_table(p0, {"g": [2, 2, 2]})
            >>> w.points, [round(float(t), 2) for t in w.landing_table("g")[0]]
            (('x2',), [0.6, 0.4])
        """
        table = v.probabilities("p0", p0, ndim=2)
        v.sums_to_one("p0", float(table.sum()))
        n_x, n_labels = table.shape
        labels = tuple(labels) if labels is not None else tuple(str(i) for i in range(n_labels))
        if len(labels) != n_labels:
            raise ACAInputError(f"labels: {len(labels)} names for {n_labels} label columns")
        names = tuple(feature_names) if feature_names is not None else tuple(f"x{i}" for i in range(n_x))
        if len(names) != n_x:
            raise ACAInputError(f"feature_names: {len(names)} names for {n_x} rows of p0")
        if not signals:
            raise ACAInputError("signals: need at least one signal map")
        maps = {}
        for name, g in signals.items():
            g = np.asarray(g)
            if g.shape != (n_x,) or not np.issubdtype(g.dtype, np.integer):
                raise ACAInputError(
                    f"signals[{name!r}]: expected {n_x} integers (one target row per feature)"
                )
            if g.min() < 0 or g.max() >= n_x:
                raise ACAInputError(f"signals[{name!r}]: entries must lie in 0..{n_x - 1}")
            maps[name] = g
        occupied = table.sum(axis=1) > 0
        relevant = sorted({int(i) for g in maps.values() for i in g[occupied]})
        row_of = np.full(n_x, -1)
        row_of[relevant] = np.arange(len(relevant))
        landing = {}
        for name, g in maps.items():
            land = np.zeros((len(relevant), n_labels))
            np.add.at(land, row_of[g[occupied]], table[occupied])
            landing[name] = land
        idempotent = tuple(n for n, g in maps.items() if np.array_equal(g[g], g))
        return cls(
            points=[names[x] for x in relevant],
            labels=labels,
            base=table[relevant],
            landing=landing,
            n_features=n_x,
            idempotent=idempotent,
        )
