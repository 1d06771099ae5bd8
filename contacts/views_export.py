"""The contacts CSV download: the contact list's filters, as a streamed file."""

from __future__ import annotations

from django.http import HttpRequest, StreamingHttpResponse

from contacts.export import export_response
from contacts.selectors import contacts_search
from contacts.views import list_filter
from tenants.access import OrganizationView


class ContactExportView(OrganizationView):
    """Every member, viewers included: the contacts the list shows for the same query."""

    def get(self, request: HttpRequest) -> StreamingHttpResponse:
        contacts = contacts_search(self.organization, list_filter(request.GET))
        return export_response(organization=self.organization, contacts=contacts)
