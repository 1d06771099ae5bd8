"""How an import reads on its pages: who started it, its columns and options in words, and
each preview row as it will be stored with what will happen to it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contacts.imports import reading
from contacts.imports.mapping import FIELDS, SEPARATORS
from contacts.imports.run import OPTED_OUT
from contacts.imports.services import PreviewRow
from contacts.models import ContactImport, ExistingContacts, ImportState
from tenants.forms import country_choices
from tenants.sources import Source

EXISTING_NOTES = {
    ExistingContacts.FILL_EMPTY: "Already a contact: will be updated, its empty fields filled.",
    ExistingContacts.OVERWRITE: "Already a contact: will be updated with the file's values.",
    ExistingContacts.SKIP: "Already a contact: will be skipped, left as it is.",
}
OPTED_OUT_NOTE = "Opted out: stays opted out (no tags, no opt-in)."


def words_or(words: Sequence[str]) -> str:
    """ "comma, semicolon or tab"."""
    return " or ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else "".join(words)


def upload_limits() -> dict[str, Any]:
    """What the upload form says a file may be."""
    return {
        "max_mb": reading.MAX_FILE_BYTES // 1024 // 1024,
        "max_rows": reading.MAX_ROWS,
        "delimiters": words_or(list(reading.DELIMITER_NAMES.values())),
    }


def who(contact_import: ContactImport) -> str:
    if contact_import.created_by is not None:
        return contact_import.created_by.get_full_name()
    return "The API" if contact_import.source == Source.API else "—"


def target_words(target: str) -> str:
    if target.startswith("custom."):
        return f"custom field {target.removeprefix('custom.')}"
    return FIELDS.get(target, target)


def mapping_words(header: Sequence[str], mapping: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(column, where it goes) for each column of the file."""
    targets = list(mapping.get("columns") or [])
    dates = set(mapping.get("date_fields") or [])
    found = []
    for index, name in enumerate(header):
        target = str(targets[index]) if index < len(targets) else ""
        words = target_words(target) if target else "ignored"
        if target.removeprefix("custom.") in dates and target.startswith("custom."):
            words += ", read as a date"
        found.append((name or f"Column {index + 1}", words))
    return found


def country_words(code: str) -> str:
    return dict(country_choices()).get(code, code)


def options_words(options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(option, what it said) for an import's options."""
    tags = options.get("tags") or []
    existing = options.get("existing") or ExistingContacts.FILL_EMPTY
    return [
        ("Tags added to every contact", ", ".join(tags) if tags else "none"),
        (
            "Tags column separated by",
            f"a {SEPARATORS.get(options.get('tag_separator') or ',', 'comma')}",
        ),
        (
            "Numbers without +country code",
            f"read as {country_words(str(options.get('country') or ''))} numbers",
        ),
        ("Existing contacts", ExistingContacts(existing).label),
        (
            "Automations",
            "fired for the changes once the import ends"
            if options.get("fire_automations")
            else "not fired",
        ),
        (
            "Consent",
            "recorded as an import opt-in in the consent ledger"
            if options.get("consent")
            else "not recorded",
        ),
    ]


def progress_context(contact_import: ContactImport, *, can_write: bool) -> dict[str, Any]:
    """The progress block's figures: polled while the import is open."""
    total = contact_import.total
    return {
        "contact_import": contact_import,
        "percent": contact_import.cursor * 100 // total if total else 0,
        "polling": contact_import.is_open,
        "can_write": can_write,
        "report_rows": contact_import.issues.count(),
        "resumable": contact_import.state in (ImportState.CANCELLED, ImportState.FAILED),
    }


@dataclass(frozen=True)
class PreviewLine:
    """A preview row as the table shows it."""

    line: int
    phone: str  # E.164, or as the file has it when the row will not be imported
    name: str
    email: str
    time_zone: str
    tags: list[str]
    custom_fields: list[tuple[str, str]]
    notes: list[str]
    refused: bool  # the row will not be imported


def preview_lines(
    rows: Sequence[PreviewRow], existing: str, read: Sequence[reading.Row], targets: Sequence[str]
) -> list[PreviewLine]:
    """The preview's rows; one that will not be imported shows its number as the file has
    it (``read``: the same first rows of the file; ``targets``: the mapping's columns)."""
    phone_at = list(targets).index("phone") if "phone" in targets else None
    cells = {row.line: row.cells for row in read}
    lines = []
    for row in rows:
        contact = row.contact
        if contact is None:
            found = cells.get(row.line, [])
            raw = found[phone_at] if phone_at is not None and phone_at < len(found) else ""
            problems = [p.reason for p in row.problems]
            lines.append(PreviewLine(row.line, raw, "", "", "", [], [], problems, True))
            continue
        notes = [p.reason for p in row.problems if p.code != OPTED_OUT]
        if row.exists:
            notes.append(EXISTING_NOTES[ExistingContacts(existing)])
        if row.opted_out:
            notes.append(OPTED_OUT_NOTE)
        name = " ".join(part for part in (contact.first_name, contact.last_name) if part)
        lines.append(
            PreviewLine(
                line=row.line,
                phone=contact.phone,
                name=name,
                email=contact.email,
                time_zone=contact.time_zone,
                tags=list(contact.tags),
                custom_fields=sorted(contact.custom_fields.items()),
                notes=notes,
                refused=False,
            )
        )
    return lines
