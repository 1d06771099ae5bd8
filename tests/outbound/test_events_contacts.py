"""contact.created, contact.opted_out, contact.opted_in and import.completed: recorded by
the change that makes them, with the resource exactly as the API answers it; none when the
change rolls back, none when no endpoint subscribes."""

from __future__ import annotations

import pytest
from django.db import transaction

from contacts.models import ConsentSource
from contacts.services.bulk import contacts_upsert_many
from contacts.services.consent import consent_opt_in, consent_opt_out
from contacts.services.contacts import contact_create
from contacts.services.rows import ContactRow
from tenants.outbound.models import WebhookDelivery, WebhookEvent
from tests.contacts.import_helpers import imported
from tests.outbound.conftest import make_endpoint

pytestmark = pytest.mark.django_db

PHONE = "+14155550101"


def events(type: str) -> list[dict]:
    return [e.payload for e in WebhookEvent.objects.filter(type=type).order_by("pk")]


def test_contact_created_carries_the_contact_as_the_api_shows_it(personas):
    make_endpoint(personas.org, event_types=["contact.created"])
    contact = contact_create(
        organization=personas.org, source="ui", phone=PHONE, first_name="Ada", tags=["vip"]
    )
    (payload,) = events("contact.created")
    assert payload["type"] == "contact.created"
    assert payload["id"].startswith("evt_")
    api = personas.api("viewer").get(f"/api/v1/contacts/{contact.public_id}/").json()
    assert payload["data"] == api
    assert payload["data"]["tags"] == ["vip"]
    assert WebhookDelivery.objects.filter(event__type="contact.created").count() == 1


def test_nothing_is_recorded_without_a_subscribed_endpoint(personas):
    make_endpoint(personas.org, event_types=["message.received"])
    make_endpoint(personas.other_org, event_types=["contact.created"])
    contact_create(organization=personas.org, source="ui", phone=PHONE)
    consent_opt_out(organization=personas.org, phone=PHONE, source=ConsentSource.USER)
    assert not WebhookEvent.objects.exists()


def test_a_change_rolled_back_records_nothing(personas):
    make_endpoint(personas.org, event_types=["contact.created", "contact.opted_out"])

    def change() -> None:
        with transaction.atomic():
            contact_create(organization=personas.org, source="ui", phone=PHONE)
            consent_opt_out(organization=personas.org, phone=PHONE, source=ConsentSource.USER)
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        change()
    assert not WebhookEvent.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_a_batch_records_one_event_per_contact_created(personas):
    make_endpoint(personas.org, event_types=["contact.created"])
    contact_create(organization=personas.org, source="ui", phone="+14155550100")
    WebhookEvent.objects.all().delete()
    rows = [ContactRow(phone=f"+1415555{n:04d}", first_name=f"P{n}") for n in range(100, 103)]
    result = contacts_upsert_many(organization=personas.org, rows=rows, source="import")
    assert result.outcomes == ["updated", "created", "created"]
    created = events("contact.created")
    assert [p["data"]["phone"] for p in created] == ["+14155550101", "+14155550102"]
    assert created[0]["data"]["first_name"] == "P101"
    assert set(created[0]["data"]) == {
        "id",
        "phone",
        "first_name",
        "last_name",
        "email",
        "timezone",
        "custom_fields",
        "tags",
        "opted_out",
        "opted_out_at",
        "created_at",
        "updated_at",
    }


def test_opt_out_and_opt_in_carry_the_consent_event_and_the_contact(personas):
    make_endpoint(personas.org, event_types=["contact.opted_out", "contact.opted_in"])
    contact = contact_create(organization=personas.org, source="ui", phone=PHONE)
    consent_opt_out(
        organization=personas.org, phone=PHONE, source=ConsentSource.USER, user=personas.admin
    )
    # Already out: nothing changed, nothing recorded.
    consent_opt_out(organization=personas.org, phone=PHONE, source=ConsentSource.USER)
    consent_opt_in(organization=personas.org, phone=PHONE, source=ConsentSource.USER)
    (out,) = events("contact.opted_out")
    (back,) = events("contact.opted_in")
    history = personas.api("viewer").get("/api/v1/consent/", {"phone": PHONE}).json()
    ledger = {entry["id"]: entry for entry in history["results"]}
    data = dict(out["data"])
    contact_data = data.pop("contact")
    assert data["kind"] == "opt_out"
    assert data["phone"] == PHONE
    assert data["contact_id"] == str(contact.public_id)
    assert data == ledger[data["id"]]
    assert contact_data["id"] == str(contact.public_id)
    assert contact_data["opted_out"] is True
    assert "Twilio-Message-stop" in contact_data["tags"]
    assert back["data"]["kind"] == "opt_in"
    assert back["data"]["contact"]["opted_out"] is False


def test_an_opt_out_of_a_number_without_a_contact_has_a_null_contact(personas):
    make_endpoint(personas.org, event_types=["contact.opted_out"])
    consent_opt_out(organization=personas.org, phone=PHONE, source=ConsentSource.USER)
    (out,) = events("contact.opted_out")
    assert out["data"]["contact"] is None
    assert out["data"]["contact_id"] is None


def test_an_import_records_its_contacts_and_its_completion(personas):
    make_endpoint(personas.org, event_types=["contact.created", "import.completed"])
    contact_import = imported(
        personas.org, [["phone", "first_name"], ["+14155550111", "Ann"], ["+14155550112", "Bo"]]
    )
    assert contact_import.state == "completed"
    assert len(events("contact.created")) == 2
    (done,) = events("import.completed")
    api = personas.api("viewer").get(f"/api/v1/contacts/imports/{contact_import.public_id}/")
    assert done["data"] == api.json()
    assert done["data"]["state"] == "completed"
    assert done["data"]["created"] == 2
