"""``/api/v1/messages/``: sending (202 whatever the outcome), idempotency, the log and one
message with its events, and what each key may reach."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from django.utils import timezone

from contacts.models import ConsentSource, Contact
from contacts.services.consent import consent_opt_out
from contacts.services.contacts import contact_create
from messaging import ratelimit
from messaging.models import IdempotencyKey, Message, MessageEvent
from templates_sms.models import SmsTemplate
from templates_sms.services import template_create
from tenants.models import Organization
from tests import twilio_mocks as tw
from tests.connections.helpers import connect
from tests.messaging.helpers import forms as forms_posted
from tests.messaging.helpers import messages_create as mock_create

pytestmark = pytest.mark.django_db

MESSAGES = "/api/v1/messages/"
CALLBACK_PREFIX = "https://hub.example.com/webhooks/twilio/status/"
PHONE = "+14155550123"
OTHER_PHONE = "+14155550124"
WRITERS = ["owner", "admin", "marketer"]
FIELDS = {
    "id",
    "direction",
    "contact",
    "to",
    "from",
    "messaging_service_sid",
    "sid",
    "body",
    "status",
    "suppressed_reason",
    "needs_attention",
    "error_code",
    "error_message",
    "segments",
    "encoding",
    "source",
    "source_ref",
    "send_after",
    "created_at",
    "updated_at",
}
EVENT_FIELDS = {"status", "error_code", "at", "params"}


# --- Builders -------------------------------------------------------------------------------


def add_contact(
    organization: Organization, phone: str = PHONE, first_name: str = "Ada", **data: Any
) -> Contact:
    data.setdefault("time_zone", "UTC")
    return contact_create(
        organization=organization, source="test", phone=phone, first_name=first_name, **data
    )


def add_template(organization: Organization, body: str = "Hi {{ first_name }}!") -> SmsTemplate:
    name = f"T {uuid.uuid4().hex[:6]}"
    return template_create(organization=organization, name=name, body=body).template


def log_entry(organization: Organization, **fields: Any) -> Message:
    """A row of the message log, as whatever path wrote it would have left it."""
    fields.setdefault("to", PHONE)
    fields.setdefault("body", "Hello")
    fields.setdefault("status", "queued")
    fields.setdefault("source", "api")
    created_at = fields.pop("created_at", None)
    message = Message.objects.create(organization=organization, **fields)
    if created_at is not None:
        Message.objects.filter(pk=message.pk).update(created_at=created_at)
        message.refresh_from_db()
    return message


def error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


def ids(response: Any) -> list[str]:
    return [row["id"] for row in response.json()["results"]]


def parse_time(value: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert moment.utcoffset() == datetime.timedelta(0), value
    return moment


# --- Fixtures -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "take", lambda *args, **kwargs: 0.0)


@pytest.fixture
def connected(personas: Any) -> Any:
    return connect(personas)


@pytest.fixture
def contact(personas: Any) -> Contact:
    return add_contact(personas.org)


# --- Sending --------------------------------------------------------------------------------


def test_it_sends_a_text_to_a_contact_and_answers_202_with_the_message(
    personas, connected, contact, rsps, django_capture_on_commit_callbacks
):
    sids = mock_create(rsps)
    api = personas.api("marketer")

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            MESSAGES, {"contact": str(contact.public_id), "body": "Your order shipped"}, "json"
        )

    assert response.status_code == 202, response.content
    data = response.json()
    assert set(data) == FIELDS
    message = Message.objects.get(organization=personas.org)
    assert data["id"] == str(message.public_id)
    assert data["direction"] == "outbound"
    assert data["contact"] == str(contact.public_id)
    assert data["to"] == PHONE
    assert data["body"] == "Your order shipped"
    assert data["status"] == "pending"
    assert data["suppressed_reason"] == ""
    assert data["needs_attention"] is False
    assert data["error_code"] is None
    assert data["segments"] == 1
    assert data["encoding"] == "GSM-7"
    assert data["source"] == "api"
    assert data["source_ref"].startswith("api-key:")
    assert data["send_after"] is None
    parse_time(data["created_at"])
    parse_time(data["updated_at"])

    [form] = forms_posted(rsps)
    assert form == {
        "To": [PHONE],
        "From": [tw.NUMBER],
        "Body": ["Your order shipped"],
        "StatusCallback": [f"{CALLBACK_PREFIX}{message.public_id}"],
    }
    assert message.sid == sids[0]
    assert message.status == "queued"
    assert message.source == "api"
    assert message.contact == contact
    assert message.from_number == tw.NUMBER


@pytest.mark.parametrize("persona", WRITERS)
def test_it_lets_every_writer_key_send(
    personas, connected, contact, rsps, django_capture_on_commit_callbacks, persona
):
    mock_create(rsps)

    with django_capture_on_commit_callbacks(execute=True):
        response = personas.api(persona).post(
            MESSAGES, {"contact": str(contact.public_id), "body": "Hi"}, "json"
        )

    assert response.status_code == 202, response.content
    assert Message.objects.get().status == "queued"
    assert len(forms_posted(rsps)) == 1


def test_it_renders_a_template_for_the_contact_with_the_footer(
    personas, connected, contact, rsps, django_capture_on_commit_callbacks
):
    mock_create(rsps)
    template = add_template(personas.org, "Hi {{ first_name }}, your table is ready.")

    with django_capture_on_commit_callbacks(execute=True):
        response = personas.api("marketer").post(
            MESSAGES,
            {"contact": str(contact.public_id), "template": str(template.public_id)},
            "json",
        )

    assert response.status_code == 202, response.content
    text = "Hi Ada, your table is ready.\nReply STOP to opt out"
    assert response.json()["body"] == text
    [form] = forms_posted(rsps)
    assert form["Body"] == [text]
    assert Message.objects.get().template == template


def test_it_hands_the_media_url_to_twilio(
    personas, connected, contact, rsps, django_capture_on_commit_callbacks
):
    mock_create(rsps)
    media = "https://cdn.example.com/menu.jpg"

    with django_capture_on_commit_callbacks(execute=True):
        response = personas.api("marketer").post(
            MESSAGES,
            {"contact": str(contact.public_id), "body": "Our menu", "media_url": media},
            "json",
        )

    assert response.status_code == 202, response.content
    [form] = forms_posted(rsps)
    assert form["MediaUrl"] == [media]
    assert form["Body"] == ["Our menu"]
    assert Message.objects.get().media_url == media


def test_it_keeps_a_message_with_send_after_for_later(
    personas, connected, contact, rsps, django_capture_on_commit_callbacks
):
    later = (timezone.now() + datetime.timedelta(hours=3)).replace(microsecond=0)

    with django_capture_on_commit_callbacks(execute=True):
        response = personas.api("marketer").post(
            MESSAGES,
            {
                "contact": str(contact.public_id),
                "body": "Tomorrow's offer",
                "send_after": later.isoformat(),
            },
            "json",
        )

    assert response.status_code == 202, response.content
    data = response.json()
    assert data["status"] == "pending"
    assert parse_time(data["send_after"]) == later
    message = Message.objects.get()
    assert message.status == "pending"
    assert message.send_after == later
    assert message.enqueued_at is None
    assert len(rsps.calls) == 0


def test_it_waits_for_the_sending_window_when_asked_to_respect_quiet_hours(
    personas, connected, contact, rsps, django_capture_on_commit_callbacks
):
    now = timezone.now()
    opening = (now + datetime.timedelta(hours=2)).replace(second=0, microsecond=0)
    organization = personas.org
    organization.send_window_start = opening.time()
    organization.send_window_end = (opening + datetime.timedelta(hours=1)).time()
    organization.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = personas.api("marketer").post(
            MESSAGES,
            {
                "contact": str(contact.public_id),
                "body": "Quiet please",
                "respect_quiet_hours": True,
            },
            "json",
        )

    assert response.status_code == 202, response.content
    data = response.json()
    assert data["status"] == "pending"
    assert parse_time(data["send_after"]) == opening
    assert Message.objects.get().send_after == opening
    assert len(rsps.calls) == 0


def test_it_answers_202_with_a_suppressed_message_for_an_opted_out_number(
    personas, connected, contact, rsps, django_capture_on_commit_callbacks
):
    consent_opt_out(organization=personas.org, phone=PHONE, source=ConsentSource.USER)

    with django_capture_on_commit_callbacks(execute=True):
        response = personas.api("marketer").post(
            MESSAGES, {"contact": str(contact.public_id), "body": "Sale!"}, "json"
        )

    assert response.status_code == 202, response.content
    data = response.json()
    assert set(data) == FIELDS
    assert data["status"] == "suppressed"
    assert data["suppressed_reason"] == "opted_out"
    assert data["sid"] is None
    message = Message.objects.get()
    assert str(message.public_id) == data["id"]
    assert message.status == "suppressed"
    assert message.suppressed_reason == "opted_out"
    assert message.sid is None
    assert len(rsps.calls) == 0


def test_it_attaches_a_bare_number_to_the_contact_that_has_it(
    personas, connected, contact, rsps, django_capture_on_commit_callbacks
):
    mock_create(rsps)

    with django_capture_on_commit_callbacks(execute=True):
        response = personas.api("marketer").post(
            MESSAGES, {"to": "(415) 555-0123", "body": "Hello again"}, "json"
        )

    assert response.status_code == 202, response.content
    assert response.json()["contact"] == str(contact.public_id)
    assert response.json()["to"] == PHONE
    assert list(Contact.objects.filter(organization=personas.org)) == [contact]
    assert Message.objects.get().contact == contact
    [form] = forms_posted(rsps)
    assert form["To"] == [PHONE]


def test_it_creates_a_contact_for_a_new_bare_number(
    personas, connected, rsps, django_capture_on_commit_callbacks
):
    mock_create(rsps)

    with django_capture_on_commit_callbacks(execute=True):
        response = personas.api("marketer").post(
            MESSAGES, {"to": "415.555.0124", "body": "Welcome"}, "json"
        )

    assert response.status_code == 202, response.content
    created = Contact.objects.get(organization=personas.org)
    assert created.phone == OTHER_PHONE
    assert response.json()["contact"] == str(created.public_id)
    assert Message.objects.get().contact == created
    [form] = forms_posted(rsps)
    assert form["To"] == [OTHER_PHONE]


@pytest.mark.parametrize("number", ["12", "call me", "+1 415 555 0123 999", "(000) 000-0000"])
def test_it_refuses_a_malformed_number_with_400_and_writes_nothing(
    personas, connected, rsps, django_capture_on_commit_callbacks, number
):
    with django_capture_on_commit_callbacks(execute=True):
        response = personas.api("marketer").post(MESSAGES, {"to": number, "body": "Hi"}, "json")

    assert response.status_code == 400, response.content
    assert error(response)["fields"].get("to"), error(response)
    assert not Message.objects.exists()
    assert not Contact.objects.exists()
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("body", [{}, {"body": ""}, {"body": "   "}])
def test_it_refuses_a_message_without_text_with_400(personas, connected, contact, rsps, body):
    response = personas.api("marketer").post(
        MESSAGES, {"contact": str(contact.public_id), **body}, "json"
    )

    assert response.status_code == 400, response.content
    assert error(response)["code"] == "validation_error"
    assert error(response)["fields"]["body"]
    assert not Message.objects.exists()


def test_it_refuses_a_message_without_recipient_with_400(personas, connected, rsps):
    response = personas.api("marketer").post(MESSAGES, {"body": "To whom?"}, "json")

    assert response.status_code == 400, response.content
    assert error(response)["fields"]["to"]
    assert not Message.objects.exists()


def test_it_answers_404_for_another_organizations_contact(personas, connected, rsps):
    theirs = add_contact(personas.other_org)

    response = personas.api("marketer").post(
        MESSAGES, {"contact": str(theirs.public_id), "body": "Hi"}, "json"
    )

    assert response.status_code == 404, response.content
    assert error(response)["code"] == "not_found"
    assert not Message.objects.exists()
    assert len(rsps.calls) == 0


def test_it_answers_404_for_another_organizations_template(personas, connected, contact, rsps):
    theirs = add_template(personas.other_org)

    response = personas.api("marketer").post(
        MESSAGES, {"contact": str(contact.public_id), "template": str(theirs.public_id)}, "json"
    )

    assert response.status_code == 404, response.content
    assert not Message.objects.exists()
    assert len(rsps.calls) == 0


# --- Idempotency-Key ------------------------------------------------------------------------


def test_it_answers_a_retry_with_the_same_key_with_the_first_response(
    personas, connected, contact, rsps, django_capture_on_commit_callbacks
):
    mock_create(rsps)
    api = personas.api("marketer")
    payload = {"contact": str(contact.public_id), "body": "Only once"}

    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(MESSAGES, payload, "json", HTTP_IDEMPOTENCY_KEY="order-42")
    with django_capture_on_commit_callbacks(execute=True):
        again = api.post(MESSAGES, payload, "json", HTTP_IDEMPOTENCY_KEY="order-42")

    assert first.status_code == 202, first.content
    assert again.status_code == 202, again.content
    assert again.json() == first.json()
    assert Message.objects.count() == 1
    assert str(Message.objects.get().public_id) == first.json()["id"]
    assert len(forms_posted(rsps)) == 1


def test_it_refuses_the_same_key_with_a_different_request_with_409(
    personas, connected, contact, rsps, django_capture_on_commit_callbacks
):
    mock_create(rsps)
    api = personas.api("marketer")

    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(
            MESSAGES,
            {"contact": str(contact.public_id), "body": "First"},
            "json",
            HTTP_IDEMPOTENCY_KEY="k-1",
        )
    with django_capture_on_commit_callbacks(execute=True):
        other = api.post(
            MESSAGES,
            {"contact": str(contact.public_id), "body": "Second"},
            "json",
            HTTP_IDEMPOTENCY_KEY="k-1",
        )

    assert first.status_code == 202, first.content
    assert other.status_code == 409, other.content
    assert error(other)["code"] == "idempotency_key_reused"
    assert list(Message.objects.values_list("body", flat=True)) == ["First"]
    assert len(forms_posted(rsps)) == 1


def test_it_keeps_idempotency_keys_per_organization(
    personas, connected, contact, rsps, django_capture_on_commit_callbacks
):
    mock_create(rsps)
    payload = {"to": PHONE, "body": "Same words"}

    with django_capture_on_commit_callbacks(execute=True):
        mine = personas.api("marketer").post(MESSAGES, payload, "json", HTTP_IDEMPOTENCY_KEY="k")
    with django_capture_on_commit_callbacks(execute=True):
        theirs = personas.api("outsider").post(MESSAGES, payload, "json", HTTP_IDEMPOTENCY_KEY="k")

    assert mine.status_code == 202, mine.content
    assert theirs.status_code == 202, theirs.content
    assert mine.json()["id"] != theirs.json()["id"]
    assert Message.objects.get(public_id=mine.json()["id"]).organization == personas.org
    assert Message.objects.get(public_id=theirs.json()["id"]).organization == personas.other_org
    assert Message.objects.count() == 2
    # Organization B has no Twilio connection: its message is suppressed, never posted.
    assert theirs.json()["status"] == "suppressed"
    assert theirs.json()["suppressed_reason"] == "no_connection"
    assert len(forms_posted(rsps)) == 1


def test_it_does_not_keep_the_key_of_a_failed_request(
    personas, connected, rsps, django_capture_on_commit_callbacks
):
    mock_create(rsps)
    api = personas.api("marketer")

    with django_capture_on_commit_callbacks(execute=True):
        failed = api.post(
            MESSAGES, {"to": "12", "body": "Hi"}, "json", HTTP_IDEMPOTENCY_KEY="retry-me"
        )
    assert failed.status_code == 400, failed.content
    assert not IdempotencyKey.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        fixed = api.post(
            MESSAGES, {"to": PHONE, "body": "Hi"}, "json", HTTP_IDEMPOTENCY_KEY="retry-me"
        )

    assert fixed.status_code == 202, fixed.content
    assert Message.objects.get().to == PHONE
    assert len(forms_posted(rsps)) == 1


# --- The log --------------------------------------------------------------------------------


@pytest.fixture
def log(personas: Any) -> dict[str, Any]:
    """A small log of organization A, written at known times, and one message of B."""
    now = timezone.now()
    ada = add_contact(personas.org, PHONE, "Ada")
    bob = add_contact(personas.org, OTHER_PHONE, "Bob")
    entries = {
        "api": log_entry(
            personas.org,
            contact=ada,
            status="delivered",
            source="api",
            source_ref="api-key:abc",
            created_at=now - datetime.timedelta(days=3),
        ),
        "ui": log_entry(
            personas.org,
            contact=bob,
            to=OTHER_PHONE,
            status="failed",
            source="ui",
            source_ref="user:1",
            created_at=now - datetime.timedelta(days=2),
        ),
        "automation": log_entry(
            personas.org,
            contact=ada,
            status="pending",
            source="automation",
            source_ref="automation-7",
            created_at=now - datetime.timedelta(days=1),
        ),
        "inbound": log_entry(
            personas.org,
            contact=bob,
            to=tw.NUMBER,
            from_number=OTHER_PHONE,
            direction="inbound",
            status="received",
            source="inbound",
            created_at=now - datetime.timedelta(hours=1),
        ),
    }
    theirs = log_entry(personas.other_org, status="delivered", source="api")
    return {"now": now, "ada": ada, "bob": bob, "entries": entries, "theirs": theirs}


def names(log: dict[str, Any], response: Any) -> list[str]:
    by_id = {str(m.public_id): name for name, m in log["entries"].items()}
    by_id[str(log["theirs"].public_id)] = "theirs"
    return [by_id.get(row_id, row_id) for row_id in ids(response)]


def test_it_lists_the_organizations_messages_newest_first(personas, log):
    response = personas.api("viewer").get(MESSAGES)

    assert response.status_code == 200, response.content
    data = response.json()
    assert set(data) == {"results", "next", "previous"}
    assert data["next"] is None
    assert data["previous"] is None
    assert names(log, response) == ["inbound", "automation", "ui", "api"]
    assert all(set(row) == FIELDS for row in data["results"])
    inbound = data["results"][0]
    assert inbound["direction"] == "inbound"
    assert inbound["from"] == OTHER_PHONE
    assert inbound["contact"] == str(log["bob"].public_id)


def test_it_never_shows_one_organization_the_messages_of_another(personas, log):
    response = personas.api("outsider").get(MESSAGES)

    assert response.status_code == 200, response.content
    assert names(log, response) == ["theirs"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "delivered"}, ["api"]),
        ({"status": "received"}, ["inbound"]),
        ({"direction": "inbound"}, ["inbound"]),
        ({"direction": "outbound"}, ["automation", "ui", "api"]),
        ({"source": "ui"}, ["ui"]),
        ({"source": "automation", "source_ref": "automation-7"}, ["automation"]),
        ({"source_ref": "automation-8"}, []),
        ({"status": "failed", "source": "api"}, []),
    ],
)
def test_it_filters_the_log(personas, log, params, expected):
    response = personas.api("viewer").get(MESSAGES, params)

    assert response.status_code == 200, response.content
    assert names(log, response) == expected


def test_it_filters_the_log_by_contact(personas, log):
    response = personas.api("viewer").get(MESSAGES, {"contact": str(log["ada"].public_id)})

    assert response.status_code == 200, response.content
    assert names(log, response) == ["automation", "api"]


def test_it_answers_404_for_a_contact_filter_of_another_organization(personas, log):
    theirs = add_contact(personas.other_org)

    response = personas.api("viewer").get(MESSAGES, {"contact": str(theirs.public_id)})

    assert response.status_code == 404, response.content


@pytest.mark.parametrize(
    ("after_days", "before_days", "expected"),
    [
        (2.5, None, ["inbound", "automation", "ui"]),
        (None, 1.5, ["ui", "api"]),
        (2.5, 0.5, ["automation", "ui"]),
        (None, 4, []),
    ],
)
def test_it_filters_the_log_by_creation_time(personas, log, after_days, before_days, expected):
    params = {}
    if after_days is not None:
        params["created_after"] = (log["now"] - datetime.timedelta(days=after_days)).isoformat()
    if before_days is not None:
        params["created_before"] = (log["now"] - datetime.timedelta(days=before_days)).isoformat()

    response = personas.api("viewer").get(MESSAGES, params)

    assert response.status_code == 200, response.content
    assert names(log, response) == expected


def test_it_pages_through_the_log_with_cursors(personas):
    now = timezone.now()
    made = [
        log_entry(personas.org, body=f"n{i}", created_at=now - datetime.timedelta(minutes=i))
        for i in range(5)
    ]
    api = personas.api("viewer")

    first = api.get(MESSAGES, {"limit": 2})
    assert first.status_code == 200, first.content
    assert first.json()["previous"] is None
    assert first.json()["next"]
    second = api.get(first.json()["next"])
    assert second.json()["previous"]
    assert second.json()["next"]
    third = api.get(second.json()["next"])
    assert third.json()["next"] is None
    back = api.get(second.json()["previous"])

    assert ids(first) + ids(second) + ids(third) == [str(m.public_id) for m in made]
    assert ids(back) == ids(first)


# --- One message ----------------------------------------------------------------------------


def test_it_shows_a_sent_message_with_its_events(
    personas, connected, contact, rsps, django_capture_on_commit_callbacks
):
    sids = mock_create(rsps)
    with django_capture_on_commit_callbacks(execute=True):
        sent = personas.api("marketer").post(
            MESSAGES, {"contact": str(contact.public_id), "body": "Tracked"}, "json"
        )
    assert sent.status_code == 202, sent.content

    response = personas.api("viewer").get(f"{MESSAGES}{sent.json()['id']}/")

    assert response.status_code == 200, response.content
    data = response.json()
    assert set(data) == FIELDS | {"events"}
    assert data["id"] == sent.json()["id"]
    assert data["sid"] == sids[0]
    assert data["status"] == "queued"
    assert data["from"] == tw.NUMBER
    assert data["to"] == PHONE
    events = data["events"]
    assert all(set(event) == EVENT_FIELDS for event in events)
    assert events[0]["status"] == "pending"
    assert events[-1] == {**events[-1], "status": "queued", "error_code": None}
    assert events[-1]["params"].get("sid") == sids[0]
    times = [parse_time(event["at"]) for event in events]
    assert times == sorted(times)
    stored = MessageEvent.objects.filter(message__public_id=data["id"]).order_by("at", "pk")
    assert [e["status"] for e in events] == [e.status for e in stored]


def test_it_shows_a_failed_message_with_the_error_code_of_its_event(personas, contact):
    message = log_entry(
        personas.org,
        contact=contact,
        status="failed",
        error_code=21610,
        error_message="Attempt to send to unsubscribed recipient",
    )
    MessageEvent.objects.create(message=message, status="pending")
    MessageEvent.objects.create(
        message=message, status="failed", error_code=21610, params={"detail": "unsubscribed"}
    )

    response = personas.api("viewer").get(f"{MESSAGES}{message.public_id}/")

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["error_code"] == 21610
    assert data["error_message"] == "Attempt to send to unsubscribed recipient"
    assert [(e["status"], e["error_code"], e["params"]) for e in data["events"]] == [
        ("pending", None, {}),
        ("failed", 21610, {"detail": "unsubscribed"}),
    ]


# --- Who may do what ------------------------------------------------------------------------


def test_a_viewer_key_may_not_send(personas, connected, contact, rsps):
    response = personas.api("viewer").post(
        MESSAGES, {"contact": str(contact.public_id), "body": "Hi"}, "json"
    )

    assert response.status_code == 403, response.content
    assert error(response)["code"] == "permission_denied"
    assert not Message.objects.exists()
    assert len(rsps.calls) == 0


def test_it_lets_a_viewer_key_read(personas, contact):
    message = log_entry(personas.org, contact=contact)
    api = personas.api("viewer")

    listed = api.get(MESSAGES)
    one = api.get(f"{MESSAGES}{message.public_id}/")

    assert listed.status_code == 200, listed.content
    assert ids(listed) == [str(message.public_id)]
    assert one.status_code == 200, one.content
    assert one.json()["id"] == str(message.public_id)


def test_an_outsider_key_gets_404_for_a_message_of_another_organization(personas, contact):
    message = log_entry(personas.org, contact=contact)

    response = personas.api("outsider").get(f"{MESSAGES}{message.public_id}/")

    assert response.status_code == 404, response.content
    assert error(response)["code"] == "not_found"


@pytest.mark.parametrize("message_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_it_answers_404_for_an_unknown_message(personas, message_id):
    response = personas.api("viewer").get(f"{MESSAGES}{message_id}/")

    assert response.status_code == 404, response.content


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_answers_401_without_a_key(personas, contact, method):
    from rest_framework.test import APIClient

    api = APIClient(HTTP_X_FORWARDED_PROTO="https")
    message = log_entry(personas.org, contact=contact)

    if method == "get":
        responses_ = [api.get(MESSAGES), api.get(f"{MESSAGES}{message.public_id}/")]
    else:
        responses_ = [api.post(MESSAGES, {"contact": str(contact.public_id), "body": "Hi"}, "json")]

    for response in responses_:
        assert response.status_code == 401, response.content
        assert error(response)["code"] == "not_authenticated"
        assert "results" not in response.json()
    assert Message.objects.count() == 1
