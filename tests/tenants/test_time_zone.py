"""Pages show times in the organization's time zone and name it; the API and the webhooks stay
in UTC; no zone outlives its request; the contact's own zone still rules quiet hours."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import responses
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from automations.models import Automation, AutomationVersion
from automations.services.automations import automation_create, automation_publish
from contacts.models import Contact
from contacts.services.contacts import contact_create
from messaging.models import Message, Status
from messaging.services import rules
from templates_sms.services import template_create
from tenants.access import OrganizationMiddleware
from tenants.models import ApiKey, Invitation, Membership, Organization, Role
from tenants.outbound.models import WebhookEndpoint, WebhookEvent
from tenants.outbound.services.events import subscriptions_forget_all
from tenants.services.api_keys import api_key_create
from tests.connections.helpers import connect
from tests.e2e.test_accessibility import PAGES as NAVIGATION_PAGES
from tests.factories import Personas, make_member, page_text, settings_data
from tests.messaging.helpers import Clock
from tests.urls_walk import routes, world_ids

pytestmark = pytest.mark.django_db

NEW_YORK, KOLKATA, TOKYO = "America/New_York", "Asia/Kolkata", "Asia/Tokyo"
PHONE = "+14155550123"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=datetime.UTC)


def zone_named(zone: str) -> str:
    """What every page's footer says: the zone and its abbreviation now."""
    abbreviation = datetime.datetime.now(ZoneInfo(zone)).strftime("%Z")
    return (
        f"Times are in {zone} ({abbreviation})."
        if abbreviation != zone
        else f"Times are in {zone}."
    )


def set_zone(organization: Organization, zone: str) -> None:
    organization.time_zone = zone
    organization.save(update_fields=["time_zone"])


def message_at(organization: Organization, at: datetime.datetime, body: str = "Hello") -> Message:
    message = Message.objects.create(
        organization=organization, body=body, to=PHONE, status=Status.DELIVERED
    )
    Message.objects.filter(pk=message.pk).update(created_at=at)
    return message


def contact_at(organization: Organization, at: datetime.datetime, zone: str = "UTC") -> Contact:
    contact = contact_create(
        organization=organization, source="test", phone=PHONE, first_name="Ada", time_zone=zone
    )
    Contact.objects.filter(pk=contact.pk).update(created_at=at)
    return contact


# Known UTC instants around New York's daylight-saving changes of 2026 (March 8, 07:00 UTC;
# November 1, 06:00 UTC) and in Kolkata (UTC+05:30 all year).
INSTANTS = [
    (NEW_YORK, utc(2026, 3, 8, 6, 30), "Mar 8, 2026 01:30", "EST"),
    (NEW_YORK, utc(2026, 3, 8, 7, 30), "Mar 8, 2026 03:30", "EDT"),
    (NEW_YORK, utc(2026, 11, 1, 5, 30), "Nov 1, 2026 01:30", "EDT"),
    (NEW_YORK, utc(2026, 11, 1, 6, 30), "Nov 1, 2026 01:30", "EST"),
    (KOLKATA, utc(2026, 3, 8, 6, 30), "Mar 8, 2026 12:00", "IST"),
    (KOLKATA, utc(2026, 3, 7, 18, 45), "Mar 8, 2026 00:15", "IST"),
]


# --- Pages show the organization's local time, and name the zone --------------------------------


def message_page(organization: Organization, at: datetime.datetime, marketer: Any) -> str:
    return f"/messages/{message_at(organization, at).public_id}/"


def contact_page(organization: Organization, at: datetime.datetime, marketer: Any) -> str:
    return f"/contacts/{contact_at(organization, at).public_id}/"


def welcome_automation(
    organization: Organization, marketer: Any, steps: list[dict[str, Any]] | None = None
) -> Automation:
    """A manual automation texting the "Welcome" template (after ``steps``, when given)."""
    template = template_create(organization=organization, name="Welcome", body="Hi!").template
    return automation_create(
        organization=organization,
        name="Welcome",
        definition={"trigger": {"type": "manual"}, "steps": [*(steps or []), _send(template)]},
        complete=True,
        by=marketer,
    )


def automation_page(organization: Organization, at: datetime.datetime, marketer: Any) -> str:
    automation = welcome_automation(organization, marketer)
    version = automation_publish(automation=automation, by=marketer)
    AutomationVersion.objects.filter(pk=version.pk).update(published_at=at)
    return f"/automations/{automation.public_id}/"


# Each page with a time on it, and how it says that time ({} for it, with its zone's abbreviation).
TIMED_PAGES = [
    pytest.param(message_page, "<dt>Created</dt><dd>{local}:00 {abbreviation}</dd>", id="message"),
    pytest.param(contact_page, "<dt>Added</dt><dd>{local} {abbreviation}</dd>", id="contact"),
    pytest.param(
        automation_page, "Live version: v1, published {local} {abbreviation}", id="automation"
    ),
]


