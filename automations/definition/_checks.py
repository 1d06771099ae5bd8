"""What the definition's checks share: the error collector, and the checks of a tag list and of
custom fields that both the rules and the branch conditions use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from automations.triggers._fields import at, tag_setting
from contacts.services.contacts import custom_fields_clean
from tenants.errors import ApplicationError

Definition = dict[str, Any]


class Errors:
    """Every problem found, by path, so that one error names them all."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.fields.setdefault(path, []).append(message)

    def check(self, check: Callable[[], Any], default: Any = None) -> Any:
        try:
            return check()
        except ApplicationError as error:
            for path, messages in (error.fields or {"definition": [error.message]}).items():
                for message in messages:
                    self.add(path, message)
            return default


def tag_list_clean(value: object, path: str) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        raise ApplicationError.for_field(path, "Give a list of tag names.")
    names: list[str] = []
    for item in value:
        if isinstance(item, str) and not item.strip():
            continue
        name = tag_setting(item, path)
        if name.lower() not in {n.lower() for n in names}:
            names.append(name)
    return names


def custom_fields_at(value: object, path: str) -> dict[str, str]:
    return at(path, lambda: custom_fields_clean(value or {}))  # type: ignore[arg-type]
