"""Next-item recommenders and song promotion by playlist reordering [BMD24].

A next-item recommender is a classifier from a context (the previous song) to the next item, so a
fan collective that inserts a promoted song ``s*`` after chosen *anchor* songs in the playlists it
controls is planting a signal: the anchor is the signal, ``s*`` the planted label.

**World** (:class:`PlaylistConfig`, :func:`generate_playlists`). A catalogue of ``S`` songs with a
Zipf long tail, popularity ``w_s ∝ (s + 1)^(-zipf)`` (song 0 is the most popular), split into
``G`` clusters (genres), song ``s`` in cluster ``s mod G`` (every cluster has head and tail
songs). A playlist picks a cluster ``g`` with probability ``∝ Σ_{s∈g} w_s``, then ``length``
songs independently (with replacement), each from its cluster with probability ``in_cluster``
(``∝ w_s`` within ``g``) and from the whole catalogue otherwise (``∝ w_s``). The songs of one
playlist are in random order. The promoted song is a new song, index ``S`` (no training
occurrence before the collective acts); tables have ``S + 1`` rows and columns.

**Collective.** The fans: the first ``n`` training playlists of cluster ``fan_cluster`` (the
playlists are exchangeable, so these are a uniform sample of that cluster's playlists; if the
cluster has fewer than ``n`` playlists, all of them). Each member inserts ``s*`` **once** in its
playlist, at a gap chosen by the strategy (the anchor is the song before the gap):

* ``"dirlof"`` (directly targeting low-frequency contexts): after the playlist's globally rarest
  song (fewest training occurrences; first position on ties);
* ``"inclust"``: after the playlist's song most frequent *within the collective's playlists*
  (first position on ties). The issue and REPRODUCTIONS.md say "before" these anchors; the
  authors' code (``recsys-collectiveaction``, ``collective_action.py``, ``inclust`` branch)
  inserts at ``index + 1`` unless the strategy asks for ``insertbefore``. With the previous song
  as context, inserting *before* an anchor puts ``s*`` after a uniformly random song of the
  playlist, the same distribution as ``"random"``; ``"inclust-before"`` is that variant;
* ``"random"``: after a uniformly random song of the playlist (the baseline);
* ``"end"``: after the last song.

**Count model** (:func:`transition_counts`, :func:`recommends_promoted`). The bigram table
``C[c, b]``: how many times song ``b`` follows song ``c`` in the training playlists. The ranking of
candidates ``b`` after context ``c`` is by ``C[c, b]``, ties (and unseen contexts) broken by
popularity ``pop(b)``, the training occurrences (the usual unigram back-off). The top-``k`` list
of ``c`` holds the ``k`` best; ``s*`` is in it iff fewer than ``k`` songs rank strictly higher
(a song with the same count and popularity as ``s*`` does not push it out). This is the Bayes
classifier on counts of :mod:`aca_games.simulate.classifiers` with the next songs as labels,
recommending its ``k`` best labels.

**Embedding model** (:mod:`aca_games.simulate.recsys_model`, ``promotion_runs(..., model=...)``): a
small JAX next-item model (an embedding of the previous song, a softmax over the next) trained with
optax on the same bigrams, for catalogues of a few thousand songs at most.

**Amplification** (following REPRODUCTIONS.md, BMD24: the increase in the promoted song's
test-time recommendation probability divided by the fraction of training playlists modified).
A test playlist is a listening session of ``length`` songs from the same world: after each of its
first ``length - 1`` songs the recommender shows the top-``k`` next songs. The *recommendation
probability* ``r(s*)`` is the fraction of ``n_test`` test playlists in which ``s*`` is shown at
least once (before the collective acts ``s*`` has no training occurrence and is never shown, so
``r`` is also the increase). The collective modifies a fraction ``α = n/P`` of the ``P`` training
playlists, and ``s*`` then occurs in exactly those ``n``. **Amplification** ``= r(s*)/α``. A song
shown to as large a share of test playlists as the share of training playlists holding it has
amplification 1 (BMD24's "average song with the same number of training occurrences", when
recommendations follow playlist frequency).

Everything is a pure function of a ``jax.random`` key and of static shapes: one compile per
configuration and strategy, vmapped over seeds (:func:`promotion_runs`), bit-for-bit reproducible.

Example:
    >>> cfg = PlaylistConfig(n_songs=60, n_playlists=400, length=6, n_clusters=4, n_test=200)
    >>> runs = promotion_runs(cfg, "dirlof", [4, 12], seed_keys(0, 2))
    >>> runs.modified.tolist()
    [[4.0, 12.0], [4.0, 12.0]]
    >>> bool((runs.amplification >= 0).all())
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

from aca_games import _validate as v
from aca_games._errors import ACAInputError
from aca_games.simulate.recsys_model import EmbeddingModel, embedding_recommends
from aca_games.simulate.runs import seed_keys

__all__ = [
    "STRATEGIES",
    "PlaylistConfig",
    "Playlists",
    "PromotionRuns",
    "anchor_gaps",
    "generate_playlists",
    "promotion_runs",
    "recommends_promoted",
    "seed_keys",
    "transition_counts",
]

#: Insertion strategies (module docstring).
STRATEGIES = ("dirlof", "inclust", "inclust-before", "random", "end")


@dataclass(frozen=True)
class PlaylistConfig:
    """The playlist world, the collective's cluster, the test set and the list length ``k``
    (module docstring). Static (hashable): one compile per configuration."""

    n_songs: int = 5000
    n_playlists: int = 20_000
    length: int = 20
    n_clusters: int = 20
    zipf: float = 1.0
    in_cluster: float = 0.8
    fan_cluster: int = 1
    n_test: int = 5_000
    k: int = 10

    def __post_init__(self):
        for name in ("n_songs", "n_playlists", "n_clusters", "n_test", "k"):
            v.positive_int(name, getattr(self, name))
        v.positive_int("length", self.length, minimum=2)
        if self.n_clusters > self.n_songs:
            raise ACAInputError(
                f"n_clusters: {self.n_clusters} clusters for {self.n_songs} songs; every cluster needs a song"
            )
        if not 0 <= self.fan_cluster < self.n_clusters:
            raise ACAInputError(
                f"fan_cluster: {self.fan_cluster} is not a cluster index in [0, {self.n_clusters})"
            )
        if not float(self.zipf) >= 0:
            raise ACAInputError(f"zipf: {self.zipf!r} must be >= 0 (0 = every song equally popular)")
        v.unit_interval("in_cluster", self.in_cluster)
        if self.k > self.n_songs:
            raise ACAInputError(f"k: top-{self.k} lists from a catalogue of {self.n_songs} songs")

    @property
    def promoted(self) -> int:
        """The promoted song's index (a new song after the catalogue)."""
        return self.n_songs


