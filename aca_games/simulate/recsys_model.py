"""A small JAX next-item model for song promotion [BMD24], beside the bigram count model.

The count model of :mod:`aca_games.simulate.recsys` is the Bayes classifier on counts. This is a
learned one: the previous song ``c`` is embedded, ``e_c ∈ R^d``, and the next song is a softmax
over ``logits(c) = e_c W + b`` (``W ∈ R^{d×(S+1)}``, ``b ∈ R^{S+1}``; ``d`` = :attr:`EmbeddingModel.dim`).
It is trained on the bigram table ``C`` of the training playlists (after the collective inserted
``s*``) by full-batch Adam (optax) on the mean cross-entropy

    L = Σ_{c,b} C[c, b] (logsumexp(logits(c)) - logits(c)_b) / Σ_{c,b} C[c, b],

which is the cross-entropy of every (previous, next) pair of the training playlists, for
:attr:`EmbeddingModel.steps` steps from a seeded initialisation. Unlike the count model, the
embedding shares statistical strength across contexts: songs that precede the same songs get
similar embeddings, so ``s*`` planted after some anchors can also be recommended after songs that
resemble them. ``s*`` is in ``c``'s top-``k`` list iff fewer than ``k`` songs have a strictly
larger logit.

The logits of all contexts form an ``(S+1) × (S+1)`` array, so this model is meant for catalogues
of a few thousand songs at most.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import optax

from aca_games import _validate as v
from aca_games._errors import ACAInputError

__all__ = ["EmbeddingModel", "embedding_recommends", "train_embedding"]


@dataclass(frozen=True)
class EmbeddingModel:
    """Hyper-parameters of the embedding model (static: one compile per setting)."""

    dim: int = 16
    steps: int = 300
    learning_rate: float = 0.05

    def __post_init__(self):
        v.positive_int("dim", self.dim)
        v.positive_int("steps", self.steps)
        if not float(self.learning_rate) > 0:
            raise ACAInputError(f"learning_rate: expected a number > 0, got {self.learning_rate!r}")


def _logits(params):
    embed, weight, bias = params
    return embed @ weight + bias[None, :]


def _loss(params, table):
    logits = _logits(params)
    nll = jax.nn.logsumexp(logits, axis=1, keepdims=True) - logits
    return jnp.sum(table * nll) / jnp.sum(table)


def train_embedding(table, key, model: EmbeddingModel = EmbeddingModel()):
    """Parameters ``(e, W, b)`` trained on the bigram table ``table`` ``(S+1, S+1)`` (module
    docstring), and the loss before and after training.

    >>> table = jnp.array([[0.0, 5.0, 0.0], [0.0, 0.0, 5.0], [5.0, 0.0, 0.0]])   # a cycle 0 -> 1 -> 2
    >>> params, (before, after) = train_embedding(table, jax.random.key(0), EmbeddingModel(dim=3))
    >>> bool(after < 0.05 < before), jnp.argmax(_logits(params), axis=1).tolist()
    (True, [1, 2, 0])
    """
    table = jnp.asarray(table, dtype=jnp.float64)
    size = table.shape[0]
    k_embed, k_weight = jax.random.split(key)
    scale = 1.0 / jnp.sqrt(model.dim)
    params = (
        scale * jax.random.normal(k_embed, (size, model.dim)),
        scale * jax.random.normal(k_weight, (model.dim, size)),
        jnp.zeros(size),
    )
    optimiser = optax.adam(model.learning_rate)
    grad = jax.value_and_grad(_loss)

    def step(carry, _):
        params, state = carry
        loss, g = grad(params, table)
        updates, state = optimiser.update(g, state, params)
        return (optax.apply_updates(params, updates), state), loss

    (params, _), losses = jax.lax.scan(step, (params, optimiser.init(params)), None, length=model.steps)
    return params, (losses[0], _loss(params, table))


def embedding_recommends(table, key, k: int, model: EmbeddingModel = EmbeddingModel()) -> jax.Array:
    """Per context ``c`` ``(S+1,)``: is ``s*`` (the last song) in the trained model's top-``k``
    list of ``c``? (``k`` songs or more with a strictly larger logit push it out.)"""
    params, _ = train_embedding(table, key, model)
    logits = _logits(params)
    higher = logits > logits[:, -1:]
    return jnp.sum(higher, axis=1) < k
