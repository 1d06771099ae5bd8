"""CSV imports: upload, columns and options, the run in batches, cancel and resume, the report.

The upload is checked whole (``reading.scan``) before anything is stored, then kept in the
database in 1 MB parts, so that a worker on any machine reads it, until ``FILE_DAYS`` later.
The run streams the file and works it ``BATCH`` rows at a time: each batch is one transaction
that writes its contacts (``contacts_upsert_many``), its report rows and the numbers it wrote,
and moves the import's ``cursor`` and counts on, under a lock on the import's row. A batch
happens once or not at all, so a worker killed mid-import (the sweeper starts it again) or a
cancelled import resumed later carries on from its cursor and writes nothing twice.

Each row counts once: created, updated, unchanged or an error. Two rows with one number: the
later wins, the earlier is reported (and moves from its count to the errors). A number that
opted out stays opted out: its row is imported without tags or opt-in, and the report says so.
Automations fire for the changes only when asked, at the end, once per contact (``_fire``):
the events then go out in chunks of one batch, which the automations follow as a launch.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import IO, Any

import phonenumbers
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from contacts import signals
from contacts.imports import reading
from contacts.imports.mapping import SEPARATORS, mapping_clean, mapping_guess, mapping_remember
from contacts.models import (
    OPEN_IMPORT_STATES,
    ConsentState,
    Contact,
    ContactImport,
    ExistingContacts,
    ImportedNumber,
    ImportFilePart,
    ImportIssue,
    ImportState,
    Tag,
)
from contacts.services.bulk import contact_row_stored, contacts_upsert_many
from contacts.services.rows import ContactRow, Problem, contact_row_clean
from contacts.services.tags import tag_names_clean
from tenants.bulk_insert import insert
from tenants.errors import ApplicationError, ConflictError
from tenants.models import Organization, User
from tenants.sources import Source

logger = logging.getLogger(__name__)

BATCH = 1000
PART_BYTES = 1024 * 1024
PREVIEW_ROWS = 20
FILE_DAYS = 7
# A run works for this long, then hands over to a fresh task (never near Celery's limits).
BUDGET_SECONDS = 120.0
# An open import untouched for this long has lost its worker: the sweeper starts it again.
STALE_AFTER = datetime.timedelta(minutes=2)
# The columns each number written, and each report row, gives (the rest: the import's).
NUMBER = ("phone", "row", "line", "contact_id", "outcome", "tag_ids")
ISSUE = ("row", "line", "code", "reason")
OPTED_OUT = "opted_out"
OPTED_OUT_REASON = (
    "This number opted out: it stays opted out, and the import gave it no tags and no opt-in."
)


def _enqueue(contact_import: ContactImport) -> None:
    from contacts.tasks import work_import  # the tasks import this module

    import_id = contact_import.pk
    transaction.on_commit(lambda: work_import.delay(import_id))


# --- Upload --------------------------------------------------------------------------------


def _fetcher(contact_import: ContactImport) -> reading.PartsReader:
    parts = ImportFilePart.objects.filter(contact_import=contact_import)

    def fetch(index: int) -> bytes | None:
        data = parts.filter(index=index).values_list("data", flat=True).first()
        return None if data is None else bytes(data)

    return reading.PartsReader(fetch)


def import_file(contact_import: ContactImport) -> IO[bytes]:
    """The import's file as uploaded, a binary stream read a part at a time."""
    if contact_import.file_removed_at:
        raise ConflictError(
            f"The file was removed {FILE_DAYS} days after its upload.", code="file_removed"
        )
    return _fetcher(contact_import)  # type: ignore[return-value]


def import_rows(contact_import: ContactImport) -> Iterator[reading.Row]:
    _, data = reading.rows(
        import_file(contact_import), contact_import.encoding, contact_import.delimiter
    )
    return data


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
    file.seek(0)
    index = 0
    while piece := file.read(PART_BYTES):
        ImportFilePart.objects.create(contact_import=contact_import, index=index, data=piece)
        index += 1
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


def _clean(
    mapping: Mapping[str, Any], options: Mapping[str, Any], cells: list[str]
) -> ContactRow | list[Problem]:
    """A row's cells by target (a short row's missing cells are empty), checked."""
    columns = mapping["columns"]
    return contact_row_clean(
        {t: cells[i] if i < len(cells) else "" for i, t in enumerate(columns) if t},
        country=options["country"],
        date_fields=mapping["date_fields"],
        tag_separator=options["tag_separator"],
    )


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
        (row.line, _clean(mapping, options, row.cells))
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
        _enqueue(locked)
    logger.info("import %s started: %s rows", locked.public_id, locked.total)
    return locked


# --- The run -------------------------------------------------------------------------------


@dataclass
class _Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0
    opted_out: int = 0

    def add(self, outcome: str, by: int = 1) -> None:
        setattr(self, outcome, getattr(self, outcome) + by)


