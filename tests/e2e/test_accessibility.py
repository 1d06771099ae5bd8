"""axe-core (the npm package, served to the browser by the test) on every page the navigation
reaches and the pages their main buttons open: no serious or critical violation, at the
desktop's and the phone's width; and each has its own title and one main heading."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import require_service
from tests.e2e.helpers import log_in

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_URL = "/__tests__/axe.min.js"  # answered by the test, never by the app
PAGES = [
    "/",
    "/connections/",
    "/connections/twilio/connect/",
    "/contacts/",
    "/contacts/new/",
    "/contacts/import/",
    "/messages/",
    "/templates/",
    "/templates/new/",
    "/automations/",
    "/automations/new/",
    "/settings/",
    "/settings/members/",
    "/settings/api-keys/",
    "/settings/webhooks/",
    "/settings/webhooks/new/",
    "/settings/audit-log/",
    "/account/two-factor/",
]
# What axe reports, in words a failure message can show.
RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.id} (${v.impact}): ` +
      v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "));
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_passes_axe_core(open_page, personas, width):
    require_service("axe-core (npm ci)", AXE.exists())
    page = open_page(width=width)
    page.route(f"**{AXE_URL}", lambda route: route.fulfill(path=str(AXE)))
    log_in(page, "owner@a.example.com")
    found: dict[str, list[str]] = {}
    for path in PAGES:
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        # Every page says what it is: its own title and one main heading.
        assert page.title().endswith(" · SMS Hub"), path
        assert page.title() != "SMS Hub · SMS Hub", path
        assert page.locator("main h1").count() == 1, path
        page.add_script_tag(url=AXE_URL)
        if violations := page.evaluate(RUN):
            found[path] = violations
    assert found == {}
