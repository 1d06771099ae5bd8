"""The CSV import pages' forms: the upload, and the columns and options as the mapping form
posts them (``target_<i>``, ``custom_<i>``, ``date_<i>`` per column; the six options), read
back into the core's ``mapping`` and ``options`` or shown again as they were sent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms

from contacts.imports.mapping import FIELDS, SEPARATORS, custom_key
from contacts.models import ExistingContacts
from tenants.errors import ApplicationError
from tenants.forms import country_choices

CUSTOM = "custom"
TARGET_CHOICES = [("", "Ignore"), *FIELDS.items(), (CUSTOM, "Custom field…")]
SAMPLES = 3
SAMPLE_CHARS = 40


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        # Empty files are the import's to refuse, in its own words.
        allow_empty_file=True,
        error_messages={
            "required": "Choose a CSV file to upload.",
            "invalid": "Choose a CSV file to upload.",
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


@dataclass(frozen=True)
class Column:
    """One column of the file as the mapping form shows it."""

    index: int
    header: str
    target: str  # "", a field of FIELDS, or CUSTOM
    key: str  # the custom field's name
    date: bool

    @property
    def label(self) -> str:
        return self.header or f"Column {self.index + 1} (no header)"


def samples_of(rows: Sequence[Sequence[str]], count: int) -> list[list[str]]:
    """Up to ``SAMPLES`` filled values of each column from these rows, shortened."""
    found: list[list[str]] = [[] for _ in range(count)]
    for cells in rows:
        for index, cell in enumerate(cells[:count]):
            value = " ".join(cell.split())
            if value and len(found[index]) < SAMPLES:
                cut = value[: SAMPLE_CHARS - 1] + "…" if len(value) > SAMPLE_CHARS else value
                found[index].append(cut)
    return found


def columns_from_mapping(header: Sequence[str], mapping: Mapping[str, Any]) -> list[Column]:
    """The columns as a stored mapping (the guess, or the last one) has them."""
    targets = list(mapping.get("columns") or [])
    dates = set(mapping.get("date_fields") or [])
    columns = []
    for index, name in enumerate(header):
        target = str(targets[index]) if index < len(targets) else ""
        key = target.removeprefix("custom.") if target.startswith("custom.") else ""
        columns.append(
            Column(
                index=index,
                header=name,
                target=CUSTOM if key else target,
                key=key or custom_key(name),
                date=bool(key) and key in dates,
            )
        )
    return columns


def columns_from_post(header: Sequence[str], data: Mapping[str, Any]) -> list[Column]:
    """The columns as the form sent them, kept as sent (to be shown again)."""
    return [
        Column(
            index=index,
            header=name,
            target=str(data.get(f"target_{index}", "")).strip(),
            key=str(data.get(f"custom_{index}", "")).strip(),
            date=bool(data.get(f"date_{index}")),
        )
        for index, name in enumerate(header)
    ]


def mapping_of(columns: Sequence[Column]) -> dict[str, Any]:
    """The core's mapping for these columns (which ``mapping_clean`` checks further)."""
    targets, dates = [], []
    for column in columns:
        if column.target != CUSTOM:
            targets.append(column.target)
            continue
        if not column.key:
            raise ApplicationError.for_field(
                "mapping", f"“{column.label}” goes to a custom field: give the field a name."
            )
        targets.append(f"custom.{column.key}")
        if column.date:
            dates.append(column.key)
    return {"columns": targets, "date_fields": dates}


@dataclass(frozen=True)
class Options:
    """The options as the form shows them."""

    tags: str
    existing: str
    fire_automations: bool
    consent: bool
    country: str
    tag_separator: str


def options_from_stored(options: Mapping[str, Any]) -> Options:
    return Options(
        tags=", ".join(options.get("tags") or []),
        existing=str(options.get("existing") or ExistingContacts.FILL_EMPTY),
        fire_automations=bool(options.get("fire_automations")),
        consent=bool(options.get("consent")),
        country=str(options.get("country") or ""),
        tag_separator=str(options.get("tag_separator") or ","),
    )


def options_from_post(data: Mapping[str, Any]) -> Options:
    return Options(
        tags=str(data.get("tags", ""))[:1000],
        existing=str(data.get("existing", "")),
        fire_automations=bool(data.get("fire_automations")),
        consent=bool(data.get("consent")),
        country=str(data.get("country", "")),
        tag_separator=str(data.get("tag_separator", ",")),
    )


def options_of(options: Options) -> dict[str, Any]:
    """The core's options (which ``options_clean`` checks): the tags as the comma-separated
    text they were typed as."""
    return {
        "tags": options.tags,
        "existing": options.existing,
        "fire_automations": options.fire_automations,
        "consent": options.consent,
        "country": options.country,
        "tag_separator": options.tag_separator,
    }


def choices() -> dict[str, Any]:
    """The mapping form's fixed choices."""
    return {
        "targets": TARGET_CHOICES,
        "existing_choices": ExistingContacts.choices,
        "separators": list(SEPARATORS.items()),
        "countries": country_choices(),
    }
