"""The API's shape of a CSV import: its file as read, its columns and options, its progress.

``rows_read`` is the import's cursor (data rows done, of ``total``); ``errors_url`` is the
error report's download. Who started or cancelled it is shown by email as a launch shows it
(null: an API key or the system); no internal id is shown.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from contacts.imports.reading import DELIMITER_NAMES
from contacts.models import ContactImport
from tenants.models import User


def import_url(contact_import: ContactImport, name: str = "api_contact_import") -> str:
    """An absolute URL of the import's API (``PUBLIC_BASE_URL``, as the webhooks' URLs)."""
    path = reverse(name, args=[str(contact_import.public_id)])
    return f"{settings.PUBLIC_BASE_URL}{path}"


class ContactImportSerializer(serializers.ModelSerializer[ContactImport]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    delimiter = serializers.SerializerMethodField()
    rows_read = serializers.IntegerField(source="cursor", read_only=True)
    created_by = serializers.SerializerMethodField()
    cancelled_by = serializers.SerializerMethodField()
    errors_url = serializers.SerializerMethodField()

    class Meta:
        model = ContactImport
        fields = (
            "id",
            "state",
            "source",
            "file_name",
            "file_size",
            "encoding",
            "delimiter",
            "header",
            "mapping",
            "options",
            "total",
            "rows_read",
            "created",
            "updated",
            "unchanged",
            "errors",
            "opted_out",
            "error",
            "created_by",
            "cancelled_by",
            "created_at",
            "started_at",
            "finished_at",
            "file_removed_at",
            "errors_url",
        )
        read_only_fields = fields

    def get_delimiter(self, contact_import: ContactImport) -> str:
        return DELIMITER_NAMES.get(contact_import.delimiter, contact_import.delimiter)

    @staticmethod
    def _email(user: User | None) -> str | None:
        return user.email if user is not None else None

    def get_created_by(self, contact_import: ContactImport) -> str | None:
        return self._email(contact_import.created_by)

    def get_cancelled_by(self, contact_import: ContactImport) -> str | None:
        return self._email(contact_import.cancelled_by)

    def get_errors_url(self, contact_import: ContactImport) -> str:
        return import_url(contact_import, "api_contact_import_errors")
