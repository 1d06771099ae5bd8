"""What the builder's forms share: each edits one part of an automation's draft, and the
definition's errors (with paths such as ``steps[2].template``) come back to its fields."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django import forms

from tenants.errors import ApplicationError

TAGS_LIST = "organization-tags"  # the id of the page's <datalist> of the organization's tags


def path_words(path: str) -> str:
    """Which part of the automation a definition path names, for an error shown elsewhere."""
    step = re.match(r"^steps\[(\d+)\]", path)
    if step:
        return f"Step {int(step.group(1)) + 1}"
    for prefix, words in (
        ("trigger", "Trigger"),
        ("entry_rules", "Entry rules"),
        ("exit_rules", "Exit rules"),
        ("reentry", "Re-entry"),
        ("steps", "Steps"),
    ):
        if path.startswith(prefix):
            return words
    return ""


def error_lines(error: ApplicationError) -> list[str]:
    """Every problem of a definition error, each said with the part it belongs to."""
    lines: list[str] = []
    for path, texts in error.fields.items():
        where = path_words(path)
        lines.extend(f"{where}: {text}" if where else text for text in texts)
    return lines or [error.message]


class DraftForm(forms.Form):
    """A form for one part of the draft. ``paths`` maps a definition path to a field."""

    paths: Mapping[str, str] = {}

    def field_for(self, path: str) -> str | None:
        return self.paths.get(path)

    def show_error(self, error: ApplicationError) -> None:
        for path, texts in error.fields.items():
            name = self.field_for(path)
            if name is not None and name in self.fields:
                for text in texts:
                    self.add_error(name, text)
            else:
                where = path_words(path)
                for text in texts:
                    self.add_error(None, f"{where}: {text}" if where else text)
        if not error.fields:
            self.add_error(None, error.message)


def hide_optional(form: forms.Form) -> None:
    """No "(optional)" on fields that only look optional: each is needed when its card, mode
    or condition is the chosen one, and the definition says so when it is missing."""
    for form_field in form.fields.values():
        form_field.hide_optional = True  # type: ignore[attr-defined]


class TagsField(forms.CharField):
    """Tag names separated by commas; each one is checked by the definition."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 2000)
        kwargs.setdefault("help_text", "Separate tags with commas.")
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [name.strip() for name in text.split(",") if name.strip()]

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value


def tag_input(**attrs: str) -> forms.TextInput:
    return forms.TextInput(attrs={"list": TAGS_LIST, "autocomplete": "off", **attrs})
