"""Bundled scenarios (``*.toml``) and the generator of the large one (:mod:`.generate_city`)."""
