"""Shared by the launch page tests: the pages' addresses, Twilio's prices served by a mocked
Pricing API (so that no preflight ever asks the real one), an audience with a contact for
each exclusion, the confirmation's signed figures read back, and the launch tasks recorded."""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import responses
from django.utils import timezone

from automations.models import Automation, Launch
from automations.services.enrolment import contact_enrol
from contacts.models import ConsentSource
from contacts.services.consent import consent_opt_out
from contacts.services.tags import contact_tags_add
from messaging.models import Message, Status
from tests.automations.helpers import active, contact, send, template
from tests.connections import pricing_mocks as pricing

MANUAL = {"type": "manual"}


def _page(tail: str) -> Any:
    return lambda automation: f"/automations/{automation.public_id}/{tail}"


run_url = _page("run/")
backfill_url = _page("backfill/")
launches_url = _page("launches/")
fragment_url = _page("launches/fragment/")


def cancel_url(launch: Launch) -> str:
    return f"/automations/{launch.automation.public_id}/launches/{launch.public_id}/cancel/"


@contextmanager
def twilio_prices() -> Iterator[responses.RequestsMock]:
    """US (local: the fixture's dearest 0.0083) and Great Britain (mobile: 0.0470), served
    as often as asked; any other request fails rather than leaves the machine."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        pricing.country(rsps, pricing.country_body())
        pricing.country(rsps, pricing.country_body("GB", "United Kingdom", pricing.GB))
        yield rsps


def manual(personas: Any, **definition: Any) -> Automation:
    steps = [send(template(personas, body="Hi {{ first_name }}!"), respect_quiet_hours=False)]
    return active(personas, trigger=MANUAL, steps=steps, **definition)


def audience_of_every_kind(personas: Any) -> Automation:
    """Nine contacts: one for each exclusion (opted out, tagged competitor against the entry
    rules, enrolled before under "once", a number Twilio refused with 21211, at the frequency
    cap of 1), and four who would enter, two in the US and two in Great Britain."""
    org = personas.org
    out = contact(personas, "+14155550001")
    consent_opt_out(organization=org, phone=out.phone, source=ConsentSource.USER)
    rival = contact(personas, "+14155550002")
    contact_tags_add(contact=rival, names=["competitor"], source="ui")
    enrolled = contact(personas, "+14155550003")
    org.frequency_cap = 1
    org.save(update_fields=["frequency_cap"])
    for phone, extra in (
        ("+14155550004", {"status": Status.FAILED, "error_code": 21211}),
        ("+14155550005", {"status": Status.SENT, "sid": "SM" + "c" * 32}),
    ):
        contact(personas, phone)
        Message.objects.create(
            organization=org,
            to=phone,
            body="Earlier",
            submitted_at=timezone.now() - datetime.timedelta(hours=1),
            **extra,
        )
    for phone in ("+14155550006", "+14155550007", "+447400123456", "+447400123457"):
        contact(personas, phone)
    automation = manual(personas, entry_rules={"lacks_tags": ["competitor"]})
    contact_enrol(automation=automation, contact_id=enrolled.pk, key="earlier", source="ui")
    return automation


def read(response: Any) -> str:
    """The page's text as a person reads it, whatever its status (a refusal's page too)."""
    return read_html(response.content.decode())


def figures(response: Any) -> dict[str, str]:
    """The confirmation's table of figures, label to value, whatever the page's status."""
    found = re.search(
        r'<table class="table figures">(.*?)</table>', response.content.decode(), re.S
    )
    assert found, "no figures"
    cells = re.findall(r"<th[^>]*>(.*?)</th><td>(.*?)</td>", found.group(1), re.S)
    return {read_html(label): read_html(value) for label, value in cells}


def read_html(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def signed(response: Any) -> str:
    """The confirmation form's signed figures."""
    found = re.search(r'name="confirmation" value="([^"]+)"', response.content.decode())
    assert found, "no confirmation form"
    return found.group(1)
