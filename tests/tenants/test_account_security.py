"""Login throttling, password reset by email, and changing one's password."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from tenants.models import User
from tests.factories import PASSWORD, page_text

pytestmark = pytest.mark.django_db

THROTTLED = "Too many failed attempts. Wait 15 minutes and try again, or reset your password."
WRONG = "Please enter a correct email and password."
RESET_LINK = re.compile(r"https://hub\.example\.com(/password-reset/[^/\s]+/[^/\s]+/)")
NEW_PASSWORD = "a-brand-new-passphrase"


def browser() -> Client:
    return Client(HTTP_X_FORWARDED_PROTO="https")


def log_in(client: Client, email: str, password: str):
    return client.post("/login/", {"username": email, "password": password})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- Throttling -----------------------------------------------------------------------------


def test_it_refuses_even_the_right_password_after_five_failures(client, personas):
    for _ in range(5):
        response = log_in(client, "viewer@a.example.com", "wrong-password")
        assert response.status_code == 200
        assert WRONG in page_text(response)

    response = log_in(client, "viewer@a.example.com", PASSWORD)
    assert response.status_code == 200
    assert THROTTLED in page_text(response)
    assert not signed_in(client)

    # Throttled by email, whatever its case, and from any browser.
    other_browser = browser()
    response = log_in(other_browser, "VIEWER@A.example.com", PASSWORD)
    assert THROTTLED in page_text(response)
    assert not signed_in(other_browser)


def test_it_does_not_throttle_other_emails(client, personas):
    for _ in range(5):
        log_in(client, "viewer@a.example.com", "wrong-password")
    assert THROTTLED in page_text(log_in(client, "viewer@a.example.com", PASSWORD))

    response = log_in(client, "marketer@a.example.com", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(personas.marketer.pk)


def test_it_still_accepts_the_right_password_after_four_failures(client, personas):
    for _ in range(4):
        log_in(client, "viewer@a.example.com", "wrong-password")
    response = log_in(client, "viewer@a.example.com", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(personas.viewer.pk)


def test_a_successful_login_starts_the_count_again(client, personas):
    for _ in range(4):
        log_in(client, "viewer@a.example.com", "wrong-password")
    assert log_in(client, "viewer@a.example.com", PASSWORD).status_code == 302
    client.post("/logout/")

    for _ in range(4):
        log_in(client, "viewer@a.example.com", "wrong-password")
    assert log_in(client, "viewer@a.example.com", PASSWORD).status_code == 302


def test_it_counts_failures_for_unknown_emails_too(client, db):
    for _ in range(5):
        log_in(client, "nobody@example.com", "guess")
    assert THROTTLED in page_text(log_in(client, "nobody@example.com", "guess"))


# --- Password reset -------------------------------------------------------------------------


def request_reset(client: Client, email: str):
    return client.post("/password-reset/", {"email": email}, follow=True)


def test_it_resets_a_password_through_the_emailed_link(client, personas):
    response = request_reset(client, "Viewer@A.example.com")
    assert response.redirect_chain == [("/password-reset/sent/", 302)]
    assert "Check your email" in page_text(response)

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["viewer@a.example.com"]
    assert email.subject == "Reset your SMS Hub password"
    links = RESET_LINK.findall(str(email.body))
    assert len(links) == 1
    link = links[0]

    # Django swaps the token for a session key and redirects to a URL without it.
    form_page = client.get(link)
    assert form_page.status_code == 302
    set_password_path = form_page["Location"]
    assert set_password_path.endswith("/set-password/")
    page = client.get(set_password_path)
    assert page.status_code == 200
    assert "Choose a new password" in page_text(page)

    done = client.post(
        set_password_path,
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert done.redirect_chain == [("/login/", 302)]
    assert "Your password has been reset. Log in with the new one." in page_text(done)
    assert not signed_in(client)

    personas.viewer.refresh_from_db()
    assert personas.viewer.check_password(NEW_PASSWORD)
    assert log_in(browser(), "viewer@a.example.com", PASSWORD).status_code == 200
    fresh = browser()
    assert log_in(fresh, "viewer@a.example.com", NEW_PASSWORD).status_code == 302
    assert fresh.session["_auth_user_id"] == str(personas.viewer.pk)

    # The link works once.
    again = browser().get(link)
    assert again.status_code == 200
    assert "This password reset link is not valid any more" in page_text(again)


def test_it_refuses_a_weak_new_password_on_reset(client, personas):
    request_reset(client, "viewer@a.example.com")
    link = RESET_LINK.findall(str(mail.outbox[0].body))[0]
    set_password_path = client.get(link)["Location"]
    response = client.post(
        set_password_path, {"new_password1": "12345678", "new_password2": "12345678"}
    )
    assert response.status_code == 200
    assert "This password is too common." in page_text(response)
    personas.viewer.refresh_from_db()
    assert personas.viewer.check_password(PASSWORD)


def test_it_answers_the_same_for_an_unknown_email_and_sends_nothing(client, db):
    response = request_reset(client, "nobody@example.com")
    assert response.redirect_chain == [("/password-reset/sent/", 302)]
    assert "Check your email" in page_text(response)
    assert mail.outbox == []


def test_it_refuses_a_tampered_reset_link(client, personas):
    request_reset(client, "viewer@a.example.com")
    link = RESET_LINK.findall(str(mail.outbox[0].body))[0]
    tampered = link[:-3] + ("a" if link[-3] != "a" else "b") + link[-2:]
    response = client.get(tampered)
    assert response.status_code == 200
    assert "This password reset link is not valid any more" in page_text(response)
    personas.viewer.refresh_from_db()
    assert personas.viewer.check_password(PASSWORD)


# --- Changing the password ------------------------------------------------------------------


def test_it_changes_the_password_of_the_signed_in_person(personas):
    client = personas.client("marketer")
    assert client.get("/account/password/").status_code == 200
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert response.redirect_chain == [("/", 302)]
    assert "Your password has been changed." in page_text(response)
    # Still signed in on this browser.
    assert client.get("/").status_code == 200

    user = User.objects.get(pk=personas.marketer.pk)
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(PASSWORD)
    assert log_in(browser(), "marketer@a.example.com", NEW_PASSWORD).status_code == 302


def test_it_requires_the_old_password_to_change_it(personas):
    client = personas.client("marketer")
    response = client.post(
        "/account/password/",
        {
            "old_password": "not-my-password",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly." in page_text(response)
    user = User.objects.get(pk=personas.marketer.pk)
    assert user.check_password(PASSWORD)
    assert not user.check_password(NEW_PASSWORD)


def test_it_requires_the_new_password_twice_alike(personas):
    client = personas.client("marketer")
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": "different"},
    )
    assert response.status_code == 200
    assert "The two password fields didn\u2019t match." in page_text(response)
    assert User.objects.get(pk=personas.marketer.pk).check_password(PASSWORD)


def test_it_signs_out_other_sessions_after_a_password_change(personas):
    other_session = personas.client("marketer")
    assert other_session.get("/").status_code == 200
    personas.client("marketer").post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    response = other_session.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"
