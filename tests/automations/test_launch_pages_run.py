"""Run now: the audience form, the confirmation with every preflight figure (each exclusion,
who would enter, quiet hours, segments, the cost per country at the prices a mocked Pricing
API serves), the launch it starts on the figures shown, a stale or tampered confirmation, a
bad audience, and who may run what."""

from __future__ import annotations

import pytest

from automations.models import Launch, LaunchKind
from automations.services.automations import automation_pause
from automations.services.launches import WORKERS
from contacts.services.tags import contact_tags_add
from tests.automations.helpers import active, contact, send, template
from tests.automations.insight_helpers import TAG, WRITERS, contacts, detail_url, table, text
from tests.automations.launch_helpers import (
    audience_of_every_kind,
    figures,
    manual,
    read,
    run_url,
    signed,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued", "priced")]


def tagged(personas, people, tag="vip"):
    for person in people:
        contact_tags_add(contact=person, names=[tag], source="ui")
    return people


def test_run_now_asks_for_the_audience(personas):
    automation = manual(personas)
    tagged(personas, [contact(personas)], "vip")

    response = personas.client("marketer").get(run_url(automation))

    page = response.content.decode()
    assert response.status_code == 200
    for label in (
        "All contacts",
        "The contacts who match these rules",
        "Has all of these tags",
        "Has at least one of these tags",
        "Has none of these tags",
        "Custom field 1",
        "Custom field 1 equals",
    ):
        assert label in page
    assert '<datalist id="organization-tags"><option value="vip">' in page
    assert 'list="organization-tags"' in page
    assert Launch.objects.count() == 0


def test_the_confirmation_shows_each_figure_and_the_cost_per_country(personas):
    automation = audience_of_every_kind(personas)

    response = personas.client("marketer").get(run_url(automation), {"who": "all"})

    assert (
        "Of the 9 contacts of the audience, 4 would enter the automation and 5 are left out."
    ) in text(response)
    assert table(response, "figures") == [
        ["The audience", "9"],
        ["Left out: Opted out", "1"],
        ["Left out: Do not match the entry rules", "1"],
        ["Left out: Already enrolled (re-entry policy)", "1"],
        ["Left out: No valid number (Twilio refused it before)", "1"],
        ["Left out: Reached the frequency cap", "1"],
        ["Would enter", "4"],
        ["Quiet hours", "none"],
        ["Segments of the first message", "4"],
        # 2 segments at 0.0083 and 2 at 0.0470: 0.1106
        ["Estimated cost", "$0.11 USD"],
    ]
    assert table(response, "cost") == [
        ["GB", "2", "$0.0470 USD", "$0.09 USD"],
        ["US", "2", "$0.0083 USD", "$0.02 USD"],
    ]
    assert "All contacts" in text(response)
    assert "Send to 4 contacts" in text(response)
    assert Launch.objects.count() == 0


def test_rules_that_exclude_nobody_show_each_exclusion_as_zero(personas):
    automation = manual(personas)
    tagged(personas, contacts(personas, 2))
    contact(personas, "+14155559999")

    response = personas.client("marketer").get(
        run_url(automation), {"who": "rules", "has_all_tags": "vip"}
    )

    rows = dict(table(response, "figures"))
    assert rows["The audience"] == "2"
    assert [rows[label] for label in rows if label.startswith("Left out")] == ["0"] * 5
    assert "Contacts with the tag vip" in text(response)
    assert "Change the audience" in text(response)


def test_confirming_starts_one_launch_on_the_figures_shown(
    personas, worked, django_capture_on_commit_callbacks
):
    automation = audience_of_every_kind(personas)
    client = personas.client("marketer")
    confirmation = client.get(run_url(automation), {"who": "all"})

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(run_url(automation), {"confirmation": signed(confirmation)})

    launch = Launch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(automation) + "#launches"
    assert (launch.kind, launch.audience, launch.total) == (LaunchKind.MANUAL, {"all": True}, 9)
    assert launch.created_by == personas.marketer
    assert launch.preflight["audience"] == 9
    assert launch.preflight["eligible"] == 4
    assert launch.preflight["excluded"]["frequency_cap"] == 1
    assert launch.preflight["cost"]["total"] == "0.1106"
    assert worked == [launch.pk] * WORKERS
    page = text(client.get(response["Location"]))
    assert "Run now started for the 9 contacts of the audience" in page


def test_a_confirmation_sent_twice_starts_one_launch(
    personas, worked, django_capture_on_commit_callbacks
):
    """A double click, or the form sent again from the browser's history."""
    automation = audience_of_every_kind(personas)
    client = personas.client("marketer")
    form = {"confirmation": signed(client.get(run_url(automation), {"who": "all"}))}

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(run_url(automation), form)
        second = client.post(run_url(automation), form)

    assert (first.status_code, second.status_code) == (302, 302)
    launch = Launch.objects.get()
    assert worked == [launch.pk] * WORKERS


def test_an_audience_changed_since_the_preflight_is_refused_with_fresh_figures(personas, worked):
    automation = manual(personas)
    tagged(personas, contacts(personas, 10))
    client = personas.client("marketer")
    confirmation = client.get(run_url(automation), {"who": "rules", "has_all_tags": "vip"})
    tagged(personas, [contact(personas, f"+1212555{n:04d}") for n in range(5)])

    stale = client.post(run_url(automation), {"confirmation": signed(confirmation)})

    assert stale.status_code == 409
    assert Launch.objects.count() == 0
    assert worked == []
    assert (
        "The audience has changed since the preflight (10 contacts then, 15 now): run the "
        "preflight again and check its figures."
    ) in read(stale)
    assert figures(stale)["The audience"] == "15"
    again = client.post(run_url(automation), {"confirmation": signed(stale)})
    assert again.status_code == 302
    assert Launch.objects.get().total == 15


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({}, "who", "Choose who gets it: all contacts, or those who match."),
        ({"who": "rules"}, "who", "Choose who: all contacts, or at least one tag or custom field."),
        (
            {"who": "rules", "custom_key_1": "Plan!", "custom_value_1": "pro"},
            "custom_key_1",
            "a custom field name starts with a lower-case letter",
        ),
        (
            {"who": "rules", "custom_value_2": "pro"},
            "custom_key_2",
            "Name the custom field this value is for.",
        ),
    ],
)
def test_a_bad_audience_is_shown_next_to_its_field_and_creates_nothing(
    personas, data, field, error
):
    automation = manual(personas)

    # Submitted: the form sends its (here empty) fields.
    response = personas.client("marketer").get(run_url(automation), {"has_all_tags": "", **data})

    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="id_{field}_error">' in page
    assert error in page.split(f'id="id_{field}_error">')[1].split("</p>")[0].replace("&#x27;", "'")
    assert Launch.objects.count() == 0


