"""A launch's audience: ``{"all": true}``, or rules of the entry rules' shape
(``{"has_all_tags": [...], "has_any_tags": [...], "lacks_tags": [...], "custom_fields": {...}}``)
whose errors are named under ``audience``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from automations.definition._checks import Errors
from automations.definition.rules import entry_rules_clean
from tenants.errors import ApplicationError

Audience = dict[str, Any]
EVERYONE: Audience = {"all": True}


def audience_clean(data: object) -> Audience:
    if not isinstance(data, Mapping):
        raise ApplicationError.for_field(
            "audience", 'Give the audience: {"all": true}, or tags and custom fields.'
        )
    if data.get("all") is True:
        return dict(EVERYONE)
    errors = Errors()
    rules = entry_rules_clean(data, errors, at="audience")
    if errors.fields:
        raise ApplicationError("The audience is not valid.", fields=errors.fields)
    if not any(rules.values()):
        raise ApplicationError.for_field(
            "audience", "Choose who: all contacts, or at least one tag or custom field."
        )
    return rules


def audience_words(audience: Mapping[str, Any]) -> str:
    """ "All contacts", or the rules in words: "Contacts with the tag vip, lacking the tag
    churned, whose plan is “pro”"."""
    if audience.get("all"):
        return "All contacts"
    parts = []
    if tags := audience.get("has_all_tags"):
        parts.append(
            ("with the tag " if len(tags) == 1 else "with all of the tags ") + ", ".join(tags)
        )
    if tags := audience.get("has_any_tags"):
        parts.append(
            ("with the tag " if len(tags) == 1 else "with any of the tags ") + ", ".join(tags)
        )
    if tags := audience.get("lacks_tags"):
        parts.append(
            ("lacking the tag " if len(tags) == 1 else "lacking the tags ") + ", ".join(tags)
        )
    for key, value in (audience.get("custom_fields") or {}).items():
        parts.append(f"whose {key} is “{value}”")
    return "Contacts " + ", ".join(parts) if parts else "Nobody"
