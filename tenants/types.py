"""Small types every room uses."""

import enum
from typing import Any


class Unset(enum.Enum):
    """A keyword argument not given to an update service: that field is left as it is
    (``None`` or ``""`` may be real values to store)."""

    UNSET = enum.auto()


UNSET = Unset.UNSET


def given(**values: Any) -> dict[str, Any]:
    """The keyword arguments that were given."""
    return {name: value for name, value in values.items() if value is not UNSET}
