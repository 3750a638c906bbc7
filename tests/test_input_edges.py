"""Small API edges (issue 7, item 8): every multi-collective entry point rejects an empty list and
repeated collective names with the same clear message (one shared check,
:func:`aca_games.planting.check_collectives`), while a player's menu may still repeat its own
collective across options."""

from __future__ import annotations

import numpy as np
import pytest

from aca_games import (
    ACAGame,
    ACAInputError,
    Collective,
    Player,
    World,
    alignment,
    bounds,
    decisions,
    externalities,
    plant_all,
    success,
)
from solvers import best_response, pure_nash

WORLD = World(
    points=["a", "b"],
    labels=["n", "y"],
    base=[[0.3, 0.1], [0.2, 0.2]],
    landing={"g": [[0.5, 0.0], [0.2, 0.3]], "h": [[0.0, 0.0], [0.7, 0.3]]},
)
C = Collective("c", 0.1, "g", target="y")
D = Collective("d", 0.05, "h", target="y")

ENTRY_POINTS = {
    "success": lambda cs: success(WORLD, cs),
    "decisions": lambda cs: decisions(WORLD, cs),
    "externalities": lambda cs: externalities(WORLD, cs),
    "alignment": lambda cs: alignment(WORLD, cs),
    "plant_all": lambda cs: plant_all(WORLD, cs),
    "per_point": lambda cs: bounds.per_point(WORLD, cs),
    "multi_closed_form": lambda cs: bounds.multi_closed_form(WORLD, cs),
    "bloc": lambda cs: bounds.bloc(WORLD, cs),
    "conflict_mass": lambda cs: bounds.conflict_mass(WORLD, cs),
    "smooth": lambda cs: bounds.smooth.smooth_success(WORLD, cs, tau=1e-3),
}
DUPLICATE = r"collectives: names must be unique in one call, \['c'\] appears more than once; give each"


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_empty_list_is_an_input_error(entry):
    with pytest.raises(ACAInputError, match=r"collectives: need at least one collective, got an empty list"):
        ENTRY_POINTS[entry]([])


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_the_same_collective_twice_is_an_input_error(entry):
    with pytest.raises(ACAInputError, match=DUPLICATE):
        ENTRY_POINTS[entry]([C, D, C])


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_two_collectives_sharing_a_name_are_an_input_error(entry):
    with pytest.raises(ACAInputError, match=DUPLICATE):
        ENTRY_POINTS[entry]([C, D.replace(name="c")])


def test_several_repeated_names_are_all_named():
    with pytest.raises(ACAInputError, match=r"\['c', 'd'\] appear more than once"):
        success(WORLD, [D, C, D, C])


def test_an_item_that_is_not_a_collective_is_named():
    with pytest.raises(ACAInputError, match=r"collectives\[1\]: expected a Collective, got str"):
        success(WORLD, [C, "d"])


def test_distinct_names_still_work():
    np.testing.assert_array_equal(success(WORLD, [C, D]), success(WORLD, [D, C])[::-1])


def test_a_menu_may_repeat_its_collective_across_options():
    """One player's options are alternatives, never planted together: the same collective (same
    name) in several options of one player is legitimate."""
    menu = [C, C.replace(signal="h"), C.with_size(0.0)]
    game = ACAGame(WORLD, [Player("c", menu), Player("d", [D, D.with_size(0.0)])], bound="exact")
    tensor = game.payoff_tensor()
    assert tensor.shape == (2, 3, 2)
    assert pure_nash(tensor).value  # solvable
    ranking = best_response(game, "c", (0, 0)).value
    assert sorted(r["option"] for r in ranking) == [0, 1, 2]


@pytest.mark.parametrize("sizes", [[0.5, 0.5], [0.7, 0.3], [[0.0, 0.5], [0.5, 0.5]]])
def test_sizes_that_leave_no_bystanders_are_an_input_error(sizes):
    """Σ α_j = 1 exactly is rejected (THEORY §1: the collectives leave room for bystanders)."""
    with pytest.raises(ACAInputError, match=r"sizes: collectives sum to 1.0 >= 1; they are disjoint"):
        success(WORLD, [C, D], sizes=sizes)
    assert np.all(np.isfinite(np.asarray(success(WORLD, [C, D], sizes=[0.5, 0.4999]))))


@pytest.mark.parametrize("sizes", [[-0.1, 0.2], [1.0, 0.0], [0.2, 1.5]])
def test_a_size_outside_zero_one_is_an_input_error(sizes):
    with pytest.raises(ACAInputError, match=r"sizes: every size must lie in \[0, 1\), got \["):
        success(WORLD, [C, D], sizes=sizes)
