"""MMS media URLs: public https only; no DNS in tests (resolve_host is replaced)."""

from __future__ import annotations

import socket

import pytest

from templates_sms import media
from templates_sms.media import media_url_check
from tests.templates_sms.helpers import refusal

PUBLIC = "93.184.216.34"


@pytest.fixture
def unresolvable(monkeypatch) -> list[str]:
    lookups: list[str] = []

    def resolve(host: str) -> list[str]:
        lookups.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(media, "resolve_host", resolve)
    return lookups


def test_it_accepts_a_public_https_url_without_a_warning(resolved):
    lookups = resolved(PUBLIC, "2606:2800:220:1:248:1893:25c8:1946")

    assert media_url_check("https://cdn.example.com/images/sale.png") is None
    assert lookups == ["cdn.example.com"]


def test_it_accepts_a_public_address_written_literally_without_looking_it_up(resolved):
    lookups = resolved("10.0.0.1")

    assert media_url_check(f"https://{PUBLIC}/sale.png") is None
    assert media_url_check("https://[2606:4700:4700::1111]/sale.png") is None
    assert lookups == []


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.example.com/sale.png",
        "ftp://cdn.example.com/sale.png",
        "cdn.example.com/sale.png",
        "//cdn.example.com/sale.png",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://",
        "https:///sale.png",
    ],
)
def test_it_refuses_a_url_that_is_not_https_with_a_host(resolved, url):
    resolved(PUBLIC)

    assert "https://" in refusal(url)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://10.0.0.1/a.png", "10.0.0.1"),
        ("https://192.168.1.5/a.png", "192.168.1.5"),
        ("https://172.16.0.1/a.png", "172.16.0.1"),
        ("https://127.0.0.1/a.png", "127.0.0.1"),
        ("https://127.0.0.1:8443/a.png", "127.0.0.1"),
        ("https://[::1]/a.png", "::1"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("https://[fe80::1]/a.png", "fe80::1"),
        ("https://[fc00::1]/a.png", "fc00::1"),
        ("https://[::ffff:10.0.0.1]/a.png", "::ffff:10.0.0.1"),
        ("https://0.0.0.0/a.png", "0.0.0.0"),  # noqa: S104
    ],
)
def test_it_refuses_a_literal_private_loopback_or_link_local_address(resolved, url, host):
    # Even if a lookup were made it would say "public": the literal address decides.
    resolved(PUBLIC)

    message = refusal(url)

    assert host in message
    assert "private" in message


@pytest.mark.parametrize(
    "addresses",
    [
        ("10.1.2.3",),
        ("127.0.0.1",),
        ("169.254.169.254",),
        ("::1",),
        ("fe80::1%eth0",),
        (PUBLIC, "192.168.0.10"),
        ("2606:4700:4700::1111", "fd00::5"),
    ],
)
def test_it_refuses_a_host_that_resolves_to_a_private_address(resolved, addresses):
    lookups = resolved(*addresses)

    message = refusal("https://intranet.example.com/a.png")

    assert "intranet.example.com" in message
    assert lookups == ["intranet.example.com"]


def test_it_accepts_a_host_that_does_not_resolve_with_a_warning(unresolvable):
    warning = media_url_check("https://not-yet-live.example.com/a.png")

    assert warning is not None
    assert "not-yet-live.example.com" in warning
    assert "does not resolve" in warning
    assert unresolvable == ["not-yet-live.example.com"]


def test_it_still_refuses_a_private_literal_address_when_dns_is_down(unresolvable):
    assert "10.0.0.1" in refusal("https://10.0.0.1/a.png")
    assert unresolvable == []


@pytest.mark.parametrize("host", ["10.0.0.1.", "127.0.0.1.", "169.254.169.254."])
def test_it_refuses_a_literal_private_address_written_with_a_trailing_dot(unresolvable, host):
    # "10.0.0.1." is the address 10.0.0.1 to a URL parser (WHATWG) and to many HTTP clients,
    # but no resolver knows it as a name: it must not pass as "does not resolve".
    message = refusal(f"https://{host}/a.png")

    assert host.rstrip(".") in message


def test_it_checks_the_url_without_surrounding_whitespace(resolved):
    lookups = resolved(PUBLIC)

    assert media_url_check("  https://cdn.example.com/a.png \n") is None
    assert lookups == ["cdn.example.com"]
