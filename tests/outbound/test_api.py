"""/api/v1/webhook-endpoints/: admin keys only; the secret in the create's answer only;
errors in the API's shape; another organization's endpoint is a 404."""

from __future__ import annotations

import logging

import pytest
import responses

from tenants.outbound.models import WebhookDelivery, WebhookEndpoint
from tests.outbound.conftest import URL, make_endpoint, record_event

pytestmark = pytest.mark.django_db

BASE = "/api/v1/webhook-endpoints/"
BODY = {"url": URL, "description": "CRM", "event_types": ["contact.created"]}


@pytest.mark.parametrize(
    ("persona", "status"), [("admin", 200), ("marketer", 403), ("viewer", 403)]
)
def test_only_admin_keys_use_it(personas, persona, status):
    endpoint, _ = make_endpoint(personas.org)
    api = personas.api(persona)
    assert api.get(BASE).status_code == status
    assert api.get(f"{BASE}{endpoint.public_id}/").status_code == status
    created = api.post(BASE, BODY, format="json")
    assert created.status_code == (201 if status == 200 else 403)
    if status == 403:
        assert created.json()["error"]["code"] == "permission_denied"
        assert api.delete(f"{BASE}{endpoint.public_id}/").status_code == 403
        assert api.post(f"{BASE}{endpoint.public_id}/test/").status_code == 403
        assert WebhookEndpoint.objects.count() == 1


def test_create_answers_the_secret_once(personas, caplog):
    api = personas.api("admin")
    with caplog.at_level(logging.DEBUG):
        response = api.post(BASE, BODY, format="json")
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    secret = body.pop("secret")
    assert secret.startswith("whsec_")
    assert set(body) == {
        "id",
        "url",
        "description",
        "event_types",
        "enabled",
        "disabled_at",
        "disabled_reason",
        "failing_since",
        "created_at",
        "updated_at",
    }
    assert body["enabled"] is True
    assert body["event_types"] == ["contact.created"]
    # Never again, and never in a log line.
    listed = api.get(BASE)
    assert secret not in listed.content.decode()
    assert set(listed.json()) == {"results", "next", "previous"}
    assert [e["id"] for e in listed.json()["results"]] == [body["id"]]
    assert secret not in api.get(f"{BASE}{body['id']}/").content.decode()
    assert "secret" not in listed.json()["results"][0]
    assert secret not in caplog.text
    assert secret.removeprefix("whsec_") not in caplog.text


def test_a_repeated_idempotency_key_answers_the_same_endpoint(personas):
    api = personas.api("admin")
    first = api.post(BASE, BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    again = api.post(BASE, BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert WebhookEndpoint.objects.count() == 1
    other = api.post(BASE, {**BODY, "description": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({**BODY, "url": "http://hooks.example.com/"}, {"url"}),
        ({**BODY, "url": "https://127.0.0.1/"}, {"url"}),
        ({**BODY, "event_types": []}, {"event_types"}),
        ({**BODY, "event_types": ["contact.deleted"]}, {"event_types"}),
        ({"description": "x"}, {"url", "event_types"}),
    ],
)
def test_invalid_bodies_are_400s_naming_the_fields(personas, body, fields):
    response = personas.api("admin").post(BASE, body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == fields
    assert not WebhookEndpoint.objects.exists()


def test_patch_changes_what_is_given_and_enables_or_disables(personas):
    endpoint, _ = make_endpoint(personas.org)
    api = personas.api("admin")
    path = f"{BASE}{endpoint.public_id}/"
    response = api.patch(
        path, {"event_types": ["launch.completed"], "enabled": False}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["event_types"] == ["launch.completed"]
    assert response.json()["enabled"] is False
    assert response.json()["disabled_reason"] == "Disabled by an admin."
    assert response.json()["url"] == URL
    assert api.patch(path, {"enabled": True}, format="json").json()["enabled"] is True
    bad = api.patch(path, {"url": "https://10.0.0.1/"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"url"}


def test_delete(personas):
    endpoint, _ = make_endpoint(personas.org)
    api = personas.api("admin")
    assert api.delete(f"{BASE}{endpoint.public_id}/").status_code == 204
    assert api.get(f"{BASE}{endpoint.public_id}/").status_code == 404


def test_another_organizations_endpoint_is_a_404(personas):
    theirs, _ = make_endpoint(personas.other_org)
    api = personas.api("admin")
    for method, path in [
        ("get", f"{BASE}{theirs.public_id}/"),
        ("patch", f"{BASE}{theirs.public_id}/"),
        ("delete", f"{BASE}{theirs.public_id}/"),
        ("post", f"{BASE}{theirs.public_id}/test/"),
        ("post", f"{BASE}{theirs.public_id}/rotate-secret/"),
        ("get", f"{BASE}{theirs.public_id}/deliveries/"),
        ("get", f"{BASE}not-a-uuid/"),
    ]:
        response = getattr(api, method)(path, {}, format="json")
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert [e["id"] for e in api.get(BASE).json()["results"]] == []
    assert WebhookEndpoint.objects.filter(pk=theirs.pk, disabled_at__isnull=True).exists()


def test_test_event_then_its_attempt_in_the_deliveries(
    personas, rsps, django_capture_on_commit_callbacks
):
    endpoint, _ = make_endpoint(personas.org)
    rsps.add(responses.POST, URL, status=200, body="ok")
    api = personas.api("admin")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{BASE}{endpoint.public_id}/test/")
    assert response.status_code == 202
    assert response.json()["event_type"] == "webhook.test"
    assert response.json()["state"] == "pending"
    deliveries = api.get(f"{BASE}{endpoint.public_id}/deliveries/").json()
    (attempt,) = deliveries["results"]
    assert attempt["state"] == "succeeded"
    assert attempt["status_code"] == 200
    assert attempt["response_body"] == "ok"
    assert attempt["event_id"].startswith("evt_")


def test_a_disabled_endpoint_takes_no_test_event(personas):
    endpoint, _ = make_endpoint(personas.org)
    api = personas.api("admin")
    api.patch(f"{BASE}{endpoint.public_id}/", {"enabled": False}, format="json")
    response = api.post(f"{BASE}{endpoint.public_id}/test/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "endpoint_disabled"
    assert not WebhookDelivery.objects.exists()


def test_rotate_and_replay(personas, rsps, django_capture_on_commit_callbacks):
    endpoint, old = make_endpoint(personas.org)
    api = personas.api("admin")
    rotated = api.post(f"{BASE}{endpoint.public_id}/rotate-secret/")
    assert rotated.status_code == 200
    assert rotated.json()["secret"] not in (old, "")
    delivery = record_event(personas.org)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state="succeeded")  # delivered once
    rsps.add(responses.POST, URL, status=200)
    path = f"{BASE}{endpoint.public_id}/deliveries/{delivery.public_id}/replay/"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(path)
    assert response.status_code == 202
    assert response.json()["event_id"] == delivery.event.webhook_id
    assert len(rsps.calls) == 1
