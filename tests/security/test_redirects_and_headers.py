"""Where a page may send the browser, and what every answer tells it.

- Every ``next`` parameter leads to a path of this site, never to another host.
- Pages carry the security headers, and the cookies their flags, under the production
  settings the tests run with (DEBUG off, TLS ending at the proxy: ``X-Forwarded-Proto``).
  tests/tenants/test_login.py checks the sign-in page's CSP, HSTS and framing;
  tests/config/test_settings.py runs ``check --deploy``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings
from django.test import Client

from templates_sms.models import SmsTemplate
from tests.e2e.test_accessibility import PAGES as NAVIGATION_PAGES
from tests.factories import PASSWORD
from tests.security.test_web_checks import make_world

pytestmark = pytest.mark.django_db


# --- Open redirects ------------------------------------------------------------------------------

ELSEWHERE = [
    "https://evil.example.com",
    "//evil.example.com",
    "/\\evil.example.com",
    "\\\\evil.example.com",
    "/\t/evil.example.com",
    "javascript:alert(1)",
    "https:evil.example.com",
    "https://testserver.evil.example.com/",
]


def assert_local(response: Any, *, expected: str) -> None:
    """A redirect to a path of this site, the one ``expected`` starts."""
    assert response.status_code == 302, response.content[:300]
    location = response["Location"]
    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc) == ("", ""), location
    assert location.startswith("/"), location
    assert not location.startswith(("//", "/\\")), location
    assert "evil" not in location, location
    assert "javascript" not in location, location
    assert location.startswith(expected), location


@pytest.mark.parametrize("target", ELSEWHERE)
def test_signing_in_and_out_never_redirect_off_site(personas, target):
    client = Client(HTTP_X_FORWARDED_PROTO="https")

    signed_in = client.post(
        "/login/", {"username": personas.owner.email, "password": PASSWORD, "next": target}
    )
    again = client.get("/login/", {"next": target})  # signed in already: sent on at once
    signed_out = client.post("/logout/", {"next": target})

    assert_local(signed_in, expected="/")
    assert_local(again, expected="/")
    assert_local(signed_out, expected="/login/")


def test_signing_in_follows_a_next_of_this_site(personas):
    """The control for the refusals above: a local ``next`` is followed."""
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    response = client.post(
        "/login/", {"username": personas.owner.email, "password": PASSWORD, "next": "/contacts/"}
    )
    assert_local(response, expected="/contacts/")


@pytest.mark.parametrize("target", [*ELSEWHERE, "/contacts/"])
def test_an_organization_switch_goes_to_the_dashboard_whatever_next_says(personas, target):
    client = personas.client("owner")
    response = client.post(
        "/organizations/switch/", {"organization": str(personas.org.public_id), "next": target}
    )
    assert_local(response, expected="/")
    assert response["Location"] == "/"


@pytest.mark.parametrize("target", ELSEWHERE)
def test_the_template_editor_returns_only_to_a_page_of_this_site(personas, target):
    """The automation editor sends a marketer to the template editor with ``next`` set to come
    back; a link with another ``next`` must not send them away after saving."""
    client = personas.client("marketer")
    form = client.get("/templates/new/", {"next": target})
    created = client.post("/templates/new/", {"name": "Hello", "body": "Hi!", "next": target})
    also = client.post(
        f"/templates/new/?{urlencode({'next': target})}", {"name": "Hi", "body": "Hi"}
    )

    assert form.status_code == 200
    assert 'name="next"' not in form.content.decode()
    assert_local(created, expected="/templates/")
    assert_local(also, expected="/templates/")


def test_the_template_editor_returns_to_the_page_of_this_site_it_was_given(personas):
    client = personas.client("marketer")
    response = client.post(
        "/templates/new/", {"name": "Hello", "body": "Hi!", "next": "/automations/?step=s1"}
    )
    template = SmsTemplate.objects.get(organization=personas.org, name="Hello")
    assert_local(response, expected=f"/automations/?step=s1&template={template.public_id}")


@pytest.mark.parametrize("target", [*ELSEWHERE, "/contacts/"])
def test_enrol_now_returns_only_to_a_page_of_this_site(personas, target):
    world = make_world(personas)
    automation, contact = world.ids["automation_id"], world.ids["contact_id"]
    client = personas.client("marketer")

    response = client.post(
        f"/automations/{automation}/enrol/", {"contact": contact, "next": target}
    )

    assert_local(
        response, expected="/contacts/" if target == "/contacts/" else f"/automations/{automation}/"
    )


# --- Security headers and cookie flags -----------------------------------------------------------

HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy_of(response: Any) -> dict[str, str]:
    directives = (d.strip().split(None, 1) for d in response["Content-Security-Policy"].split(";"))
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives if d}


def test_every_kind_of_answer_carries_the_security_headers(personas):
    """HSTS keeps browsers on HTTPS, nosniff stops a download being run as a script, the
    referrer policy keeps paths (which name objects) from other sites, and the framing rules
    and the content security policy stop clickjacking and any inline or foreign script."""
    world = make_world(personas)
    signed_in, signed_out = personas.client("owner"), Client(HTTP_X_FORWARDED_PROTO="https")
    answers = {path: (signed_in.get(path), 200) for path in NAVIGATION_PAGES}
    answers |= {
        "a fragment": (signed_in.get(f"/messages/contact/{world.ids['contact_id']}/"), 200),
        "a download": (signed_in.get("/contacts/export/"), 200),
        "a redirect": (signed_in.get("/login/"), 302),
        "a page not found": (signed_in.get("/no-such-page/"), 404),
        "a method refused": (
            signed_in.get(f"/automations/{world.ids['automation_id']}/publish/"),
            405,
        ),
        "signing in": (signed_out.get("/login/"), 200),
        "signed out, sent to sign in": (signed_out.get("/contacts/"), 302),
        "the API, without a key": (signed_out.get("/api/v1/contacts/"), 401),
    }

    for name, (response, status) in answers.items():
        assert response.status_code == status, name
        assert {header: response.get(header) for header in HEADERS} == HEADERS, name
        policy = policy_of(response)
        assert {key: policy.get(key) for key in POLICY} == POLICY, name
        assert "unsafe-inline" not in response["Content-Security-Policy"], name
        assert "unsafe-eval" not in response["Content-Security-Policy"], name


def test_signing_in_over_https_sets_secure_http_only_same_site_cookies(personas):
    """The session cookie is never sent over plain HTTP nor read by a script, and no other
    site's request carries it; the CSRF cookie is never sent over plain HTTP either."""
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    form = client.get("/login/")
    signed_in = client.post("/login/", {"username": personas.owner.email, "password": PASSWORD})

    assert signed_in.status_code == 302
    session = signed_in.cookies[settings.SESSION_COOKIE_NAME]
    assert (session["secure"], session["httponly"], session["samesite"]) == (True, True, "Lax")
    # The CSRF cookie as first set, and as rotated by signing in.
    for response in (form, signed_in):
        csrf = response.cookies[settings.CSRF_COOKIE_NAME]
        assert (csrf["secure"], csrf["samesite"]) == (True, "Lax")
