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
from aca_games._pytree import to_device


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
            tables[name] = to_device(arr)
        self._check_consistent(base, {name: np.asarray(t) for name, t in tables.items()})
        object.__setattr__(self, "base", to_device(base))
        object.__setattr__(self, "landing", tables)
        if self.n_features is not None and self.n_features < n_points:
            raise ACAInputError(f"n_features: {self.n_features} is fewer than the {n_points} relevant points")
        unknown = set(self.idempotent or ()) - set(tables)
        if unknown:
            raise ACAInputError(f"idempotent: unknown signals {sorted(unknown)}")

    def _check_consistent(self, base: np.ndarray, tables: Mapping[str, np.ndarray]) -> None:
        """THEORY §1 *Consistency*: a compact world must come from some full table.

        Every signal maps every ``x`` to a relevant point, so each landing table's label marginal
        ``Σ_x̃ m_g(x̃, y)`` is the population's ``P0(Y = y)``: the same for every signal, and at least
        the base label mass at the relevant points ``Σ_x̃ P0(x̃, y)``. These two conditions are
        necessary (not sufficient: a relevant point's whole base row must also land on one point);
        without them the training table is not a distribution (its total can exceed 1).
        """
        (first, reference), *rest = tables.items()
        marginal = reference.sum(axis=0)
        for name, table in rest:
            gap = np.abs(table.sum(axis=0) - marginal)
            if gap.max() > v.SUM_TOL:
                y = int(gap.argmax())
                raise ACAInputError(
                    f"landing[{name!r}]: label {self.labels[y]!r} has total landing mass "
                    f"{table[:, y].sum():.10g}, but landing[{first!r}] gives it "
                    f"{marginal[y]:.10g}; every signal maps the whole population, so all landing "
                    f"tables must share one label marginal P0(Y = y) (within {v.SUM_TOL:g}). Fix: "
                    "re-split the rows so every table's label totals agree (aca_games.world."
                    "split_landing), or build the world with World.from_table"
                )
        short = base.sum(axis=0) - marginal
        if short.max() > v.SUM_TOL:
            y = int(short.argmax())
            raise ACAInputError(
                f"landing: label {self.labels[y]!r} has total landing mass {marginal[y]:.10g} "
                f"(= P0(Y = {self.labels[y]!r})), less than the base mass "
                f"{base[:, y].sum():.10g} of that label at the relevant points; the base "
                "is part of the population the signals map. Fix: raise that label's landing mass "
                "or lower its base mass, or build the world with World.from_table"
            )

    def __repr__(self) -> str:
        """A Python literal: pasting it rebuilds the same world (floats are printed exactly)."""
        if not v.is_concrete((self.base, dict(self.landing))):
            return f"World(points={list(self.points)!r}, labels={list(self.labels)!r}, <traced arrays>)"
        table = lambda x: repr(np.asarray(x, dtype=np.float64).tolist())  # noqa: E731
        landing = ", ".join(f"{name!r}: {table(t)}" for name, t in self.landing.items())
        args = [f"points={list(self.points)!r}", f"labels={list(self.labels)!r}",
                f"base={table(self.base)}", f"landing={{{landing}}}"]
        if self.n_features is not None:
            args.append(f"n_features={self.n_features!r}")
        if self.idempotent is not None:
            args.append(f"idempotent={self.idempotent!r}")
        return f"World({', '.join(args)})"

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
        relevant: Sequence[int] | None = None,
    ) -> World:
        """Reduce a full joint table ``P0(x, y)`` and integer maps ``g: X -> X`` to compact form.

        Relevant points are the union over signals of ``{g(x) : P0(x) > 0}`` (or the rows given as
        ``relevant``). For each signal the landing table is ``m_g(x̃, y) = Σ_{x: g(x) = x̃} P0(x, y)``;
        idempotence ``g(g(x)) = g(x)`` is recorded. The result is consistent by construction
        (THEORY §1): every landing table's label marginal is ``P0(Y = y)``.

        Args:
            p0: joint table, shape ``(|X|, L)``, total 1.
            signals: signal name -> integer array of length ``|X|`` with entries in ``0..|X|-1``.
            labels: label names (default ``"0".."L-1"``).
            feature_names: names of the features (default ``"x0".."x{|X|-1}"``).
            relevant: rows to keep as the relevant points, in this order; must contain every
                ``g(x)`` with ``P0(x) > 0``. Extra rows that no signal reaches are kept (with zero
                landing mass), which pads worlds to a fixed shape.

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
        reached = {int(i) for g in maps.values() for i in g[occupied]}
        if relevant is None:
            relevant = sorted(reached)
        else:
            relevant = [int(i) for i in relevant]
            missing = sorted(reached - set(relevant))
            if missing or len(set(relevant)) != len(relevant) or not set(relevant) <= set(range(n_x)):
                raise ACAInputError(
                    f"relevant: need distinct rows in 0..{n_x - 1} including every row a signal "
                    f"reaches; missing {missing}"
                )
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


def split_landing(masses, marginal) -> np.ndarray:
    """A landing table with row sums ``masses`` and label marginal ``marginal``.

    Where a signal lands, ``m_g(x̃)``, is what feature-label, unplanting and erasing collectives
    (and every noise mode) depend on; the split of each row over labels matters only to
    feature-only strategies. This fills the rows so the table's label totals are ``marginal``
    (the north-west corner rule of transport problems), which makes worlds consistent
    (THEORY §1) without changing the row masses: pass the same ``marginal``, at least the base
    label mass at the relevant points, for every signal.

    Args:
        masses: ``m_g(x̃) >= 0``, shape ``(P,)``, total 1.
        marginal: ``P0(Y = y) >= 0``, shape ``(L,)``, total 1.

    Example:
        >>> split_landing([0.6, 0.4], [0.25, 0.75]).tolist()
        [[0.25, 0.35], [0.0, 0.4]]
    """
    masses = v.probabilities("masses", masses, ndim=1)
    marginal = v.probabilities("marginal", marginal, ndim=1)
    v.sums_to_one("masses", float(masses.sum()))
    v.sums_to_one("marginal", float(marginal.sum()))
    table = np.zeros((masses.size, marginal.size))
    rows, cols = masses.copy(), marginal.copy()
    x = y = 0
    while x < rows.size and y < cols.size:
        moved = min(rows[x], cols[y])
        table[x, y] = moved
        rows[x] -= moved
        cols[y] -= moved
        if rows[x] <= cols[y]:
            x += 1
        else:
            y += 1
    return table
