"""Enrolment: re-entry policies, entry rules at enrolment and before a later send, skips
stored with their reasons, a repeated event enrolling once."""

from __future__ import annotations

import datetime

import pytest

from automations.models import AutomationRun, Reason, RunState
from automations.services.engine import runs_advance
from automations.services.enrolment import event_handle, runs_enrol
from automations.triggers import Event
from contacts.models import ConsentSource
from contacts.services.consent import consent_opt_out
from contacts.services.tags import contact_tags_remove
from messaging.models import Message
from tests.automations.helpers import active, contact, ledger, send, template
from tests.messaging.helpers import Clock

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

TAG = {"type": "tag_added", "tag": "new-lead"}
T0 = datetime.datetime(2026, 4, 1, 16, 0, tzinfo=datetime.UTC)


def tagged(personas, contact_ids, key, tag="new-lead"):
    return Event("tag_added", personas.org.pk, tuple(contact_ids), "ui", key, {"tag_name": tag})


def test_the_same_event_twice_enrols_once_and_sends_once(personas):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    ada = contact(personas)
    event = tagged(personas, [ada.pk], "k1")
    assert event_handle(event) == {str(automation.public_id): 1}
    assert event_handle(event) == {str(automation.public_id): 0}
    assert AutomationRun.objects.count() == 1
    assert Message.objects.count() == 1


def test_once_never_enrols_again_every_time_does(personas):
    once = active(personas, trigger=TAG, steps=[send(template(personas))], name="Once")
    every = active(
        personas,
        trigger=TAG,
        steps=[send(template(personas, name="Other"))],
        name="Every",
        reentry={"policy": "every_time"},
    )
    ada = contact(personas)
    for key in ("k1", "k2", "k3"):
        event_handle(tagged(personas, [ada.pk], key))
    assert once.runs.exclude(state=RunState.SKIPPED).count() == 1
    assert list(once.runs.filter(state=RunState.SKIPPED).values_list("reason", flat=True)) == [
        Reason.REENTRY,
        Reason.REENTRY,
    ]
    assert every.runs.filter(state=RunState.COMPLETED).count() == 3


def test_after_days_enrols_again_only_after_that_many_days(personas, monkeypatch):
    clock = Clock(monkeypatch, T0)
    automation = active(
        personas,
        trigger=TAG,
        steps=[send(template(personas))],
        reentry={"policy": "after_days", "days": 7},
    )
    ada = contact(personas)
    event_handle(tagged(personas, [ada.pk], "k1"))
    clock.advance(days=6)
    event_handle(tagged(personas, [ada.pk], "k2"))
    clock.advance(days=2)
    event_handle(tagged(personas, [ada.pk], "k3"))
    states = list(automation.runs.order_by("created_at").values_list("state", "reason"))
    assert states == [
        (RunState.COMPLETED, ""),
        (RunState.SKIPPED, Reason.REENTRY),
        (RunState.COMPLETED, ""),
    ]


def test_entry_rules_refuse_at_enrolment_with_the_reason(personas):
    automation = active(
        personas,
        trigger=TAG,
        steps=[send(template(personas))],
        entry_rules={"has_all_tags": ["vip"], "custom_fields": {"plan": "Pro"}},
    )
    vip = contact(personas, "+14155550101", tags=["vip"], custom_fields={"plan": " pro "})
    plain = contact(personas, "+14155550102", custom_fields={"plan": "pro"})
    other_plan = contact(personas, "+14155550103", tags=["vip"], custom_fields={"plan": "basic"})
    event_handle(tagged(personas, [vip.pk, plain.pk, other_plan.pk], "k1"))
    runs = {r.contact_id: (r.state, r.reason, r.detail) for r in automation.runs.all()}
    assert runs == {
        vip.pk: (RunState.COMPLETED, "", ""),
        plain.pk: (RunState.SKIPPED, Reason.ENTRY_RULES, "lacks the tag vip"),
        other_plan.pk: (RunState.SKIPPED, Reason.ENTRY_RULES, "plan is not “Pro”"),
    }
    assert list(Message.objects.values_list("contact_id", flat=True)) == [vip.pk]


def test_entry_rules_are_checked_again_before_a_later_send(personas, monkeypatch):
    clock = Clock(monkeypatch, T0)
    welcome, follow = template(personas), template(personas, name="Follow-up", body="Still there?")
    automation = active(
        personas,
        trigger=TAG,
        steps=[
            send(welcome, "s1"),
            {"id": "s2", "type": "wait", "duration": {"days": 1}},
            send(follow, "s3"),
        ],
        entry_rules={"has_any_tags": ["vip", "trial"]},
    )
    ada = contact(personas, tags=["trial"])
    event_handle(tagged(personas, [ada.pk], "k1"))
    contact_tags_remove(contact=ada, names=["trial"], source="ui")
    clock.advance(days=1, minutes=1)
    assert runs_advance() == 1
    run = automation.runs.get()
    assert (run.state, run.reason, run.detail) == (
        RunState.EXITED,
        Reason.ENTRY_RULES,
        "has none of the tags vip, trial",
    )
    assert ledger(run) == [("s1", "sent"), ("s2", "waited"), ("s3", "exited")]
    assert Message.objects.count() == 1


def test_an_opted_out_contact_is_skipped_and_never_texted(personas):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    ada = contact(personas)
    consent_opt_out(organization=personas.org, phone=ada.phone, source=ConsentSource.USER)
    event_handle(tagged(personas, [ada.pk], "k1"))
    assert automation.runs.get().reason == Reason.OPTED_OUT
    assert not Message.objects.exists()


def test_enrolment_without_advance_leaves_the_first_step_due_for_the_beat(personas):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    ada = contact(personas)
    result = runs_enrol(
        automation=automation, contact_ids=[ada.pk], key="k1", source="ui", advance=False
    )
    [run_id] = result.created
    assert (result.skipped, result.handled) == (0, 1)
    assert AutomationRun.objects.get(pk=run_id).state == RunState.RUNNING
    assert not Message.objects.exists()
    assert runs_advance() == 1
    assert Message.objects.count() == 1
