"""The backfill on activation: activating a tag automation whose tag some contacts already
have leads to its page, which offers to enrol them; the offer leads to the confirmation with
the preflight's figures and then to a backfill launch; the offer stays while the automation
is active and not backfilled, and only writers get it."""

from __future__ import annotations

import pytest

from automations.models import Launch, LaunchKind
from automations.services.automations import automation_pause
from automations.services.launches import WORKERS
from contacts.services.tags import contact_tags_add
from tests.automations.helpers import active, contact, send, template
from tests.automations.insight_helpers import TAG, contacts, detail_url, table, text
from tests.automations.launch_helpers import (
    backfill_url,
    manual,
    read,
    signed,
)
from tests.automations.page_helpers import (
    action_path,
    add_template,
    draft_automation,
    edit_path,
    send_step,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued", "priced")]


def new_leads(personas, count: int) -> None:
    """Contacts with the trigger's tag (new-lead), tagged before the automation is active."""
    for person in contacts(personas, count):
        contact_tags_add(contact=person, names=["new-lead"], source="ui")


def offer(count: int) -> str:
    return f"{count} contacts already match: also enrol them?"


def test_activating_offers_the_contacts_already_tagged_and_enrols_them_on_confirmation(
    personas, worked, django_capture_on_commit_callbacks
):
    automation = draft_automation(personas.org, steps=[send_step(add_template(personas.org))])
    new_leads(personas, 3)
    contact(personas, "+14155559999")  # without the tag
    client = personas.client("marketer")

    activated = client.post(action_path(automation, "activate"))

    assert activated["Location"] == detail_url(automation) + "#backfill"
    page = client.get(activated["Location"])
    assert "“Welcome new leads” is active (version 1 published)" in text(page)
    assert offer(3) in text(page)
    assert f'href="{backfill_url(automation)}"' in page.content.decode()

    confirmation = client.get(backfill_url(automation))
    assert "Enrol the contacts who already match?" in text(confirmation)
    assert "Contacts with the tag new-lead" in text(confirmation)
    rows = dict(table(confirmation, "figures"))
    assert (rows["The audience"], rows["Would enter"]) == ("3", "3")
    assert "Enrol 3 contacts" in text(confirmation)
    assert Launch.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(backfill_url(automation), {"confirmation": signed(confirmation)})

    launch = Launch.objects.get()
    assert (launch.kind, launch.total, launch.created_by) == (
        LaunchKind.BACKFILL,
        3,
        personas.marketer,
    )
    assert launch.audience == {"has_all_tags": ["new-lead"]}
    assert (launch.preflight["audience"], launch.preflight["eligible"]) == (3, 3)
    assert worked == [launch.pk] * WORKERS
    after = text(client.get(started["Location"]))
    assert "Enrolling the 3 contacts who already match" in after
    assert "already match: also enrol them?" not in after


def test_one_contact_already_matching_is_said_in_the_singular(personas):
    automation = draft_automation(personas.org, steps=[send_step(add_template(personas.org))])
    new_leads(personas, 1)
    client = personas.client("marketer")

    activated = client.post(action_path(automation, "activate"))

    assert "1 contact already matches: also enrol them?" in text(client.get(activated["Location"]))


def test_activating_with_nobody_matching_goes_back_to_the_editor(personas):
    automation = draft_automation(personas.org, steps=[send_step(add_template(personas.org))])
    contact(personas)

    activated = personas.client("marketer").post(action_path(automation, "activate"))

    assert activated["Location"] == edit_path(automation)


def test_the_offer_stays_while_active_and_never_backfilled(personas):
    new_leads(personas, 4)
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    client = personas.client("admin")

    assert offer(4) in text(client.get(detail_url(automation)))
    automation_pause(automation=automation, by=personas.marketer)
    assert "already match" not in text(client.get(detail_url(automation)))


def test_contacts_the_trigger_already_enrolled_are_not_offered_again(
    personas, django_capture_on_commit_callbacks
):
    new_leads(personas, 2)
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):  # tagged while it is active: the trigger enrols them
            person = contact(personas, f"+1415555{90 + n:04d}")
            contact_tags_add(contact=person, names=["new-lead"], source="ui")

    page = text(personas.client("admin").get(detail_url(automation)))
    assert "3 enrolled" in page
    assert offer(2) in page


def test_the_viewer_gets_no_offer_and_may_not_backfill(personas):
    new_leads(personas, 2)
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    shown = personas.client("marketer").get(backfill_url(automation))
    client = personas.client("viewer")

    assert "already match" not in text(client.get(detail_url(automation)))
    assert client.get(backfill_url(automation)).status_code == 403
    posted = client.post(backfill_url(automation), {"confirmation": signed(shown)})
    assert posted.status_code == 403
    assert Launch.objects.count() == 0


def test_a_trigger_without_a_backfill_is_refused(personas):
    automation = manual(personas)
    client = personas.client("marketer")

    response = client.get(backfill_url(automation))

    assert response["Location"] == detail_url(automation)
    assert "Only a tag-added or date automation has contacts who already match." in text(
        client.get(detail_url(automation))
    )


def test_a_confirmation_not_signed_here_is_refused_with_fresh_figures(personas):
    new_leads(personas, 2)
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])

    response = personas.client("marketer").post(
        backfill_url(automation), {"confirmation": "forged"}
    )

    assert response.status_code == 400
    assert "These figures are too old to enrol on: here they are again." in read(response)
    assert "Enrol 2 contacts" in read(response)
    assert Launch.objects.count() == 0


def test_another_organizations_automation_is_not_found(personas):
    new_leads(personas, 1)
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    client = personas.client("outsider")

    assert client.get(backfill_url(automation)).status_code == 404
    assert client.post(backfill_url(automation), {"confirmation": "x"}).status_code == 404
