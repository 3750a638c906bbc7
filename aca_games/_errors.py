"""Input errors. Every public entry raises :class:`ACAInputError` (a ``ValueError``) on bad input."""


class ACAInputError(ValueError):
    """Bad input to a public function: the message names the argument, the problem and the fix."""
