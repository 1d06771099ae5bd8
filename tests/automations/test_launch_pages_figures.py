"""The confirmation's figures in every case the preflight tells apart: quiet hours holding
some contacts until a time said in the organization's zone, a wait before the first message,
a country Twilio has no price for, no estimate at all, nobody to send to; and an ended
launch whose recorded figures are not the preflight's shape."""

from __future__ import annotations

import datetime
import html
import re

import pytest
from django.utils import dateformat, timezone

from automations.models import Launch, LaunchKind, LaunchState
from automations.services.waits import zone_of
from messaging.services import rules
from tests.automations.helpers import active, contact, send, template
from tests.automations.insight_helpers import detail_url, disconnect, table, text
from tests.automations.launch_helpers import MANUAL, manual, run_url, twilio_prices
from tests.connections import pricing_mocks as pricing

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

EVERYONE = {"who": "all"}


@pytest.fixture(autouse=True)
def prices():
    with twilio_prices() as rsps:
        yield rsps


def confirm_page(personas, automation):
    return personas.client("marketer").get(run_url(automation), EVERYONE)


def test_quiet_hours_say_how_many_wait_and_until_when_in_the_organizations_zone(personas):
    now = timezone.now()
    org = personas.org
    # A window open now in UTC and shut twelve hours east of it.
    org.send_window_start = (now - datetime.timedelta(hours=1)).time()
    org.send_window_end = (now + datetime.timedelta(hours=2)).time()
    org.time_zone = "America/New_York"
    org.save(update_fields=["send_window_start", "send_window_end", "time_zone"])
    automation = active(personas, trigger=MANUAL, steps=[send(template(personas))])
    contact(personas, "+14155550001", time_zone="UTC")
    contact(personas, "+14155550002", time_zone="Etc/GMT-12")
    contact(personas, "+14155550003", time_zone="Etc/GMT-12")

    response = confirm_page(personas, automation)

    until = rules.next_allowed_instant(
        now, time_zone="Etc/GMT-12", start=org.send_window_start, end=org.send_window_end
    )
    local = dateformat.format(timezone.localtime(until, zone_of(org.time_zone)), "M j, H:i T")
    assert dict(table(response, "figures"))["Quiet hours"] == (
        f"2 would wait for the sending window, until {local}"
    )
    assert local.endswith(("EST", "EDT"))


def test_a_wait_before_the_first_message_leaves_quiet_hours_untold(personas):
    steps = [{"id": "w1", "type": "wait", "duration": {"days": 1}}, send(template(personas), "s2")]
    automation = active(personas, trigger=MANUAL, steps=steps)
    contact(personas)

    rows = dict(table(confirm_page(personas, automation), "figures"))

    assert rows["Quiet hours"] == "the first message comes after a wait"


def test_a_country_twilio_does_not_price_is_named_outside_the_estimate(personas, prices):
    pricing.unknown_country(prices, "FR")
    automation = manual(personas)
    contact(personas, "+14155550001")
    contact(personas, "+33612345678")

    response = confirm_page(personas, automation)

    assert dict(table(response, "figures"))["Estimated cost"] == "$0.01 USD"
    assert table(response, "cost") == [["US", "1", "$0.0083 USD", "$0.01 USD"]]
    assert "Not in the estimate, as Twilio gives no price for them: FR (1 segment)." in text(
        response
    )


def test_without_a_connection_the_cost_says_why_there_is_no_estimate(personas, connection):
    automation = manual(personas)
    contact(personas)
    disconnect(personas, connection)

    response = confirm_page(personas, automation)

    rows = dict(table(response, "figures"))
    assert rows["Estimated cost"] == "Connect a Twilio account to estimate the cost."
    assert rows["Would enter"] == "1"
    assert "The cost by country" not in text(response)


def test_nobody_to_send_to_offers_no_send_button(personas):
    automation = manual(personas, entry_rules={"has_all_tags": ["vip"]})
    contact(personas)

    response = confirm_page(personas, automation)

    rows = dict(table(response, "figures"))
    assert (rows["Would enter"], rows["Estimated cost"]) == (
        "0",
        "nothing: no message would be sent",
    )
    assert "Nobody would enter now: there is nothing to send." in text(response)
    assert 'name="confirmation"' in response.content.decode()
    assert "Send to" not in text(response)


def test_the_audience_can_be_changed_from_the_confirmation(personas):
    automation = manual(personas)
    client = personas.client("marketer")
    query = {"who": "rules", "has_any_tags": "vip,gold", "custom_key_1": "plan"}

    confirmation = client.get(run_url(automation), {**query, "custom_value_1": "pro"})
    link = re.search(r'href="([^"]+)">Change the audience', confirmation.content.decode())
    assert link
    back = client.get(html.unescape(link.group(1)))

    assert "Contacts with any of the tags vip, gold, whose plan is “pro”" in text(confirmation)
    page = back.content.decode()
    assert "<h1>Run now</h1>" in page
    assert 'value="vip, gold"' in page
    assert 'name="custom_key_1" value="plan"' in page
    assert 'name="custom_value_1" value="pro"' in page
    assert 'value="rules" id="id_who_1" required checked' in page
    assert "field-error" not in page


def test_an_ended_launch_with_figures_of_another_shape_shows_its_counts_only(personas):
    automation = manual(personas)
    Launch.objects.create(
        organization=personas.org,
        automation=automation,
        kind=LaunchKind.MANUAL,
        state=LaunchState.COMPLETED,
        event_key="launch:odd",
        total=3,
        done=3,
        enrolled=3,
        preflight={"audience": 3},  # as an API client may send them back
    )

    [row] = table(personas.client("viewer").get(detail_url(automation)), "launches")

    assert row[3:6] == ["3", "0", "—"]
