from __future__ import annotations

import ipaddress
import socket

import pytest

from tenants.outbound.models import WebhookDelivery, WebhookEndpoint
from tenants.outbound.services import event_record
from tenants.outbound.services.endpoints import endpoint_create
from tenants.outbound.services.events import subscriptions_forget_all

PUBLIC_ADDRESS = "93.184.215.14"
URL = "https://hooks.example.com/sms-hub"


class Dns:
    """What ``socket.getaddrinfo`` answers in these tests: no test uses DNS."""

    def __init__(self) -> None:
        self.answers: dict[str, list[str]] = {}
        self.asked: list[str] = []

    def __call__(self, host, port, *args, **kwargs):
        self.asked.append(host)
        default = [PUBLIC_ADDRESS]
        try:  # an address is its own answer (Redis, PostgreSQL at 127.0.0.1)
            ipaddress.ip_address(host)
            default = [host]
        except ValueError:
            if host == "localhost":
                default = ["127.0.0.1"]
        addresses = self.answers.get(host, default)
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (a, port),
            )
            for a in addresses
        ]


@pytest.fixture(autouse=True)
def _subscriptions_forgotten():
    """Each test starts and ends with no organization's webhook types kept in the process
    (an organization's id comes again after a rollback)."""
    subscriptions_forget_all()
    yield
    subscriptions_forget_all()


@pytest.fixture(autouse=True)
def dns(monkeypatch) -> Dns:
    answers = Dns()
    monkeypatch.setattr(socket, "getaddrinfo", answers)
    return answers


def make_endpoint(
    organization, *, url: str = URL, event_types=("message.status_changed",), **kwargs
) -> tuple[WebhookEndpoint, str]:
    return endpoint_create(
        organization=organization, url=url, event_types=list(event_types), **kwargs
    )


ALL_TYPES = (
    "message.status_changed",
    "message.received",
    "contact.created",
    "contact.opted_out",
    "contact.opted_in",
    "automation.run_completed",
    "launch.completed",
    "import.completed",
)


def record_event(organization, *, type="message.status_changed", data=None) -> WebhookDelivery:
    """Records one event; its first delivery (to the organization's first endpoint)."""
    event_id = event_record(organization_id=organization.pk, type=type, data=data or {})
    assert event_id is not None
    return WebhookDelivery.objects.select_related("event").filter(event__public_id=event_id)[0]
