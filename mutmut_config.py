"""mutmut's hook file (it must sit at the root): the hook lives in tools/mutate.py."""

import sys

sys.path.insert(0, "tools")
from mutate import pre_mutation  # noqa: E402, F401
