"""Building blocks of the automation insight tests: the pages' addresses, enrolments made the
engine's way, replies and opt-outs at given times, and the pages' tables read back."""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Callable
from typing import Any

from automations.models import Automation, AutomationRun, RunStep
from automations.services.enrolment import runs_enrol
from connections.models import Connection
from connections.services.connections import connection_disconnect
from contacts.models import ConsentEvent, ConsentKind, ConsentSource, Contact
from messaging.models import Direction, Message, Status
from tenants.actor import Actor
from tests.automations.helpers import contact

ROLES = ["owner", "admin", "marketer", "viewer"]
WRITERS = ["owner", "admin", "marketer"]
TAG = {"type": "tag_added", "tag": "new-lead"}


def _page(prefix: str, tail: str = "") -> Callable[[Any], str]:
    """The address of an insight page or fragment about one object, from its public id."""
    return lambda obj: f"/automations/{prefix}{obj.public_id}/{tail}"


# Each takes the object the page is about: an automation, a contact, a message, a template.
detail_url = _page("")
dry_run_url = _page("", "dry-run/")
enrol_url = _page("", "enrol/")
chip_url = _page("", "chip/")
contact_runs_url = _page("contact/")
message_step_url = _page("message/")
template_usage_url = _page("template/")


def contacts(personas: Any, count: int, **data: Any) -> list[Contact]:
    return [contact(personas, phone=f"+1415555{n:04d}", **data) for n in range(1, count + 1)]


def enrol(automation: Automation, people: list[Contact], key: str = "event-1") -> list[int]:
    """Enrols the contacts as an event would (their first step runs at once)."""
    return runs_enrol(
        automation=automation, contact_ids=[c.pk for c in people], key=key, source="ui"
    ).created


def run_of(automation: Automation, person: Contact) -> AutomationRun:
    return AutomationRun.objects.get(automation=automation, contact=person)


def message_of(automation: Automation, person: Contact, step_id: str = "s1") -> Message:
    step = RunStep.objects.get(run__automation=automation, run__contact=person, step_id=step_id)
    assert step.message is not None
    return step.message


def set_status(message: Message, status: str) -> None:
    Message.objects.filter(pk=message.pk).update(status=status)


def reply(person: Contact, after: Message, delta: datetime.timedelta) -> Message:
    """An inbound message from the contact ``delta`` after ``after`` was created."""
    message = Message.objects.create(
        organization_id=person.organization_id,
        contact=person,
        direction=Direction.INBOUND,
        status=Status.RECEIVED,
        to="+15005550006",
        from_number=person.phone,
        body="Thanks!",
        source="inbound",
    )
    Message.objects.filter(pk=message.pk).update(created_at=after.created_at + delta)
    return message


def opted_out(person: Contact, after: Message, delta: datetime.timedelta) -> ConsentEvent:
    """An opt-out of the contact's number ``delta`` after ``after`` was created (a ledger row
    only: the consent state is not what these tests look at)."""
    event = ConsentEvent.objects.create(
        organization_id=person.organization_id,
        phone=person.phone,
        contact=person,
        kind=ConsentKind.OPT_OUT,
        source=ConsentSource.INBOUND_KEYWORD,
    )
    ConsentEvent.objects.filter(pk=event.pk).update(created_at=after.created_at + delta)
    return event


def disconnect(personas: Any, connection: Connection) -> None:
    """No working connection any more: the next sends are suppressed (no_connection)."""
    connection_disconnect(
        connection=connection, by=Actor.for_membership(personas.membership("owner"))
    )


def _clean(cell: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())


def table(response: Any, css: str) -> list[list[str]]:
    """The body rows of the first ``<table class="table {css}">``, each as its cells' text."""
    assert response.status_code == 200, response.status_code
    found = re.search(
        rf'<table class="table {css}"[^>]*>.*?<tbody>(.*?)</tbody>', response.content.decode(), re.S
    )
    assert found, f"no {css} table"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", found.group(1), re.S)
    cell = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.S)
    return [[_clean(c) for c in cell.findall(row)] for row in rows]


def text(response: Any) -> str:
    """The page's text, tags removed and spaces collapsed, as a person reads it."""
    assert response.status_code == 200, response.status_code
    return _clean(response.content.decode())
