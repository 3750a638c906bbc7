"""Collectives: who acts, how large, with which signal, strategy and coordination noise (THEORY §1).

A collective is a random sub-population of size ``α ∈ [0, 1)``. Its members submit modified data
according to a strategy:

* ``feature_label`` [HMMZ23]: ``(g(x), ℓ)``.
* ``feature_only`` [HMMZ23, GBJ25]: labels are immutable; members with ``y = ℓ`` submit ``(g(x), y)``.
  Variant ``"hardt"`` (default): the others submit their data unchanged. Variant ``"gbj"``: the
  others move to a point outside every signal set.
* ``unplant`` [GBJ25]: goal ``f(g(x)) ≠ y*``; the target set is every label but ``y*`` and members
  plant, at each point, the strongest base label of the target set.
* ``erase`` [HMMZ23, GBJ25]: goal: the platform decides on signalled inputs as it would without the
  collective. Members plant the base modal label of ``g(x)``; the target at ``x̃`` is the set of
  base modal labels there (convention of this library for the compact form, see THEORY §1).

Coordination noise [KKVS25]: a fraction ``noise`` of members deviates, as bystanders (``drop``), by
planting a uniformly random label on the signal (``scatter``) or a fixed wrong label
(``misfire``, label ``misfire_label``; default the first label outside the target set).

Collectives are immutable JAX pytrees: ``size`` and ``noise`` are leaves (differentiable), the rest
is static. Consistency with a world (signal and label names) is checked when a bound or the oracle
uses the collective.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games._pytree import register_frozen

STRATEGIES = ("feature_label", "feature_only", "unplant", "erase")
VARIANTS = {"feature_only": ("hardt", "gbj")}
NOISE_MODES = ("drop", "scatter", "misfire")


@register_frozen("size", "noise")
@dataclass(frozen=True)
class Collective:
    """One collective.

    Args:
        name: display name.
        size: population share ``α ∈ [0, 1)``.
        signal: name of a signal of the world.
        target: target label names ``T`` (a single name is accepted). For ``erase`` it is ignored
            (the target is the base modal label at each point) and may be left empty.
        label: planted label ``ℓ ∈ T``; defaults to the only target label. For ``unplant`` and
            ``erase`` it is chosen per point and must be left ``None``.
        strategy: one of ``feature_label``, ``feature_only``, ``unplant``, ``erase``.
        variant: ``feature_only`` only: ``"hardt"`` (default) or ``"gbj"``.
        noise: deviating fraction ``σ ∈ [0, 1]``.
        noise_mode: ``drop``, ``scatter`` or ``misfire``.
        misfire_label: the wrong label planted under ``misfire`` (default: first non-target label).

    Example:
        >>> c = Collective("tenants", 0.1, "report", target="high")
        >>> c.target, c.label, c.strategy
        (('high',), 'high', 'feature_label')
        >>> c.with_size(0.2).size
        0.2
    """

    name: str
    size: float
    signal: str
    target: tuple[str, ...] = ()
    label: str | None = None
    strategy: str = "feature_label"
    variant: str | None = None
    noise: float = 0.0
    noise_mode: str = "drop"
    misfire_label: str | None = None

    def __post_init__(self):
        set_ = object.__setattr__
        target = (self.target,) if isinstance(self.target, (str, int)) else self.target
        set_(self, "target", tuple(str(t) for t in _iterable("target", target)))
        if self.label is not None:
            set_(self, "label", str(self.label))
        if self.misfire_label is not None:
            set_(self, "misfire_label", str(self.misfire_label))
        v.choice(f"{self.name}.strategy", self.strategy, STRATEGIES)
        v.choice(f"{self.name}.noise_mode", self.noise_mode, NOISE_MODES)
        variants = VARIANTS.get(self.strategy, ())
        if variants:
            if self.variant is None:
                set_(self, "variant", variants[0])
            v.choice(f"{self.name}.variant", self.variant, variants)
        elif self.variant is not None:
            raise ACAInputError(
                f"{self.name}.variant: {self.variant!r} given, but strategy {self.strategy!r} has "
                "no variants (only feature_only does: 'hardt' or 'gbj')"
            )
        per_point = self.strategy in ("unplant", "erase")
        if per_point and self.label is not None:
            raise ACAInputError(
                f"{self.name}.label: strategy {self.strategy!r} chooses the planted label per "
                "point; leave label unset"
            )
        if self.strategy != "erase" and not self.target:
            raise ACAInputError(f"{self.name}.target: the target set is empty; name >= 1 label")
        if not per_point:
            if self.label is None:
                if len(self.target) != 1:
                    raise ACAInputError(
                        f"{self.name}.label: target {list(self.target)} has several labels; "
                        "name the planted label with label=..."
                    )
                set_(self, "label", self.target[0])
            elif self.label not in self.target:
                raise ACAInputError(
                    f"{self.name}.label: planted label {self.label!r} is not in the target set "
                    f"{list(self.target)}; add it to target or plant a target label"
                )
        if self.misfire_label is not None and self.misfire_label in self.target:
            raise ACAInputError(
                f"{self.name}.misfire_label: {self.misfire_label!r} is a target label; a misfire "
                "plants a wrong label"
            )
        if v.is_concrete((self.size, self.noise)):
            set_(self, "size", v.unit_interval(f"{self.name}.size", self.size, upper_open=True))
            set_(self, "noise", v.unit_interval(f"{self.name}.noise", self.noise))

    def __repr__(self) -> str:
        """A Python literal with the fields that differ from their defaults (pasteable)."""
        plain = lambda x: float(x) if v.is_concrete(x) else x  # noqa: E731
        args = [repr(self.name), repr(plain(self.size)), repr(self.signal)]
        per_point = self.strategy in ("unplant", "erase")
        implied = {
            "target": (),
            "label": self.target[0] if len(self.target) == 1 and not per_point else None,
            "variant": VARIANTS.get(self.strategy, (None,))[0],
            "noise": 0.0,
        }
        for f in dataclasses.fields(self)[3:]:
            value = getattr(self, f.name)
            value = plain(value) if f.name == "noise" else value
            if value != implied.get(f.name, f.default):
                args.append(f"{f.name}={value!r}")
        return f"Collective({', '.join(args)})"

    def _repr_html_(self) -> str:
        from aca_games._html import collective_html

        return collective_html(self)

    def with_size(self, size) -> Collective:
        """The same collective with another size (traced sizes allowed, for ``grad``/``vmap``)."""
        return dataclasses.replace(self, size=size)

    def replace(self, **changes) -> Collective:
        """The same collective with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def _iterable(name: str, value) -> Iterable:
    if isinstance(value, Iterable):
        return value
    raise ACAInputError(f"{name}: expected a label name or a list of label names, got {value!r}")
