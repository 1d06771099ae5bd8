"""The contacts room's outbound webhook events (``tenants.outbound``), recorded in the
transaction of the change, each with the resource as this room's API shows it:

- ``contact.created``: the contact (``ContactSerializer``), once per contact created, an
  import's batch included (one insert for the batch);
- ``contact.opted_out`` / ``contact.opted_in``: the consent event (``ConsentEventSerializer``)
  with the number's contact, or null when no contact has the number;
- ``import.completed``: the CSV import (``ContactImportSerializer``) at its end.

Each asks ``wanted`` first, so that nothing is read or serialized when no endpoint of the
organization subscribes to the type.
"""

from __future__ import annotations

from collections.abc import Sequence

from contacts.models import ConsentEvent, Contact, ContactImport
from contacts.selectors import contacts_with_consent
from contacts.serializers import ConsentEventSerializer, ContactSerializer
from contacts.serializers_import import ContactImportSerializer
from tenants.models import Organization
from tenants.outbound import services as outbound

CHUNK = 500  # contacts serialized at a time


@outbound.in_utc
def contacts_created_record(*, organization: Organization, contact_ids: Sequence[int]) -> None:
    if not contact_ids or not outbound.wanted(organization.pk, "contact.created"):
        return
    for start in range(0, len(contact_ids), CHUNK):
        chunk = list(contact_ids[start : start + CHUNK])
        contacts = contacts_with_consent(organization).filter(pk__any=chunk).order_by("pk")
        outbound.events_record(
            organization_id=organization.pk,
            type="contact.created",
            data=list(ContactSerializer(contacts, many=True).data),  # fields built once
        )


@outbound.in_utc
def consent_changed_record(*, organization: Organization, event: ConsentEvent, type: str) -> None:
    """``type``: ``contact.opted_out`` or ``contact.opted_in``; ``event``: the ledger row."""
    if not outbound.wanted(organization.pk, type):
        return
    contact: Contact | None = (
        contacts_with_consent(organization).filter(phone=event.phone).order_by("pk").first()
    )
    data = {
        **ConsentEventSerializer(event).data,
        "contact": ContactSerializer(contact).data if contact is not None else None,
    }
    outbound.event_record(organization_id=organization.pk, type=type, data=data)


@outbound.in_utc
def import_completed_record(*, contact_import: ContactImport) -> None:
    if outbound.wanted(contact_import.organization_id, "import.completed"):
        outbound.event_record(
            organization_id=contact_import.organization_id,
            type="import.completed",
            data=ContactImportSerializer(contact_import).data,
        )
