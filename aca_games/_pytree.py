"""Pytree helpers: frozen dataclasses registered as pytrees; stacking pytrees and moving host data
to the device without compiling anything.

Validation lives in ``__post_init__`` and runs on user input; JAX rebuilds objects from leaves that
may be tracers or placeholders, which must not be validated again.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np


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


def stack_trees(items):
    """Stack pytrees of one structure along a new leading axis, leaf by leaf.

    Concrete leaves are stacked by numpy and copied to the device by ``jax.device_put``: an eager
    ``jnp.stack`` (and even ``jnp.asarray`` of a numpy array) compiles an XLA program per leaf shape
    and count, ~10 ms each on first use and dozens of them in one ``aca-games run``. The values,
    dtypes and shapes are those of ``jnp.stack``; leaves traced under ``jit``/``vmap`` go through
    ``jnp.stack``.

    >>> stack_trees([(jnp.zeros(2), 1.0), (jnp.ones(2), 2.0)])[0].tolist()
    [[0.0, 0.0], [1.0, 1.0]]
    """

    def stack(*leaves):
        if any(isinstance(x, jax.core.Tracer) for x in leaves):
            return jnp.stack(leaves)
        return jax.device_put(np.stack([np.asarray(x) for x in leaves]))

    return jax.tree_util.tree_map(stack, *items)


def to_device(value, dtype=None) -> jax.Array:
    """``jnp.asarray(value, dtype)`` for host data (numbers, lists, numpy or JAX arrays) by
    ``jax.device_put``: the same values and dtype (never weakly typed) without the XLA program
    ``jnp.asarray`` compiles per shape and dtype on first use. Traced values go to ``jnp.asarray``.

    >>> to_device([1, 2], dtype=float).tolist(), to_device(0.5).dtype.name
    ([1.0, 2.0], 'float64')
    """
    if any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(value)):
        return jnp.asarray(value, dtype=dtype)
    return jax.device_put(np.asarray(value, dtype=dtype))
