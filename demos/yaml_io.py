"""YAML for the project's data files, parsed by libyaml's C loader when PyYAML has it.

Every lesson, table and prompt file is read at start-up; the C loader reads them several times
faster than the pure-Python one, with the same safe subset of YAML.
"""

from __future__ import annotations

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(stream):
    """Like ``yaml.safe_load``: plain data only, never Python objects."""
    return yaml.load(stream, Loader=_LOADER)
