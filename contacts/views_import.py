"""CSV import pages: the upload and every import; an uploaded import's columns, options and
preview, then Start; the progress (a fragment the page polls while the import runs), Cancel,
Resume, Discard and the error report.

Marketers and above upload, map, start, cancel, resume and discard; viewers read the list,
the progress and the report. The core (``contacts.imports.services``) checks everything: a
refused file, mapping or option comes back as the form with its message, nothing changed.
"""

from __future__ import annotations

from itertools import islice

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from contacts.export import csv_pieces
from contacts.forms_import import (
    Column,
    Options,
    UploadForm,
    choices,
    columns_from_mapping,
    columns_from_post,
    mapping_of,
    options_from_post,
    options_from_stored,
    options_of,
    samples_of,
)
from contacts.import_words import (
    mapping_words,
    options_words,
    preview_lines,
    progress_context,
    upload_limits,
    who,
)
from contacts.imports.files import FILE_DAYS, import_report, import_rows
from contacts.imports.services import (
    PREVIEW_ROWS,
    import_cancel,
    import_preview,
    import_resume,
    import_start,
    import_upload,
)
from contacts.models import ContactImport, ImportState
from tenants.access import OrganizationView
from tenants.errors import ApplicationError, ConflictError
from tenants.models import Role
from tenants.views.forms import apply_error

PER_PAGE = 25


class ImportView(OrganizationView):
    def get_import(self, import_id: str) -> ContactImport:
        imports = ContactImport.objects.select_related("created_by", "cancelled_by")
        return self.get_scoped_object(imports, import_id)

    def to_page(self, contact_import: ContactImport) -> HttpResponse:
        return redirect("contact_import", contact_import.public_id)


class ImportListView(ImportView):
    """The upload form (marketers and above) and every import of the organization."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.list_page(UploadForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                contact_import = import_upload(
                    organization=self.organization,
                    file=form.cleaned_data["file"],
                    by=self.membership.user,
                )
            except ApplicationError as error:
                apply_error(form, error)
            else:
                messages.success(
                    request,
                    f"{contact_import.file_name}: {contact_import.total:,} "
                    f"row{'s' if contact_import.total != 1 else ''}. Check the columns and "
                    "the preview, then start the import.",
                )
                return self.to_page(contact_import)
        return self.list_page(form, status=400)

    def list_page(self, form: UploadForm, status: int = 200) -> HttpResponse:
        imports = self.scoped(ContactImport).select_related("created_by")
        page = Paginator(imports, PER_PAGE).get_page(self.request.GET.get("page"))
        context = {
            "form": form,
            "page": page,
            "rows": [(i, who(i)) for i in page.object_list],
            "can_write": self.can(Role.MARKETER),
            **upload_limits(),
        }
        return render(self.request, "contacts/import/list.html", context, status=status)


class MappingView(ImportView):
    """The columns and options form of an uploaded import."""

    def mapping_page(
        self,
        contact_import: ContactImport,
        columns: list[Column],
        options: Options,
        *,
        error: ApplicationError | None = None,
        sent: bool = False,
    ) -> HttpResponse:
        """The form with the first rows as these columns and options store them, or what
        prevents it (``error``, or the preview's refusal): a 400 when it answers a sent form."""
        try:
            sample = list(islice(import_rows(contact_import), PREVIEW_ROWS))
        except ApplicationError:
            sample = []
        preview = []
        if error is None:
            try:
                mapping = mapping_of(columns)
                rows = import_preview(
                    contact_import=contact_import, mapping=mapping, options=options_of(options)
                )
            except ApplicationError as refused:
                error = refused
            else:
                preview = preview_lines(rows, options.existing, sample, mapping["columns"])
        cells = [row.cells for row in sample]
        context = {
            "contact_import": contact_import,
            "columns": list(zip(columns, samples_of(cells, len(columns)), strict=True)),
            "options": options,
            "error": error,
            "errors": error.fields if error else {},
            "preview": preview,
            "preview_rows": PREVIEW_ROWS,
            **choices(),
        }
        status = 400 if sent and error else 200
        return render(self.request, "contacts/import/mapping.html", context, status=status)


class ImportDetailView(MappingView):
    """An uploaded import's columns and options (for those who may start it), else its
    progress and result."""

    def get(self, request: HttpRequest, import_id: str) -> HttpResponse:
        contact_import = self.get_import(import_id)
        if contact_import.state == ImportState.UPLOADED and self.can(Role.MARKETER):
            return self.mapping_page(
                contact_import,
                columns_from_mapping(contact_import.header, contact_import.mapping or {}),
                options_from_stored(contact_import.options),
            )
        mapping = contact_import.mapping if isinstance(contact_import.mapping, dict) else {}
        context = {
            **progress_context(contact_import, can_write=self.can(Role.MARKETER)),
            "who": who(contact_import),
            "cancelled_by": contact_import.cancelled_by,
            "columns": mapping_words(contact_import.header, mapping),
            "options": options_words(contact_import.options)
            if contact_import.state != ImportState.UPLOADED
            else [],
            "file_days": FILE_DAYS,
        }
        return render(request, "contacts/import/detail.html", context)


class ImportStartView(MappingView):
    """The mapping form sent: Preview shows it again with the preview for what was sent;
    Start starts the import with it."""

    def post(self, request: HttpRequest, import_id: str) -> HttpResponse:
        contact_import = self.get_import(import_id)
        if contact_import.state != ImportState.UPLOADED:
            messages.info(request, "This import was started already.")
            return self.to_page(contact_import)
        columns = columns_from_post(contact_import.header, request.POST)
        options = options_from_post(request.POST)
        if request.POST.get("action") == "preview":
            return self.mapping_page(contact_import, columns, options, sent=True)
        try:
            started = import_start(
                contact_import=contact_import,
                mapping=mapping_of(columns),
                options=options_of(options),
            )
        except ConflictError as error:
            messages.error(request, error.message)
            return self.to_page(contact_import)
        except ApplicationError as error:
            return self.mapping_page(contact_import, columns, options, error=error, sent=True)
        messages.success(
            request,
            f"Import started: {started.total:,} row{'s' if started.total != 1 else ''} to read. "
            "This page shows how far it has got.",
        )
        return self.to_page(started)


class ImportProgressFragment(ImportView):
    """The progress block alone, which the import's page polls while the import is open
    (the answer without a trigger stops the polling)."""

    def get(self, request: HttpRequest, import_id: str) -> HttpResponse:
        contact_import = self.get_import(import_id)
        context = progress_context(contact_import, can_write=self.can(Role.MARKETER))
        return render(request, "contacts/import/_progress.html", context)


class ImportCancelView(ImportView):
    """Stops the import before its next batch: the rows done stay, and Resume carries on."""

    def post(self, request: HttpRequest, import_id: str) -> HttpResponse:
        contact_import = self.get_import(import_id)
        try:
            cancelled = import_cancel(contact_import=contact_import, by=self.membership.user)
        except ConflictError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                f"Cancelled after {cancelled.cursor:,} of {cancelled.total:,} rows: those stay "
                "imported, and Resume carries on from there.",
            )
        return self.to_page(contact_import)


