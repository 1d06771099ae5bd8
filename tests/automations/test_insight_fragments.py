"""What other rooms' pages show of automations, by URL name: the message log filtered by
automation (messaging knows it only as a source_ref) with its chip, a message's automation
step, and the automations a template is protected by, whose deletion is refused naming them."""

from __future__ import annotations

from typing import Any

import pytest

from automations.services.automations import (
    automation_archive,
    automation_create,
    automation_publish,
    automation_update,
)
from messaging.models import Message
from templates_sms.models import SmsTemplate
from templates_sms.services import template_create
from tests.automations.helpers import ab_split, active, contact, send, template
from tests.automations.insight_helpers import (
    ROLES,
    TAG,
    chip_url,
    contacts,
    enrol,
    message_of,
    message_step_url,
    template_usage_url,
    text,
)
from tests.factories import page_text
from tests.messaging.log.helpers import add, bodies, counts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

LOG = "/messages/"
# Why a deletion is refused, after the automations that hold the template are named.
KEPT = (
    "A published automation version never changes, so a template it sends cannot be deleted, "
    "even once the automation is archived."
)


def _plain(personas: Any, name: str, body: str) -> SmsTemplate:
    """A template without the opt-out footer: one line in the log."""
    return template_create(
        organization=personas.org, name=name, body=body, append_opt_out_footer=False
    ).template


def _two_automations(personas: Any) -> tuple[Any, Any]:
    welcome = active(
        personas,
        trigger=TAG,
        steps=[send(_plain(personas, "Welcome", "Welcome!"), respect_quiet_hours=False)],
    )
    promo = active(
        personas,
        trigger={"type": "tag_added", "tag": "promo"},
        name="Spring promo",
        steps=[send(_plain(personas, "Promo", "Spring sale!"), respect_quiet_hours=False)],
    )
    return welcome, promo


# --- The message log, by automation -----------------------------------------------------------


def test_the_log_filters_by_automation(personas):
    welcome, promo = _two_automations(personas)
    ada, bob = contacts(personas, 2)
    enrol(welcome, [ada])
    enrol(promo, [ada, bob])
    add(personas.org, "By hand", source="ui")

    viewer = personas.client("viewer")
    response = viewer.get(LOG, {"automation": promo.public_id})

    assert bodies(response) == ["Spring sale!"] * 2
    assert sorted(bodies(viewer.get(LOG, {"automation": welcome.public_id}))) == ["Welcome!"]
    assert len(bodies(viewer.get(LOG))) == 4


def test_the_automation_filter_shows_a_chip_named_by_the_automations_fragment(personas):
    welcome, _ = _two_automations(personas)
    viewer = personas.client("viewer")

    body = page_text(viewer.get(LOG, {"automation": welcome.public_id, "status": "pending"}))
    chip = viewer.get(chip_url(welcome))

    assert f'data-fragment="/automations/{welcome.public_id}/chip/"' in body
    assert '<a href="?status=pending" aria-label="Show every source' in body
    assert f'<input type="hidden" name="automation" value="{welcome.public_id}">' in body
    assert f'data-fragment="/messages/counts/?automation={welcome.public_id}' in body
    assert text(chip) == "Welcome new leads"
    assert f'href="/automations/{welcome.public_id}/"' in chip.content.decode()


def test_the_counts_follow_the_automation_filter(personas):
    welcome, promo = _two_automations(personas)
    enrol(promo, contacts(personas, 3))
    enrol(welcome, [contact(personas, phone="+14155559999")])

    response = personas.client("viewer").get("/messages/counts/", {"automation": promo.public_id})

    found = counts(response)
    assert {label: count for label, (count, _) in found.items()} == {"All": 3, "Pending": 3}
    assert found["Pending"][1]["automation"] == [str(promo.public_id)]


def test_a_malformed_automation_id_is_reported_and_ignored(personas):
    add(personas.org, "By hand", source="ui")
    response = personas.client("viewer").get(LOG, {"automation": "nope"})
    assert "That is not an automation's id." in page_text(response)
    assert bodies(response) == ["By hand"]


def test_the_chip_of_another_organizations_automation_is_not_found(personas):
    welcome, _ = _two_automations(personas)
    assert personas.client("outsider").get(chip_url(welcome)).status_code == 404


# --- A message's step -------------------------------------------------------------------------


def test_an_automations_message_page_links_to_its_automation_version_and_step(personas):
    welcome, _ = _two_automations(personas)
    ada = contact(personas, first_name="Ada", last_name="Lovelace")
    enrol(welcome, [ada])
    message = message_of(welcome, ada)
    viewer = personas.client("viewer")

    page = page_text(viewer.get(f"/messages/{message.public_id}/"))
    fragment = viewer.get(message_step_url(message))

    assert f'data-fragment="/automations/message/{message.public_id}/"' in page
    assert text(fragment) == (
        "Automation Welcome new leads Version v1 Step s1: send Welcome "
        "Enrolment Ada Lovelace , completed"
    )
    assert f'href="/automations/{welcome.public_id}/"' in fragment.content.decode()


