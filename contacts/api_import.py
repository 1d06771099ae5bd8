"""``/api/v1/contacts/imports/``: a CSV file imported as contacts, its progress, its error
report, and cancelling it.

The upload is the API's one form (``multipart/form-data``): ``file``, and optionally
``mapping`` and ``options``, each a JSON string. It is checked, stored and started in one
transaction, so that a file the scan refuses, or columns or options that are not valid,
leave nothing behind (and enqueue nothing); the answer is a 202 with the import, whose
progress is read from ``Location``. A body larger than any importable file is refused from
its ``Content-Length`` before it is read; a refused file answers 400, or 413 when it is too
large (``file_too_large``: over ``MAX_FILE_BYTES`` or ``MAX_ROWS``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from contacts.api_export import CSV_FILE, WhateverAccept
from contacts.export import csv_pieces
from contacts.imports import reading
from contacts.imports.files import import_report
from contacts.imports.services import (
    import_cancel,
    import_start,
    import_upload,
    options_clean,
)
from contacts.models import ContactImport
from contacts.serializers_import import (
    ContactImportSerializer,
    ImportUploadSerializer,
    import_url_of,
)
from tenants.api_base import OrganizationAPIView
from tenants.api_parsers import StrictMultiPartParser, json_field
from tenants.api_schema import IDEMPOTENCY_KEY, conflict, error_response, once_conflict
from tenants.errors import ApplicationError
from tenants.models import Organization, Role
from tenants.sources import Source

FORM_FIELDS = ("file", "mapping", "options")


class FileTooLarge(ApplicationError):
    status = 413
    code = "file_too_large"


def _too_large(error: ApplicationError) -> ApplicationError:
    """The scan's refusal, as a 413 when the file is too large to import."""
    if error.code != FileTooLarge.code:
        return error
    return FileTooLarge(error.message, fields=error.fields)


def _refuse_oversized(request: Request) -> None:
    """A body that cannot hold an importable file (its ``Content-Length`` over the file limit
    and the form fields' own) is refused before it is read, not spooled to disk first."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return  # Django reads such a body as empty
    if length > reading.MAX_FILE_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        raise _too_large(
            reading.refused(
                f"The upload is {length / 1024 / 1024:.1f} MB: an import takes a file of at "
                f"most {reading.MAX_FILE_BYTES // 1024 // 1024} MB. Split it into smaller files.",
                code=FileTooLarge.code,
            )
        )


def _form(request: Request) -> tuple[Any, Any, dict[str, Any] | None]:
    """The upload, the columns and the options (checked) that the form sends."""
    unknown = sorted(set(request.data) - set(FORM_FIELDS))
    if unknown:
        raise ApplicationError.for_field(
            unknown[0],
            f"“{unknown[0]}” is not a field of an import: send "
            + ", ".join(f"“{f}”" for f in FORM_FIELDS)
            + ".",
        )
    files = request.FILES.getlist("file")
    if len(files) != 1:
        raise ApplicationError.for_field(
            "file",
            "Send one CSV file as the form's “file” field (multipart/form-data)."
            if not files
            else "Send one file per import.",
        )
    mapping = json_field(request.data, "mapping")
    if mapping is not None and (not isinstance(mapping, dict) or not mapping):
        raise ApplicationError.for_field(
            "mapping",
            'The mapping is an object with columns: {"columns": {"<header>": "<target>"}} '
            "or one target per column; leave it out to use the guess.",
        )
    options = json_field(request.data, "options")
    if options is not None and not isinstance(options, dict):
        raise ApplicationError.for_field("options", "The options are an object.")
    return files[0], mapping, options


def _options(organization: Organization, raw: dict[str, Any] | None) -> dict[str, Any]:
    """The options checked, an error naming ``options.<option>``."""
    try:
        return options_clean(organization, raw)
    except ApplicationError as error:
        error.fields = {f"options.{name}": texts for name, texts in error.fields.items()}
        raise


class ImportLookup(OrganizationAPIView):
    read_role = Role.VIEWER
    write_role = Role.MARKETER

    def imports(self) -> QuerySet[ContactImport]:
        return self.scoped(ContactImport).select_related("created_by", "cancelled_by")

    def get_import(self, import_id: str) -> ContactImport:
        """The key's organization's import: another's, or a malformed id, is a 404."""
        return self.get_scoped_object(self.imports(), import_id)


