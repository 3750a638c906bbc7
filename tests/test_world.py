"""Worlds (THEORY §1): consistency of the compact form, reduction from full tables, the literal."""

from __future__ import annotations

import numpy as np
import pytest

from aca_games import ACAInputError, World


def test_issue_example_is_rejected_naming_the_label_and_amounts():
    """Issue 11: the tv oracle answered on this world with a training total of 1.17. Its landing
    table gives label '0' a mass of 0.36, below the 0.55 the base already puts there."""
    with pytest.raises(ACAInputError, match=r"label '0' has total landing mass 0\.36.* less than the "
                                            r"base mass 0\.55.*Fix: "):
        World(points=["a", "b"], labels=["0", "1"], base=[[0.08, 0.45], [0.47, 0.0]],
              landing={"g": [[0.0, 0.07], [0.36, 0.57]]})


def test_signals_with_different_label_marginals_are_rejected():
    with pytest.raises(ACAInputError, match=r"landing\['h'\]: label 'n' has total landing mass 1, "
                                            r"but landing\['g'\] gives it 0\.7.*share one label marginal"):
        World(points=["a", "b"], labels=["n", "y"], base=[[0.3, 0.1], [0.2, 0.2]],
              landing={"g": [[0.5, 0.0], [0.2, 0.3]], "h": [[0.0, 0.0], [1.0, 0.0]]})


def test_consistent_worlds_pass_within_the_sum_tolerance():
    base = [[0.3, 0.1], [0.2, 0.2]]
    w = World(points=["a", "b"], labels=["n", "y"], base=base,
              landing={"g": [[0.5, 0.0], [0.2, 0.3]], "h": [[0.0, 0.0], [0.7, 0.3 + 1e-10]]})
    assert w.signals == ("g", "h")
    with pytest.raises(ACAInputError, match="share one label marginal"):
        World(points=["a", "b"], labels=["n", "y"], base=base,
              landing={"g": [[0.5, 0.0], [0.2, 0.3]], "h": [[0.0, 0.0], [0.7 - 1e-8, 0.3 + 1e-8]]})


def test_from_table_is_always_consistent():
    """A reduction of a full table passes the check by construction (every x lands somewhere)."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        p0 = rng.dirichlet(np.ones(12)).reshape(6, 2)
        w = World.from_table(p0, {"g": rng.integers(0, 6, 6), "h": rng.integers(0, 6, 6)})
        marginals = [np.asarray(t).sum(axis=0) for t in w.landing.values()]
        np.testing.assert_allclose(marginals[0], p0.sum(axis=0), atol=1e-15)
        np.testing.assert_allclose(marginals[1], p0.sum(axis=0), atol=1e-15)
