"""Algorithms acting on games: equilibria, best responses, coalitions. Imports aca_games, never the
reverse."""

from solvers._solution import STATUSES, Solution

__all__ = ["STATUSES", "Solution"]
