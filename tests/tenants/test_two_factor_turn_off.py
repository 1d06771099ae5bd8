"""Turning two-factor sign-in off: the password and a code, unless an organization requires it."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.models import Organization, RecoveryCode
from tests.factories import PASSWORD, make_user, page_text
from tests.tenants.two_factor_helpers import (
    PAGE,
    browser,
    code,
    password_step,
    sign_in,
    turn_on,
    wrong_code,
)

pytestmark = pytest.mark.django_db

TURN_OFF = "/account/two-factor/turn-off/"


@pytest.fixture
def user():
    return make_user("ada@example.com", full_name="Ada")


@pytest.fixture
def on(user):
    device, codes = turn_on(user)
    return device, codes, sign_in(user, device)


def turn_off(client, password: str, typed: str):
    return client.post(TURN_OFF, {"disable-password": password, "disable-code": typed})


def test_the_page_says_it_is_on_with_the_recovery_codes_left(on):
    _device, _codes, client = on

    text = page_text(client.get(PAGE))

    assert "On" in text
    assert "10 of 10 recovery codes left." in text
    assert f'action="{TURN_OFF}"' in text
    assert 'name="disable-password"' in text


def test_the_password_and_a_code_turn_it_off(on, user):
    device, _codes, client = on

    response = turn_off(client, PASSWORD, code(device))

    assert response["Location"] == PAGE
    assert TOTPDevice.objects.filter(user=user).count() == 0
    assert RecoveryCode.objects.filter(user=user).count() == 0
    assert "Two-factor sign-in is off." in page_text(client.get(PAGE))
    later = browser()
    assert password_step(later, user)["Location"] == "/"  # the password alone again


def test_a_recovery_code_may_stand_in_for_the_app(on, user):
    _device, codes, client = on

    response = turn_off(client, PASSWORD, codes[0])

    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=user).count() == 0


@pytest.mark.parametrize("wrong", ["password", "code"])
def test_a_wrong_password_or_code_changes_nothing(on, user, wrong):
    device, _codes, client = on
    password = "not-my-password" if wrong == "password" else PASSWORD
    typed = wrong_code(device) if wrong == "code" else code(device)

    response = turn_off(client, password, typed)

    assert response.status_code == 400
    expected = "That is not your password." if wrong == "password" else "That code is not right"
    assert expected in page_text(response)
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=True).count() == 10


def test_it_stays_on_while_an_organization_requires_it(on, user, personas):
    device, _codes, client = on
    personas.org.memberships.create(user=user, role="viewer")
    Organization.objects.filter(pk=personas.org.pk).update(require_two_factor=True)

    page = page_text(client.get(PAGE))
    response = turn_off(client, PASSWORD, code(device))

    assert "Acme A requires two-factor sign-in, so it stays on" in page
    assert f'action="{TURN_OFF}"' not in page
    assert response.status_code == 400
    assert "Acme A requires two-factor sign-in, so it stays on" in page_text(response)
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1


def test_it_needs_a_signed_in_session(on):
    device, _codes, _client = on

    response = turn_off(browser(), PASSWORD, code(device))

    assert response["Location"] == f"/login/?next={TURN_OFF}"
    assert TOTPDevice.objects.count() == 1