class Playlists(NamedTuple):
    """Playlists of one draw: ``songs`` ``(P, length)`` song indices, ``cluster`` ``(P,)``."""

    songs: jax.Array
    cluster: jax.Array


class PromotionRuns(NamedTuple):
    """Results per seed (leading axis) and collective size (second axis)."""

    amplification: jax.Array  #: ``r(s*)/α``
    rate: jax.Array  #: ``r(s*)``: share of test requests whose top-k holds ``s*``
    modified: jax.Array  #: training playlists modified (``n``, fewer if the cluster is short)
    alpha: jax.Array  #: ``modified / P``


def _popularity(cfg: PlaylistConfig) -> jax.Array:
    return (jnp.arange(cfg.n_songs) + 1.0) ** (-float(cfg.zipf))


def _cluster_tables(cfg: PlaylistConfig):
    """Cluster probabilities ``(G,)`` and each cluster's song distribution ``(G, S)``."""
    w = _popularity(cfg)
    member = jnp.arange(cfg.n_songs)[None, :] % cfg.n_clusters == jnp.arange(cfg.n_clusters)[:, None]
    inside = jnp.where(member, w[None, :], 0.0)
    mass = inside.sum(axis=1)
    songs = cfg.in_cluster * inside / mass[:, None] + (1.0 - cfg.in_cluster) * (w / w.sum())[None, :]
    return mass / mass.sum(), songs


