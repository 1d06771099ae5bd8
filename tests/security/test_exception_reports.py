"""No secret reaches an exception report.

When code fails while a secret is in play, Django builds a report of the failure: the error
email to ``ADMINS`` and the debug page both come from the exception reporter the settings name,
and an error tracker reads the same frames. The report holds every frame's local variables and
the request (its POST, its cookies, its headers), so a secret anywhere on the stack is one
``repr`` away from an inbox. Here three failures happen with secrets in play (connecting
Twilio from the page and through the API with a new Auth Token, and a Twilio call failing deep
inside the HTTP library, whose frames hold the ``(sid, token)`` pair for Basic auth), and the
text and HTML reports, and the log line, are searched for every secret.
"""

from __future__ import annotations

import logging
import sys

import pytest
import responses
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils.module_loading import import_string
from django.views.debug import ExceptionReporter

from config.logging import OneLineFormatter
from connections.twilio_api import TwilioGateway
from tenants.crypto import Secret
from tenants.models import Role
from tenants.services.api_keys import api_key_create
from tests import twilio_mocks as tw
from tests.connections.helpers import connect
from tests.security.test_secrets import leaks, secrets_of

pytestmark = pytest.mark.django_db

NEW_TOKEN = "9a8b7c6d5e4f30211203f4e5d6c7b8a9"


class Broken(RuntimeError):
    """Something nobody planned for, raised inside the HTTP library's call to Twilio."""


def _break_twilio(rsps: responses.RequestsMock) -> None:
    def fail(request):
        raise Broken("the network stack fell over")

    rsps.add_callback(responses.GET, tw.ACCOUNT_URL, callback=fail)


def reporter_class() -> type[ExceptionReporter]:
    """The reporter the settings name: what Django's error email and debug page use."""
    return import_string(settings.DEFAULT_EXCEPTION_REPORTER)


def reports(records: list[logging.LogRecord]) -> list[str]:
    """What Django's error email would carry for each failed request: the text and HTML
    reports of the exception reporter the settings name, and the log line itself."""
    found: list[str] = []
    for record in records:
        if record.name != "django.request" or not record.exc_info:
            continue
        request = getattr(record, "request", None)
        reporter = reporter_class()(request, *record.exc_info, is_email=True)  # type: ignore[misc]
        found += [reporter.get_traceback_text(), reporter.get_traceback_html()]
        found.append(OneLineFormatter().format(record))
    return found


@pytest.fixture
def secrets(personas):
    connect(personas)
    _key, raw_key = api_key_create(organization=personas.org, name="CRM", role=Role.ADMIN)
    owner = personas.client("owner")
    found = secrets_of(personas, raw_key, owner)
    found["new Auth Token"] = NEW_TOKEN
    return owner, raw_key, found


def test_a_failed_connect_from_the_page_reports_no_secret(secrets, caplog):
    owner, _raw_key, found = secrets
    owner.raise_request_exception = False
    form = {"account_sid": tw.ACCOUNT_SID, "auth_token": NEW_TOKEN, "phone_number": tw.NUMBER}
    with responses.RequestsMock() as rsps:
        _break_twilio(rsps)
        response = owner.post(reverse("twilio_connect"), form)
    assert response.status_code == 500
    texts = reports(caplog.records)
    assert len(texts) == 3  # the request's failure was reported
    assert "the network stack fell over" in texts[0]  # …with its frames
    assert [leaks(text, found) for text in texts] == [[], [], []]


def test_a_failed_connect_through_the_api_reports_no_secret(secrets, caplog):
    _owner, raw_key, found = secrets
    api = Client(
        HTTP_AUTHORIZATION=f"Bearer {raw_key}",
        HTTP_X_FORWARDED_PROTO="https",
        raise_request_exception=False,
    )
    body = {"account_sid": tw.ACCOUNT_SID, "auth_token": NEW_TOKEN, "phone_number": tw.NUMBER}
    with responses.RequestsMock() as rsps:
        _break_twilio(rsps)
        response = api.put(reverse("api_twilio_connection"), body, content_type="application/json")
    assert response.status_code == 500
    texts = reports(caplog.records)
    assert len(texts) == 3
    assert "HTTP_AUTHORIZATION" in texts[0]  # the header is listed, its value is not
    assert [leaks(text, found) for text in texts] == [[], [], []]


def test_a_twilio_call_failing_inside_the_http_library_reports_no_token():
    gateway = TwilioGateway(tw.ACCOUNT_SID, Secret(NEW_TOKEN))
    with responses.RequestsMock() as rsps:
        _break_twilio(rsps)
        try:
            gateway.fetch_account()
        except Broken:
            exc_info = sys.exc_info()
    reporter = reporter_class()(None, *exc_info, is_email=True)  # type: ignore[misc]
    text, html = reporter.get_traceback_text(), reporter.get_traceback_html()
    assert "requests/sessions.py" in html  # the HTTP library's frames, locals and all
    assert NEW_TOKEN not in text
    assert NEW_TOKEN not in html
