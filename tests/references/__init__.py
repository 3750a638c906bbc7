"""Independent references: plain numpy/scipy from the definitions in THEORY.md, sharing no code
with ``aca_games`` (they read a world's arrays and a collective's fields, nothing else)."""
