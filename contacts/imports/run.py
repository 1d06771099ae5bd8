"""An import's run: the stored file streamed and worked ``BATCH`` rows at a time.

Each batch is one transaction that writes its contacts (``contacts_upsert_many``), its report
rows and the numbers it wrote, and moves the import's ``cursor`` and counts on, under a lock on
the import's row. A batch happens once or not at all, so a worker killed mid-import (the
sweeper, ``imports_resume``, starts it again), a second worker on the same import (it finds
the cursor moved) or a cancelled import resumed later carries on from its cursor and writes
nothing twice.

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
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.db import transaction
from django.utils import timezone

from contacts import signals
from contacts.imports import reading
from contacts.imports.files import import_rows
from contacts.models import (
    OPEN_IMPORT_STATES,
    ContactImport,
    ImportedNumber,
    ImportIssue,
    ImportState,
    Tag,
)
from contacts.services.bulk import contacts_upsert_many
from contacts.services.outbound import import_completed_record
from contacts.services.rows import ContactRow, Problem, contact_row_clean
from tenants.bulk_insert import insert
from tenants.errors import ApplicationError
from tenants.sources import Source

logger = logging.getLogger(__name__)

BATCH = 1000
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


def row_clean(
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
            found = row_clean(contact_import.mapping, options, row.cells)
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
        import_completed_record(contact_import=contact_import)
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
