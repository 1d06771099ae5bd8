"""Consent changed by hand, automations, launches, imports and webhook endpoints: each change
recorded with who made it (a member on a page, a key through the API), and what is not a
person's manual change (a STOP reply) not recorded."""

from __future__ import annotations

import json
import socket

import pytest

from automations.models import Launch, LaunchState
from automations.services.automations import automation_create
from automations.services.launches import launch_create
from contacts.models import ConsentSource, ContactImport
from contacts.services.consent import consent_opt_in, consent_opt_out
from contacts.services.contacts import contact_create
from tenants.errors import ConflictError
from tenants.outbound.models import WebhookEndpoint
from tests.audit.helpers import api, browser, by_key, by_member, events, one
from tests.automations.helpers import send, template
from tests.connections.helpers import connect
from tests.contacts.import_helpers import upload_file

pytestmark = pytest.mark.django_db

PHONE = "+14155550123"
MANUAL = {"type": "manual"}


def test_manual_opt_outs_and_opt_ins_are_recorded_by_name_never_the_full_number(personas):
    contact = contact_create(
        organization=personas.org, source="ui", phone=PHONE, first_name="Ada", last_name="L"
    )

    browser(personas, "marketer").post(f"/contacts/{contact.public_id}/opt-out/")
    api(personas, "marketer").post(f"/api/v1/contacts/{contact.public_id}/opt-in/")

    out = one(personas.org, "contact.opted_out")
    by_member(out, personas, "marketer")
    assert (out.target_type, out.target_id, out.target_label) == (
        "contact",
        str(contact.public_id),
        "Ada L",
    )
    assert out.changes == {"opted_out": {"before": False, "after": True}}
    back = one(personas.org, "contact.opted_in")
    by_key(back, "marketer")
    assert back.changes == {"opted_out": {"before": True, "after": False}}
    for event in (out, back):
        assert PHONE not in json.dumps(event.changes) + event.target_label


def test_a_contact_without_a_name_is_its_last_four_digits(personas):
    contact = contact_create(organization=personas.org, source="ui", phone=PHONE)

    browser(personas, "marketer").post(f"/contacts/{contact.public_id}/opt-out/")

    assert one(personas.org, "contact.opted_out").target_label == "•••0123"


def test_a_stop_reply_and_a_start_reply_are_not_audited(personas):
    contact_create(organization=personas.org, source="ui", phone=PHONE)

    consent_opt_out(organization=personas.org, phone=PHONE, source=ConsentSource.INBOUND_KEYWORD)
    consent_opt_in(organization=personas.org, phone=PHONE, source=ConsentSource.INBOUND_KEYWORD)
    consent_opt_out(organization=personas.org, phone=PHONE, source=ConsentSource.IMPORT)

    assert events(personas.org) == []


def test_undoing_a_persons_stop_is_refused_and_records_nothing(personas):
    contact = contact_create(organization=personas.org, source="ui", phone=PHONE)
    consent_opt_out(organization=personas.org, phone=PHONE, source=ConsentSource.INBOUND_KEYWORD)

    response = api(personas, "marketer").post(f"/api/v1/contacts/{contact.public_id}/opt-in/")

    assert response.status_code == 409
    assert events(personas.org, "contact.opted_in") == []


def draft(personas):
    return automation_create(
        organization=personas.org,
        name="Welcome",
        definition={"trigger": MANUAL, "steps": [send(template(personas))]},
        complete=True,
        by=personas.marketer,
    )


def test_publishing_activating_and_pausing_are_recorded(personas):
    connect(personas)
    automation = draft(personas)
    page = browser(personas, "marketer")
    base = f"/automations/{automation.public_id}"

    page.post(f"{base}/publish/")
    page.post(f"{base}/activate/")
    api(personas, "admin").post(f"/api/v1{base}/pause/")
    api(personas, "admin").post(f"/api/v1{base}/pause/")  # already paused: a 409

    published = one(personas.org, "automation.published")
    by_member(published, personas, "marketer")
    assert (published.target_type, published.target_id, published.target_label) == (
        "automation",
        str(automation.public_id),
        "Welcome",
    )
    assert published.changes == {"version": {"before": None, "after": 1}}
    activated = one(personas.org, "automation.activated")
    by_member(activated, personas, "marketer")
    assert activated.changes == {"state": {"before": "draft", "after": "active"}}
    paused = one(personas.org, "automation.paused")
    by_key(paused, "admin")
    assert paused.changes == {"state": {"before": "active", "after": "paused"}}