def generate_playlists(cfg: PlaylistConfig, key, count: int | None = None) -> Playlists:
    """``count`` playlists (default ``cfg.n_playlists``) drawn from the world (module docstring).

    >>> cfg = PlaylistConfig(n_songs=30, n_playlists=5, length=4, n_clusters=3)
    >>> p = generate_playlists(cfg, jax.random.key(0))
    >>> p.songs.shape, bool((p.songs < 30).all())
    ((5, 4), True)
    """
    count = cfg.n_playlists if count is None else count
    cluster_p, song_p = _cluster_tables(cfg)
    k_cluster, k_song = jax.random.split(key)
    cluster = jax.random.choice(k_cluster, cfg.n_clusters, (count,), p=cluster_p)
    cdf = jnp.cumsum(song_p, axis=1)
    u = jax.random.uniform(k_song, (count, cfg.length)) * cdf[:, -1][cluster][:, None]
    songs = jax.vmap(jnp.searchsorted)(cdf[cluster], u)
    return Playlists(jnp.minimum(songs, cfg.n_songs - 1).astype(jnp.int32), cluster)


def _occurrences(songs, weight, size: int) -> jax.Array:
    """Occurrences of each song in the playlists, each playlist weighted by ``weight``."""
    w = jnp.broadcast_to(weight[:, None], songs.shape)
    return jnp.zeros(size).at[songs.reshape(-1)].add(w.reshape(-1))


