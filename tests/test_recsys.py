"""Recommender promotion [BMD24] (:mod:`aca_games.simulate.recsys`).

* the count model and the anchors agree with a reference written from the module docstring in plain
  Python (playlists as lists, the song inserted with ``list.insert``, bigrams by ``Counter``);
* the top-k membership of ``s*`` agrees with sorting every candidate by (count, popularity);
* the amplification of a whole run agrees with the reference on the same playlists;
* seeded runs reproduce bit for bit; bad input is rejected with a message.
"""

from collections import Counter

import jax
import numpy as np
import pytest

from aca_games import ACAInputError
from aca_games.simulate.recsys import (
    PlaylistConfig,
    anchor_gaps,
    generate_playlists,
    promotion_runs,
    recommends_promoted,
    seed_keys,
    transition_counts,
)
from aca_games.simulate.recsys_model import EmbeddingModel, embedding_recommends, train_embedding

CFG = PlaylistConfig(n_songs=40, n_playlists=300, length=6, n_clusters=4, fan_cluster=2, n_test=120, k=3)


def _reference_gap(strategy, playlist, train_count, own_count, rng_gap):
    if strategy == "end":
        return len(playlist)
    if strategy == "random":
        return rng_gap
    if strategy == "dirlof":
        counts = [train_count[s] for s in playlist]
        return counts.index(min(counts)) + 1
    counts = [own_count[s] for s in playlist]
    first = counts.index(max(counts))
    return first + 1 if strategy == "inclust" else first


def _reference(cfg, strategy, songs, clusters, n, random_gaps, test_songs):
    """Amplification from the definitions: insert, count bigrams, rank, count reached sessions."""
    songs = [list(map(int, row)) for row in songs]
    fans = [i for i, g in enumerate(clusters) if g == cfg.fan_cluster][:n]
    train_count = Counter(s for row in songs for s in row)
    own_count = Counter(s for i in fans for s in songs[i])
    star = cfg.n_songs
    modified = [list(row) for row in songs]
    for i in fans:
        gap = _reference_gap(strategy, songs[i], train_count, own_count, int(random_gaps[i]))
        modified[i].insert(gap, star)
    bigrams = Counter((row[t], row[t + 1]) for row in modified for t in range(len(row) - 1))
    pop = Counter(s for row in modified for s in row)

    def shown(context):
        key = lambda b: (bigrams[(context, b)], pop[b])  # noqa: E731
        return sum(key(b) > key(star) for b in range(star + 1)) < cfg.k

    reached = [any(shown(c) for c in row[:-1]) for row in np.asarray(test_songs).tolist()]
    table = np.zeros((star + 1, star + 1), dtype=np.int64)
    for (c, b), count in bigrams.items():
        table[c, b] = count
    return np.mean(reached) / (len(fans) / cfg.n_playlists), table, len(fans)


@pytest.mark.parametrize("strategy", ["dirlof", "inclust", "inclust-before", "random", "end"])
def test_run_agrees_with_reference(strategy):
    key = jax.random.key(3)
    n = 9
    runs = promotion_runs(CFG, strategy, [n], key[None])
    k_train, k_test, k_strategy = jax.random.split(key, 3)
    train = generate_playlists(CFG, k_train)
    test = generate_playlists(CFG, k_test, CFG.n_test)
    random_gaps = jax.random.randint(k_strategy, (CFG.n_playlists,), 0, CFG.length) + 1
    amp, table, members = _reference(
        CFG, strategy, np.asarray(train.songs), np.asarray(train.cluster), n, random_gaps, test.songs
    )
    assert members == n == int(runs.modified[0, 0])
    np.testing.assert_allclose(float(runs.amplification[0, 0]), amp, rtol=1e-12)
    # the count table itself, against the reference's Counter
    fans = np.asarray(train.cluster) == CFG.fan_cluster
    member = (fans & (np.cumsum(fans) <= n)).astype(float)
    gaps = anchor_gaps(CFG, strategy, train.songs, jax.numpy.asarray(member), k_strategy)
    np.testing.assert_array_equal(np.asarray(transition_counts(CFG, train.songs, gaps, member)), table)


def test_top_k_membership_agrees_with_sorting():
    rng = np.random.default_rng(0)
    table = rng.integers(0, 3, size=(12, 12))
    pop = rng.integers(0, 4, size=12).astype(float)
    for k in (1, 3, 6):
        got = np.asarray(recommends_promoted(jax.numpy.asarray(table), jax.numpy.asarray(pop), k))
        for c in range(12):
            order = sorted(range(12), key=lambda b, c=c: (table[c, b], pop[b]), reverse=True)
            # s* (index 11) is shown iff it is among the first k once every equal key is put after it
            strictly_before = [b for b in order if (table[c, b], pop[b]) > (table[c, 11], pop[11])]
            assert got[c] == (len(strictly_before) < k)