def test_custom_fields_narrow_the_audience(personas):
    automation = manual(personas)
    contact(personas, "+14155550001", custom_fields={"plan": "pro"})
    contact(personas, "+14155550002", custom_fields={"plan": "free"})

    response = personas.client("marketer").get(
        run_url(automation), {"who": "rules", "custom_key_1": "plan", "custom_value_1": "pro"}
    )

    assert dict(table(response, "figures"))["The audience"] == "1"
    assert "Contacts whose plan is “pro”" in text(response)


def test_a_confirmation_not_signed_here_is_refused(personas):
    automation = manual(personas)
    contacts(personas, 2)

    response = personas.client("marketer").post(run_url(automation), {"confirmation": "forged"})

    assert response.status_code == 400
    assert "These figures are too old to send on" in read(response)
    assert Launch.objects.count() == 0


def test_run_now_is_only_for_an_active_automation_with_the_run_now_trigger(personas):
    tag = active(personas, trigger=TAG, steps=[send(template(personas, "Tag"))], name="Tagged")
    paused = automation_pause(automation=manual(personas), by=personas.marketer)
    client = personas.client("marketer")

    other = client.get(run_url(tag))
    assert other["Location"] == detail_url(tag)
    page = client.get(detail_url(tag))
    assert "Run now is for an automation with the Run now trigger" in text(page)
    assert f'href="{run_url(tag)}"' not in page.content.decode()
    held = client.post(run_url(paused), {"confirmation": "anything"})
    assert held["Location"] == detail_url(paused)
    assert "Activate the automation first" in text(client.get(detail_url(paused)))
    assert Launch.objects.count() == 0


@pytest.mark.parametrize("persona", WRITERS)
def test_writers_are_offered_run_now(personas, persona):
    automation = manual(personas)
    page = personas.client(persona).get(detail_url(automation)).content.decode()
    assert f'href="{run_url(automation)}">Run now</a>' in page


def test_the_viewer_sees_no_run_now_and_may_not_run(personas):
    automation = manual(personas)
    contacts(personas, 2)
    marketer_page = personas.client("marketer").get(run_url(automation), {"who": "all"})
    client = personas.client("viewer")

    assert (
        f'href="{run_url(automation)}"' not in client.get(detail_url(automation)).content.decode()
    )
    assert client.get(run_url(automation)).status_code == 403
    posted = client.post(run_url(automation), {"confirmation": signed(marketer_page)})
    assert posted.status_code == 403
    assert Launch.objects.count() == 0


def test_another_organizations_automation_is_not_found(personas):
    automation = manual(personas)
    client = personas.client("outsider")

    assert client.get(run_url(automation), {"who": "all"}).status_code == 404
    assert client.post(run_url(automation), {"confirmation": "x"}).status_code == 404
