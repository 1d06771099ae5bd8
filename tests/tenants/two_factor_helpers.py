"""Two-factor sign-in in tests: real TOTP codes computed from the device's key."""

from __future__ import annotations

import time

from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.models import User
from tenants.two_factor.services import two_factor_confirm, two_factor_setup_start
from tests.factories import PASSWORD

LOGIN_CODE = "/login/two-factor/"
PAGE = "/account/two-factor/"


def code(device: TOTPDevice, steps: int = 0) -> str:
    """The code an authenticator app shows now (or ``steps`` time steps later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    """Six digits that no time step within the tolerance accepts."""
    valid = {code(device, steps) for steps in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in valid)


def turn_on(user: User) -> tuple[TOTPDevice, list[str]]:
    """Two-factor sign-in on for ``user``, as the account page does; its codes."""
    device = two_factor_setup_start(user=user)
    _device, codes = two_factor_confirm(user=user, code=code(device))
    # The confirmation used up this time step's code; the tests sign in with it once more.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    device.refresh_from_db()
    return device, codes


def browser() -> Client:
    return Client(HTTP_X_FORWARDED_PROTO="https")


def password_step(client: Client, user: User, next_url: str | None = None):
    data = {"username": user.email, "password": PASSWORD}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/login/", data)


def sign_in(user: User, device: TOTPDevice) -> Client:
    """A browser signed in through both steps."""
    client = browser()
    password_step(client, user)
    response = client.post(LOGIN_CODE, {"code": code(device)})
    assert response.status_code == 302, response.content
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    return client


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session
