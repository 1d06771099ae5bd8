"""The preflight: each exclusion counted once, in the engine's order; quiet-hour deferrals and
until when; the first send step's segments per contact's own text; the cost from the prices
Twilio's Pricing API serves, for two countries and two kinds of sender."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import responses
from django.utils import timezone

from automations.models import LaunchKind
from automations.services.audience import audience_contacts
from automations.services.enrolment import contact_enrol
from automations.services.launches import launch_create, launch_preflight
from automations.services.preflight import EXCLUSIONS, preflight_run, preflight_stale
from connections.models import Connection, SenderType, TwilioCredentials
from contacts.models import ConsentSource
from contacts.services.consent import consent_opt_out
from contacts.services.tags import contact_tags_add
from messaging.models import Message, Status
from messaging.services import rules
from tenants.errors import ConflictError
from tests.automations.helpers import ab_split, active, contact, send, template
from tests.connections import pricing_mocks as pricing

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

MANUAL = {"type": "manual"}
# With the opt-out footer: one segment for Ada, two for a long name.
LONG = "x" * 120 + " {{ first_name }}"
EVERYONE = {"all": True}


def priced(rsps: responses.RequestsMock) -> None:
    """US: local 0.0079 / 0.0083 / 0.0081 by carrier, toll free 0.0083; GB: mobile only."""
    pricing.country(rsps, pricing.country_body())
    pricing.country(rsps, pricing.country_body("GB", "United Kingdom", pricing.GB))


def audience_of_every_kind(personas):
    """Ten contacts: one for each exclusion, and five who would enter (three in the US, one
    of them with a long name; two in Great Britain)."""
    org = personas.org
    out = contact(personas, "+14155550001")
    consent_opt_out(organization=org, phone=out.phone, source=ConsentSource.USER)
    rival = contact(personas, "+14155550002")
    contact_tags_add(contact=rival, names=["competitor"], source="ui")
    enrolled = contact(personas, "+14155550003")
    invalid = contact(personas, "+14155550004")
    capped = contact(personas, "+14155550005")
    org.frequency_cap = 1
    org.save(update_fields=["frequency_cap"])
    for phone, extra in (
        (invalid.phone, {"status": Status.FAILED, "error_code": 21211}),
        (capped.phone, {"status": Status.SENT, "sid": "SM" + "c" * 32}),
    ):
        Message.objects.create(
            organization=org,
            to=phone,
            body="Earlier",
            submitted_at=timezone.now() - datetime.timedelta(hours=1),
            **extra,
        )
    contact(personas, "+14155550006")
    contact(personas, "+14155550007")
    contact(personas, "+14155550008", first_name="Bartholomew-Maximilian Longname")
    contact(personas, "+447400123456")
    contact(personas, "+447400123457")
    automation = active(
        personas,
        trigger=MANUAL,
        steps=[send(template(personas, body=LONG), respect_quiet_hours=False)],
        entry_rules={"lacks_tags": ["competitor"]},
    )
    contact_enrol(automation=automation, contact_id=enrolled.pk, key="earlier", source="ui")
    return automation


def test_each_exclusion_is_counted_once_and_the_rest_would_enter(personas):
    automation = audience_of_every_kind(personas)
    with responses.RequestsMock() as rsps:
        priced(rsps)
        preflight = launch_preflight(automation=automation, audience=EVERYONE)

    assert preflight.audience == 10
    assert preflight.excluded == dict.fromkeys(EXCLUSIONS, 1)
    assert preflight.eligible == 5
    assert (preflight.send_step, preflight.send_waits) == ("s1", False)
    assert (preflight.deferred, preflight.deferred_until) == (0, None)
    # Four one-segment texts and one of two: each contact's own text, not the template's.
    assert preflight.segments == 6


def test_a_contact_excluded_twice_counts_under_the_first_rule(personas):
    automation = active(personas, trigger=MANUAL, steps=[send(template(personas))])
    both = contact(personas, "+14155550001")
    consent_opt_out(organization=personas.org, phone=both.phone, source=ConsentSource.USER)
    contact_enrol(automation=automation, contact_id=both.pk, key="earlier", source="ui")
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        preflight = launch_preflight(automation=automation, audience=EVERYONE)

    assert preflight.excluded["opted_out"] == 1
    assert preflight.excluded["reentry"] == 0
    assert (preflight.audience, preflight.eligible, preflight.segments) == (1, 0, 0)


def test_the_cost_is_the_segments_per_country_at_the_prices_twilio_serves(personas):
    automation = audience_of_every_kind(personas)
    with responses.RequestsMock() as rsps:
        priced(rsps)
        figures = launch_preflight(automation=automation, audience=EVERYONE).as_dict()

    # A local number: the US's dearest local price, Great Britain's dearest mobile price.
    assert figures["cost"] == {
        "available": True,
        "unavailable": "",
        "currency": "USD",
        "total": str(Decimal("0.0083") * 4 + Decimal("0.0470") * 2),
        "lines": [
            {"country": "GB", "segments": 2, "unit_price": "0.0470", "subtotal": "0.0940"},
            {"country": "US", "segments": 4, "unit_price": "0.0083", "subtotal": "0.0332"},
        ],
        "unpriced": [],
    }


def test_a_toll_free_sender_is_priced_as_toll_free_and_unpriced_where_there_is_none(personas):
    automation = audience_of_every_kind(personas)
    TwilioCredentials.objects.filter(connection__organization=personas.org).update(
        sender_type=SenderType.TOLL_FREE
    )
    with responses.RequestsMock() as rsps:
        priced(rsps)
        cost = launch_preflight(automation=automation, audience=EVERYONE).cost

    assert [(line.country, line.segments, line.unit_price) for line in cost.lines] == [
        ("US", 4, Decimal("0.0083"))
    ]
    assert [(c.country, c.segments) for c in cost.unpriced] == [("GB", 2)]
    assert cost.total == Decimal("0.0332")


def test_prices_are_asked_once_a_day_per_country(personas):
    automation = audience_of_every_kind(personas)
    with responses.RequestsMock() as rsps:
        priced(rsps)
        launch_preflight(automation=automation, audience=EVERYONE)
        launch_preflight(automation=automation, audience=EVERYONE)
        assert len(rsps.calls) == 2  # US and GB, once each


def test_an_ab_split_counts_each_variants_share(personas):
    short, long = template(personas, "Short", "Hi"), template(personas, "Long", "y" * 200)
    automation = active(
        personas, trigger=MANUAL, steps=[ab_split((short, 3), (long, 1), respect_quiet_hours=False)]
    )
    for n in range(4):
        contact(personas, f"+1415555010{n}")
    with responses.RequestsMock() as rsps:
        pricing.country(rsps, pricing.country_body())
        preflight = launch_preflight(automation=automation, audience=EVERYONE)

    # Three quarters of 4 contacts at 1 segment, a quarter at 2.
    assert preflight.segments == 5


def test_quiet_hours_count_who_would_wait_and_until_when(personas):
    now = timezone.now().replace(second=0, microsecond=0)
    org = personas.org
    # A window open now in UTC and shut twelve hours east of it.
    org.send_window_start = (now - datetime.timedelta(hours=1)).time()
    org.send_window_end = (now + datetime.timedelta(hours=2)).time()
    org.save(update_fields=["send_window_start", "send_window_end"])
    automation = active(personas, trigger=MANUAL, steps=[send(template(personas))])
    contact(personas, "+14155550001", time_zone="UTC")
    contact(personas, "+14155550002", time_zone="Etc/GMT-12")
    contact(personas, "+14155550003", time_zone="Etc/GMT-12")
    with responses.RequestsMock() as rsps:
        pricing.country(rsps, pricing.country_body())
        preflight = preflight_run(
            automation=automation,
            contacts=audience_contacts(org, EVERYONE),
            now=now,
        )

    expected = rules.next_allowed_instant(
        now, time_zone="Etc/GMT-12", start=org.send_window_start, end=org.send_window_end
    )
    assert expected > now
    assert (preflight.deferred, preflight.deferred_until) == (2, expected)
    assert preflight.as_dict()["deferred_until"] == expected.isoformat()


def test_a_wait_before_the_first_send_leaves_deferrals_untold(personas):
    steps = [{"id": "w1", "type": "wait", "duration": {"days": 1}}, send(template(personas), "s2")]
    automation = active(personas, trigger=MANUAL, steps=steps)
    contact(personas, "+14155550001")
    with responses.RequestsMock() as rsps:
        pricing.country(rsps, pricing.country_body())
        preflight = launch_preflight(automation=automation, audience=EVERYONE)

    assert (preflight.send_step, preflight.send_waits, preflight.deferred) == ("s2", True, 0)
    assert preflight.segments == 1


def test_the_audience_rules_narrow_what_is_counted(personas):
    automation = audience_of_every_kind(personas)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        priced(rsps)
        preflight = launch_preflight(automation=automation, audience={"has_any_tags": "competitor"})

    assert (preflight.audience, preflight.excluded["entry_rules"], preflight.eligible) == (1, 1, 0)


def test_without_a_connection_the_cost_says_why(personas):
    automation = audience_of_every_kind(personas)
    Connection.objects.filter(organization=personas.org).delete()
    preflight = launch_preflight(automation=automation, audience=EVERYONE)

    assert not preflight.cost.available
    assert "Connect a Twilio account" in preflight.cost.unavailable
    assert preflight.cost.unpriced_segments == preflight.segments == 6


def test_a_backfill_of_a_tag_automation_counts_the_tagged(personas):
    automation = active(
        personas, trigger={"type": "tag_added", "tag": "vip"}, steps=[send(template(personas))]
    )
    tagged = [contact(personas, f"+1415555000{n}") for n in (1, 2)]
    for one in tagged:
        contact_tags_add(contact=one, names=["VIP"], source="ui")
    contact(personas, "+14155550003")
    contact_enrol(automation=automation, contact_id=tagged[0].pk, key="tagged", source="ui")
    with responses.RequestsMock() as rsps:
        pricing.country(rsps, pricing.country_body())
        preflight = launch_preflight(automation=automation, kind=LaunchKind.BACKFILL)

    # The one the tag enrolled already would not be enrolled twice.
    assert (preflight.audience, preflight.excluded["reentry"], preflight.eligible) == (2, 1, 1)


def test_a_launch_refuses_a_preflight_the_audience_has_outgrown(personas):
    automation = active(personas, trigger=MANUAL, steps=[send(template(personas))])
    for n in range(10):
        contact(personas, f"+1415555010{n}")
    with responses.RequestsMock() as rsps:
        pricing.country(rsps, pricing.country_body())
        figures = launch_preflight(automation=automation, audience=EVERYONE).as_dict()
    contact(personas, "+14155550200")

    with pytest.raises(ConflictError) as refused:
        launch_create(automation=automation, audience=EVERYONE, preflight=figures)
    assert refused.value.code == "preflight_stale"
    assert "10 contacts then, 11 now" in str(refused.value)
    assert not automation.launches.exists()


@pytest.mark.parametrize(
    ("then", "now", "stale"),
    [(1000, 1010, False), (1000, 990, False), (1000, 1011, True), (0, 0, False), (0, 1, True)],
)
def test_the_audience_may_change_by_one_percent(then, now, stale):
    assert bool(preflight_stale({"audience": then}, now)) is stale


@pytest.mark.parametrize("recorded", [{}, {"audience": "10"}, {"audience": True}, {"audience": -1}])
def test_figures_without_an_audience_are_refused(recorded):
    assert "Run the preflight first" in preflight_stale(recorded, 10)