@pytest.mark.parametrize(("page", "shown"), TIMED_PAGES)
@pytest.mark.parametrize(("zone", "at", "local", "abbreviation"), INSTANTS)
def test_pages_show_the_organizations_local_time(
    personas, page, shown, zone, at, local, abbreviation
):
    set_zone(personas.org, zone)
    path = page(personas.org, at, personas.marketer)

    text = page_text(personas.client("viewer").get(path))

    assert shown.format(local=local, abbreviation=abbreviation) in text
    assert zone_named(zone) in text


def test_the_message_logs_days_are_the_organizations_even_half_an_hour_off(personas):
    set_zone(personas.org, KOLKATA)
    message_at(personas.org, utc(2026, 3, 7, 18, 29), "late on the 7th")  # 23:59 IST
    message_at(personas.org, utc(2026, 3, 7, 18, 31), "early on the 8th")  # 00:01 IST

    text = page_text(
        personas.client("viewer").get("/messages/", {"since": "2026-03-08", "until": "2026-03-08"})
    )

    assert "early on the 8th" in text
    assert "late on the 7th" not in text


def test_an_unknown_or_empty_zone_falls_back_to_utc(personas):
    message = message_at(personas.org, utc(2026, 3, 8, 6, 30))
    client = personas.client("viewer")
    for stored in ["Mars/Base", ""]:
        # Past the model's validator, as an old row or a hand edit could be.
        Organization.objects.filter(pk=personas.org.pk).update(time_zone=stored)

        response = client.get(f"/messages/{message.public_id}/")

        assert response.status_code == 200
        text = page_text(response)
        assert "<dt>Created</dt><dd>Mar 8, 2026 06:30:00 UTC</dd>" in text
        assert "Times are in UTC." in text
        log = client.get("/messages/", {"since": "2026-03-08", "until": "2026-03-08"})
        assert log.status_code == 200
        assert "Times and dates in UTC." in page_text(log)
        assert message.body in page_text(log)  # the day is UTC's
        for export in ["/messages/export/", "/contacts/consent/export/", "/contacts/export/"]:
            answer = personas.client("owner").get(export)
            assert answer.status_code == 200, export
            assert b"".join(answer.streaming_content).count(b"\n") >= 1


# --- Every page names the zone -------------------------------------------------------------------


# Not pages of the app's shell: machines' URLs, and logging out (POST only).
NOT_PAGES = ("healthz", "logout", "api/", "admin/", "webhooks/")
# A step's save and remove URLs are for POSTs; a GET shows the editor, which the walk reaches
# at its own address.
NOT_WALKED = {"automation_step_save", "automation_step_remove"}


def test_every_page_names_the_organizations_zone(personas):
    set_zone(personas.org, KOLKATA)
    ids = world_ids(personas.org, personas.marketer)
    client = personas.client("owner")
    named: list[str] = []
    for route in routes():
        if route.route.startswith(NOT_PAGES) or route.name in NOT_WALKED:
            continue
        if not route.kwargs <= set(ids):
            continue  # a token of a link sent by e-mail, say: never a page of the app's shell
        path = reverse(route.name, kwargs={key: ids[key] for key in route.kwargs})
        response = client.get(path)
        if response.status_code != 200 or response.streaming or b"<html" not in response.content:
            continue  # a redirect, a POST-only action, a download or a fragment
        assert zone_named(KOLKATA) in page_text(response), path
        named.append(path)
    # Whatever the walk reached, it reached every page the navigation leads to, and the pages
    # of each kind of object.
    assert set(NAVIGATION_PAGES) <= set(named)
    for path in [
        f"/contacts/{ids['contact_id']}/",
        f"/messages/{ids['message_id']}/",
        f"/automations/{ids['automation_id']}/",
        f"/automations/{ids['automation_id']}/edit/",
        f"/templates/{ids['template_id']}/edit/",
        f"/contacts/import/{ids['import_id']}/",
        f"/settings/webhooks/{ids['endpoint_id']}/",
    ]:
        assert path in named


def test_a_signed_out_page_names_no_zone(client):
    assert "Times are in" not in page_text(client.get("/login/"))


# --- The API and the webhooks answer in UTC -------------------------------------------------------


def _key(personas: Personas) -> str:
    _key, raw = api_key_create(organization=personas.org, name="CRM", role=Role.MARKETER)
    return f"Bearer {raw}"


