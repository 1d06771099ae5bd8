"""An import's file: stored as uploaded in 1 MB parts of the database (so that a worker on
any machine reads it), read back as a stream, removed ``FILE_DAYS`` after the upload; and the
error report, which reads the refused rows back from it."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import IO

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from contacts.imports import reading
from contacts.models import ContactImport, ImportedNumber, ImportFilePart, ImportState
from tenants.errors import ConflictError

PART_BYTES = 1024 * 1024
FILE_DAYS = 7


def file_store(contact_import: ContactImport, file: UploadedFile) -> None:
    """The upload's bytes as they are, a part at a time (in the caller's transaction)."""
    file.seek(0)
    index = 0
    while piece := file.read(PART_BYTES):
        ImportFilePart.objects.create(contact_import=contact_import, index=index, data=piece)
        index += 1


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
