"""CSV imports, what people and the API do with them: upload (the file checked whole by
``reading.scan`` before anything is stored, then kept by ``files``), the columns and options,
the preview, start, cancel and resume. The run itself is ``run``; the file and the error
report, ``files``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

import phonenumbers
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from contacts.imports import reading
from contacts.imports.files import FILE_DAYS, file_store, import_rows
from contacts.imports.mapping import SEPARATORS, mapping_clean, mapping_guess, mapping_remember
from contacts.imports.run import OPTED_OUT, OPTED_OUT_REASON, row_clean
from contacts.models import (
    OPEN_IMPORT_STATES,
    ConsentState,
    Contact,
    ContactImport,
    ExistingContacts,
    ImportState,
)
from contacts.services.bulk import contact_row_stored
from contacts.services.rows import ContactRow, Problem
from contacts.services.tags import tag_names_clean
from tenants.audit.models import Action, TargetType
from tenants.audit.services import Target, audit_record
from tenants.errors import ApplicationError, ConflictError
from tenants.models import Organization, User
from tenants.sources import Source

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 20


def _enqueue(contact_import: ContactImport) -> None:
    from contacts.tasks import work_import  # the tasks import this module

    import_id = contact_import.pk
    transaction.on_commit(lambda: work_import.delay(import_id))


# --- Upload --------------------------------------------------------------------------------


@transaction.atomic
def import_upload(
    *,
    organization: Organization,
    file: UploadedFile,
    by: User | None = None,
    source: str = Source.UI,
) -> ContactImport:
    """Checks the file and stores it with its columns guessed (``ApplicationError`` on the
    ``file`` field, and nothing stored, for a file that cannot be imported)."""
    scanned = reading.scan(file, file.size or 0)
    contact_import = ContactImport.objects.create(
        organization=organization,
        created_by=by,
        source=Source(source).value,
        file_name=(file.name or "contacts.csv")[:255],
        file_size=file.size or 0,
        encoding=scanned.encoding,
        delimiter=scanned.delimiter,
        header=scanned.header,
        total=scanned.total,
        options=options_default(organization),
    )
    file_store(contact_import, file)
    sample = [row.cells for row in islice(import_rows(contact_import), PREVIEW_ROWS)]
    contact_import.mapping = mapping_guess(organization, scanned.header, sample)
    contact_import.save(update_fields=["mapping", "updated_at"])
    logger.info(
        "import %s: %s uploaded, %s rows, %s, %s-separated",
        contact_import.public_id,
        contact_import.file_size,
        scanned.total,
        scanned.encoding,
        reading.DELIMITER_NAMES[scanned.delimiter],
    )
    return contact_import


# --- Columns and options -------------------------------------------------------------------


def options_default(organization: Organization) -> dict[str, Any]:
    return {
        "tags": [],
        "existing": ExistingContacts.FILL_EMPTY.value,
        "fire_automations": False,
        "consent": False,
        "country": organization.default_country,
        "tag_separator": ",",
    }


def options_clean(organization: Organization, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """The run's options, checked (``ApplicationError`` naming the option)."""
    options = options_default(organization)
    raw = raw or {}
    unknown = sorted(set(raw) - set(options))
    if unknown:
        raise ApplicationError.for_field(unknown[0], f"“{unknown[0]}” is not an import option.")
    tags = raw.get("tags", [])
    if isinstance(tags, str):
        tags = [t for t in tags.split(",") if t.strip()]
    if not isinstance(tags, list):
        raise ApplicationError.for_field("tags", "Tags are a list of names.")
    options["tags"] = tag_names_clean(str(t) for t in tags)
    existing = raw.get("existing", options["existing"])
    if existing not in ExistingContacts.values:
        raise ApplicationError.for_field(
            "existing", "Existing contacts: choose " + ", ".join(ExistingContacts.values) + "."
        )
    options["existing"] = existing
    for flag in ("fire_automations", "consent"):
        value = raw.get(flag, False)
        if not isinstance(value, bool):
            raise ApplicationError.for_field(flag, f"“{flag}” is true or false.")
        options[flag] = value
    country = str(raw.get("country") or options["country"]).upper()
    if country not in phonenumbers.SUPPORTED_REGIONS:
        raise ApplicationError.for_field(
            "country", f"“{country}” is not a country code such as US, GB or FR."
        )
    options["country"] = country
    separator = raw.get("tag_separator", ",")
    if not isinstance(separator, str) or separator not in SEPARATORS:
        raise ApplicationError.for_field(
            "tag_separator", "Tags are separated by a comma, a semicolon or a vertical bar."
        )
    options["tag_separator"] = separator
    return options


@dataclass(frozen=True)
class PreviewRow:
    line: int
    contact: ContactRow | None  # as it will be stored
    problems: list[Problem]
    exists: bool = False
    opted_out: bool = False


