"""Each trigger fires once per event, only while the automation is active, and never for a
change that was rolled back."""

from __future__ import annotations

import pytest
from django.db import transaction

from automations.models import AutomationRun, RunState
from automations.services.automations import automation_archive, automation_pause
from contacts.models import ConsentSource
from contacts.services.consent import consent_opt_out
from contacts.services.tags import contact_tags_add, contact_tags_remove
from messaging.models import Message, Status
from tests.automations.helpers import active, contact, send, template

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

TAG = {"type": "tag_added", "tag": "new-lead"}


def test_tag_added_enrols_and_sends_the_first_step_at_once(
    personas, enqueued, django_capture_on_commit_callbacks
):
    welcome = template(personas)
    automation = active(personas, trigger=TAG, steps=[send(welcome, respect_quiet_hours=False)])
    ada = contact(personas)
    with django_capture_on_commit_callbacks(execute=True):
        contact_tags_add(contact=ada, names=["New-Lead"], source="ui")
    run = AutomationRun.objects.get(automation=automation, contact=ada)
    assert (run.state, run.step_id, run.occurrence_key) == (RunState.COMPLETED, "s1", "once")
    message = Message.objects.get(contact=ada)
    assert message.body.startswith("Welcome Ada!")
    assert (message.status, message.source, message.source_ref) == (
        Status.PENDING,
        "automation",
        str(automation.public_id),
    )
    assert message.dedupe_key == f"run:{run.public_id}:step:s1"
    assert enqueued == [message.pk]


def test_other_tags_and_the_reserved_tag_do_not_fire(personas, django_capture_on_commit_callbacks):
    active(personas, trigger=TAG, steps=[send(template(personas))])
    ada = contact(personas)
    with django_capture_on_commit_callbacks(execute=True):
        contact_tags_add(contact=ada, names=["customer"], source="ui")
        consent_opt_out(organization=personas.org, phone=ada.phone, source=ConsentSource.USER)
    assert not AutomationRun.objects.exists()


def test_a_rolled_back_change_enrols_nobody(personas, django_capture_on_commit_callbacks):
    active(personas, trigger=TAG, steps=[send(template(personas))])
    ada = contact(personas)

    def tag_then_fail() -> None:
        with transaction.atomic():
            contact_tags_add(contact=ada, names=["new-lead"], source="ui")
            raise RuntimeError("rolled back")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        tag_then_fail()
    assert not AutomationRun.objects.exists()
    assert not Message.objects.exists()


@pytest.mark.parametrize("stop", [automation_pause, automation_archive])
def test_a_paused_or_archived_automation_does_not_fire(
    personas, stop, django_capture_on_commit_callbacks
):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    stop(automation=automation)
    ada = contact(personas)
    with django_capture_on_commit_callbacks(execute=True):
        contact_tags_add(contact=ada, names=["new-lead"], source="ui")
    assert not AutomationRun.objects.exists()


def test_tag_removed_fires_on_removal_only(personas, django_capture_on_commit_callbacks):
    automation = active(
        personas,
        trigger={"type": "tag_removed", "tag": "customer"},
        steps=[send(template(personas))],
    )
    ada = contact(personas, tags=["customer"])
    assert not AutomationRun.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        contact_tags_remove(contact=ada, names=["customer"], source="ui")
    assert AutomationRun.objects.get(automation=automation).state == RunState.COMPLETED


def test_contact_created_with_sources(personas, django_capture_on_commit_callbacks):
    automation = active(
        personas,
        trigger={"type": "contact_created", "sources": ["api"]},
        steps=[send(template(personas))],
    )
    with django_capture_on_commit_callbacks(execute=True):
        contact(personas, "+14155550101")
        api_made = contact_api(personas, "+14155550102")
    assert list(AutomationRun.objects.values_list("automation", "contact")) == [
        (automation.pk, api_made.pk)
    ]


def contact_api(personas, phone):
    from contacts.services.contacts import contact_create

    return contact_create(organization=personas.org, source="api", phone=phone)
