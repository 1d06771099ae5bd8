from __future__ import annotations

from django.db.models import QuerySet

from contacts.models import Contact
from templates_sms.models import SmsTemplate
from tenants.models import Organization


def organization_templates(organization: Organization) -> QuerySet[SmsTemplate]:
    return SmsTemplate.objects.filter(organization=organization).order_by("name")


def preview_contacts(organization: Organization, limit: int = 50) -> QuerySet[Contact]:
    """Contacts to preview a template for: the most recent ones."""
    return Contact.objects.filter(organization=organization).order_by("-created_at")[:limit]