def import_preview(
    *,
    contact_import: ContactImport,
    mapping: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> list[PreviewRow]:
    """The first rows as they will be stored, with each row's problems (the mapping and
    options given, checked, else the import's own)."""
    organization = contact_import.organization
    mapping = mapping_clean(
        contact_import.header, contact_import.mapping if mapping is None else mapping
    )
    options = options_clean(organization, contact_import.options if options is None else options)
    cleaned = [
        (row.line, row_clean(mapping, options, row.cells))
        for row in islice(import_rows(contact_import), PREVIEW_ROWS)
    ]
    phones = [c.phone for _, c in cleaned if isinstance(c, ContactRow)]
    known = {
        c.phone: c for c in Contact.objects.filter(organization=organization, phone__in=phones)
    }
    out = _opted_out(organization, phones)
    preview = []
    for line, found in cleaned:
        if not isinstance(found, ContactRow):
            preview.append(PreviewRow(line, None, found))
            continue
        phone = found.phone
        found.tags = [*options["tags"], *found.tags]
        if phone in known:
            found = contact_row_stored(known[phone], found, options["existing"])
        else:
            found.time_zone = found.zone(organization)
        if phone in out:
            found.tags = []
        problems = [Problem(OPTED_OUT, OPTED_OUT_REASON)] if phone in out else []
        preview.append(PreviewRow(line, found, problems, phone in known, phone in out))
    return preview


def _opted_out(organization: Organization, phones: Iterable[str]) -> set[str]:
    return set(
        ConsentState.objects.filter(
            organization=organization, phone__in=list(phones), opted_out=True
        ).values_list("phone", flat=True)
    )


def import_start(
    *,
    contact_import: ContactImport,
    mapping: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> ContactImport:
    """Starts the run with these columns and options (when not given, the import's own: the
    guess and the defaults), the columns remembered for the organization's next import."""
    organization = contact_import.organization
    mapping = mapping_clean(
        contact_import.header, contact_import.mapping if mapping is None else mapping
    )
    options = options_clean(organization, contact_import.options if options is None else options)
    with transaction.atomic():
        locked = ContactImport.objects.select_for_update().get(pk=contact_import.pk)
        if locked.state != ImportState.UPLOADED:
            raise ConflictError(
                f"This import is {locked.get_state_display().lower()}: it was started already.",
                code="import_started",
            )
        locked.mapping, locked.options, locked.state = mapping, options, ImportState.QUEUED
        locked.save(update_fields=["mapping", "options", "state", "updated_at"])
        mapping_remember(organization, locked.header, mapping["columns"])
        _audit(
            locked, Action.IMPORT_STARTED, None, {"rows": {"before": None, "after": locked.total}}
        )
        _enqueue(locked)
    logger.info("import %s started: %s rows", locked.public_id, locked.total)
    return locked


# --- The run -------------------------------------------------------------------------------


def import_cancel(*, contact_import: ContactImport, by: User | None = None) -> ContactImport:
    """Stops the run before its next batch (the batches done stay, and it can be resumed)."""
    with transaction.atomic():
        locked = ContactImport.objects.select_for_update().get(pk=contact_import.pk)
        if locked.state not in OPEN_IMPORT_STATES:
            raise ConflictError(
                f"This import is {locked.get_state_display().lower()}: there is nothing to cancel.",
                code="import_not_open",
            )
        locked.state, locked.cancelled_by = ImportState.CANCELLED, by
        locked.finished_at = timezone.now()
        locked.save(update_fields=["state", "cancelled_by", "finished_at", "updated_at"])
        changes = {"rows_done": {"before": None, "after": locked.cursor}}
        _audit(locked, Action.IMPORT_CANCELLED, by, changes)
    logger.info("import %s cancelled at row %s", locked.public_id, locked.cursor)
    return locked


def _audit(
    contact_import: ContactImport, action: Action, by: User | None, changes: dict[str, Any]
) -> None:
    audit_record(
        organization=contact_import.organization,
        action=action,
        target=Target.of(TargetType.IMPORT, contact_import, contact_import.file_name),
        changes=changes,
        actor=by,
    )


def import_resume(*, contact_import: ContactImport) -> ContactImport:
    """Carries a cancelled or failed import on from where it stopped."""
    with transaction.atomic():
        locked = ContactImport.objects.select_for_update().get(pk=contact_import.pk)
        if locked.state not in (ImportState.CANCELLED, ImportState.FAILED):
            raise ConflictError(
                f"This import is {locked.get_state_display().lower()}: only a cancelled or "
                "failed import can be resumed.",
                code="import_not_stopped",
            )
        if locked.file_removed_at:
            raise ConflictError(
                f"The file was removed {FILE_DAYS} days after its upload: upload it again.",
                code="file_removed",
            )
        locked.state, locked.error, locked.finished_at = ImportState.QUEUED, "", None
        locked.save(update_fields=["state", "error", "finished_at", "updated_at"])
        _enqueue(locked)
    return locked