def test_generator_follows_the_world():
    """Playlists of the fan cluster hold mostly its songs; popularity falls along the catalogue."""
    cfg = PlaylistConfig(n_songs=200, n_playlists=4000, length=10, n_clusters=5, in_cluster=0.8)
    p = generate_playlists(cfg, jax.random.key(1))
    songs, cluster = np.asarray(p.songs), np.asarray(p.cluster)
    inside = (songs % cfg.n_clusters) == cluster[:, None]
    assert 0.8 < inside.mean() < 0.9  # 0.8 from the cluster, plus the global draws landing in it
    counts = np.bincount(songs.ravel(), minlength=cfg.n_songs)
    assert counts[:10].sum() > 5 * counts[-10:].sum()


def test_seeded_runs_reproduce_bit_for_bit():
    a = promotion_runs(CFG, "dirlof", [3, 9], seed_keys(5, 3))
    b = promotion_runs(CFG, "dirlof", [3, 9], seed_keys(5, 3))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    c = promotion_runs(CFG, "dirlof", [3, 9], seed_keys(6, 3))
    assert not np.array_equal(np.asarray(a.rate), np.asarray(c.rate))


def test_dirlof_amplifies_at_small_sizes():
    """The mechanism: inserted after rare anchors, one occurrence of s* tops their lists."""
    cfg = PlaylistConfig(n_songs=1000, n_playlists=4000, length=12, n_clusters=10, n_test=2000, k=10)
    runs = promotion_runs(cfg, "dirlof", [4], seed_keys(0, 2))
    assert float(runs.amplification.mean()) > 2.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fan_cluster": 4}, "fan_cluster: 4 is not a cluster index"),
        ({"length": 1}, "length"),
        ({"k": 41}, "k: top-41 lists"),
        ({"n_clusters": 41}, "n_clusters: 41 clusters for 40 songs"),
        ({"in_cluster": 1.5}, "in_cluster"),
    ],
)
def test_bad_config(kwargs, match):
    base = dict(n_songs=40, n_playlists=300, length=6, n_clusters=4)
    with pytest.raises(ACAInputError, match=match):
        PlaylistConfig(**(base | kwargs))


def test_bad_runs():
    with pytest.raises(ACAInputError, match="strategy: unknown strategy 'after'"):
        promotion_runs(CFG, "after", [3], seed_keys(0, 1))
    with pytest.raises(ACAInputError, match=r"members: \[0\] must be"):
        promotion_runs(CFG, "dirlof", [0], seed_keys(0, 1))


# -- the embedding model ---------------------------------------------------------------------------
def test_embedding_model_learns_each_context_s_next_song():
    """A deterministic successor per context (a permutation, counts 3): the trained model's top-1
    after each context is that successor, as argmax of the counts says (numpy, no library code)."""
    rng = np.random.default_rng(0)
    successor = rng.permutation(12)
    table = np.zeros((12, 12))
    table[np.arange(12), successor] = 3.0
    model, key = EmbeddingModel(dim=8), jax.random.key(1)
    params, (before, after) = train_embedding(table, key, model)
    logits = np.asarray(params[0] @ params[1]) + np.asarray(params[2])[None, :]
    assert np.array_equal(logits.argmax(axis=1), table.argmax(axis=1))
    assert float(after) < 0.1 * float(before)
    # s* = song 11 is in the top-1 list exactly of the context whose successor it is
    won = np.asarray(embedding_recommends(table, key, 1, model))
    assert won.tolist() == (successor == 11).tolist()


def test_embedding_promotion_is_seeded_and_promotes():
    small = PlaylistConfig(n_songs=30, n_playlists=200, length=5, n_clusters=3, n_test=100, k=3)
    model = EmbeddingModel(dim=8, steps=150)
    first = promotion_runs(small, "dirlof", [4, 30], seed_keys(0, 2), model=model)
    second = promotion_runs(small, "dirlof", [4, 30], seed_keys(0, 2), model=model)
    assert np.array_equal(np.asarray(first.amplification), np.asarray(second.amplification))
    assert float(np.asarray(first.rate)[:, -1].mean()) > 0  # 30 insertions reach some test sessions
    counts = promotion_runs(small, "dirlof", [4, 30], seed_keys(0, 2))
    assert np.array_equal(np.asarray(first.modified), np.asarray(counts.modified))  # same playlists


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"dim": 0}, "dim: expected an integer >= 1, got 0"),
    ({"steps": 1.5}, "steps: expected an integer >= 1"),
    ({"learning_rate": 0.0}, "learning_rate: expected a number > 0, got 0.0"),
])
def test_embedding_model_rejects_bad_settings(kwargs, match):
    with pytest.raises(ACAInputError, match=match):
        EmbeddingModel(**kwargs)
