"""Settings → Webhooks: admins and owners only; another organization's endpoint is a 404;
the secret is shown once; edit, rotate, disable and enable, delete, test and replay."""

from __future__ import annotations

import re

import pytest
import responses

from tenants.outbound.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from tests.factories import page_text
from tests.outbound.conftest import URL, make_endpoint, record_event

pytestmark = pytest.mark.django_db

ROLES = ["owner", "admin", "marketer", "viewer"]
FORM = {"url": URL, "description": "CRM", "event_types": ["contact.created", "message.received"]}


def shown_secret(response) -> str:
    found = re.search(r'value="(whsec_[^"]+)"', response.content.decode())
    assert found is not None
    return found.group(1)


def endpoint_paths(endpoint: WebhookEndpoint) -> list[str]:
    base = f"/settings/webhooks/{endpoint.public_id}/"
    return [base, f"{base}edit/", f"{base}rotate-secret/", f"{base}delete/"]


@pytest.mark.parametrize("persona", ROLES)
def test_only_admins_and_owners_reach_the_pages(personas, persona):
    endpoint, _ = make_endpoint(personas.org)
    client = personas.client(persona)
    allowed = persona in ("owner", "admin")
    for path in ["/settings/webhooks/", "/settings/webhooks/new/", *endpoint_paths(endpoint)]:
        assert client.get(path).status_code == (200 if allowed else 403), path
    settings = page_text(client.get("/settings/"))
    assert ('href="/settings/webhooks/"' in settings) is allowed


@pytest.mark.parametrize("persona", ["marketer", "viewer"])
def test_below_admin_nothing_can_be_changed(personas, persona, rsps):
    endpoint, _ = make_endpoint(personas.org)
    client = personas.client(persona)
    base = f"/settings/webhooks/{endpoint.public_id}/"
    posts = ["/settings/webhooks/new/", f"{base}edit/", f"{base}rotate-secret/", f"{base}delete/"]
    posts += [f"{base}disable/", f"{base}test/"]
    for path in posts:
        assert client.post(path, FORM).status_code == 403, path
    endpoint.refresh_from_db()
    assert endpoint.enabled
    assert WebhookEndpoint.objects.count() == 1
    assert not WebhookDelivery.objects.exists()


