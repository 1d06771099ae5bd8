"""What a receiver gets: one POST, signed as Standard Webhooks says, that
``standardwebhooks.Webhook(secret).verify`` accepts exactly as a receiver would call it."""

from __future__ import annotations

import datetime
import json
import logging
from pathlib import Path
from typing import Any

import pytest
import responses
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from config.logging import redact
from tenants.outbound.models import DeliveryState
from tenants.outbound.services.delivery import delivery_attempt
from tenants.outbound.services.endpoints import endpoint_rotate_secret
from tests.outbound.conftest import URL, make_endpoint, record_event

pytestmark = pytest.mark.django_db

DATA = {"id": "5e3c…", "status": "delivered", "error_code": None}


def record_and_send(organization, rsps, *, status=204):
    rsps.add(responses.POST, URL, status=status)
    delivery = record_event(organization, data=DATA)
    assert delivery_attempt(delivery.pk) == DeliveryState.SUCCEEDED
    return delivery.event, rsps.calls[-1].request


def test_the_signature_verifies_as_a_receiver_checks_it(personas, rsps):
    _endpoint, secret = make_endpoint(personas.org)
    event, request = record_and_send(personas.org, rsps)
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    payload = Webhook(secret).verify(body, dict(request.headers))
    assert payload == {
        "id": event.webhook_id,
        "type": "message.status_changed",
        "timestamp": payload["timestamp"],
        "data": DATA,
    }
    assert payload["timestamp"].endswith("Z")
    # Another secret, or a body changed on the way, fails.
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(body, dict(request.headers))
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("delivered", "failed"), dict(request.headers))


def test_the_exact_request_sent(personas, rsps):
    _endpoint, secret = make_endpoint(personas.org)
    before = int(timezone.now().timestamp())
    event, request = record_and_send(personas.org, rsps)
    assert request.method == "POST"
    assert request.url == URL
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "SMS-Hub-Webhooks/1.0"
    assert headers["webhook-id"] == event.webhook_id
    assert headers["webhook-id"].startswith("evt_")
    assert before <= int(headers["webhook-timestamp"]) <= before + 5
    assert headers["webhook-signature"].startswith("v1,")
    assert " " not in headers["webhook-signature"]
    assert "authorization" not in headers
    # The body is the compact JSON of the payload, and it is what was signed.
    compact = json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False)
    assert request.body == compact.encode()
    stamp = datetime.datetime.fromtimestamp(int(headers["webhook-timestamp"]), tz=datetime.UTC)
    expected = Webhook(secret).sign(event.webhook_id, stamp, request.body.decode())
    assert headers["webhook-signature"] == expected


def test_redirects_are_not_followed(personas, rsps):
    make_endpoint(personas.org)
    rsps.add(responses.POST, URL, status=301, headers={"Location": "https://10.0.0.1/"})
    delivery = record_event(personas.org, data=DATA)
    assert delivery_attempt(delivery.pk) == DeliveryState.FAILED
    delivery.refresh_from_db()
    assert delivery.status_code == 301
    assert delivery.error == "Redirects are not followed (HTTP 301)."
    assert len(rsps.calls) == 1


def test_after_a_rotation_both_secrets_sign_for_a_day(personas, rsps):
    endpoint, old = make_endpoint(personas.org)
    new = endpoint_rotate_secret(endpoint=endpoint)
    assert new != old
    assert new.startswith("whsec_")
    _event, request = record_and_send(personas.org, rsps)
    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    body = request.body.decode()
    Webhook(new).verify(body, dict(request.headers))
    Webhook(old).verify(body, dict(request.headers))
    # A day later only the new one signs.
    endpoint.refresh_from_db()
    later = timezone.now() + datetime.timedelta(hours=25)
    assert [s.reveal() for s in endpoint.secrets(later)] == [new]


def test_the_secret_is_a_standard_webhooks_secret_stored_encrypted(personas):
    endpoint, secret = make_endpoint(personas.org)
    assert secret.startswith("whsec_")
    assert len(Webhook(secret)._whsecret) == 32
    assert secret not in endpoint.secret_encrypted
    assert secret.removeprefix("whsec_") not in endpoint.secret_encrypted
    assert endpoint.secrets()[0].reveal() == secret
    assert "whsec" not in repr(endpoint.secrets())


def test_no_log_line_shows_the_secret(personas, rsps, caplog):
    with caplog.at_level(logging.DEBUG):
        endpoint, secret = make_endpoint(personas.org)
        record_and_send(personas.org, rsps)
        endpoint_rotate_secret(endpoint=endpoint)
    assert caplog.records
    assert secret not in caplog.text
    assert secret.removeprefix("whsec_") not in caplog.text


def test_the_log_filter_masks_a_secret_logged_by_mistake():
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    assert redact(f"verifying with {secret} failed") == "verifying with whsec_[redacted] failed"


def test_the_readmes_verification_example_accepts_our_request(personas, rsps):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("Verifying an event in Python", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    _endpoint, secret = make_endpoint(personas.org)
    _event, request = record_and_send(personas.org, rsps)
    seen: set[str] = set()
    processed: list[tuple[str, dict]] = []

    def already_seen(event_id: str) -> bool:
        known = event_id in seen
        seen.add(event_id)
        return known

    namespace: dict[str, Any] = {
        "SECRET": secret,
        "already_seen": already_seen,
        "process": lambda type, data: processed.append((type, data)),
    }
    exec(code, namespace)  # noqa: S102 - the README's own example
    handle = namespace["handle"]
    headers = dict(request.headers)
    assert handle(request.body, headers) == 204
    assert processed == [("message.status_changed", DATA)]
    assert handle(request.body, headers) == 200  # a retry: already seen
    assert handle(request.body.replace(b"delivered", b"failed"), headers) == 400
