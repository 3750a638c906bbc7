"""Independent references for the tests, written from the definitions in THEORY.md in plain
numpy / scipy / itertools. They share no code with ``aca_games`` or ``solvers``: a bug in the
library cannot pass both sides."""