def test_an_a_b_message_names_its_variant(personas):
    first = template(personas, "Offer A", "Offer A")
    second = template(personas, "Offer B", "Offer B")
    automation = active(
        personas, trigger=TAG, steps=[ab_split((first, 1), (second, 1), respect_quiet_hours=False)]
    )
    ada = contact(personas)
    enrol(automation, [ada])
    message = message_of(automation, ada)
    letter = "A" if message.body.startswith("Offer A") else "B"

    fragment = text(personas.client("viewer").get(message_step_url(message)))

    assert "Step s1: send one of Offer A (1) / Offer B (1) (variant " + letter + ")" in fragment


def test_other_messages_have_no_automation_card(personas):
    message = add(personas.org, "By hand", source="ui")
    viewer = personas.client("viewer")
    assert "/automations/message/" not in page_text(viewer.get(f"/messages/{message.public_id}/"))
    assert "No automation step records this message." in text(viewer.get(message_step_url(message)))


def test_another_organizations_message_is_not_found(personas):
    message = add(personas.org, "By hand", source="ui")
    assert personas.client("outsider").get(message_step_url(message)).status_code == 404


# --- Templates protected from deletion ------------------------------------------------------


def test_the_editor_and_the_delete_page_load_the_templates_automations(personas):
    welcome = template(personas)
    marketer = personas.client("marketer")
    usage = f'data-fragment="/automations/template/{welcome.public_id}/"'
    assert usage in page_text(marketer.get(f"/templates/{welcome.public_id}/edit/"))
    assert usage in page_text(marketer.get(f"/templates/{welcome.public_id}/delete/"))
    assert "/automations/template/" not in page_text(marketer.get("/templates/new/"))


def test_the_usage_fragment_lists_the_automations_whose_versions_send_it(personas):
    welcome, _ = _two_automations(personas)
    used = SmsTemplate.objects.get(name="Welcome")
    unused = template(personas, "Unused", "Hi")
    viewer = personas.client("viewer")

    response = viewer.get(template_usage_url(used))

    assert text(response) == (
        "Used by 1 automation. A template that a published version sends cannot be deleted. "
        "Welcome new leads (active; version v1, live)"
    )
    assert f'href="/automations/{welcome.public_id}/"' in response.content.decode()
    assert text(viewer.get(template_usage_url(unused))) == "No automation sends this template."


def test_deleting_a_template_an_automation_uses_is_refused_naming_it(personas):
    _two_automations(personas)
    used = SmsTemplate.objects.get(name="Welcome")
    client = personas.client("marketer")

    response = client.post(f"/templates/{used.public_id}/delete/", follow=True)

    assert f"“Welcome” is used by the automation “Welcome new leads”. {KEPT}" in page_text(response)
    assert SmsTemplate.objects.filter(pk=used.pk).exists()


def test_an_old_version_keeps_its_template_once_the_automation_moved_on_and_was_archived(
    personas,
):
    welcome, _ = _two_automations(personas)
    used = SmsTemplate.objects.get(name="Welcome")
    steps = [send(_plain(personas, "Hello", "Hello!"), respect_quiet_hours=False)]
    automation_update(automation=welcome, definition={**welcome.draft, "steps": steps})
    automation_publish(automation=welcome)  # v2 sends Hello, not Welcome
    automation_archive(automation=welcome)

    response = personas.client("marketer").post(f"/templates/{used.public_id}/delete/", follow=True)

    assert f"“Welcome” is used by the automation “Welcome new leads”. {KEPT}" in page_text(response)
    assert SmsTemplate.objects.filter(pk=used.pk).exists()


def test_a_template_only_a_draft_chooses_can_be_deleted(personas):
    chosen = _plain(personas, "Chosen", "Hi!")
    automation_create(
        organization=personas.org,
        name="Unpublished",
        definition={"trigger": TAG, "steps": [send(chosen)]},
    )

    response = personas.client("marketer").post(
        f"/templates/{chosen.public_id}/delete/", follow=True
    )

    assert "“Chosen” was deleted." in page_text(response)
    assert not SmsTemplate.objects.filter(pk=chosen.pk).exists()


def test_another_organizations_template_is_not_found(personas):
    welcome = template(personas)
    assert personas.client("outsider").get(template_usage_url(welcome)).status_code == 404


# --- Access to every fragment -----------------------------------------------------------------


def _fragments(personas: Any) -> list[str]:
    welcome, _ = _two_automations(personas)
    ada = contact(personas)
    enrol(welcome, [ada])
    message = Message.objects.get(contact=ada)
    return [
        chip_url(welcome),
        message_step_url(message),
        template_usage_url(SmsTemplate.objects.get(name="Welcome")),
        f"/automations/contact/{ada.public_id}/",
    ]


@pytest.mark.parametrize("persona", ROLES)
def test_every_member_reads_every_fragment(personas, persona):
    client = personas.client(persona)
    for url in _fragments(personas):
        assert "Welcome new leads" in text(client.get(url)), url


def test_the_outsider_gets_404_from_every_fragment(personas):
    client = personas.client("outsider")
    assert [client.get(url).status_code for url in _fragments(personas)] == [404] * 4


def test_anonymous_visitors_are_sent_to_log_in_from_every_fragment(personas, client):
    for url in _fragments(personas):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"/login/?next={url}"
