"""Signing in with two-factor: the password alone signs nobody in; the code (or a recovery
code, once) does, as the password would have, with the same safe ``next``."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tenants.models import RecoveryCode
from tenants.two_factor.pending import PENDING_SESSION_KEY
from tests.factories import PASSWORD, make_user, page_text
from tests.tenants.two_factor_helpers import (
    LOGIN_CODE,
    browser,
    code,
    password_step,
    signed_in,
    turn_on,
    wrong_code,
)

pytestmark = pytest.mark.django_db

THROTTLED = "Too many wrong codes. Wait 15 minutes and try again."


@pytest.fixture
def user():
    return make_user("ada@example.com", full_name="Ada")


@pytest.fixture
def device(user):
    return turn_on(user)[0]


def test_the_right_password_alone_signs_nobody_in(device, user):
    client = browser()

    response = password_step(client, user)

    assert response.status_code == 302
    assert response["Location"] == LOGIN_CODE
    assert not signed_in(client)
    assert client.session[PENDING_SESSION_KEY]["user"] == user.pk
    for page in ("/", "/contacts/", "/account/two-factor/", "/settings/"):
        assert client.get(page)["Location"] == f"/login/?next={page}", page
    asked = client.get(LOGIN_CODE)
    assert asked.status_code == 200
    assert "ada@example.com" in page_text(asked)
    assert 'autocomplete="one-time-code"' in page_text(asked)


def test_a_user_without_two_factor_signs_in_with_the_password(user):
    client = browser()

    response = password_step(client, user)

    assert response["Location"] == "/"
    assert signed_in(client)


def test_the_code_signs_in_with_a_new_session_key(device, user):
    client = browser()
    password_step(client, user)
    before = client.session.session_key

    response = client.post(LOGIN_CODE, {"code": code(device)})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in(client)
    assert client.session.session_key != before
    assert PENDING_SESSION_KEY not in client.session
    assert client.get("/account/two-factor/").status_code == 200


def test_a_code_is_accepted_once(device, user):
    used = code(device)
    first = browser()
    password_step(first, user)
    first.post(LOGIN_CODE, {"code": used})
    second = browser()
    password_step(second, user)

    response = second.post(LOGIN_CODE, {"code": used})

    assert response.status_code == 400
    assert not signed_in(second)


def test_the_next_page_is_followed_when_it_is_on_this_site(device, user):
    client = browser()
    password_step(client, user, next_url="/contacts/?page=2")

    response = client.post(LOGIN_CODE, {"code": code(device)})

    assert response["Location"] == "/contacts/?page=2"


@pytest.mark.parametrize("target", ["https://evil.example.com/", "//evil.example.com/x"])
def test_a_next_page_elsewhere_is_not_followed(device, user, target):
    client = browser()
    password_step(client, user, next_url=target)

    response = client.post(LOGIN_CODE, {"code": code(device)})

    assert response["Location"] == "/"
    assert signed_in(client)


def test_a_recovery_code_signs_in_once(user):
    _device, codes = turn_on(user)
    client = browser()
    password_step(client, user)

    response = client.post(LOGIN_CODE, {"code": codes[3].upper().replace("-", " ")})

    assert response.status_code == 302
    assert signed_in(client)
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=False).count() == 1
    again = browser()
    password_step(again, user)
    refused = again.post(LOGIN_CODE, {"code": codes[3]})
    assert refused.status_code == 400
    assert "unused recovery codes" in page_text(refused)
    assert not signed_in(again)
    signed = page_text(client.get("/account/two-factor/"))
    assert "9 of 10 recovery codes left." in signed


def test_a_wrong_code_is_a_form_error(device, user):
    client = browser()
    password_step(client, user)

    response = client.post(LOGIN_CODE, {"code": wrong_code(device)})

    assert response.status_code == 400
    assert "That code is not right" in page_text(response)
    assert not signed_in(client)
    assert PENDING_SESSION_KEY in client.session


def test_five_wrong_codes_drop_the_sign_in_and_the_password_buys_no_more(device, user):
    client = browser()
    password_step(client, user)
    for _ in range(4):
        assert client.post(LOGIN_CODE, {"code": wrong_code(device)}).status_code == 400

    fifth = client.post(LOGIN_CODE, {"code": wrong_code(device)}, follow=True)

    assert fifth.redirect_chain == [("/login/", 302)]
    assert THROTTLED in page_text(fifth)
    assert PENDING_SESSION_KEY not in client.session
    assert client.get(LOGIN_CODE)["Location"] == "/login/"
    password_step(client, user)  # the password again: still no code is taken
    refused = client.post(LOGIN_CODE, {"code": code(device)}, follow=True)
    assert refused.redirect_chain == [("/login/", 302)]
    assert THROTTLED in page_text(refused)
    assert not signed_in(client)


def test_the_pending_sign_in_expires_after_five_minutes(device, user):
    client = browser()
    password_step(client, user)
    session = client.session
    session[PENDING_SESSION_KEY] = {**session[PENDING_SESSION_KEY], "expires": time.time() - 1}
    session.save()

    response = client.post(LOGIN_CODE, {"code": code(device)}, follow=True)

    assert response.redirect_chain == [("/login/", 302)]
    assert "not finished in 5 minutes" in page_text(response)
    assert not signed_in(client)
    assert PENDING_SESSION_KEY not in client.session


def test_without_a_pending_sign_in_the_code_page_sends_to_the_login_page(device):
    response = browser().post(LOGIN_CODE, {"code": code(device)})

    assert response["Location"] == "/login/"


def test_a_password_reset_does_not_skip_the_code(device, user):
    client = browser()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = f"/password-reset/{uid}/{default_token_generator.make_token(user)}/"
    set_password = client.get(link)["Location"]
    new = "a-brand-new-passphrase"
    done = client.post(set_password, {"new_password1": new, "new_password2": new})
    assert done["Location"] == "/login/"
    assert not signed_in(client)

    response = client.post("/login/", {"username": user.email, "password": new})

    assert response["Location"] == LOGIN_CODE
    assert not signed_in(client)


def test_the_admins_own_sign_in_form_is_sent_to_this_one(device, user):
    user.is_staff = user.is_superuser = True
    user.save()
    client = browser()

    posted = client.post(
        "/admin/login/?next=/admin/", {"username": user.email, "password": PASSWORD}
    )
    shown = client.get("/admin/login/")

    assert posted["Location"] == "/login/?next=%2Fadmin%2F"
    assert shown["Location"] == "/login/?next=%2Fadmin%2F"
    assert not signed_in(client)


def test_staff_reach_the_admin_after_both_steps(device, user):
    user.is_staff = user.is_superuser = True
    user.save()
    client = browser()
    sent = client.get("/admin/")["Location"]  # the admin's index sends to its own sign-in…
    assert client.get(sent)["Location"] == "/login/?next=%2Fadmin%2F"  # …which sends here

    password_step(client, user, next_url="/admin/")
    response = client.post(LOGIN_CODE, {"code": code(device)})

    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
