"""``/api/v1/contacts/`` and ``/api/v1/consent/``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.models import QuerySet
from django.http import QueryDict
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from contacts.models import ConsentEvent, ConsentSource, Contact
from contacts.selectors import ContactFilter, contacts_search, contacts_with_consent
from contacts.serializers import (
    ConsentEventSerializer,
    ContactInputSerializer,
    ContactSerializer,
    TagInputSerializer,
)
from contacts.services.consent import consent_opt_in, consent_opt_out
from contacts.services.contacts import contact_create, contact_delete, contact_update
from contacts.services.phones import phone_normalize
from contacts.services.tags import contact_tags_add, contact_tags_remove
from tenants.api_base import OrganizationAPIView
from tenants.api_schema import IDEMPOTENCY_KEY, conflict, once_conflict, query
from tenants.errors import ApplicationError
from tenants.models import Organization

# The list's filters, which the export answers too.
CONTACT_FILTERS = [
    query("q", "Words found in the name, phone or email."),
    query("tag", "A tag's name: only the contacts that have it."),
    query("phone", "A number in any format: the contact with that number."),
    query("opted_out", "true: only those who opted out; false: only the others.", bool),
]
DUPLICATE_PHONE = conflict("duplicate_phone", description="Another contact has the number.")


@contextmanager
def api_field_names() -> Iterator[None]:
    """Errors name the API's fields (``timezone``), not the model's (``time_zone``)."""
    try:
        yield
    except ApplicationError as exc:
        if "time_zone" in exc.fields:
            exc.fields["timezone"] = exc.fields.pop("time_zone")
        raise


def parse_bool(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise ApplicationError.for_field("opted_out", "Use true or false.")


class ContactAPIView(OrganizationAPIView):
    def get_contact(self, contact_id: str) -> Contact:
        return self.get_scoped_object(contacts_with_consent(self.organization), contact_id)

    def contact_response(self, contact: Contact, status_code: int = 200) -> Response:
        fresh = self.get_contact(str(contact.public_id))
        return Response(ContactSerializer(fresh).data, status=status_code)


def api_contacts_search(organization: Organization, params: QueryDict) -> QuerySet[Contact]:
    """The contacts the list's query picks (``q``, ``tag``, ``phone`` in any format,
    ``opted_out`` true/false), newest first; a bad value is a 400 naming the parameter.
    The export answers the same filters."""
    contacts = contacts_search(
        organization,
        ContactFilter(
            q=params.get("q", ""),
            tag=params.get("tag", ""),
            opted_out=parse_bool(params.get("opted_out")),
        ),
    )
    phone = params.get("phone")
    if phone:
        contacts = contacts.filter(phone=phone_normalize(phone, organization.default_country))
    return contacts


class ContactsApi(ContactAPIView):
    @extend_schema(
        summary="The contacts",
        parameters=CONTACT_FILTERS,
        responses=ContactSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        contacts = api_contacts_search(self.organization, request.query_params)
        return self.paginate(contacts, ContactSerializer)

    @extend_schema(
        summary="Create a contact",
        description="`tags` are names; a tag is made when the organization has none so named.",
        parameters=[IDEMPOTENCY_KEY],
        request=ContactInputSerializer,
        responses={
            201: ContactSerializer,
            **once_conflict("duplicate_phone", description="Another contact has the number."),
        },
    )
    def post(self, request: Request) -> Response:
        return self.created_once(request, lambda: self.create(request))

    def create(self, request: Request) -> Response:
        serializer = ContactInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.service_data()
        with api_field_names():
            contact = contact_create(organization=self.organization, source="api", **data)
        return self.contact_response(contact, status.HTTP_201_CREATED)


class ContactApi(ContactAPIView):
    @extend_schema(summary="A contact", responses=ContactSerializer)
    def get(self, request: Request, contact_id: str) -> Response:
        return Response(ContactSerializer(self.get_contact(contact_id)).data)

    @extend_schema(
        summary="Change a contact",
        description="The fields sent change; `tags` replaces the list.",
        request=ContactInputSerializer,
        responses={200: ContactSerializer, **DUPLICATE_PHONE},
    )
    def patch(self, request: Request, contact_id: str) -> Response:
        contact = self.get_contact(contact_id)
        serializer = ContactInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        with api_field_names():
            contact_update(contact=contact, source="api", **serializer.service_data())
        return self.contact_response(contact)

    @extend_schema(
        summary="Replace a contact",
        description="The fields left out are emptied (no tags, no custom fields).",
        request=ContactInputSerializer,
        responses={200: ContactSerializer, **DUPLICATE_PHONE},
    )
    def put(self, request: Request, contact_id: str) -> Response:
        contact = self.get_contact(contact_id)
        serializer = ContactInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {
            "first_name": "",
            "last_name": "",
            "email": "",
            "custom_fields": {},
            "tags": [],
            **serializer.service_data(),
        }
        with api_field_names():
            contact_update(contact=contact, source="api", **data)
        return self.contact_response(contact)

    @extend_schema(summary="Delete a contact", responses={204: None})
    def delete(self, request: Request, contact_id: str) -> Response:
        contact_delete(contact=self.get_contact(contact_id), source="api")
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactTagsApi(ContactAPIView):
    @extend_schema(
        summary="Tag a contact",
        description="201 when the tag is added, 200 when the contact had it already.",
        request=TagInputSerializer,
        responses={200: ContactSerializer, 201: ContactSerializer},
    )
    def post(self, request: Request, contact_id: str) -> Response:
        contact = self.get_contact(contact_id)
        serializer = TagInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        added = contact_tags_add(
            contact=contact, names=[serializer.validated_data["name"]], source="api"
        )
        return self.contact_response(
            contact, status.HTTP_201_CREATED if added else status.HTTP_200_OK
        )


class ContactTagApi(ContactAPIView):
    @extend_schema(
        summary="Untag a contact",
        description="Answers the contact, whether or not it had the tag.",
        responses={200: ContactSerializer},
    )
    def delete(self, request: Request, contact_id: str, name: str) -> Response:
        contact = self.get_contact(contact_id)
        contact_tags_remove(contact=contact, names=[name], source="api")
        return self.contact_response(contact)


class ContactConsentApi(ContactAPIView):
    """A user's manual change through the API; undoing the person's STOP is a 409."""

    opt_in = False

    @extend_schema(
        summary="Opt a contact out, or back in",
        description="A user's manual change, recorded in the consent ledger. Opting back in a "
        "number whose person texted STOP is a 409: only their START undoes it.",
        request=None,
        responses={200: ContactSerializer, **conflict("consent_locked")},
    )
    def post(self, request: Request, contact_id: str) -> Response:
        contact = self.get_contact(contact_id)
        change = consent_opt_in if self.opt_in else consent_opt_out
        with transaction.atomic():
            change(
                organization=self.organization,
                phone=contact.phone,
                source=ConsentSource.USER,
                actor=f"API key {self.api_key.name}",
                event_source="api",
            )
        return self.contact_response(contact)


class ConsentApi(OrganizationAPIView):
    @extend_schema(
        summary="The consent ledger",
        description="Every opt-out, opt-in and HELP, newest first.",
        parameters=[query("phone", "A number in any format: its events only.")],
        responses=ConsentEventSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        events = ConsentEvent.objects.filter(organization=self.organization).select_related(
            "contact"
        )
        phone = request.query_params.get("phone")
        if phone:
            events = events.filter(phone=phone_normalize(phone, self.organization.default_country))
        return self.paginate(events, ConsentEventSerializer)