class ContactImportsApi(ImportLookup):
    """The organization's imports, newest first (viewers); a POST uploads a file and starts
    its import (marketers and up)."""

    parser_classes = [StrictMultiPartParser]

    @extend_schema(summary="The imports", responses=ContactImportSerializer(many=True))
    def get(self, request: Request) -> Response:
        return self.paginate(self.imports(), ContactImportSerializer)

    @extend_schema(
        summary="Import a CSV file",
        description="The file is checked, stored and started in one transaction: a file "
        "refused, or a mapping or options not valid, leave nothing behind. The answer is the "
        "import; `Location` tells its progress (`state`, `rows_read` of `total`).",
        request={"multipart/form-data": ImportUploadSerializer},
        parameters=[
            OpenApiParameter(
                "Location",
                OpenApiTypes.URI,
                OpenApiParameter.HEADER,
                response=[202],
                description="The import's URL.",
            ),
            IDEMPOTENCY_KEY,
        ],
        responses={
            202: ContactImportSerializer,
            **once_conflict(),
            400: error_response(
                400,
                "The file is refused (`invalid_file`), or a field is not valid (naming "
                "`mapping` or `options.<option>`).",
                code="invalid_file",
                message="The file is not a CSV file.",
            ),
            413: error_response(
                413,
                "The file is too large to import (`file_too_large`), or the other fields are "
                "(`request_too_large`).",
                code="file_too_large",
                message="The file has more than 1,000,000 rows. Split it into smaller files.",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        answer = self.created_once(request, lambda: self.create(request))
        answer["Location"] = import_url_of(answer.data["id"])  # a retry's answer has it too
        return answer

    def create(self, request: Request) -> Response:
        if not request.content_type.startswith(StrictMultiPartParser.media_type):
            raise exceptions.UnsupportedMediaType(
                request.content_type,
                detail="Send the CSV file in a multipart/form-data form, as its “file” field.",
            )
        _refuse_oversized(request)
        file, mapping, raw_options = _form(request)
        options = _options(self.organization, raw_options)
        with transaction.atomic():  # a refusal after the upload takes it back
            try:
                # An API key is no person: the import has no created_by.
                contact_import = import_upload(
                    organization=self.organization, file=file, by=None, source=Source.API
                )
            except ApplicationError as error:
                raise _too_large(error) from None
            import_start(contact_import=contact_import, mapping=mapping, options=options)
        fresh = self.get_import(str(contact_import.public_id))
        return Response(ContactImportSerializer(fresh).data, status=status.HTTP_202_ACCEPTED)


class ContactImportApi(ImportLookup):
    """An import's progress and counts."""

    @extend_schema(summary="An import", responses=ContactImportSerializer)
    def get(self, request: Request, import_id: str) -> Response:
        return Response(ContactImportSerializer(self.get_import(import_id)).data)


class ContactImportErrorsApi(ImportLookup):
    """The error report (``line``, ``reason``, the row's cells) as CSV, streamed, every cell
    spreadsheet-safe as the contacts export writes it; viewers included."""

    content_negotiation_class = WhateverAccept

    @extend_schema(
        summary="An import's error report as CSV",
        operation_id="contacts_imports_errors",
        description="`line`, `reason`, then the row's cells (left out once the file is "
        "removed, 7 days after its upload).",
        responses={(200, "text/csv"): CSV_FILE},
    )
    def get(self, request: Request, import_id: str) -> StreamingHttpResponse:
        contact_import = self.get_import(import_id)
        response = StreamingHttpResponse(
            csv_pieces(import_report(contact_import)), content_type="text/csv; charset=utf-8"
        )
        name = f"import-{contact_import.public_id}-errors.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class ContactImportCancelApi(ImportLookup):
    """Stops the import before its next batch (the batches done stay); 409 when it is not
    queued or running."""

    @extend_schema(
        summary="Cancel an import",
        request=None,
        responses={200: ContactImportSerializer, **conflict("import_not_open")},
    )
    def post(self, request: Request, import_id: str) -> Response:
        contact_import = import_cancel(contact_import=self.get_import(import_id))
        return Response(
            ContactImportSerializer(self.get_import(str(contact_import.public_id))).data
        )
