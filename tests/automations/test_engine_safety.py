"""What never happens: a step twice (two workers, a crash before the commit), a text after an
opt-out or an exit, a stranded enrolment after a publish, a keyword automation on a consent
reply. And the dry run says what the engine then does."""

from __future__ import annotations

import datetime

import pytest

from automations.models import Reason, RunState, RunStep
from automations.services.automations import (
    automation_activate,
    automation_archive,
    automation_pause,
    automation_publish,
    automation_update,
)
from automations.services.dry_run import automation_dry_run
from automations.services.engine import runs_advance
from automations.services.enrolment import event_handle
from automations.triggers import Event
from contacts.models import ConsentSource, Contact
from contacts.services.consent import consent_opt_out
from contacts.services.tags import contact_tags_add, contact_tags_remove
from messaging.models import Message
from tenants import bulk_insert
from tenants.errors import ApplicationError
from tests.automations.helpers import active, contact, ledger, send, template
from tests.concurrency import run_together
from tests.messaging import webhook_helpers as wh
from tests.messaging.helpers import Clock
from tests.messaging.inbound_helpers import receive

pytestmark = [pytest.mark.usefixtures("connection", "enqueued")]

TAG = {"type": "tag_added", "tag": "new-lead"}
T0 = datetime.datetime(2026, 4, 1, 16, 0, tzinfo=datetime.UTC)
WAIT = {"id": "s2", "type": "wait", "duration": {"days": 1}}


def two_sends(personas, **definition):
    first, second = template(personas, name="A", body="A"), template(personas, name="B", body="B")
    return active(
        personas,
        trigger=TAG,
        steps=[
            send(first, "s1", respect_quiet_hours=False),
            WAIT,
            send(second, "s3", respect_quiet_hours=False),
        ],
        **definition,
    )


def enrol(personas, *contacts, key="k"):
    ids = tuple(c.pk for c in contacts)
    return event_handle(
        Event("tag_added", personas.org.pk, ids, "ui", key, {"tag_name": "new-lead"})
    )


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_a_due_step_send_it_once(personas, monkeypatch):
    clock = Clock(monkeypatch, T0)
    automation = two_sends(personas)
    ada = contact(personas)
    enrol(personas, ada)
    clock.advance(days=1, minutes=1)
    claimed = run_together(lambda: runs_advance(), lambda: runs_advance())
    assert sorted(claimed) in ([0, 1], [1, 1])
    run = automation.runs.get()
    assert ledger(run) == [("s1", "sent"), ("s2", "waited"), ("s3", "sent")]
    assert Message.objects.count() == 2
    assert runs_advance() == 0


@pytest.mark.django_db
def test_a_crash_before_the_commit_sends_nothing_and_the_step_is_retried(personas, monkeypatch):
    clock = Clock(monkeypatch, T0)
    automation = two_sends(personas)
    enrol(personas, contact(personas))
    clock.advance(days=1, minutes=1)
    real = bulk_insert.insert

    def crash(model, *args, **kwargs):
        real(model, *args, **kwargs)  # the ledger row is written …
        assert model is RunStep
        raise ConnectionError("worker killed")  # … and the process dies before the commit

    monkeypatch.setattr("automations.services.engine.insert", crash)
    with pytest.raises(ConnectionError):
        runs_advance()
    assert Message.objects.count() == 1
    assert ledger(automation.runs.get()) == [("s1", "sent"), ("s2", "waited")]
    monkeypatch.setattr("automations.services.engine.insert", real)
    assert runs_advance() == 1
    assert Message.objects.count() == 2
    assert automation.runs.get().state == RunState.COMPLETED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("exit_rules", "act", "reason"),
    [
        ({"on_tag_added": ["customer"]}, "tag", Reason.TAG_ADDED),
        ({"on_trigger_tag_removed": True}, "untag", Reason.TRIGGER_TAG_REMOVED),
        ({}, "opt_out", Reason.OPTED_OUT),
    ],
)
def test_exit_rules_and_an_opt_out_end_the_enrolment(
    personas, monkeypatch, django_capture_on_commit_callbacks, exit_rules, act, reason
):
    clock = Clock(monkeypatch, T0)
    automation = two_sends(personas, exit_rules=exit_rules)
    ada = contact(personas)
    with django_capture_on_commit_callbacks(execute=True):
        contact_tags_add(contact=ada, names=["new-lead"], source="ui")
    with django_capture_on_commit_callbacks(execute=True):
        if act == "tag":
            contact_tags_add(contact=ada, names=["customer"], source="ui")
        elif act == "untag":
            contact_tags_remove(contact=ada, names=["new-lead"], source="ui")
        else:
            consent_opt_out(organization=personas.org, phone=ada.phone, source=ConsentSource.USER)
    run = automation.runs.get()
    assert (run.state, run.reason) == (RunState.EXITED, reason)
    clock.advance(days=2)
    assert runs_advance() == 0
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_a_reply_exits_under_on_reply(
    personas, client, connection, django_capture_on_commit_callbacks
):
    automation = two_sends(personas, exit_rules={"on_reply": True})
    ada = Contact.objects.create(
        organization=personas.org, phone=wh.CUSTOMER, time_zone="UTC", first_name="Ada"
    )
    enrol(personas, ada)
    with django_capture_on_commit_callbacks(execute=True):
        assert receive(client, connection, "Who is this?").status_code == 200
    run = automation.runs.get()
    assert (run.state, run.reason) == (RunState.EXITED, Reason.REPLIED)


