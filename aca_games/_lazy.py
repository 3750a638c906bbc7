"""Lazy public names for a package (PEP 562), shared by :mod:`aca_games` and :mod:`solvers`.

``exports`` maps a public name to ``(module, attribute)`` (attribute ``None``: the module itself);
the module is imported on first access and the value cached in the package's namespace.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_exports(package: str, exports: dict, namespace: dict) -> tuple[Callable, Callable]:
    """The package's ``__getattr__`` and ``__dir__``; ``namespace`` is its ``globals()``."""

    def __getattr__(name: str):
        try:
            module, attribute = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        loaded = importlib.import_module(module)
        value = loaded if attribute is None else getattr(loaded, attribute)
        namespace[name] = value  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