def anchor_gaps(cfg: PlaylistConfig, strategy: str, songs, members, key) -> jax.Array:
    """The gap where each playlist would insert ``s*`` (gap ``g`` lies between positions ``g - 1``
    and ``g``; ``length`` is the end), for every playlist ``(P,)``; only ``members`` act.

    >>> cfg = PlaylistConfig(n_songs=10, n_playlists=2, length=3, n_clusters=2)
    >>> songs = jnp.array([[0, 7, 2], [7, 1, 2]])
    >>> anchor_gaps(cfg, "dirlof", songs, jnp.array([1.0, 1.0]), jax.random.key(0)).tolist()
    [1, 2]
    >>> anchor_gaps(cfg, "inclust-before", songs, jnp.array([1.0, 1.0]), jax.random.key(0)).tolist()
    [1, 0]
    """
    if strategy not in STRATEGIES:
        raise ACAInputError(f"strategy: unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    n_p, length = songs.shape
    if strategy == "end":
        return jnp.full((n_p,), length)
    if strategy == "random":
        return jax.random.randint(key, (n_p,), 0, length) + 1
    if strategy == "dirlof":
        train = _occurrences(songs, jnp.ones(n_p), cfg.n_songs)
        return jnp.argmin(train[songs], axis=1) + 1
    own = _occurrences(songs, members, cfg.n_songs)
    anchor = jnp.argmax(own[songs], axis=1)
    return anchor + 1 if strategy == "inclust" else anchor


def transition_counts(cfg: PlaylistConfig, songs, gaps, members) -> jax.Array:
    """The bigram table ``C[c, b]`` ``(S + 1, S + 1)`` (int32) of the training playlists after the
    members (``members`` in {0, 1} per playlist) insert ``s*`` at their ``gaps`` (module docstring).

    >>> cfg = PlaylistConfig(n_songs=3, n_playlists=2, length=3, n_clusters=2, k=2)
    >>> songs = jnp.array([[0, 1, 2], [2, 1, 0]])
    >>> transition_counts(cfg, songs, jnp.array([1, 3]), jnp.array([1, 0])).tolist()
    [[0, 0, 0, 1], [1, 0, 1, 0], [0, 1, 0, 0], [0, 1, 0, 0]]
    """
    size = cfg.n_songs + 1
    star = cfg.promoted
    members = jnp.asarray(members).astype(jnp.int32)
    prev, nxt = songs[:, :-1], songs[:, 1:]
    table = jnp.zeros((size, size), jnp.int32).at[prev.reshape(-1), nxt.reshape(-1)].add(1)
    n_p, length = songs.shape
    rows = jnp.arange(n_p)
    before = songs[rows, jnp.maximum(gaps - 1, 0)]  # the anchor (song before the gap)
    after = songs[rows, jnp.minimum(gaps, length - 1)]  # the song after the gap
    has_before = members * (gaps > 0)
    has_after = members * (gaps < length)
    table = table.at[before, after].add(-has_before * has_after)  # the broken pair
    table = table.at[before, star].add(has_before)
    return table.at[star, after].add(has_after)


def recommends_promoted(table, pop, k: int) -> jax.Array:
    """Per context ``c`` ``(S + 1,)``: is ``s*`` (the last column) in the top-``k`` list of ``c``?
    Candidates rank by ``C[c, b]``, then by ``pop(b)`` (training occurrences, module docstring);
    ``s*`` is in the list iff fewer than ``k`` songs rank strictly higher.

    >>> table = jnp.array([[0.0, 2.0, 1.0], [1.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    >>> recommends_promoted(table, jnp.array([5.0, 3.0, 1.0]), 1).tolist()
    [False, False, False]
    >>> recommends_promoted(table, jnp.array([5.0, 3.0, 1.0]), 2).tolist()
    [True, True, False]
    """
    star_count, star_pop = table[:, -1:], pop[-1]
    higher = (table > star_count) | ((table == star_count) & (pop[None, :] > star_pop))
    return jnp.sum(higher, axis=1) < k


def _promotion(cfg: PlaylistConfig, strategy: str, model: EmbeddingModel | None, n_members, key):
    k_train, k_test, k_strategy = jax.random.split(key, 3)
    train = generate_playlists(cfg, k_train)
    fans = train.cluster == cfg.fan_cluster
    members = (fans & (jnp.cumsum(fans) <= n_members)).astype(jnp.float64)
    gaps = anchor_gaps(cfg, strategy, train.songs, members, k_strategy)
    table = transition_counts(cfg, train.songs, gaps, members)
    pop = _occurrences(train.songs, jnp.ones(cfg.n_playlists), cfg.n_songs + 1)
    pop = pop.at[cfg.promoted].add(members.sum())
    test = generate_playlists(cfg, k_test, cfg.n_test)
    if model is None:
        won = recommends_promoted(table, pop, cfg.k)
    else:  # the learned model, from its own stream so the count model's draws are unchanged
        won = embedding_recommends(table, jax.random.fold_in(key, 1), cfg.k, model)
    rate = jnp.mean(jnp.any(won[test.songs[:, :-1]], axis=1).astype(jnp.float64))
    modified = members.sum()
    alpha = modified / cfg.n_playlists
    amplification = jnp.where(modified > 0, rate / jnp.where(modified > 0, alpha, 1.0), 0.0)
    return PromotionRuns(amplification, rate, modified, alpha)


def _over_sizes(cfg, strategy, model, sizes, key):
    return jax.lax.map(lambda n: _promotion(cfg, strategy, model, n, key), sizes)


_runs = jax.jit(jax.vmap(_over_sizes, in_axes=(None, None, None, None, 0)), static_argnums=(0, 1, 2))


def promotion_runs(
    cfg: PlaylistConfig, strategy: str, members: Sequence[int], keys, model: EmbeddingModel | None = None
) -> PromotionRuns:
    """Amplification of ``s*`` for each collective size (``members`` playlists) and seed, in one
    call vmapped over seeds (the sizes run one after another inside it, one table in memory per
    seed). Seed ``i``'s world, test set and random insertions depend on its key only, so every
    strategy and size of a seed sees the same playlists (common random numbers).

    Args:
        cfg: the world (:class:`PlaylistConfig`).
        strategy: one of :data:`STRATEGIES`.
        members: collective sizes in playlists, each in ``[1, n_playlists)``.
        keys: a 1-d batch of ``jax.random`` keys (:func:`seed_keys`).
        model: ``None`` for the bigram count model, or an
            :class:`~aca_games.simulate.recsys_model.EmbeddingModel` to train the small JAX
            next-item model on the same playlists instead.
    """
    if strategy not in STRATEGIES:
        raise ACAInputError(f"strategy: unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    sizes = [int(m) for m in members]
    if not sizes or any(not 1 <= m < cfg.n_playlists for m in sizes):
        raise ACAInputError(
            f"members: {sizes} must be a non-empty list of playlist counts in [1, {cfg.n_playlists})"
        )
    return _runs(cfg, strategy, model, jnp.asarray(sizes, dtype=jnp.float64), keys)
