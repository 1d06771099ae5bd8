"""MMS media URLs: every way of writing an internal address is refused (no DNS in tests).

Each refused form is tried twice: with DNS down (so it cannot pass as "does not resolve yet")
and with DNS claiming a public address (so the literal host decides, not a lookup).
"""

from __future__ import annotations

import socket

import pytest

from templates_sms import media
from templates_sms.media import media_url_check
from tests.templates_sms.helpers import refusal

PUBLIC = "93.184.216.34"


@pytest.fixture(params=["dns_down", "dns_says_public"])
def dns(request, monkeypatch) -> list[str]:
    """DNS either fails or answers a public address, for whatever host; records lookups."""
    lookups: list[str] = []

    def resolve(host: str) -> list[str]:
        lookups.append(host)
        if request.param == "dns_down":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [PUBLIC]

    monkeypatch.setattr(media, "resolve_host", resolve)
    return lookups


# --- IPv6 forms that carry an internal IPv4 address ------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        # IPv4-compatible (deprecated, ::/96): no public host has one
        "https://[::127.0.0.1]/a.png",
        "https://[::7f00:1]/a.png",
        "https://[::10.0.0.1]/a.png",
        "https://[::169.254.169.254]/a.png",
        "https://[::93.184.216.34]/a.png",
        # IPv4-mapped and IPv4-translated
        "https://[::ffff:127.0.0.1]/a.png",
        "https://[::ffff:7f00:1]/a.png",
        "https://[::ffff:169.254.169.254]/a.png",
        "https://[::ffff:0:127.0.0.1]/a.png",
        "https://[::ffff:0:a9fe:a9fe]/a.png",
        # NAT64, well-known prefix (64:ff9b::/96)
        "https://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
        "https://[64:ff9b::169.254.169.254]/a.png",
        "https://[64:ff9b::7f00:1]/a.png",
        "https://[64:ff9b::10.0.0.1]/a.png",
        "https://[64:ff9b::c0a8:101]/a.png",
        # NAT64, local-use prefix (64:ff9b:1::/48): never public, whatever it embeds
        "https://[64:ff9b:1::a9fe:a9fe]/a.png",
        "https://[64:ff9b:1:a9fe:a9:fe00::]/a.png",
        "https://[64:ff9b:1::5db8:d822]/a.png",
        # 6to4 (2002::/16) of an internal address
        "https://[2002:7f00:1::]/a.png",
        "https://[2002:a9fe:a9fe::1]/a.png",
        "https://[2002:c0a8:101::]/a.png",
        "https://[2002:a00:1:1::1]/a.png",
        # Teredo (2001::/32): its client address is 127.0.0.1 here
        "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/a.png",
        # the other internal IPv6 ranges, for completeness
        "https://[::]/a.png",
        "https://[::1]/a.png",
        "https://[fd00:ec2::254]/a.png",
        "https://[fe80::1%25eth0]/a.png",
        "https://[ff02::1]/a.png",
    ],
)
def test_it_refuses_an_ipv6_literal_that_reaches_an_internal_address(dns, url):
    message = refusal(url)

    assert "private" in message
    assert dns == []


@pytest.mark.parametrize(
    "url",
    [
        "https://[64:ff9b::5db8:d822]/a.png",  # NAT64 of a public address
        "https://[64:ff9b::93.184.216.34]/a.png",
        "https://[2002:5db8:d822::1]/a.png",  # 6to4 of a public address
        "https://[2606:4700:4700::1111]/a.png",
    ],
)
def test_it_accepts_an_ipv6_literal_of_a_public_address_without_a_lookup(resolved, url):
    lookups = resolved("10.0.0.1")

    assert media_url_check(url) is None
    assert lookups == []


# --- IPv4 written as one number, in hex or in octal ------------------------------------------


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("https://2130706433/a.png", "127.0.0.1"),
        ("https://0x7f000001/a.png", "127.0.0.1"),
        ("https://0X7F000001/a.png", "127.0.0.1"),
        ("https://0x7f.1/a.png", "127.0.0.1"),
        ("https://0x7F.0.0.1/a.png", "127.0.0.1"),
        ("https://0177.0.0.1/a.png", "127.0.0.1"),
        ("https://017700000001/a.png", "127.0.0.1"),
        ("https://127.1/a.png", "127.0.0.1"),
        ("https://127.0.1/a.png", "127.0.0.1"),
        ("https://0/a.png", "0.0.0.0"),  # noqa: S104
        ("https://0xA9.0xFE.0xA9.0xFE/latest/meta-data/", "169.254.169.254"),
        ("https://2852039166/latest/meta-data/", "169.254.169.254"),
        ("https://3232235777/a.png", "192.168.1.1"),
        ("https://10.1/a.png", "10.0.0.1"),
        ("https://012.0.0.1/a.png", "10.0.0.1"),
        ("https://0x7f.1./a.png", "127.0.0.1"),
        ("https://2130706433./a.png", "127.0.0.1"),
        ("https://127.0.0.1:443/a.png", "127.0.0.1"),
    ],
)
def test_it_refuses_an_internal_ipv4_address_in_any_notation(dns, url, address):
    message = refusal(url)

    assert address in message
    assert "private" in message
    assert dns == []


