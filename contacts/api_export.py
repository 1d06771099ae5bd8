"""``/api/v1/contacts/export.csv``: the contacts list API's filters, as a streamed CSV file."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from contacts.api import CONTACT_FILTERS, api_contacts_search
from contacts.export import export_response
from tenants.api_base import OrganizationAPIView

CSV_FILE = OpenApiResponse(OpenApiTypes.STR, description="A CSV file (UTF-8), as an attachment.")


class WhateverAccept(DefaultContentNegotiation):
    """The download is CSV whatever ``Accept`` says (``text/csv`` included, which the
    default negotiation would refuse with a 406, as only JSON renders the API's answers);
    an error is the API's JSON."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class ContactExportApi(OrganizationAPIView):
    """Viewers included; the key's organization's contacts only."""

    content_negotiation_class = WhateverAccept

    @extend_schema(
        summary="Export the contacts as CSV",
        operation_id="contacts_export",
        description="The contacts the list's filters pick, as a streamed CSV file with the "
        "export's columns (a cell a spreadsheet would run as a formula starts with `'`).",
        parameters=CONTACT_FILTERS,
        responses={(200, "text/csv"): CSV_FILE},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        contacts = api_contacts_search(self.organization, request.query_params)
        return export_response(organization=self.organization, contacts=contacts)