def _duplicate(later: int) -> Problem:
    return Problem(
        "duplicate",
        f"The same number as line {later}, further down the file: that row was imported instead.",
    )


def _batch(import_id: int, start: int, rows: list[reading.Row]) -> bool:
    """One batch in one transaction; False when the import is no longer open or another
    worker has done this batch (its cursor is past ``start``)."""
    with transaction.atomic():
        contact_import = (
            ContactImport.objects.select_for_update(of=("self",))
            .select_related("organization", "created_by")
            .get(pk=import_id)
        )
        if contact_import.state not in OPEN_IMPORT_STATES or contact_import.cursor != start:
            return False
        organization, options = contact_import.organization, contact_import.options
        tally, issues = _Tally(), []
        winners: dict[str, tuple[reading.Row, ContactRow]] = {}
        for row in rows:
            found = _clean(contact_import.mapping, options, row.cells)
            if isinstance(found, ContactRow):
                if (earlier := winners.pop(found.phone, None)) is not None:
                    issues.append((earlier[0], _duplicate(row.line)))
                    tally.errors += 1
                winners[found.phone] = (row, found)
            else:  # one report row, every reason
                reason = " ".join(problem.reason for problem in found)
                issues.append((row, Problem(found[0].code, reason)))
                tally.errors += 1
        earlier_rows = {
            n.phone: n
            for n in ImportedNumber.objects.filter(
                contact_import=contact_import, phone__in=list(winners)
            )
        }
        for phone, number in earlier_rows.items():
            issues.append(
                (reading.Row(number.row, number.line, []), _duplicate(winners[phone][0].line))
            )
            tally.add(number.outcome, -1)
            tally.errors += 1
        ordered = list(winners.values())
        done = contacts_upsert_many(
            organization=organization,
            rows=[contact for _, contact in ordered],
            source=Source.IMPORT,
            existing=options["existing"],
            tags=options["tags"],
            consent=options["consent"],
            user=contact_import.created_by,
            actor=f"Import of {contact_import.file_name}",
            automations=False,
            later_rows=set(earlier_rows),
        )
        numbers = []
        for (row, contact), outcome, contact_id, out, tag_ids in zip(
            ordered, done.outcomes, done.contact_ids, done.opted_out, done.tags_added, strict=True
        ):
            before = earlier_rows.get(contact.phone)
            if before is not None and before.outcome == "created":
                outcome = "created"  # the contact is new to the organization all the same
            tally.add(outcome)
            if out:
                tally.opted_out += 1
                issues.append((row, Problem(OPTED_OUT, OPTED_OUT_REASON)))
            tags = sorted({*(before.tag_ids if before else []), *tag_ids})
            numbers.append((contact.phone, row.index, row.line, contact_id, outcome, tags))
        ImportedNumber.objects.filter(pk__in=[n.pk for n in earlier_rows.values()]).delete()
        insert(ImportedNumber, ImportedNumber(contact_import=contact_import), NUMBER, numbers)
        report = [(r.index, r.line, p.code, p.reason[:300]) for r, p in issues]
        insert(ImportIssue, ImportIssue(contact_import=contact_import), ISSUE, report)
        _count(contact_import, tally, cursor=start + len(rows))
    return True


def _count(contact_import: ContactImport, tally: _Tally, *, cursor: int) -> None:
    for name in ("created", "updated", "unchanged", "errors", "opted_out"):
        setattr(contact_import, name, getattr(contact_import, name) + getattr(tally, name))
    contact_import.cursor = cursor
    fields = ["created", "updated", "unchanged", "errors", "opted_out", "cursor", "updated_at"]
    if contact_import.state == ImportState.QUEUED:
        contact_import.state, contact_import.started_at = ImportState.RUNNING, timezone.now()
        fields += ["state", "started_at"]
    contact_import.save(update_fields=fields)


def _finish(import_id: int) -> None:
    with transaction.atomic():
        contact_import = ContactImport.objects.select_for_update().get(pk=import_id)
        if contact_import.state not in OPEN_IMPORT_STATES:
            return
        if contact_import.options.get("fire_automations"):
            _fire(contact_import)
        contact_import.state, contact_import.finished_at = ImportState.COMPLETED, timezone.now()
        contact_import.save(update_fields=["state", "finished_at", "updated_at"])
    logger.info(
        "import %s completed: %s created, %s updated, %s unchanged, %s errors",
        contact_import.public_id,
        contact_import.created,
        contact_import.updated,
        contact_import.unchanged,
        contact_import.errors,
    )


