"""``POST /api/v1/automations/<id>/preflight/``: the figures of a launch before anyone is
texted, the cost priced from Twilio's Pricing API (mocked at the HTTP level) for a local
number and for a toll-free number."""

from __future__ import annotations

import datetime

import pytest
import responses

from automations.models import Launch
from automations.services.automations import automation_create
from automations.services.enrolment import contact_enrol
from connections.models import SenderType, TwilioCredentials
from contacts.models import ConsentSource
from contacts.services.consent import consent_opt_out
from contacts.services.tags import contact_tags_add
from tests.automations.api_helpers import TAG, error, url
from tests.automations.helpers import active, contact, send, template
from tests.connections import pricing_mocks as pricing

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

MANUAL = {"type": "manual"}
EVERYONE = {"audience": {"all": True}}
# With the opt-out footer: one segment for Ada, two for a long first name.
LONG = "x" * 120 + " {{ first_name }}"
# {carrier: {number type: price}}: an estimate takes a country's dearest carrier.
US = {
    "AT&T": {"local": "0.0079", "toll free": "0.0091"},
    "Verizon": {"local": "0.0083", "toll free": "0.0088"},
}
GB = {"EE": {"mobile": "0.0463", "toll free": "0.0512"}, "Vodafone": {"mobile": "0.0470"}}


def priced(rsps: responses.RequestsMock) -> None:
    pricing.country(rsps, pricing.country_body("US", "United States", US))
    pricing.country(rsps, pricing.country_body("GB", "United Kingdom", GB))


def fixture_audience(personas):
    """Seven contacts: one opted out, one the entry rules keep out, and five who would enter
    (three in the US, one of them with a long name, and two in Great Britain)."""
    out = contact(personas, "+14155550001")
    consent_opt_out(organization=personas.org, phone=out.phone, source=ConsentSource.USER)
    rival = contact(personas, "+14155550002")
    contact_tags_add(contact=rival, names=["competitor"], source="ui")
    contact(personas, "+14155550003")
    contact(personas, "+14155550004")
    contact(personas, "+14155550005", first_name="Bartholomew-Maximilian Longname")
    contact(personas, "+447712345678")
    contact(personas, "+447723456789")
    return active(
        personas,
        trigger=MANUAL,
        steps=[send(template(personas, body=LONG), respect_quiet_hours=False)],
        entry_rules={"lacks_tags": ["competitor"]},
    )


def preflight(api, automation, data):
    with responses.RequestsMock() as rsps:
        priced(rsps)
        return api.post(url(automation, "preflight/"), data, "json")


def figures_without_cost(answer):
    return {k: v for k, v in answer.items() if k not in ("cost", "at")}


def test_the_figures_for_a_local_number_are_twilios_prices_times_the_segments(personas):
    automation = fixture_audience(personas)

    response = preflight(personas.api("marketer"), automation, EVERYONE)

    assert response.status_code == 200, response.content
    answer = response.json()
    assert figures_without_cost(answer) == {
        "audience": 7,
        "excluded": {
            "opted_out": 1,
            "entry_rules": 1,
            "reentry": 0,
            "no_valid_number": 0,
            "frequency_cap": 0,
        },
        "eligible": 5,
        "send_step": "s1",
        "send_waits": False,
        "deferred": 0,
        "deferred_until": None,
        "segments": 6,
    }
    # A local number: the US's dearest local price, Great Britain's dearest mobile price.
    assert answer["cost"] == {
        "available": True,
        "unavailable": "",
        "currency": "USD",
        "total": "0.1272",  # 4 * 0.0083 + 2 * 0.0470
        "lines": [
            {"country": "GB", "segments": 2, "unit_price": "0.0470", "subtotal": "0.0940"},
            {"country": "US", "segments": 4, "unit_price": "0.0083", "subtotal": "0.0332"},
        ],
        "unpriced": [],
    }
    assert datetime.datetime.fromisoformat(answer["at"])
    assert not Launch.objects.exists()


