"""The API's shape of a CSV import: its file as read, its columns and options, its progress.

``rows_read`` is the import's cursor (data rows done, of ``total``); ``errors_url`` is the
error report's download. Who started or cancelled it is shown by email as a launch shows it
(null: an API key or the system); no internal id is shown.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from contacts.imports.reading import DELIMITER_NAMES
from contacts.models import ContactImport
from tenants.api_schema import EXAMPLE_IDS, EXAMPLE_TIME, example
from tenants.models import User

IMPORT_EXAMPLE = {
    "id": EXAMPLE_IDS["import"],
    "state": "running",
    "source": "api",
    "file_name": "contacts.csv",
    "file_size": 48213,
    "encoding": "utf-8",
    "delimiter": "comma",
    "header": ["Mobile", "Given name", "City"],
    "mapping": ["phone", "first_name", "custom.city"],
    "options": {"tags": ["fair-2026"], "existing": "fill_empty", "consent": False},
    "total": 1200,
    "rows_read": 1000,
    "created": 950,
    "updated": 30,
    "unchanged": 12,
    "errors": 8,
    "opted_out": 0,
    "error": "",
    "created_by": None,
    "cancelled_by": None,
    "created_at": EXAMPLE_TIME,
    "started_at": EXAMPLE_TIME,
    "finished_at": None,
    "file_removed_at": None,
    "errors_url": f"https://hub.example.com/api/v1/contacts/imports/{EXAMPLE_IDS['import']}"
    "/errors.csv",
}


def import_url(contact_import: ContactImport, name: str = "api_contact_import") -> str:
    """An absolute URL of the import's API (``PUBLIC_BASE_URL``, as the webhooks' URLs)."""
    return import_url_of(str(contact_import.public_id), name)


def import_url_of(import_id: str, name: str = "api_contact_import") -> str:
    return f"{settings.PUBLIC_BASE_URL}{reverse(name, args=[import_id])}"


@extend_schema_serializer(examples=[example(IMPORT_EXAMPLE, status_codes=[200, 202])])
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


class ImportUploadSerializer(serializers.Serializer[None]):
    """The upload's form (``multipart/form-data``), as ``contacts.api_import`` reads it."""

    file = serializers.FileField(help_text="The CSV file: at most 50 MB and 1,000,000 rows.")
    mapping = serializers.CharField(
        required=False,
        help_text='JSON: {"columns": {"<header>": "<target>"}} or {"columns": ["<target>", …]}, '
        'with "date_fields": ["<custom key>"]; a target is phone, first_name, last_name, '
        'email, time_zone, tags, custom.<key> or "". Left out: the columns are guessed.',
    )
    options = serializers.CharField(
        required=False,
        help_text="JSON: tags, existing (fill_empty, overwrite or skip), consent, "
        "fire_automations, country, tag_separator.",
    )
