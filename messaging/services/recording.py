"""Writing down what happened to messages on their way to Twilio (step 3): the answers of a
window's accepted messages (SIDs, statuses and events, in one transaction), our own events on
a message, the ``message_status_changed`` announcements and a released dedupe key.

The send task (``services.submit``, ``services.failed_calls``) and the sweeper write through
these.
"""

from __future__ import annotations

import datetime

from django.db import connection as db
from django.db import transaction
from django.utils import timezone

from connections.twilio_records import CreatedMessage
from messaging.models import RANK, DedupeKey, Message, MessageEvent, Status
from messaging.services.outbound import messages_status_record
from messaging.signals import status_changed_after_commit
from tenants.sources import Source


def event_record(
    message: Message, status: str, *, error_code: int | None = None, **params: object
) -> None:
    """One of our own events on the message (Twilio's callbacks are recorded apart)."""
    MessageEvent.objects.create(
        message=message, status=status, error_code=error_code, params=params
    )


def status_announce(
    message: Message, status: str, *, error_code: int | None = None, source: Source = Source.SYSTEM
) -> None:
    """``message_status_changed`` for one message, once its transaction commits, and its
    outbound webhook event in that transaction."""
    messages_status_record(organization_id=message.organization_id, message_ids=[message.pk])
    status_changed_after_commit(
        organization_id=message.organization_id,
        messages=[(message.pk, message.contact_id)],
        status=status,
        error_code=error_code,
        source=source,
    )


def messages_announce(messages: list[Message], status: str) -> None:
    """``message_status_changed`` for these messages, one event per organization (and their
    outbound webhook events)."""
    by_organization: dict[int, list[tuple[int, int | None]]] = {}
    for message in messages:
        by_organization.setdefault(message.organization_id, []).append(
            (message.pk, message.contact_id)
        )
    for organization_id, moved in by_organization.items():
        messages_status_record(organization_id=organization_id, message_ids=[pk for pk, _ in moved])
        status_changed_after_commit(
            organization_id=organization_id,
            messages=moved,
            status=status,
            error_code=None,
            source=Source.SYSTEM,
        )


def release_dedupe_key(message: Message) -> None:
    if message.dedupe_key:
        DedupeKey.objects.filter(organization=message.organization, message=message).delete()


@transaction.atomic
def answers_record(accepted: list[tuple[Message, CreatedMessage]]) -> None:
    """Writes the SIDs Twilio gave and moves each message on from ``submitting``: a status
    callback may have arrived first (it finds the row by its public id), so a status only
    moves forward from ``submitting``, under the rows' locks."""
    if not accepted:
        return
    ids = [m.pk for m, _ in accepted]
    movable = set(
        Message.objects.select_for_update()
        .filter(pk__in=ids, status=Status.SUBMITTING)
        .values_list("pk", flat=True)
    )
    statuses = {
        m.pk: created.status if created.status in RANK else Status.QUEUED for m, created in accepted
    }
    _write_answers(
        {m.pk: created.sid for m, created in accepted}, {pk: statuses[pk] for pk in movable}
    )
    MessageEvent.objects.bulk_create(
        [
            MessageEvent(message=m, status=statuses[m.pk], params={"sid": created.sid})
            for m, created in accepted
        ]
    )
    by_status: dict[str, list[Message]] = {}
    for message, _ in accepted:
        if message.pk in movable:
            by_status.setdefault(statuses[message.pk], []).append(message)
    for status, messages in by_status.items():
        messages_announce(messages, status)


def _write_answers(sids: dict[int, str], statuses: dict[int, str]) -> None:
    """One UPDATE for the window: each row's SID, and its status where it may move. Written
    as SQL because the ORM's ``Case(When(...))`` for 50 rows took 12 ms to compile, more
    than a millisecond per message (bench.send_cpu's profile); the statement is plain
    SQL that PostgreSQL and SQLite both run."""
    # Only placeholders and the table's quoted name are formatted in; values go as parameters.
    table = db.ops.quote_name(Message._meta.db_table)
    whens = " ".join(["WHEN %s THEN %s"] * len(sids))
    sql = [f"UPDATE {table} SET sid = CASE id {whens} END"]  # noqa: S608
    params: list[int | str | datetime.datetime] = [v for pair in sids.items() for v in pair]
    if statuses:
        cases = " ".join(["WHEN %s THEN %s"] * len(statuses))
        sql.append(f"status = CASE id {cases} ELSE status END")
        params += [v for pair in statuses.items() for v in pair]
    sql.append("error_code = NULL, error_message = '', updated_at = %s")
    params.append(timezone.now())
    where = f" WHERE id IN ({', '.join(['%s'] * len(sids))})"
    with db.cursor() as cursor:
        cursor.execute(", ".join(sql) + where, [*params, *sids])