def test_a_toll_free_sender_is_priced_at_the_toll_free_prices(personas):
    automation = fixture_audience(personas)
    TwilioCredentials.objects.filter(connection__organization=personas.org).update(
        sender_type=SenderType.TOLL_FREE
    )

    response = preflight(personas.api("admin"), automation, EVERYONE)

    assert response.status_code == 200, response.content
    answer = response.json()
    assert (answer["eligible"], answer["segments"]) == (5, 6)
    assert answer["cost"] == {
        "available": True,
        "unavailable": "",
        "currency": "USD",
        "total": "0.1388",  # 4 * 0.0091 + 2 * 0.0512
        "lines": [
            {"country": "GB", "segments": 2, "unit_price": "0.0512", "subtotal": "0.1024"},
            {"country": "US", "segments": 4, "unit_price": "0.0091", "subtotal": "0.0364"},
        ],
        "unpriced": [],
    }


def test_an_audience_of_tags_counts_only_its_contacts(personas):
    automation = fixture_audience(personas)
    for phone in ("+14155550003", "+447712345678"):
        contact_tags_add(
            contact=automation.organization.contacts.get(phone=phone), names=["vip"], source="ui"
        )

    response = preflight(
        personas.api("marketer"), automation, {"audience": {"has_all_tags": ["vip"]}}
    )

    assert response.status_code == 200, response.content
    answer = response.json()
    assert (answer["audience"], answer["eligible"], answer["segments"]) == (2, 2, 2)
    assert answer["cost"]["total"] == "0.0553"  # 0.0083 + 0.0470


def test_the_backfill_counts_who_already_matches_the_trigger(personas):
    automation = active(
        personas, trigger=TAG, steps=[send(template(personas), respect_quiet_hours=False)]
    )
    tagged = [contact(personas, phone) for phone in ("+14155550001", "+14155550002")]
    for person in tagged:
        contact_tags_add(contact=person, names=["new-lead"], source="ui")
    contact(personas, "+14155550003")
    contact_enrol(automation=automation, contact_id=tagged[0].pk, key="earlier", source="ui")

    with responses.RequestsMock() as rsps:
        pricing.country(rsps, pricing.country_body("US", "United States", US))
        response = personas.api("marketer").post(
            url(automation, "preflight/"), {"kind": "backfill"}, "json"
        )

    assert response.status_code == 200, response.content
    answer = response.json()
    # The tagged two; the one enrolled already is kept out by the re-entry policy (once).
    assert (answer["audience"], answer["excluded"]["reentry"], answer["eligible"]) == (2, 1, 1)
    assert answer["cost"]["lines"] == [
        {"country": "US", "segments": 1, "unit_price": "0.0083", "subtotal": "0.0083"}
    ]


def test_a_backfill_with_an_audience_is_400(personas):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])

    response = personas.api("marketer").post(
        url(automation, "preflight/"), {"kind": "backfill", **EVERYONE}, "json"
    )

    assert response.status_code == 400, response.content
    assert set(error(response)["fields"]) == {"audience"}


def test_a_manual_trigger_has_no_backfill(personas):
    automation = fixture_audience(personas)

    response = personas.api("marketer").post(
        url(automation, "preflight/"), {"kind": "backfill"}, "json"
    )

    assert response.status_code == 409, response.content
    assert error(response)["code"] == "no_backfill"


@pytest.mark.parametrize(
    ("sent", "fields"),
    [
        ({}, {"audience"}),
        ({"audience": {}}, {"audience"}),
        ({"audience": {"has_all_tags": [1]}}, {"audience.has_all_tags"}),
        ({"audience": {"custom_fields": "pro"}}, {"audience.custom_fields"}),
        ({"audience": {"all": True}, "kind": "bulk_event"}, {"kind"}),
    ],
)
def test_a_bad_audience_or_kind_is_400_naming_the_field(personas, sent, fields):
    automation = fixture_audience(personas)

    response = personas.api("marketer").post(url(automation, "preflight/"), sent, "json")

    assert response.status_code == 400, response.content
    assert set(error(response)["fields"]) == fields


def test_a_never_activated_automation_has_no_preflight(personas):
    draft = automation_create(
        organization=personas.org,
        name="Draft",
        definition={"trigger": MANUAL, "steps": [send(template(personas))]},
        complete=True,
    )

    response = personas.api("marketer").post(url(draft, "preflight/"), EVERYONE, "json")

    assert response.status_code == 409, response.content
    assert error(response)["code"] == "automation_not_active"