class ImportResumeView(ImportView):
    def post(self, request: HttpRequest, import_id: str) -> HttpResponse:
        contact_import = self.get_import(import_id)
        try:
            resumed = import_resume(contact_import=contact_import)
        except ConflictError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, f"Resumed from row {resumed.cursor + 1:,} of {resumed.total:,}."
            )
        return self.to_page(contact_import)


class ImportDiscardView(ImportView):
    """An import that was never started, deleted with its file (asked first)."""

    read_role = Role.MARKETER

    def get(self, request: HttpRequest, import_id: str) -> HttpResponse:
        contact_import = self.get_import(import_id)
        if contact_import.state != ImportState.UPLOADED:
            messages.info(request, "Only an import that was never started can be discarded.")
            return self.to_page(contact_import)
        context = {
            "title": f"Discard the import of {contact_import.file_name}?",
            "message": "The uploaded file is deleted and nothing is imported. Upload it again "
            "to import it later.",
            "button": "Discard import",
            "action": request.path,
            "cancel_url": reverse("contact_import", args=[contact_import.public_id]),
        }
        return render(request, "confirm.html", context)

    def post(self, request: HttpRequest, import_id: str) -> HttpResponse:
        contact_import = self.get_import(import_id)
        # Only while it is still waiting for its columns: a Start sent meanwhile wins.
        deleted, _ = ContactImport.objects.filter(
            pk=contact_import.pk, state=ImportState.UPLOADED
        ).delete()
        if not deleted:
            messages.error(request, "This import was started: it can no longer be discarded.")
            return self.to_page(contact_import)
        messages.success(request, f"Discarded the import of {contact_import.file_name}.")
        return redirect("contact_imports")


class ImportErrorsView(ImportView):
    """The error report as CSV: line, reason, then the row's cells as the file has them."""

    def get(self, request: HttpRequest, import_id: str) -> StreamingHttpResponse:
        contact_import = self.get_import(import_id)
        today = timezone.localdate()  # the organization's today: its zone is the current one
        response = StreamingHttpResponse(
            csv_pieces(import_report(contact_import)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="import-errors-{today.isoformat()}.csv"'
        )
        return response