def test_activating_without_a_connection_is_refused_and_records_nothing(personas):
    automation = draft(personas)

    response = browser(personas, "marketer").post(f"/automations/{automation.public_id}/activate/")

    assert response.status_code == 302
    assert events(personas.org, "automation.activated") == []


def test_a_launch_started_through_the_api_and_cancelled_on_the_page(personas):
    connect(personas)
    automation = draft(personas)
    browser(personas, "marketer").post(f"/automations/{automation.public_id}/activate/")
    for n in range(3):
        contact_create(organization=personas.org, source="ui", phone=f"+1415555020{n}")

    response = api(personas, "marketer").post(
        f"/api/v1/automations/{automation.public_id}/launches/",
        {"audience": {"all": True}, "preflight": {"audience": 3}},
        "json",
    )
    assert response.status_code == 201, response.content
    launch = Launch.objects.get()
    browser(personas, "admin").post(
        f"/automations/{automation.public_id}/launches/{launch.public_id}/cancel/"
    )

    started = one(personas.org, "launch.started")
    by_key(started, "marketer")
    assert (started.target_type, started.target_id, started.target_label) == (
        "launch",
        str(launch.public_id),
        "Run now of “Welcome”",
    )
    assert started.changes == {"contacts": {"before": None, "after": 3}}
    cancelled = one(personas.org, "launch.cancelled")
    by_member(cancelled, personas, "admin")
    assert cancelled.changes == {"done": {"before": None, "after": 0}}
    assert Launch.objects.get().state == LaunchState.CANCELLED


def test_a_refused_launch_records_nothing(personas):
    automation = draft(personas)  # not active

    with pytest.raises(ConflictError):
        launch_create(automation=automation, audience={"all": True}, by=personas.marketer)

    assert events(personas.org, "launch.started") == []


def test_an_import_started_through_the_api_and_cancelled_on_the_page(personas):
    csv = b"phone,first_name\r\n+14155550301,Ada\r\n+14155550302,Bob\r\n"

    response = api(personas, "marketer").post(
        "/api/v1/contacts/imports/", {"file": upload_file(csv, "leads.csv")}, format="multipart"
    )
    assert response.status_code == 202, response.content
    contact_import = ContactImport.objects.get()
    browser(personas, "marketer").post(f"/contacts/import/{contact_import.public_id}/cancel/")

    started = one(personas.org, "import.started")
    by_key(started, "marketer")
    assert (started.target_type, started.target_id, started.target_label) == (
        "import",
        str(contact_import.public_id),
        "leads.csv",
    )
    assert started.changes == {"rows": {"before": None, "after": 2}}
    cancelled = one(personas.org, "import.cancelled")
    by_member(cancelled, personas, "marketer")
    assert cancelled.changes == {"rows_done": {"before": None, "after": 0}}


def public_dns(host, port, *args, **kwargs):
    """No test uses DNS: every host is a public address."""
    return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("93.184.215.14", port))]


def test_webhook_endpoints_created_changed_and_deleted_never_show_the_secret(personas, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", public_dns)
    client = api(personas, "admin")
    created = client.post(
        "/api/v1/webhook-endpoints/",
        {"url": "https://hooks.example.com/sms", "event_types": ["contact.created"]},
        "json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    endpoint_id, secret = body["id"], body["secret"]
    page = browser(personas, "admin")

    client.patch(f"/api/v1/webhook-endpoints/{endpoint_id}/", {"enabled": False}, "json")
    page.post(f"/settings/webhooks/{endpoint_id}/rotate-secret/")
    page.post(f"/settings/webhooks/{endpoint_id}/delete/")

    made = one(personas.org, "webhook_endpoint.created")
    by_key(made, "admin")
    assert (made.target_type, made.target_id, made.target_label) == (
        "webhook_endpoint",
        endpoint_id,
        "https://hooks.example.com/sms",
    )
    assert made.changes == {
        "url": {"before": None, "after": "https://hooks.example.com/sms"},
        "event_types": {"before": None, "after": ["contact.created"]},
    }
    disabled, rotated = events(personas.org, "webhook_endpoint.changed")
    by_key(disabled, "admin")
    assert disabled.changes == {"enabled": {"before": True, "after": False}}
    by_member(rotated, personas, "admin")
    assert rotated.changes == {"secret": {"before": "(hidden)", "after": "(replaced)"}}
    deleted = one(personas.org, "webhook_endpoint.deleted")
    by_member(deleted, personas, "admin")
    assert not WebhookEndpoint.objects.exists()
    assert secret not in json.dumps([e.changes for e in events(personas.org)])
