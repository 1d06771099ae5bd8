"""Settings → Audit log: the organization's events, filtered, and their CSV download.
Admins and owners only."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from tenants.access import OrganizationView
from tenants.audit.describe import change_lines, event_sentence
from tenants.audit.export import export_response
from tenants.audit.forms import AuditFilterForm
from tenants.audit.selectors import audit_events
from tenants.models import Role

PAGE_SIZE = 50
FILTER_NAMES = ("action", "actor", "target_type", "date_from", "date_to")


class AuditView(OrganizationView):
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def form(self, request: HttpRequest) -> AuditFilterForm:
        form = AuditFilterForm(request.GET, organization=self.organization)
        form.is_valid()
        return form


class AuditLogView(AuditView):
    def get(self, request: HttpRequest) -> HttpResponse:
        form = self.form(request)
        filters = form.filters()
        page = Paginator(audit_events(self.organization, filters), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        keep = {k: v for k, v in request.GET.items() if k in FILTER_NAMES and v}
        context = {
            "section": "audit_log",
            "form": form,
            "filters": filters,
            "page": page,
            "rows": [
                {"event": event, "sentence": event_sentence(event), "changes": change_lines(event)}
                for event in page
            ],
            "query": urlencode(keep),
        }
        return render(request, "audit/log.html", context)


class AuditExportView(AuditView):
    """Every event the log lists for the same filters (an invalid one is left out, as the
    log leaves it out and reports it there)."""

    def get(self, request: HttpRequest) -> StreamingHttpResponse:
        filters = self.form(request).filters()
        events = audit_events(self.organization, filters)
        return export_response(organization=self.organization, events=events)
