"""Turning two-factor sign-in on: the QR code, the secret, the first code, recovery codes."""

from __future__ import annotations

import base64
import io
import logging
from urllib.parse import quote

import pytest
import segno
from django.apps import apps
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.models import RecoveryCode
from tests.factories import make_user, page_text
from tests.tenants.two_factor_helpers import PAGE, browser, code, turn_on, wrong_code

pytestmark = pytest.mark.django_db

QR = "/account/two-factor/qr.svg"


@pytest.fixture
def user():
    return make_user("ada@example.com", full_name="Ada")


@pytest.fixture
def client(user):
    client = browser()
    client.force_login(user)
    return client


def start(client):
    return client.post("/account/two-factor/setup/")


def confirm(client, typed: str):
    return client.post("/account/two-factor/confirm/", {"confirm-code": typed})


def test_it_says_it_is_off_and_offers_to_turn_it_on(client):
    response = client.get(PAGE)

    assert response.status_code == 200
    text = page_text(response)
    assert "Off" in text
    assert 'action="/account/two-factor/setup/"' in text
    assert TOTPDevice.objects.count() == 0


def test_it_sends_a_signed_out_visitor_to_the_login_page(db):
    response = browser().get(PAGE)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={PAGE}"


def test_turning_on_shows_the_qr_code_and_the_secret_of_an_unconfirmed_device(client, user):
    assert start(client)["Location"] == PAGE
    device = TOTPDevice.objects.get(user=user)
    page = client.get(PAGE)

    assert device.confirmed is False
    text = page_text(page)
    assert f'<img src="{QR}"' in text
    secret = base64.b32encode(device.bin_key).decode()
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in text
    assert 'name="confirm-code"' in text
    assert "no-store" in page["Cache-Control"]


def test_the_qr_code_is_the_devices_otpauth_uri_drawn_by_the_app(client, user):
    start(client)
    device = TOTPDevice.objects.get(user=user)
    secret = base64.b32encode(device.bin_key).decode()

    response = client.get(QR)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "no-store" in response["Cache-Control"]
    uri = (
        f"otpauth://totp/{quote('SMS Hub:ada@example.com')}?secret={secret}"
        "&algorithm=SHA1&digits=6&period=30&issuer=SMS%20Hub"
    )
    assert device.config_url == uri
    expected = io.BytesIO()
    segno.make(uri, error="m").save(
        expected,
        kind="svg",
        scale=5,
        border=4,
        xmldecl=False,
        title="QR code for your authenticator app",
    )
    assert response.content == expected.getvalue()
    assert response.content.startswith(b"<svg")


def test_the_qr_code_is_only_for_the_signed_in_persons_own_pending_device(client, user):
    other = browser()
    other.force_login(make_user("bob@example.com"))
    start(client)

    assert other.get(QR).status_code == 404  # Ada's device is not Bob's
    assert browser().get(QR)["Location"] == f"/login/?next={QR}"
    confirm(client, code(TOTPDevice.objects.get(user=user)))
    assert client.get(QR).status_code == 404  # confirmed: its secret is never drawn again


def test_a_wrong_code_is_a_form_error_and_confirms_nothing(client, user):
    start(client)
    device = TOTPDevice.objects.get(user=user)

    response = confirm(client, wrong_code(device))

    assert response.status_code == 400
    assert "That code is not right" in page_text(response)
    device.refresh_from_db()
    assert device.confirmed is False
    assert RecoveryCode.objects.count() == 0


def test_the_right_code_turns_it_on_and_shows_ten_recovery_codes_once(client, user):
    start(client)
    device = TOTPDevice.objects.get(user=user)
    secret_text = page_text(client.get(PAGE)).split('id="two-factor-secret">')[1].split("<")[0]

    response = confirm(client, code(device))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    text = page_text(response)
    device.refresh_from_db()
    assert device.confirmed is True
    codes = text.split('aria-label="Recovery codes">')[1].split("</textarea>")[0].split()
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(len(c) == 19 and c.count("-") == 3 for c in codes)
    assert "Download" in text
    assert "10 of 10 recovery codes left." in text
    assert "Two-factor sign-in is on." in text
    again = page_text(client.get(PAGE))
    assert not any(c in again for c in codes)
    assert secret_text not in again


def test_recovery_codes_are_stored_hashed_and_no_row_holds_one(client, user):
    _device, codes = turn_on(user)

    assert RecoveryCode.objects.filter(user=user, used_at__isnull=True).count() == 10
    for model in apps.get_models():
        for row in model._default_manager.values():
            text = repr(row)
            assert not any(c in text or c.replace("-", "") in text for c in codes), model


def test_it_cannot_be_turned_on_twice(client, user):
    device, _codes = turn_on(user)

    response = start(client)

    assert response["Location"] == PAGE
    assert "Two-factor sign-in is already on." in page_text(client.get(PAGE))
    assert list(TOTPDevice.objects.filter(user=user)) == [device]


def test_turning_on_again_before_confirming_replaces_the_unfinished_device(client, user):
    start(client)
    first = TOTPDevice.objects.get(user=user)
    start(client)

    assert list(TOTPDevice.objects.filter(user=user).values_list("pk", flat=True)) != [first.pk]
    assert TOTPDevice.objects.filter(user=user).count() == 1
    assert confirm(client, code(first)).status_code == 400  # the old secret is gone


# --- New recovery codes -------------------------------------------------------------------------


def regenerate(client, typed: str):
    return client.post("/account/two-factor/recovery-codes/", {"regenerate-code": typed})


def test_new_recovery_codes_need_a_current_code(client, user):
    device, codes = turn_on(user)
    hashes = set(RecoveryCode.objects.values_list("code_hash", flat=True))

    refused = regenerate(client, wrong_code(device))
    with_recovery = regenerate(client, codes[0])

    assert refused.status_code == with_recovery.status_code == 400
    assert "That code is not right" in page_text(refused)
    assert set(RecoveryCode.objects.values_list("code_hash", flat=True)) == hashes
    assert RecoveryCode.objects.filter(used_at__isnull=False).count() == 0


def test_new_recovery_codes_replace_the_old_ones(client, user):
    device, old = turn_on(user)

    response = regenerate(client, code(device))

    assert response.status_code == 200
    new = page_text(response).split('aria-label="Recovery codes">')[1].split("</textarea>")
    new_codes = new[0].split()
    assert len(new_codes) == 10
    assert not set(new_codes) & set(old)
    assert RecoveryCode.objects.filter(user=user).count() == 10
    assert "New recovery codes are ready" in page_text(response)


def test_no_secret_or_recovery_code_reaches_a_log_line(client, user, caplog):
    caplog.set_level(logging.DEBUG)
    start(client)
    device = TOTPDevice.objects.get(user=user)
    client.get(QR)
    confirm(client, wrong_code(device))
    codes_page = page_text(confirm(client, code(device)))
    codes = codes_page.split('aria-label="Recovery codes">')[1].split("</textarea>")[0].split()
    client.post("/account/two-factor/recovery-codes/", {"regenerate-code": codes[0]})

    secrets = [device.key, base64.b32encode(device.bin_key).decode(), *codes]
    logged = [record.getMessage() for record in caplog.records]
    assert any("two-factor sign-in turned on" in line for line in logged)
    assert [line for line in logged if any(s in line for s in secrets)] == []