def _fire(contact_import: ContactImport) -> None:
    """The import's changes announced for the automations: each contact it created once, each
    tag it added once per contact (chunks of one batch, which automations follow as a launch)."""
    numbers = ImportedNumber.objects.filter(
        contact_import=contact_import, contact__isnull=False
    ).values_list("contact_id", "outcome", "tag_ids")
    created: list[int] = []
    tagged: dict[int, list[int]] = {}
    for contact_id, outcome, tag_ids in numbers.iterator(chunk_size=5000):
        if outcome == "created":
            created.append(contact_id)
        for tag_id in tag_ids:
            tagged.setdefault(tag_id, []).append(contact_id)
    organization_id = contact_import.organization_id
    signals.emit_after_commit(
        signals.contact_created,
        organization_id=organization_id,
        contact_ids=created,
        source=Source.IMPORT,
    )
    for tag in Tag.objects.filter(organization_id=organization_id, pk__in=list(tagged)):
        signals.emit_after_commit(
            signals.tag_added,
            organization_id=organization_id,
            contact_ids=tagged[tag.pk],
            source=Source.IMPORT,
            tag_id=tag.pk,
            tag_name=tag.name,
        )


def import_work(import_id: int, *, budget_seconds: float = BUDGET_SECONDS) -> bool:
    """Works batches from the import's cursor until the file ends, the import is cancelled,
    or the time is up; returns whether more are left (the task then enqueues itself again)."""
    contact_import = ContactImport.objects.get(pk=import_id)
    if contact_import.state not in OPEN_IMPORT_STATES:
        return False
    began = time.monotonic()
    try:
        data = import_rows(contact_import)
        start = contact_import.cursor
        for _ in islice(data, start):  # the rows earlier runs did
            pass
        while batch := list(islice(data, BATCH)):
            if not _batch(import_id, start, batch):
                return False
            start += len(batch)
            if time.monotonic() - began >= budget_seconds:
                return True
    except ApplicationError as error:  # the stored file cannot be read (removed, broken)
        _fail(import_id, error.summary())
        return False
    _finish(import_id)
    return False


def _fail(import_id: int, error: str) -> None:
    ContactImport.objects.filter(pk=import_id, state__in=OPEN_IMPORT_STATES).update(
        state=ImportState.FAILED, error=error[:300], finished_at=timezone.now()
    )
    logger.warning("import %s failed: %s", import_id, error)


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
    logger.info("import %s cancelled at row %s", locked.public_id, locked.cursor)
    return locked


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


def imports_resume(*, now: datetime.datetime | None = None) -> int:
    """The sweeper: open imports that no worker has touched lately are enqueued again."""
    now = now or timezone.now()
    stale = list(
        ContactImport.objects.filter(
            state__in=OPEN_IMPORT_STATES, updated_at__lt=now - STALE_AFTER
        ).values_list("pk", flat=True)[:100]
    )
    from contacts.tasks import work_import

    for import_id in stale:
        # Touched now, so that the next pass does not enqueue it again while it waits.
        ContactImport.objects.filter(pk=import_id).update(updated_at=now)
        work_import.delay(import_id)
    if stale:
        logger.warning("imports: %s resumed after their worker stopped", len(stale))
    return len(stale)


def imports_sweep(*, now: datetime.datetime | None = None) -> int:
    """Removes the files (and the numbers written, which only a run needs) of imports
    uploaded over ``FILE_DAYS`` ago; their counts and report rows stay."""
    now = now or timezone.now()
    old = list(
        ContactImport.objects.filter(
            created_at__lt=now - datetime.timedelta(days=FILE_DAYS), file_removed_at__isnull=True
        ).values_list("pk", flat=True)[:100]
    )
    for import_id in old:
        with transaction.atomic():
            ImportFilePart.objects.filter(contact_import_id=import_id).delete()
            ImportedNumber.objects.filter(contact_import_id=import_id).delete()
            ContactImport.objects.filter(pk=import_id).update(
                file_removed_at=now,
                state=_closed_state(import_id),
            )
    return len(old)


def _closed_state(import_id: int) -> str:
    state = ContactImport.objects.values_list("state", flat=True).get(pk=import_id)
    return ImportState.CANCELLED if state == ImportState.UPLOADED else state


# --- The report ----------------------------------------------------------------------------


def import_report(contact_import: ContactImport) -> Iterator[list[str]]:
    """The error report's rows: ``line``, ``reason``, then the row as the file has it (its
    cells left empty once the file was removed), in the file's order."""
    yield ["line", "reason", *contact_import.header]
    issues = contact_import.issues.order_by("row", "pk").values_list("row", "line", "reason")
    pending = iter(issues.iterator(chunk_size=2000))
    current = next(pending, None)
    if current is None:
        return
    data = iter(()) if contact_import.file_removed_at else import_rows(contact_import)
    for row in data:
        while current is not None and current[0] == row.index:
            yield [str(current[1]), current[2], *row.cells]
            current = next(pending, None)
        if current is None:
            return
    while current is not None:
        yield [str(current[1]), current[2]]
        current = next(pending, None)
