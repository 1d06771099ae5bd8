"""Sign-in throttling by account and by client address, behind trusted proxies."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory

from tenants.client_address import client_address
from tests.factories import PASSWORD, make_user, page_text

pytestmark = pytest.mark.django_db

THROTTLED = "Too many failed attempts. Wait 15 minutes and try again, or reset your password."
WRONG = "Please enter a correct email and password."
PROXY = "10.0.0.2"  # the TLS proxy in front of the app: REMOTE_ADDR of every request


def browser(forwarded_for: str | None = None, remote_addr: str = PROXY) -> Client:
    """A browser; ``forwarded_for`` is X-Forwarded-For as it reaches the app."""
    headers: dict[str, Any] = {"HTTP_X_FORWARDED_PROTO": "https", "REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return Client(**headers)


def log_in(client: Client, email: str, password: str) -> str:
    response = client.post("/login/", {"username": email, "password": password})
    if response.status_code == 302:
        return "signed in"
    text = page_text(response)
    if THROTTLED in text:
        return "throttled"
    assert WRONG in text
    return "wrong"


@pytest.fixture
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1


def spray_real_accounts(client: Client, accounts: int = 6) -> None:
    """Five wrong passwords for each of ``accounts`` real accounts: 30 failures by default."""
    for number in range(accounts):
        email = make_user(f"sprayed{number}@example.com").email
        for _ in range(5):
            assert log_in(client, email, "wrong-password") == "wrong"


# --- Anonymous failures lock nothing real --------------------------------------------------


def test_it_lets_a_real_user_in_after_40_failures_for_unknown_emails(personas):
    # One address, no proxy configured: the attacker and the user share REMOTE_ADDR.
    attacker = browser(remote_addr="192.0.2.10")
    for number in range(40):
        assert log_in(attacker, f"nobody{number}@example.com", "guess") == "wrong"
    user = browser(remote_addr="192.0.2.10")
    assert log_in(user, "viewer@a.example.com", PASSWORD) == "signed in"


def test_it_lets_a_real_user_in_behind_the_proxy_after_an_anonymous_flood(
    personas, behind_one_proxy
):
    for number in range(40):
        attacker = browser(f"198.51.100.{number}, 203.0.113.7")
        assert log_in(attacker, f"nobody{number}@example.com", "guess") == "wrong"
    assert log_in(browser("192.0.2.44"), "viewer@a.example.com", PASSWORD) == "signed in"


# --- The address lock: spraying real accounts from one address ----------------------------


def test_it_locks_an_address_after_30_failures_against_real_accounts(personas):
    attacker = browser(remote_addr="192.0.2.10")
    spray_real_accounts(attacker)
    # Even a right password is refused from that address now, for any account...
    assert log_in(attacker, "viewer@a.example.com", PASSWORD) == "throttled"
    assert log_in(attacker, "nobody@example.com", "guess") == "throttled"
    # ...but not from another one.
    assert log_in(browser(remote_addr="192.0.2.11"), "viewer@a.example.com", PASSWORD) == (
        "signed in"
    )


def test_an_address_flood_behind_the_proxy_locks_only_that_client(personas, behind_one_proxy):
    attacker = browser("203.0.113.7")
    spray_real_accounts(attacker)
    assert log_in(attacker, "viewer@a.example.com", PASSWORD) == "throttled"
    assert log_in(browser("192.0.2.44"), "viewer@a.example.com", PASSWORD) == "signed in"


def test_spoofed_forwarded_for_entries_do_not_escape_the_address_lock(personas, behind_one_proxy):
    # The client writes whatever it likes into X-Forwarded-For; the proxy appends the address
    # it saw. Only that last entry counts.
    attempt = 0
    for number in range(6):
        email = make_user(f"sprayed{number}@example.com").email
        for _ in range(5):
            attempt += 1
            client = browser(f"192.0.2.{attempt}, 10.9.{attempt}.1, 203.0.113.7")
            assert log_in(client, email, "wrong-password") == "wrong"
    spoofed = browser("192.0.2.200, 203.0.113.7")
    assert log_in(spoofed, "viewer@a.example.com", PASSWORD) == "throttled"


def test_an_ipv6_client_cannot_escape_the_address_lock_within_its_slash_64(
    personas, behind_one_proxy
):
    attempt = 0
    for number in range(6):
        email = make_user(f"sprayed{number}@example.com").email
        for _ in range(5):
            attempt += 1
            assert log_in(browser(f"2001:db8:1:2::{attempt:x}"), email, "wrong") == "wrong"
    assert log_in(browser("2001:db8:1:2:ffff::1"), "viewer@a.example.com", PASSWORD) == (
        "throttled"
    )
    assert log_in(browser("2001:db8:1:3::1"), "viewer@a.example.com", PASSWORD) == "signed in"


# --- The account lock ------------------------------------------------------------------------


def test_it_locks_an_account_after_five_failures_from_any_addresses(personas, behind_one_proxy):
    for number in range(5):
        client = browser(f"198.51.100.{number}")
        assert log_in(client, "viewer@a.example.com", "wrong-password") == "wrong"
    assert log_in(browser("192.0.2.44"), "Viewer@A.example.com", PASSWORD) == "throttled"
    assert log_in(browser("192.0.2.44"), "marketer@a.example.com", PASSWORD) == "signed in"


def test_a_completed_password_reset_lifts_the_account_lock(personas, client):
    from django.core import mail

    from tests.tenants.test_account_security import RESET_LINK

    for _ in range(5):
        log_in(client, "viewer@a.example.com", "wrong-password")
    assert log_in(client, "viewer@a.example.com", PASSWORD) == "throttled"

    client.post("/password-reset/", {"email": "viewer@a.example.com"})
    link = RESET_LINK.findall(str(mail.outbox[0].body))[0]
    set_password = client.get(link)["Location"]
    new = "a-brand-new-passphrase"
    client.post(set_password, {"new_password1": new, "new_password2": new})
    assert log_in(browser(), "viewer@a.example.com", new) == "signed in"


# --- Reading the client's address ------------------------------------------------------------


def request(forwarded_for: str | None, remote_addr: str = PROXY):
    headers: dict[str, Any] = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/login/", **headers)


@pytest.mark.parametrize(
    ("count", "forwarded_for", "expected"),
    [
        (0, None, PROXY),
        (0, "192.0.2.1", PROXY),  # no proxy trusted: the header is the client's own words
        (1, "192.0.2.1", "192.0.2.1"),
        (1, "6.6.6.6, 192.0.2.1", "192.0.2.1"),  # a spoofed entry in front is ignored
        (1, "6.6.6.6,192.0.2.1", "192.0.2.1"),
        (2, "6.6.6.6, 192.0.2.1, 198.51.100.9", "192.0.2.1"),  # CDN, then load balancer
        (2, "192.0.2.1, 198.51.100.9", "192.0.2.1"),
        (2, "198.51.100.9", PROXY),  # fewer entries than proxies: REMOTE_ADDR
        (1, None, PROXY),
        (1, "", PROXY),
        (1, "unknown", PROXY),
        (1, "6.6.6.6, not-an-address", PROXY),
        (1, "2001:DB8::1", "2001:db8::1"),
        (1, "[2001:db8::1]:4711", "2001:db8::1"),
        (1, "192.0.2.1:4711", "192.0.2.1"),
    ],
)
def test_it_reads_the_client_address_behind_trusted_proxies(
    settings, count, forwarded_for, expected
):
    settings.TRUSTED_PROXY_COUNT = count
    assert client_address(request(forwarded_for)) == expected
