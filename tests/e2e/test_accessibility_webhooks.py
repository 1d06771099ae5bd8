"""axe-core on the webhook pages that need an endpoint (its page with attempts, its edit form,
the rotation's confirmation, the secret shown once), as tests/e2e/test_accessibility.py does
for the pages the navigation reaches."""

from __future__ import annotations

import pytest

from tenants.outbound.models import DeliveryState, WebhookDelivery
from tenants.outbound.services import event_record
from tenants.outbound.services.endpoints import endpoint_create
from tests.conftest import require_service
from tests.e2e.helpers import log_in
from tests.e2e.test_accessibility import AXE, AXE_URL, RUN

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_the_webhook_pages_pass_axe_core(open_page, personas, monkeypatch, width):
    require_service("axe-core (npm ci)", AXE.exists())
    monkeypatch.setattr(
        "tenants.public_hosts.resolve_host", lambda host, port=443: ["93.184.215.14"]
    )
    monkeypatch.setattr("tenants.outbound.services.events.wake", lambda: None)
    endpoint, _secret = endpoint_create(
        organization=personas.org,
        url="https://crm.example.com/webhooks/sms-hub",
        description="CRM sync",
        event_types=["message.status_changed", "contact.created"],
    )
    for n, (state, status) in enumerate(
        [
            (DeliveryState.SUCCEEDED, 204),
            (DeliveryState.GIVEN_UP, 500),
            (DeliveryState.PENDING, None),
        ]
    ):
        event_record(organization_id=personas.org.pk, type="contact.created", data={"n": n})
        WebhookDelivery.objects.filter(event__payload__data__n=n).update(
            state=state, status_code=status, response_body="oops" if status == 500 else ""
        )
    page = open_page(width=width)
    page.route(f"**{AXE_URL}", lambda route: route.fulfill(path=str(AXE)))
    log_in(page, "owner@a.example.com")
    base = f"/settings/webhooks/{endpoint.public_id}/"
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        assert page.title().endswith(" · SMS Hub"), name
        assert page.locator("main h1").count() == 1, name
        page.add_script_tag(url=AXE_URL)
        if violations := page.evaluate(RUN):
            found[name] = violations

    for path in [base, f"{base}edit/", f"{base}rotate-secret/", f"{base}delete/"]:
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        check(path)
    page.goto("/settings/webhooks/new/")
    page.fill("#id_url", "https://erp.example.com/hooks")
    page.check("input[value='message.received']")
    page.click("button:text-is('Add endpoint')")
    page.wait_for_selector("h1:text-is('Signing secret')")
    check("the secret")
    assert found == {}