@pytest.mark.django_db
def test_a_stop_reply_fires_no_keyword_automation_and_stop_is_refused_as_one(
    personas, client, connection, django_capture_on_commit_callbacks
):
    with pytest.raises(ApplicationError) as refused:
        active(
            personas,
            trigger={"type": "inbound_keyword", "keywords": ["stop"]},
            steps=[send(template(personas))],
        )
    assert "consent word" in refused.value.fields["trigger.keywords"][0]
    join = active(
        personas,
        trigger={"type": "inbound_keyword", "keywords": ["join"], "match": "first_word"},
        steps=[send(template(personas, name="Joined", body="Joined"), respect_quiet_hours=False)],
        name="Join",
    )
    with django_capture_on_commit_callbacks(execute=True):
        receive(client, connection, "STOP")
        receive(client, connection, "  join now ", from_="+14155550177")
    assert list(join.runs.values_list("contact__phone", "state")) == [
        ("+14155550177", RunState.COMPLETED)
    ]


@pytest.mark.django_db
def test_pause_holds_waiting_enrolments_and_resume_continues_them(personas, monkeypatch):
    clock = Clock(monkeypatch, T0)
    automation = two_sends(personas)
    enrol(personas, contact(personas))
    automation_pause(automation=automation)
    clock.advance(days=2)
    assert runs_advance() == 0
    automation_activate(automation=automation)
    assert runs_advance() == 1
    assert Message.objects.count() == 2


@pytest.mark.django_db
def test_archive_ends_enrolments_under_way(personas):
    automation = two_sends(personas)
    enrol(personas, contact(personas))
    assert automation_archive(automation=automation) == 1
    assert automation.runs.get().reason == Reason.ARCHIVED


@pytest.mark.django_db
def test_publish_while_enrolments_wait_and_a_removed_step_strands_nobody(personas, monkeypatch):
    clock = Clock(monkeypatch, T0)
    automation = two_sends(personas)
    ada = contact(personas, "+14155550101")
    enrol(personas, ada, key="k1")
    # Version 2 drops the wait and the follow-up.
    draft = dict(automation.draft, steps=automation.draft["steps"][:1])
    automation_update(automation=automation, definition=draft, complete=True)
    assert automation_publish(automation=automation).number == 2
    bo = contact(personas, "+14155550102")
    enrol(personas, bo, key="k2")
    clock.advance(days=1, minutes=1)
    assert runs_advance() == 1
    old, new = automation.runs.get(contact=ada), automation.runs.get(contact=bo)
    assert (old.version.number, old.state) == (1, RunState.COMPLETED)
    assert ledger(old) == [("s1", "sent"), ("s2", "waited"), ("s3", "sent")]
    assert (new.version.number, new.state, ledger(new)) == (2, RunState.COMPLETED, [("s1", "sent")])


@pytest.mark.django_db
def test_the_dry_run_says_what_the_engine_then_does(personas):
    automation = active(
        personas,
        trigger=TAG,
        steps=[
            send(template(personas), "s1", respect_quiet_hours=False),
            {
                "id": "s2",
                "type": "branch",
                "if": {"has_tag": "vip"},
                "then": "end",
                "else": "continue",
            },
            send(template(personas, name="B", body="B"), "s3", respect_quiet_hours=False),
        ],
    )
    for phone, tags in (("+14155550101", ["vip"]), ("+14155550102", [])):
        ada = contact(personas, phone, tags=tags)
        dry = automation_dry_run(automation=automation, contact=ada)
        predicted = [(s.step_id, s.outcome) for s in dry.steps]
        assert dry.would_enrol
        assert dry.steps[0].texts[0].text.startswith("Welcome Ada!")
        enrol(personas, ada, key=phone)
        assert ledger(automation.runs.get(contact=ada)) == predicted


@pytest.mark.django_db
def test_queries_per_batch_do_not_grow_with_its_size(personas, monkeypatch):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    clock = Clock(monkeypatch, T0)
    two_sends(personas)
    counts = []
    for size, offset in ((2, 0), (30, 100)):
        people = [contact(personas, f"+1415555{offset + n:04d}") for n in range(size)]
        enrol(personas, *people, key=f"k{size}")
        clock.advance(days=1, minutes=1)
        with CaptureQueriesContext(db) as queries:
            assert runs_advance() == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
