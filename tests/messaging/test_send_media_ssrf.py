"""The send service refuses media Twilio must not fetch (cloud metadata, loopback, private
ranges, and URLs whose host parsers disagree on), on every path: a message with its own media
URL, a fan-out, the API, and a template whose host resolves to a private address since it was
saved. Nothing is written and nothing reaches Twilio."""

from __future__ import annotations

import pytest

from messaging.models import Message, MessageEvent
from messaging.services.sending import message_send, message_send_many
from templates_sms import media
from templates_sms.models import SmsTemplate
from tenants.errors import ApplicationError
from tests.messaging.api_helpers import MESSAGES, error
from tests.messaging.helpers import forms, make_contact
from tests.messaging.send_helpers import ALICE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited_slots", "connection")]

REFUSED = [
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata
    "https://127.0.0.1/a.png",
    "https://10.0.0.5/a.png",
    "https://[::1]/a.png",
    "https://[::127.0.0.1]/a.png",  # IPv4-compatible IPv6
    "https://[::ffff:127.0.0.1]/a.png",  # IPv4-mapped
    "https://[64:ff9b::a9fe:a9fe]/a.png",  # NAT64 of 169.254.169.254
    "https://127.0.0.1\\@evil.example/a.png",  # parsers disagree on the host
    "https://user:pass@cdn.example.com/a.png",  # user-info
    "http://cdn.example.com/a.png",  # not https
    "https://internal.example.com/a.png",  # resolves to a private address (below)
]


@pytest.fixture(autouse=True)
def _dns(monkeypatch):
    def resolve(host: str) -> list[str]:
        return ["10.1.2.3"] if host == "internal.example.com" else ["93.184.215.14"]

    monkeypatch.setattr(media, "resolve_host", resolve)


def nothing_sent(rsps) -> bool:
    return not Message.objects.exists() and not MessageEvent.objects.exists() and forms(rsps) == []


@pytest.mark.parametrize("url", REFUSED)
def test_the_send_service_refuses_the_media_url(personas, rsps, url):
    with pytest.raises(ApplicationError) as caught:
        message_send(organization=personas.org, to=ALICE, body="Hi", media_url=url, source="api")

    assert set(caught.value.fields) == {"media_url"}
    assert nothing_sent(rsps)


@pytest.mark.parametrize("url", REFUSED)
def test_a_fan_out_refuses_the_media_url(personas, rsps, url):
    alice = make_contact(personas, ALICE)

    with pytest.raises(ApplicationError) as caught:
        message_send_many(
            organization=personas.org, contacts=[alice], body="Hi", media_url=url, source="api"
        )

    assert set(caught.value.fields) == {"media_url"}
    assert nothing_sent(rsps)


@pytest.mark.parametrize("url", REFUSED)
def test_the_api_refuses_the_media_url_with_a_400_naming_it(personas, rsps, url):
    response = personas.api("marketer").post(
        MESSAGES, {"to": ALICE, "body": "Hi", "media_url": url}, "json"
    )

    assert response.status_code == 400, response.content
    assert "media_url" in error(response)["fields"]
    assert nothing_sent(rsps)


def test_it_refuses_a_template_whose_media_host_now_resolves_to_a_private_address(
    personas, rsps, django_capture_on_commit_callbacks
):
    # Saved when the host was public; its address changed since (DNS rebinding).
    template = SmsTemplate.objects.create(
        organization=personas.org,
        name="Promo",
        body="Look!",
        media_url="https://internal.example.com/promo.png",
    )

    with pytest.raises(ApplicationError) as caught:
        message_send(organization=personas.org, to=ALICE, template=template, source="automation")

    assert set(caught.value.fields) == {"media_url"}
    assert nothing_sent(rsps)


def test_it_sends_a_public_media_url(personas, rsps, django_capture_on_commit_callbacks):
    from tests.messaging.helpers import expected_form, messages_create

    messages_create(rsps)
    url = "https://cdn.example.com/a.png"

    with django_capture_on_commit_callbacks(execute=True):
        message = message_send(
            organization=personas.org, to=ALICE, body="Hi", media_url=url, source="api"
        )

    assert forms(rsps) == [expected_form(message, to=ALICE, body="Hi", media_url=url)]
