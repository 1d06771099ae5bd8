"""The message log's CSV download: the log's filters, as a streamed file."""

from __future__ import annotations

from django.http import HttpRequest, StreamingHttpResponse

from messaging.export import export_response
from messaging.forms import MessageFilterForm
from messaging.selectors import messages_filtered
from tenants.access import OrganizationView
from tenants.models import Role


class MessageExportView(OrganizationView):
    """Marketers and above: every message the log lists for the same query, on every page.
    Its filters are parsed by the log's own form, so an invalid one is ignored as the log
    ignores it (and reports it there, on the page the link came from)."""

    read_role = Role.MARKETER

    def get(self, request: HttpRequest) -> StreamingHttpResponse:
        form = MessageFilterForm(request.GET, organization=self.organization)
        form.is_valid()
        messages = messages_filtered(self.organization, form.filters())
        return export_response(organization=self.organization, messages=messages)
