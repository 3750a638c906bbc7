"""The application layer: the ``aca-games`` command, scenario files and reports for people.

The only code of :mod:`aca_games` that imports :mod:`solvers` (model <- algorithms <-
application): :mod:`~aca_games.app.cli` (the command), :mod:`~aca_games.app.scenario` (TOML files
to validated objects), :mod:`~aca_games.app.report` (single-collective and together tables, JSON)
and :mod:`~aca_games.app.game_report` (the scenario's default game: equilibria, best responses,
minimum coalition). Nothing is imported here, so loading a scenario does not load the solvers.
"""
