"""An endpoint's URL must be public https: refused at save, and again right before every
attempt (a name's DNS answer can change), where the connection goes to the address checked."""

from __future__ import annotations

import http.server
import threading

import pytest
from django.test import override_settings

from tenants.errors import ApplicationError
from tenants.outbound.models import DeliveryState, WebhookEndpoint
from tenants.outbound.services.delivery import delivery_attempt
from tenants.outbound.services.endpoints import endpoint_update
from tests.outbound.conftest import URL, make_endpoint, record_event

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://hooks.example.com/", "must be an https:// address"),
        ("ftp://hooks.example.com/", "must be an https:// address"),
        ("https://localhost/hook", "is not a public host name"),
        ("https://intranet/hook", "is not a public host name"),
        ("https://127.0.0.1/hook", "is a private, loopback, link-local"),
        ("https://10.1.2.3/hook", "is a private"),
        ("https://192.168.0.10/hook", "is a private"),
        ("https://169.254.169.254/latest/meta-data/", "is a private"),
        ("https://[fd00:ec2::254]/latest/", "is a private"),
        ("https://[::1]/hook", "is a private"),
        ("https://[::ffff:127.0.0.1]/hook", "is a private"),
        ("https://100.64.1.1/hook", "is a private"),
        ("https://224.0.0.1/hook", "is a private"),
        ("https://0.0.0.0/hook", "is a private"),
        ("https://2130706433/hook", "is a private"),  # 127.0.0.1 as one number
        ("https://0x7f.1/hook", "is a private"),
        ("https://0177.0.0.1/hook", "is a private"),  # 127.0.0.1 in octal
        ("https://017700000001/hook", "is a private"),  # 127.0.0.1 as one octal number
        ("https://user:pw@hooks.example.com/", "must not contain a user name or password"),
        ("https://hooks.example.com\\@10.0.0.1/", "must not contain a backslash"),
        ("https://hooks.example.com/a b", "must not contain spaces"),
        ("https://" + "a" * 2000 + ".com/", "longer than 2000 characters"),
        ("", "Give the URL"),
    ],
)
def test_a_url_inside_a_network_is_refused_at_save(personas, url, says):
    with pytest.raises(ApplicationError) as refused:
        make_endpoint(personas.org, url=url)
    assert says in " ".join(refused.value.fields["url"])
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "addresses",
    [
        ["10.0.0.5"],
        ["93.184.215.14", "127.0.0.1"],
        ["169.254.169.254"],
        ["fd00:ec2::254"],
        ["100.100.100.200"],
    ],
)
def test_a_name_resolving_to_any_internal_address_is_refused_at_save(personas, dns, addresses):
    dns.answers["hooks.example.com"] = addresses
    with pytest.raises(ApplicationError) as refused:
        make_endpoint(personas.org)
    assert "hooks.example.com is a private" in refused.value.fields["url"][0]


def test_a_name_that_does_not_resolve_is_refused_at_save(personas, dns):
    dns.answers["hooks.example.com"] = []
    with pytest.raises(ApplicationError) as refused:
        make_endpoint(personas.org)
    assert refused.value.fields["url"] == ["hooks.example.com does not resolve to an address."]


def test_a_change_of_url_is_checked_too(personas):
    endpoint, _ = make_endpoint(personas.org)
    with pytest.raises(ApplicationError):
        endpoint_update(endpoint=endpoint, url="https://10.0.0.1/")
    endpoint.refresh_from_db()
    assert endpoint.url == URL


def test_a_name_that_now_resolves_inside_is_refused_at_send(personas, dns, rsps):
    make_endpoint(personas.org)
    # Saved while public; the name's answer flips to the loopback (DNS rebinding).
    dns.answers["hooks.example.com"] = ["127.0.0.1"]
    delivery = record_event(personas.org)
    assert delivery_attempt(delivery.pk) == DeliveryState.FAILED
    delivery.refresh_from_db()
    assert delivery.error.startswith("Not sent: hooks.example.com is a private, loopback")
    assert delivery.status_code is None
    assert len(rsps.calls) == 0  # nothing was posted anywhere


def test_private_addresses_are_allowed_only_with_the_development_setting(personas, dns):
    dns.answers["receiver.local.test"] = ["127.0.0.1"]
    with override_settings(OUTBOUND_WEBHOOKS_ALLOW_PRIVATE=True):
        endpoint, _ = make_endpoint(personas.org, url="http://receiver.local.test:8001/hook")
        assert endpoint.url == "http://receiver.local.test:8001/hook"
        make_endpoint(personas.org, url="http://localhost:8001/hook")
    with pytest.raises(ApplicationError):
        make_endpoint(personas.org, url="http://receiver.local.test:8001/hook")


class _Receiver(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str, bytes]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.headers["Host"], self.headers["webhook-id"], body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_connection_goes_to_the_address_checked(personas, dns, monkeypatch):
    """The name is resolved once, for the check; the socket connects to that address and
    the request still names the host (here an address no real DNS knows). A proxy from the
    environment is not used: it would be one more hop between the check and the receiver."""
    monkeypatch.setenv("HTTP_PROXY", "http://10.255.255.1:3128")
    server = http.server.HTTPServer(("127.0.0.1", 0), _Receiver)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    dns.answers["receiver.invalid"] = ["127.0.0.1"]
    try:
        with override_settings(OUTBOUND_WEBHOOKS_ALLOW_PRIVATE=True):
            make_endpoint(personas.org, url=f"http://receiver.invalid:{port}/hook")
            delivery = record_event(personas.org, data={"a": 1})
            dns.asked.clear()
            assert delivery_attempt(delivery.pk) == DeliveryState.SUCCEEDED
    finally:
        server.shutdown()
    assert dns.asked.count("receiver.invalid") == 1
    host, webhook_id, body = _Receiver.seen[-1]
    assert host == f"receiver.invalid:{port}"
    assert webhook_id.startswith("evt_")
    assert b'"data":{"a":1}' in body
