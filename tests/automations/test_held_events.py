"""Events the broker refused (Redis down when the tag was added): the change is kept, the
request does not fail after the fact, and the event is kept in the database and handed to the
broker again once it answers, so the automation still fires once."""

from __future__ import annotations

from typing import Any

import pytest
from kombu.exceptions import OperationalError

from automations.models import AutomationRun, HeldEvent
from automations.services.held_events import held_events_replay
from automations.tasks import handle_event
from contacts.models import ContactTag
from contacts.services.tags import contact_tags_add
from messaging.models import Message
from tests.automations.helpers import active, contact, send, template

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

TAG = {"type": "tag_added", "tag": "new-lead"}


class Broker:
    """``handle_event.delay`` as a broker that is down (``down``) or takes the event and runs
    it at once, as the eager tests do."""

    def __init__(self) -> None:
        self.down = True
        self.refused = 0

    def __call__(self, event: dict[str, Any]) -> None:
        if self.down:
            self.refused += 1
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        handle_event(event)


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> Broker:
    found = Broker()
    monkeypatch.setattr("automations.tasks.handle_event.delay", found)
    return found


def test_it_keeps_the_tag_and_holds_the_event_the_broker_refused(
    personas, broker, django_capture_on_commit_callbacks
):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    ada = contact(personas)

    with django_capture_on_commit_callbacks(execute=True):
        contact_tags_add(contact=ada, names=["new-lead"], source="api")  # no exception

    assert broker.refused == 1
    assert ContactTag.objects.filter(contact=ada, tag__name="new-lead").exists()
    (held,) = HeldEvent.objects.all()
    assert held.organization == personas.org
    assert held.event["type"] == "tag_added"
    assert held.event["contact_ids"] == [ada.pk]
    assert held.event["data"]["tag_name"] == "new-lead"
    assert not AutomationRun.objects.filter(automation=automation).exists()


def test_a_held_event_fires_the_automation_once_the_broker_answers(
    personas, broker, django_capture_on_commit_callbacks
):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    ada = contact(personas)
    with django_capture_on_commit_callbacks(execute=True):
        contact_tags_add(contact=ada, names=["new-lead"], source="api")

    assert held_events_replay() == 0  # still down: kept for the next pass
    assert HeldEvent.objects.count() == 1

    broker.down = False
    assert held_events_replay() == 1

    assert not HeldEvent.objects.exists()
    assert AutomationRun.objects.filter(automation=automation, contact=ada).count() == 1
    assert Message.objects.filter(contact=ada, source_ref=str(automation.public_id)).count() == 1
    assert held_events_replay() == 0


def test_an_event_replayed_twice_enrols_once(personas, broker, django_capture_on_commit_callbacks):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    ada = contact(personas)
    with django_capture_on_commit_callbacks(execute=True):
        contact_tags_add(contact=ada, names=["new-lead"], source="api")
    event = HeldEvent.objects.get().event
    broker.down = False

    handle_event(event)  # the broker took it once before the row was deleted
    held_events_replay()

    assert AutomationRun.objects.filter(automation=automation, contact=ada).count() == 1
    assert Message.objects.filter(contact=ada).count() == 1


def test_with_the_broker_up_nothing_is_held(personas, broker, django_capture_on_commit_callbacks):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    ada = contact(personas)
    broker.down = False

    with django_capture_on_commit_callbacks(execute=True):
        contact_tags_add(contact=ada, names=["new-lead"], source="api")

    assert not HeldEvent.objects.exists()
    assert AutomationRun.objects.filter(automation=automation, contact=ada).count() == 1