def test_another_organizations_endpoint_is_a_404(personas):
    theirs, _ = make_endpoint(personas.other_org)
    client = personas.client("owner")
    for path in endpoint_paths(theirs):
        assert client.get(path).status_code == 404, path
    base = f"/settings/webhooks/{theirs.public_id}/"
    for path in [f"{base}disable/", f"{base}test/", f"{base}delete/", f"{base}edit/"]:
        assert client.post(path, FORM).status_code == 404, path
    assert client.get("/settings/webhooks/not-a-uuid/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.enabled


def test_the_empty_list_says_what_to_do(personas):
    text = page_text(personas.client("admin").get("/settings/webhooks/"))
    assert "No endpoints yet" in text
    assert "Add endpoint" in text


def test_adding_an_endpoint_shows_its_secret_once(personas):
    client = personas.client("admin")
    response = client.post("/settings/webhooks/new/", FORM)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = shown_secret(response)
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secrets()[0].reveal() == secret
    assert endpoint.event_types == ["message.received", "contact.created"]
    assert endpoint.created_by == personas.admin
    # Nowhere else.
    for path in ["/settings/webhooks/", *endpoint_paths(endpoint)]:
        assert secret not in client.get(path).content.decode(), path
    listing = page_text(client.get("/settings/webhooks/"))
    assert URL in listing
    assert "CRM" in listing
    assert "none yet" in listing


def test_the_form_names_what_is_wrong(personas, dns):
    dns.answers["hooks.example.com"] = ["10.0.0.2"]
    response = personas.client("admin").post("/settings/webhooks/new/", {**FORM, "event_types": []})
    assert response.status_code == 400
    text = page_text(response)
    assert "Choose at least one event type." in text
    response = personas.client("admin").post("/settings/webhooks/new/", FORM)
    assert "hooks.example.com is a private" in page_text(response)
    assert not WebhookEndpoint.objects.exists()


def test_editing_an_endpoint(personas):
    endpoint, _ = make_endpoint(personas.org)
    client = personas.client("admin")
    form = page_text(client.get(f"/settings/webhooks/{endpoint.public_id}/edit/"))
    assert URL in form
    response = client.post(
        f"/settings/webhooks/{endpoint.public_id}/edit/",
        {
            "url": "https://new.example.com/h",
            "description": "",
            "event_types": ["import.completed"],
        },
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.event_types) == (
        "https://new.example.com/h",
        ["import.completed"],
    )


def test_rotating_asks_first_then_shows_the_new_secret(personas):
    endpoint, old = make_endpoint(personas.org)
    client = personas.client("owner")
    path = f"/settings/webhooks/{endpoint.public_id}/rotate-secret/"
    confirm = page_text(client.get(path))
    assert "Rotate the signing secret?" in confirm
    assert endpoint.secrets()[0].reveal() == old  # asking changed nothing
    response = client.post(path)
    new = shown_secret(response)
    assert new != old
    assert "no-store" in response["Cache-Control"]
    endpoint.refresh_from_db()
    assert [s.reveal() for s in endpoint.secrets()] == [new, old]
    assert "the old one signs too until" in page_text(client.get(endpoint_paths(endpoint)[0]))


def test_disabling_and_enabling(personas):
    endpoint, _ = make_endpoint(personas.org)
    client = personas.client("admin")
    base = f"/settings/webhooks/{endpoint.public_id}/"
    assert client.get(f"{base}disable/").status_code == 405
    client.post(f"{base}disable/")
    endpoint.refresh_from_db()
    assert endpoint.disabled_reason == "Disabled by an admin."
    page = page_text(client.get(base))
    assert "Disabled by an admin. No events are posted to it" in page
    assert "Send test event" not in page
    client.post(f"{base}enable/")
    endpoint.refresh_from_db()
    assert endpoint.enabled
    assert "Send test event" in page_text(client.get(base))


def test_deleting_asks_first(personas):
    endpoint, _ = make_endpoint(personas.org)
    client = personas.client("admin")
    path = f"/settings/webhooks/{endpoint.public_id}/delete/"
    assert "Delete this endpoint?" in page_text(client.get(path))
    assert WebhookEndpoint.objects.exists()
    response = client.post(path)
    assert response.status_code == 302
    assert response["Location"] == "/settings/webhooks/"
    assert not WebhookEndpoint.objects.exists()


def test_send_test_event_posts_to_that_endpoint_only(
    personas, rsps, django_capture_on_commit_callbacks
):
    endpoint, _ = make_endpoint(personas.org)
    make_endpoint(personas.org, url="https://other.example.com/hook")
    rsps.add(responses.POST, URL, status=202, body="thanks")
    client = personas.client("admin")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/settings/webhooks/{endpoint.public_id}/test/")
    assert len(rsps.calls) == 1
    assert b'"type":"webhook.test"' in rsps.calls[0].request.body
    page = page_text(client.get(f"/settings/webhooks/{endpoint.public_id}/"))
    assert "webhook.test" in page
    assert "HTTP 202" in page
    assert "thanks" in page
    assert "succeeded" in page


def test_replay_sends_the_event_again_with_its_webhook_id(
    personas, rsps, django_capture_on_commit_callbacks
):
    endpoint, _ = make_endpoint(personas.org)
    rsps.add(responses.POST, URL, status=500)
    rsps.add(responses.POST, URL, status=200)
    delivery = record_event(personas.org, data={"x": 1})
    from tenants.outbound.services.delivery import delivery_attempt

    delivery_attempt(delivery.pk)
    client = personas.client("admin")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/settings/webhooks/{endpoint.public_id}/attempts/{delivery.public_id}/replay/"
        )
    first, again = rsps.calls[0].request, rsps.calls[1].request
    assert again.headers["webhook-id"] == first.headers["webhook-id"]
    assert again.body == first.body
    replayed = (
        WebhookDelivery.objects.filter(event=delivery.event, attempt=1)
        .exclude(pk=delivery.pk)
        .get()
    )
    assert replayed.state == DeliveryState.SUCCEEDED


def test_the_attempts_are_paginated(personas):
    endpoint, _ = make_endpoint(personas.org)
    for n in range(30):
        record_event(personas.org, data={"n": n})
    client = personas.client("admin")
    first = page_text(client.get(f"/settings/webhooks/{endpoint.public_id}/"))
    assert "Page 1 of 2" in first
    assert first.count(">attempt 1<") == 25
    second = page_text(client.get(f"/settings/webhooks/{endpoint.public_id}/?page=2"))
    assert second.count(">attempt 1<") == 5


def test_each_page_has_its_title_and_one_heading(personas):
    endpoint, _ = make_endpoint(personas.org)
    client = personas.client("admin")
    for path in ["/settings/webhooks/", "/settings/webhooks/new/", *endpoint_paths(endpoint)]:
        html = client.get(path).content.decode()
        assert html.count("<h1") == 1, path
        assert re.search(r"<title>[^<]+ · SMS Hub</title>", html), path