@pytest.mark.parametrize("signed_in", [False, True], ids=["key only", "with a page session"])
def test_the_api_answers_timestamps_in_utc(personas, signed_in):
    set_zone(personas.org, TOKYO)
    message = message_at(personas.org, utc(2026, 3, 8, 6, 30))
    # A browser signed in to the pages calling the API with a key gets UTC too.
    client = personas.client("owner") if signed_in else Client(HTTP_X_FORWARDED_PROTO="https")

    response = client.get(
        f"/api/v1/messages/{message.public_id}/", HTTP_AUTHORIZATION=_key(personas)
    )

    assert response.status_code == 200, response.content
    assert response.json()["created_at"] in ("2026-03-08T06:30:00Z", "2026-03-08T06:30:00+00:00")


def test_the_api_reads_a_naive_time_as_utc(personas):
    set_zone(personas.org, TOKYO)
    connect(personas)
    contact = contact_at(personas.org, utc(2026, 3, 8, 6, 30))
    client = personas.client("owner")

    with responses.RequestsMock():  # the message waits: nothing reaches Twilio
        response = client.post(
            "/api/v1/messages/",
            {"contact": str(contact.public_id), "body": "Later", "send_after": "2099-01-01T09:00"},
            content_type="application/json",
            HTTP_AUTHORIZATION=_key(personas),
        )

    assert response.status_code == 202, response.content
    assert Message.objects.get().send_after == utc(2099, 1, 1, 9, 0)
    assert response.json()["send_after"] in ("2099-01-01T09:00:00Z", "2099-01-01T09:00:00+00:00")


@pytest.mark.parametrize(
    ("path", "zone"),
    [
        ("/contacts/", TOKYO),
        ("/api/v1/messages/", "UTC"),
        ("/webhooks/twilio/status/SM123", "UTC"),
        ("/webhooks/twilio/inbound/key", "UTC"),
        ("/webhooks/automations/id/secret", "UTC"),
    ],
)
def test_only_pages_run_in_the_organizations_zone(personas, path, zone):
    """What the view sees as the current zone, for a request with a member's session."""
    set_zone(personas.org, TOKYO)
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(timezone.get_current_timezone_name())
        return HttpResponse()

    request = RequestFactory().get(path)
    request.user = personas.owner
    request.session = {}  # type: ignore[assignment]
    OrganizationMiddleware(view)(request)

    assert seen == [zone]
    assert timezone.get_current_timezone_name() == "UTC"


def test_a_visitor_without_an_organization_stays_in_utc(db):
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(timezone.get_current_timezone_name())
        return HttpResponse()

    request = RequestFactory().get("/login/")
    request.user = AnonymousUser()
    request.session = {}  # type: ignore[assignment]
    OrganizationMiddleware(view)(request)

    assert seen == ["UTC"]


def test_a_page_that_fails_leaves_no_zone_behind(personas):
    set_zone(personas.org, TOKYO)

    def view(request: HttpRequest) -> HttpResponse:
        raise RuntimeError("boom")

    request = RequestFactory().get("/contacts/")
    request.user = personas.owner
    request.session = {}  # type: ignore[assignment]
    with pytest.raises(RuntimeError):
        OrganizationMiddleware(view)(request)

    assert timezone.get_current_timezone_name() == "UTC"


# --- Zones change and never leak -----------------------------------------------------------------


def test_an_organization_changing_its_zone_sees_it_on_the_next_request(personas):
    set_zone(personas.org, NEW_YORK)
    message = message_at(personas.org, utc(2026, 3, 8, 6, 30))
    client = personas.client("admin")
    assert "Mar 8, 2026 01:30:00 EST" in page_text(client.get(f"/messages/{message.public_id}/"))

    response = client.post("/settings/", settings_data(personas.org, time_zone=KOLKATA))

    assert response.status_code == 302
    text = page_text(client.get(f"/messages/{message.public_id}/"))
    assert "Mar 8, 2026 12:00:00 IST" in text
    assert zone_named(KOLKATA) in text


def test_switching_organizations_switches_the_zone(personas):
    set_zone(personas.org, NEW_YORK)
    set_zone(personas.other_org, TOKYO)
    both = make_member(personas.other_org, Role.VIEWER, "both@example.com")
    Membership.objects.create(organization=personas.org, user=both, role=Role.VIEWER)
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    client.force_login(both)
    for organization, zone in [(personas.org, NEW_YORK), (personas.other_org, TOKYO)] * 2:
        client.post("/organizations/switch/", {"organization": str(organization.public_id)})

        assert zone_named(zone) in page_text(client.get("/"))


