"""The dashboard with figures in it, in a browser at the desktop's and the phone's width: axe-core
finds no serious violation in its charts and tables, nothing overflows a 390 px screen, and a
chart's numbers are readable in its table view without JavaScript doing anything."""

from __future__ import annotations

import datetime

import pytest

from messaging.models import Direction, Message, Status
from tests.conftest import require_service
from tests.connections.helpers import connect
from tests.e2e.helpers import log_in
from tests.e2e.test_accessibility import AXE, AXE_URL, RUN

pytestmark = pytest.mark.django_db(transaction=True)


def texts(personas) -> None:
    now = datetime.datetime.now(datetime.UTC)
    outcomes = [Status.DELIVERED, Status.UNDELIVERED, Status.FAILED, Status.SENT] + [
        Status.DELIVERED
    ] * 3
    for n, status in enumerate(outcomes):
        message = Message.objects.create(
            organization=personas.org,
            to=f"+1415555{n:04d}",
            body="Hi",
            status=status,
            segments=1,
            sid=f"SM{n:032x}",
            error_code={Status.UNDELIVERED: 30003, Status.FAILED: 30034}.get(status),
        )
        Message.objects.filter(pk=message.pk).update(created_at=now - datetime.timedelta(days=n))
    Message.objects.create(
        organization=personas.org,
        direction=Direction.INBOUND,
        to="+14155550100",
        body="Thanks!",
        status=Status.RECEIVED,
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_the_dashboard_with_figures_is_accessible_and_fits(open_page, personas, width):
    require_service("axe-core (npm ci)", AXE.exists())
    connect(personas)
    texts(personas)
    page = open_page(width=width)
    page.route(f"**{AXE_URL}", lambda route: route.fulfill(path=str(AXE)))
    log_in(page, "viewer@a.example.com")
    page.goto("/?period=7d")
    assert page.locator("main h1").inner_text() == "Acme A"
    assert page.locator("figure svg[role=img]").count() == 2  # messages; replies and opt-outs
    page.add_script_tag(url=AXE_URL)
    assert page.evaluate(RUN) == []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    # The first chart's numbers, in its table view.
    page.locator("figure details summary").first.click()
    table = page.locator("figure details table").first
    assert table.is_visible()
    header = [cell.inner_text() for cell in table.locator("thead th").all()]
    assert header[-3:] == ["Delivered", "Undelivered or failed", "Sent, no final status yet"]
    assert table.locator("tbody tr").count() == 7
    failures = page.locator("table.failures tbody tr")
    assert failures.count() == 2
    assert (
        "Register the number for A2P 10DLC"
        in failures.first.inner_text() + failures.last.inner_text()
    )
