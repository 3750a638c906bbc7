"""Classifiers trained on categorical data given as a count table (JAX + optax).

A data set whose inputs are categorical — a platform's feature cells, a recommender's previous
item — is a table ``counts[x, y]``: how many examples have input ``x`` and label ``y``. Every
learner here is a frozen dataclass with one method,

    ``fit(counts, key) -> probs``,   ``counts`` of shape ``(X, L)``, ``probs[x, y] = p̂(y | x)``,

a pure function (``jit``/``vmap``-able over ``counts`` and ``key``; the dataclass itself is static
and hashable). The decision at ``x`` is the argmax of ``probs[x]``; a collective's decision rule
(ties fail) is in :mod:`aca_games.simulate.runs`. Learners:

* :class:`BayesCounts` (``"bayes"``): the empirical conditional ``counts[x, y] / Σ_y counts[x, y]``
  (uniform on an empty row): its argmax is the Bayes classifier on counts.
* :class:`LogisticRegression` (``"logistic"``): multinomial logistic regression on the one-hot
  input, ``logits(x) = W[x] + b``.
* :class:`MLP` (``"mlp"``): one hidden ``tanh`` layer on the one-hot input,
  ``logits(x) = tanh(W1[x] + b1) W2 + b2``.
* :class:`DPSGD` (``"dp-sgd"``): either model trained with DP-SGD [SBAC25]: per-example gradients
  clipped to norm ``C``, Gaussian noise of standard deviation ``σC`` added to their sum.

**Training** (the three models). Full batch, ``optax.adam`` for ``steps`` steps on the mean
cross-entropy over the ``n = Σ counts`` examples plus a Gaussian prior ``½‖θ‖²/(s² n)`` on every
parameter (the MAP estimate under ``θ ~ N(0, s² I)``; its pull vanishes as ``n`` grows, so with
enough data and steps the logistic model's argmax is the Bayes classifier on counts). Examples that
share a cell have the same loss and the same gradient, so the loss over ``n`` one-hot examples is
``Σ_{x,y} counts[x, y] · loss(x, y)``: training costs ``O(X L)`` per step whatever ``n`` is, and
the result is exactly that of full-batch training on the ``n`` individual examples.

**DP-SGD.** The per-example gradient of cell ``(x, y)`` (with respect to row ``x`` of the input
layer and the shared parameters; the other rows get zero) is clipped to norm ``C``; the clipped
gradients are summed with their counts, ``N(0, σ²C² I)`` noise is added to the sum over all
parameters, and the result is divided by ``n`` (the platform's size, treated as public). Adam only
post-processes the privatised gradient. With full batches, ``T`` steps of noise multiplier ``σ``
are ``(ε, δ)``-DP for the exact Gaussian-DP accounting of
:func:`aca_games.bounds.parametric.noise_multiplier_for` (add/remove-one neighbours); build the
learner from a budget with :meth:`DPSGD.for_budget`. The prior is data-independent (no clipping).

Example:
    >>> import jax, jax.numpy as jnp
    >>> counts = jnp.array([[30.0, 10.0], [2.0, 6.0], [0.0, 0.0]])
    >>> BayesCounts().fit(counts, jax.random.key(0)).tolist()
    [[0.75, 0.25], [0.25, 0.75], [0.5, 0.5]]
    >>> probs = LogisticRegression().fit(counts, jax.random.key(0))
    >>> jnp.argmax(probs[:2], axis=1).tolist()
    [0, 1]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import ClassVar, NamedTuple, Protocol

import jax
import jax.numpy as jnp
import optax

from aca_games import _validate as v
from aca_games._errors import ACAInputError

__all__ = [
    "LEARNERS",
    "MLP",
    "DPSGD",
    "BayesCounts",
    "Learner",
    "LogisticRegression",
    "fit",
    "make_learner",
]


class Learner(Protocol):
    """What every learner provides: a name and ``fit(counts, key) -> probs`` (module docstring)."""

    name: ClassVar[str]

    def fit(self, counts: jax.Array, key: jax.Array) -> jax.Array: ...


class Params(NamedTuple):
    """A one-hot model's parameters: ``rows[x]`` is the input layer's row for input ``x`` (the
    only input-layer weights example ``x`` touches); ``shared`` the rest."""

    rows: jax.Array
    shared: tuple


def _check_training(steps, learning_rate, prior_scale) -> None:
    v.positive_int("steps", steps)
    for name, value in (("learning_rate", learning_rate), ("prior_scale", prior_scale)):
        if not float(value) > 0:
            raise ACAInputError(f"{name}: {value!r} must be > 0")


@dataclass(frozen=True)
class BayesCounts:
    """The empirical conditional ``p̂(y|x) = counts[x, y]/Σ_y counts[x, y]`` (uniform if ``x`` has
    no data); its argmax is the Bayes classifier on counts. ``key`` is unused."""

    name: ClassVar[str] = "bayes"

    def fit(self, counts, key=None):
        total = counts.sum(axis=-1, keepdims=True)
        uniform = jnp.full_like(counts, 1.0 / counts.shape[-1])
        return jnp.where(total > 0, counts / jnp.where(total > 0, total, 1.0), uniform)


@dataclass(frozen=True)
class LogisticRegression:
    """Multinomial logistic regression on the one-hot input: ``logits(x) = W[x] + b``, started at
    0 (module docstring for the training)."""

    steps: int = 300
    learning_rate: float = 0.1
    prior_scale: float = 1.0
    name: ClassVar[str] = "logistic"

    def __post_init__(self):
        _check_training(self.steps, self.learning_rate, self.prior_scale)

    def init(self, key, n_inputs: int, n_labels: int) -> Params:
        return Params(jnp.zeros((n_inputs, n_labels)), (jnp.zeros(n_labels),))

    @staticmethod
    def row_logits(row, shared):
        return row + shared[0]

    def fit(self, counts, key):
        return _fit(self, counts, key, dp=None)


@dataclass(frozen=True)
class MLP:
    """One hidden ``tanh`` layer of width ``hidden`` on the one-hot input:
    ``logits(x) = tanh(W1[x] + b1) W2 + b2``; ``W1 ~ N(0, 1)``, ``W2 ~ N(0, 1/hidden)``, biases 0
    (the initialisation uses ``key``)."""

    hidden: int = 16
    steps: int = 300
    learning_rate: float = 0.05
    prior_scale: float = 1.0
    name: ClassVar[str] = "mlp"

    def __post_init__(self):
        v.positive_int("hidden", self.hidden)
        _check_training(self.steps, self.learning_rate, self.prior_scale)

    def init(self, key, n_inputs: int, n_labels: int) -> Params:
        k1, k2 = jax.random.split(key)
        w1 = jax.random.normal(k1, (n_inputs, self.hidden))
        w2 = jax.random.normal(k2, (self.hidden, n_labels)) / jnp.sqrt(self.hidden)
        return Params(w1, (jnp.zeros(self.hidden), w2, jnp.zeros(n_labels)))

    @staticmethod
    def row_logits(row, shared):
        b1, w2, b2 = shared
        return jnp.tanh(row + b1) @ w2 + b2

    def fit(self, counts, key):
        return _fit(self, counts, key, dp=None)


@dataclass(frozen=True)
class DPSGD:
    """``model`` (:class:`LogisticRegression` or :class:`MLP`) trained with DP-SGD: per-example
    clipping to ``clip`` and Gaussian noise of multiplier ``noise_multiplier`` (module docstring).
    ``noise_multiplier = 0`` is clipped, noise-free training (not private)."""

    model: LogisticRegression | MLP = LogisticRegression()
    clip: float = 1.0
    noise_multiplier: float = 1.0
    name: ClassVar[str] = "dp-sgd"

    def __post_init__(self):
        if not isinstance(self.model, (LogisticRegression, MLP)):
            raise ACAInputError(
                f"model: DP-SGD trains a LogisticRegression or an MLP, got {type(self.model).__name__}"
            )
        if not float(self.clip) > 0:
            raise ACAInputError(f"clip: {self.clip!r} must be > 0 (the per-example gradient norm C)")
        if not float(self.noise_multiplier) >= 0:
            raise ACAInputError(f"noise_multiplier: {self.noise_multiplier!r} must be >= 0")

    @classmethod
    def for_budget(cls, epsilon: float, delta: float, model=None, clip: float = 1.0) -> DPSGD:
        """The learner whose ``model.steps`` full-batch steps are ``(epsilon, delta)``-DP, with the
        smallest such noise multiplier (:func:`aca_games.bounds.parametric.noise_multiplier_for`).

        >>> learner = DPSGD.for_budget(1.0, 1e-5, LogisticRegression(steps=100))
        >>> round(learner.noise_multiplier, 2)
        37.31
        """
        from aca_games.bounds.parametric import noise_multiplier_for

        model = LogisticRegression() if model is None else model
        sigma = float(noise_multiplier_for(epsilon, delta, steps=model.steps))
        return cls(model=model, clip=clip, noise_multiplier=sigma)

    def fit(self, counts, key):
        return _fit(self.model, counts, key, dp=(self.clip, self.noise_multiplier))


#: Learner names accepted by :func:`make_learner` (and the CLI's ``--learner``).
LEARNERS = {"bayes": BayesCounts, "logistic": LogisticRegression, "mlp": MLP, "dp-sgd": DPSGD}


def make_learner(name: str, **options) -> Learner:
    """A learner by name (``bayes``, ``logistic``, ``mlp``, ``dp-sgd``) with its options.

    For ``dp-sgd`` the options are ``model`` (``"logistic"`` or ``"mlp"``), ``clip`` and either
    ``noise_multiplier`` or a budget ``epsilon`` (with ``delta``, default ``1e-5``); the training
    options (``steps``, ``learning_rate``, ``prior_scale``, ``hidden``) go to the model.

    >>> make_learner("dp-sgd", epsilon=2.0, steps=50).model.steps
    50
    >>> make_learner("svm")
    Traceback (most recent call last):
    ...
    aca_games._errors.ACAInputError: learner: unknown learner 'svm'; choose one of bayes, ...
    """
    if name not in LEARNERS:
        raise ACAInputError(f"learner: unknown learner {name!r}; choose one of {', '.join(LEARNERS)}")
    options = {k: val for k, val in options.items() if val is not None}
    if name == "bayes":
        if options:
            raise ACAInputError(f"learner: the bayes learner has no options, got {sorted(options)}")
        return BayesCounts()
    if name != "dp-sgd":
        return _model(name, options)
    model = _model(options.pop("model", "logistic"), {
        k: options.pop(k) for k in ("steps", "learning_rate", "prior_scale", "hidden") if k in options
    })  # fmt: skip
    clip = options.pop("clip", 1.0)
    epsilon, delta = options.pop("epsilon", None), options.pop("delta", 1e-5)
    sigma = options.pop("noise_multiplier", None)
    if options:
        raise ACAInputError(f"learner: unknown dp-sgd options {sorted(options)}")
    if (epsilon is None) == (sigma is None):
        raise ACAInputError(
            "learner: dp-sgd needs exactly one of epsilon (a privacy budget) or noise_multiplier"
        )
    if epsilon is not None:
        return DPSGD.for_budget(epsilon, delta, model, clip)
    return DPSGD(model=model, clip=clip, noise_multiplier=sigma)


def _model(name: str, options: dict):
    kinds = {"logistic": LogisticRegression, "mlp": MLP}
    if name not in kinds:
        raise ACAInputError(f"model: {name!r} is not a trainable model; choose logistic or mlp")
    if name == "logistic" and "hidden" in options:
        raise ACAInputError("hidden: only the mlp has a hidden layer")
    try:
        return kinds[name](**options)
    except TypeError as err:
        raise ACAInputError(f"learner: bad options for {name}: {err}") from None


@partial(jax.jit, static_argnums=0)
def fit(learner: Learner, counts, key) -> jax.Array:
    """``learner.fit(counts, key)``, jitted (the learner is static)."""
    return learner.fit(counts, key)


# --------------------------------------------------------------------------- training
def _all_logits(model, params: Params):
    return jax.vmap(model.row_logits, in_axes=(0, None))(params.rows, params.shared)


def _cell_loss(model, row, shared, label):
    return -jax.nn.log_softmax(model.row_logits(row, shared))[label]


def _prior(params: Params, scale, n):
    return 0.5 * sum(jnp.sum(p**2) for p in jax.tree.leaves(params)) / (scale**2 * n)


def _mean_gradient(model, params: Params, counts, n):
    """Gradient of the mean cross-entropy (count-weighted) plus the prior."""

    def loss(p):
        logp = jax.nn.log_softmax(_all_logits(model, p), axis=-1)
        return -jnp.sum(counts * logp) / n + _prior(p, model.prior_scale, n)

    return jax.grad(loss)(params)


def _private_gradient(model, params: Params, counts, n, clip, sigma, key):
    """Clipped per-example gradients summed with their counts, plus ``N(0, σ²C²)`` noise, over
    ``n``; plus the prior's gradient (module docstring)."""
    n_inputs, n_labels = counts.shape
    inputs = jnp.repeat(jnp.arange(n_inputs), n_labels)
    labels = jnp.tile(jnp.arange(n_labels), n_inputs)
    per_cell = jax.vmap(jax.grad(partial(_cell_loss, model), argnums=(0, 1)), in_axes=(0, None, 0))
    g_rows, g_shared = per_cell(params.rows[inputs], params.shared, labels)
    sq = jnp.sum(g_rows**2, axis=1) + sum(
        jnp.sum(g.reshape(g.shape[0], -1) ** 2, axis=1) for g in jax.tree.leaves(g_shared)
    )
    weight = counts.reshape(-1) * jnp.minimum(1.0, clip / jnp.sqrt(jnp.maximum(sq, 1e-300)))
    rows = jnp.zeros_like(params.rows).at[inputs].add(weight[:, None] * g_rows)
    shared = jax.tree.map(lambda g: jnp.tensordot(weight, g, axes=1), g_shared)
    summed = Params(rows, shared)
    leaves, tree = jax.tree.flatten(summed)
    keys = jax.random.split(key, len(leaves))
    noisy = [g + sigma * clip * jax.random.normal(k, g.shape) for g, k in zip(leaves, keys, strict=True)]
    prior = jax.grad(_prior)(params, model.prior_scale, n)
    return jax.tree.map(lambda g, p: g / n + p, jax.tree.unflatten(tree, noisy), prior)


def _fit(model, counts, key, dp):
    """Adam on the full batch (module docstring); returns ``softmax`` of the final logits."""
    counts = jnp.asarray(counts, dtype=jnp.float64)
    n = jnp.maximum(counts.sum(), 1.0)
    init_key, noise_key = jax.random.split(key)
    params = model.init(init_key, *counts.shape)
    opt = optax.adam(model.learning_rate)

    def step(carry, k):
        p, state = carry
        if dp is None:
            g = _mean_gradient(model, p, counts, n)
        else:
            g = _private_gradient(model, p, counts, n, dp[0], dp[1], k)
        updates, state = opt.update(g, state, p)
        return (optax.apply_updates(p, updates), state), None

    (params, _), _ = jax.lax.scan(step, (params, opt.init(params)), jax.random.split(noise_key, model.steps))
    return jax.nn.softmax(_all_logits(model, params), axis=-1)
