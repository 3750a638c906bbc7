"""One module per question of the ``aca-games`` command (registered in :mod:`aca_games.app.cli`).

Each module holds its typer function ``command``, a ``compute(scenario, ...)`` that returns the
JSON-ready document, and a ``render(document)`` that returns rich tables for people. Shared options,
loading with command-line overrides, silencing solvers and the JSON convention are in
:mod:`aca_games.app.commands._common`. Nothing heavy is imported at module level, so
``aca-games --help`` does not import JAX or the solvers.
"""
