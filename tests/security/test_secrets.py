"""No secret reaches a page, an API answer, the admin or a log line.

An organization connected to Twilio with a known Auth Token, an API key, an outbound webhook
endpoint's signing secret, the field encryption keys, ``SECRET_KEY`` and the browser's session
id; then every page and fragment of the URL configuration as its owner, every API route's GET
with an admin key, and the Django admin's lists and change pages as a superuser, with every log
record kept. None of the secrets may appear in any body, any header but the session's own
``Set-Cookie``, or any log line.
"""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from tenants.crypto import encrypt
from tenants.models import Role, User
from tenants.outbound.models import WebhookEndpoint
from tenants.services.api_keys import api_key_create
from tests import twilio_mocks as tw
from tests.connections.helpers import connect
from tests.tenants.test_time_zone import NOT_PAGES
from tests.urls_walk import routes, world_ids

pytestmark = pytest.mark.django_db

WEBHOOK_SECRET = "whsec_" + "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10aGUtdGVzdHM="


def secrets_of(personas, raw_key: str, client: Client) -> dict[str, str]:
    keys = settings.FIELD_ENCRYPTION_KEYS
    found = {
        "Auth Token": tw.AUTH_TOKEN,
        "API key": raw_key,
        "webhook secret": WEBHOOK_SECRET,
        "SECRET_KEY": settings.SECRET_KEY,
        "session id": client.cookies[settings.SESSION_COOKIE_NAME].value,
    }
    for n, key in enumerate(keys if isinstance(keys, list | tuple) else [keys]):
        found[f"encryption key {n}"] = str(key)
    return found


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value and value in text]


def answer_text(response, *, session_cookie: bool = False) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    headers = [
        f"{name}: {value}"
        for name, value in response.headers.items()
        if not (session_cookie and name.lower() == "set-cookie")
    ]
    cookies = [
        morsel.OutputString()
        for name, morsel in response.cookies.items()
        if name != settings.SESSION_COOKIE_NAME
    ]
    return body.decode(errors="replace") + "\n".join(headers + cookies)


def test_no_secret_reaches_a_page_an_api_answer_the_admin_or_a_log_line(personas, caplog):
    caplog.set_level(logging.DEBUG)
    connect(personas)
    ids = world_ids(personas.org, personas.marketer)
    WebhookEndpoint.objects.filter(organization=personas.org).update(
        secret_encrypted=encrypt(WEBHOOK_SECRET)
    )
    _key, raw_key = api_key_create(organization=personas.org, name="CRM", role=Role.ADMIN)
    owner = personas.client("owner")
    secrets = secrets_of(personas, raw_key, owner)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}", HTTP_X_FORWARDED_PROTO="https")
    superuser = User.objects.create_superuser("root@example.com", "a-long-root-password-1")
    staff = Client(HTTP_X_FORWARDED_PROTO="https")
    staff.force_login(superuser)
    found: dict[str, list[str]] = {}
    visited = 0

    def look(path: str, response) -> None:
        nonlocal visited
        visited += 1
        named = leaks(answer_text(response, session_cookie=True), secrets)
        if named:
            found[path] = named

    for route in routes():
        if route.name is None or not route.kwargs <= set(ids):
            continue
        if route.route.startswith(("webhooks/", "admin/")):
            continue
        path = reverse(route.name, kwargs={key: ids[key] for key in route.kwargs})
        if route.route.startswith("api/"):
            look(path, api.get(path))
        elif not route.route.startswith(NOT_PAGES):
            look(path, owner.get(path))
    for model, _model_admin in admin.site._registry.items():
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        look(changelist, staff.get(changelist))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            look(change, staff.get(change))

    logged = [record.getMessage() + (record.exc_text or "") for record in caplog.records]
    assert visited > 100  # the walk reached the app, not a handful of pages
    assert found == {}
    assert [line for line in logged if leaks(line, secrets)] == []
