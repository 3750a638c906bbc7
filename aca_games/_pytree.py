"""Register frozen dataclasses as pytrees whose unflattening bypasses ``__init__``.

Validation lives in ``__post_init__`` and runs on user input; JAX rebuilds objects from leaves that
may be tracers or placeholders, which must not be validated again.
"""

from __future__ import annotations

import dataclasses

import jax


def register_frozen(*data_fields: str):
    """Class decorator: ``data_fields`` are pytree leaves, every other field is static metadata."""

    def decorate(cls):
        names = [f.name for f in dataclasses.fields(cls)]
        meta_fields = [n for n in names if n not in data_fields]

        def flatten(obj):
            children = tuple(getattr(obj, n) for n in data_fields)
            return children, tuple(getattr(obj, n) for n in meta_fields)

        def unflatten(aux, children):
            obj = object.__new__(cls)
            for n, val in zip(meta_fields, aux, strict=True):
                object.__setattr__(obj, n, val)
            for n, val in zip(data_fields, children, strict=True):
                object.__setattr__(obj, n, val)
            return obj

        jax.tree_util.register_pytree_node(cls, flatten, unflatten)
        return cls

    return decorate