@pytest.mark.parametrize(
    "url",
    ["https://1572395042/a.png", "https://0x5db8d822/a.png", "https://93.184.0xd822/a.png"],
)
def test_it_refuses_a_public_ipv4_address_not_in_dotted_decimal(dns, url):
    # Not every fetcher reads these forms the same: only the usual one is accepted.
    assert PUBLIC in refusal(url)
    assert dns == []


@pytest.mark.parametrize(
    "url",
    [
        "https://256.0.0.1/a.png",
        "https://1.2.3.4.5/a.png",
        "https://0x100000000/a.png",
        "https://4294967296/a.png",
        "https://1.2.3.09/a.png",
        "https://example.0x/a.png",
        "https://cdn.example.123/a.png",
    ],
)
def test_it_refuses_a_host_that_ends_in_a_number_but_is_no_address(dns, url):
    refusal(url)
    assert dns == []


def test_it_accepts_a_public_address_with_a_trailing_dot_without_a_lookup(resolved):
    lookups = resolved("10.0.0.1")

    assert media_url_check(f"https://{PUBLIC}./a.png") is None
    assert lookups == []


# --- Names for this machine, and hosts written to fool a parser --------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost/a.png",
        "https://LOCALHOST/a.png",
        "https://localhost./a.png",
        "https://media.localhost/a.png",
        "https://intranet/a.png",
        "https://intranet./a.png",
    ],
)
def test_it_refuses_localhost_and_names_of_a_single_label(dns, url):
    assert "public" in refusal(url)
    assert dns == []


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("https://\uff11\uff12\uff17.\uff10.\uff10.\uff11/a.png", "127.0.0.1"),  # full-width
        ("https://127\u30020\u30020\u30021/a.png", "127.0.0.1"),  # ideographic full stops
        ("https://169.254.169.254\uff0e/a.png", "169.254.169.254"),
    ],
)
def test_it_refuses_an_internal_address_written_in_other_unicode_characters(dns, url, address):
    assert address in refusal(url)
    assert dns == []


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1\\@evil.example/a.png",
        "https://evil.example\\@127.0.0.1/a.png",
        "https://evil.example\\.127.0.0.1/a.png",
        "https://cdn.example.com/images\\sale.png",
    ],
)
def test_it_refuses_a_backslash_anywhere_saying_so(dns, url):
    assert "backslash" in refusal(url)
    assert dns == []


@pytest.mark.parametrize(
    "url",
    [
        "https://user@cdn.example.com/a.png",
        "https://user:pw@cdn.example.com/a.png",
        "https://:@cdn.example.com/a.png",
        "https://@cdn.example.com/a.png",
        "https://cdn.example.com@127.0.0.1/a.png",
        "https://127.0.0.1@cdn.example.com/a.png",
        "https://user:pw@10.0.0.1/a.png",
    ],
)
def test_it_refuses_a_user_name_or_password_saying_so(dns, url):
    assert "user name or password" in refusal(url)
    assert dns == []


@pytest.mark.parametrize(
    "url",
    [
        "https://%31%32%37.0.0.1/a.png",
        "https://cdn%2eexample.com/a.png",
        "https://[::1/a.png",
        "https://[not-an-address]/a.png",
        "https://a..b.example/a.png",
        "https://.example.com/a.png",
        "https://cdn.example.com:99999/a.png",
        "https://cdn.example.com:abc/a.png",
        "https://cdn.exa mple.com/a.png",
        "https://127.0.0\t.1/a.png",
        "https://cdn.example.com/a\nb.png",
        "https://cdn.example.com/\x00.png",
        "https://cdn.example.com/a b.png",
        "https://xn--/a.png",
        "https://" + "a" * 64 + ".example.com/a.png",
    ],
)
def test_it_refuses_a_host_or_url_that_parsers_may_read_differently(dns, url):
    refusal(url)
    assert dns == []


# --- Names that resolve to internal addresses ---------------------------------------------------


@pytest.mark.parametrize(
    "addresses",
    [
        ("::127.0.0.1",),
        ("::ffff:127.0.0.1",),
        ("64:ff9b::a9fe:a9fe",),
        ("64:ff9b:1::5db8:d822",),
        ("2002:7f00:1::",),
        (PUBLIC, "2606:4700:4700::1111", "100.64.0.1"),
        ("2606:4700:4700::1111", "::ffff:10.0.0.1", PUBLIC),
    ],
)
def test_it_refuses_a_name_when_any_address_it_resolves_to_is_internal(resolved, addresses):
    lookups = resolved(*addresses)

    assert "media.example.com" in refusal("https://media.example.com/a.png")
    assert lookups == ["media.example.com"]


@pytest.mark.parametrize(
    ("url", "looked_up"),
    [
        ("https://CDN.Example.com./a.png", "cdn.example.com"),
        ("https://b\u00fccher.example/a.png", "xn--bcher-kva.example"),
        ("https://cdn.example.com:8443/a.png", "cdn.example.com"),
    ],
)
def test_it_looks_up_a_public_name_as_a_resolver_would_write_it(resolved, url, looked_up):
    lookups = resolved(PUBLIC, "64:ff9b::5db8:d822")

    assert media_url_check(url) is None
    assert lookups == [looked_up]