def test_no_zone_leaks_from_one_organizations_request_to_the_next(personas):
    set_zone(personas.org, NEW_YORK)
    set_zone(personas.other_org, TOKYO)
    at = utc(2026, 3, 8, 6, 30)
    ours, theirs = message_at(personas.org, at), message_at(personas.other_org, at)
    new_york, tokyo = personas.client("viewer"), personas.client("outsider")
    for _ in range(3):
        text = page_text(new_york.get(f"/messages/{ours.public_id}/"))
        assert "Mar 8, 2026 01:30:00 EST" in text
        assert zone_named(NEW_YORK) in text
        assert timezone.get_current_timezone_name() == "UTC"

        text = page_text(tokyo.get(f"/messages/{theirs.public_id}/"))
        assert "Mar 8, 2026 15:30:00 JST" in text
        assert zone_named(TOKYO) in text
        assert timezone.get_current_timezone_name() == "UTC"


# --- The contact's own zone still rules what is the contact's ---------------------------------


def test_quiet_hours_stay_in_the_contacts_zone_and_the_page_says_when_in_the_organizations(
    personas, monkeypatch
):
    """14:00 UTC is 10:00 in New York (the window is open there) and 23:00 in Tokyo (shut)."""
    set_zone(personas.org, NEW_YORK)
    connect(personas)
    clock = Clock(monkeypatch, utc(2026, 3, 8, 14, 0))
    contact = contact_at(personas.org, clock.now, zone=TOKYO)
    client = personas.client("marketer")

    with responses.RequestsMock():  # the message waits: nothing reaches Twilio
        response = client.post(
            f"/messages/send/{contact.public_id}/",
            {"body": "Good morning", "respect_quiet_hours": "on"},
        )

    assert response.status_code == 302, response.content
    opening = rules.next_allowed_instant(
        clock.now,
        time_zone=TOKYO,
        start=personas.org.send_window_start,
        end=personas.org.send_window_end,
    )
    assert opening == utc(2026, 3, 8, 23, 0)  # 08:00 in Tokyo on the 9th
    assert Message.objects.get().send_after == opening
    # The flash says when in the organization's zone, which has moved to daylight time.
    assert "Scheduled for Mar 8, 19:00 EDT." in page_text(client.get(response["Location"]))


def test_the_dry_run_keeps_the_contacts_zone(personas):
    set_zone(personas.org, TOKYO)
    automation = welcome_automation(
        personas.org, personas.marketer, [{"id": "w1", "type": "wait", "until": {"time": "09:00"}}]
    )
    contact = contact_at(personas.org, utc(2026, 3, 8, 6, 30), zone=NEW_YORK)

    text = page_text(
        personas.client("viewer").get(
            f"/automations/{automation.public_id}/dry-run/", {"contact": str(contact.public_id)}
        )
    )

    assert "Times in the contact's time zone, America/New_York." in text
    until = re.search(r"Would wait until (.+? (EST|EDT))\b", text)
    assert until is not None, text
    assert " 09:00 " in until.group(1)
    assert zone_named(TOKYO) in text


def _send(template: Any) -> dict[str, Any]:
    return {"id": "s2", "type": "send_sms", "template": str(template.public_id)}


def test_api_keys_and_members_pages_name_their_times_zone(personas):
    set_zone(personas.org, KOLKATA)
    invitation = Invitation.objects.create(
        organization=personas.org,
        email="invitee@example.com",
        role=Role.VIEWER,
        token_hash="y" * 64,
        expires_at=utc(2026, 3, 8, 6, 30),
    )
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=utc(2099, 3, 8, 6, 30))
    key, _raw = api_key_create(organization=personas.org, name="CRM", role=Role.VIEWER)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=utc(2026, 3, 8, 6, 30))
    client = personas.client("owner")

    members = page_text(client.get("/settings/members/"))
    keys = page_text(client.get("/settings/api-keys/"))

    assert "Mar 8, 2099 12:00 IST" in members
    assert 'datetime="2026-03-08T12:00:00+05:30" title="Mar 8, 2026 12:00 IST"' in keys


@pytest.fixture
def subscriptions_forgotten() -> Iterator[None]:
    """No organization's webhook types kept in the process before or after (ids come again
    after a rollback)."""
    subscriptions_forget_all()
    yield
    subscriptions_forget_all()


def test_an_outbound_webhook_recorded_by_a_page_keeps_utc(personas, subscriptions_forgotten):
    """A webhook carries the resource as the API answers it, whoever made the change."""
    set_zone(personas.org, TOKYO)
    WebhookEndpoint.objects.create(
        organization=personas.org,
        url="https://hooks.example.com/sms",
        secret_encrypted="whsec_c2VjcmV0",
        event_types=["contact.created"],
    )

    response = personas.client("marketer").post(
        "/contacts/new/", {"phone": PHONE, "first_name": "Ada"}
    )

    assert response.status_code == 302, response.content
    (event,) = WebhookEvent.objects.filter(type="contact.created")
    assert event.payload["data"]["created_at"].endswith(("Z", "+00:00"))
