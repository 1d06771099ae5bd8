"""Small checks the trigger modules share."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from contacts.services.tags import tag_name_clean
from tenants.errors import ApplicationError

T = TypeVar("T")


def at(path: str, check: Callable[[], T]) -> T:
    """``check()``, its error (whatever field it named) re-raised on ``path``."""
    try:
        return check()
    except ApplicationError as error:
        raise ApplicationError.for_field(path, error.summary(), code=error.code) from error


def tag_setting(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApplicationError.for_field(path, "Choose a tag.")
    return at(path, lambda: tag_name_clean(value))
