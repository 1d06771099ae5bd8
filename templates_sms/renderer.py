"""Merge fields: ``{{ first_name }}``, ``{{ custom.plan|default:"gold" }}`` and nothing more.

A renderer of our own, not Django's template engine: marketers' text is data, so nothing in it
is evaluated, no attribute is looked up, and no tag exists. ``template_validate`` is strict (an
unknown field or a malformed tag is an error naming it, at save time); ``template_render``
never raises (a missing value becomes the fallback, or nothing).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from tenants.errors import ApplicationError

TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
FIELD = re.compile(
    r'^\s*(?P<name>[a-z_]+(?:\.[a-z0-9_]+)?)\s*(?:\|\s*default\s*:\s*"(?P<fallback>[^"{}]*)"\s*)?$'
)
CONTACT_FIELDS = ("first_name", "last_name", "phone", "email")
CUSTOM_KEY = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
FIELD_NAMES = (*CONTACT_FIELDS, "organization.name", "custom.<key>")


@dataclass(frozen=True)
class MergeField:
    name: str
    fallback: str


def _known(name: str) -> bool:
    if name in CONTACT_FIELDS or name == "organization.name":
        return True
    prefix, _, key = name.partition(".")
    return prefix == "custom" and bool(CUSTOM_KEY.match(key))


def template_fields(body: str) -> list[MergeField]:
    """The merge fields of ``body``, in order; raises ApplicationError naming what is wrong."""
    if "{%" in body or "%}" in body:
        raise ApplicationError.for_field(
            "body", "Template tags such as {% … %} are not supported; use {{ field }} only."
        )
    if "{#" in body:
        raise ApplicationError.for_field("body", "Comments ({# … #}) are not supported.")
    fields: list[MergeField] = []
    for match in TAG.finditer(body):
        inner = match.group(1)
        parsed = FIELD.match(inner)
        if parsed is None:
            raise ApplicationError.for_field(
                "body",
                f"“{match.group(0)}” is not a merge field. Write {{{{ first_name }}}} or "
                f'{{{{ first_name|default:"there" }}}}.',
            )
        name = parsed.group("name")
        if not _known(name):
            known = ", ".join(FIELD_NAMES)
            raise ApplicationError.for_field(
                "body", f"Unknown field “{name}” in {match.group(0)}. Fields: {known}."
            )
        fields.append(MergeField(name=name, fallback=parsed.group("fallback") or ""))
    leftover = TAG.sub("", body)
    if "{{" in leftover or "}}" in leftover:
        raise ApplicationError.for_field(
            "body", "A merge field is not closed: each {{ needs its }}."
        )
    return fields


def template_validate(body: str) -> None:
    template_fields(body)


def template_render(body: str, values: Mapping[str, str]) -> str:
    """Replaces each merge field by its value, or its fallback; never raises."""

    def replace(match: re.Match[str]) -> str:
        parsed = FIELD.match(match.group(1))
        if parsed is None or not _known(parsed.group("name")):
            return ""
        value = values.get(parsed.group("name"), "")
        return value if value.strip() else (parsed.group("fallback") or "")

    return TAG.sub(replace, body)
