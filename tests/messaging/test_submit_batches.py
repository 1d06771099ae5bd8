"""Send batches: one send task for many messages, each claimed and checked on its own; a batch
mixing organizations, outcomes of every class inside one batch, two workers taking the same
batch, a rate limit that holds the rest of a batch back, and how fan-outs are cut."""

from __future__ import annotations

import datetime
import itertools
import json

import pytest
import requests
import responses
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from connections.models import TwilioCredentials
from messaging import ratelimit
from messaging.models import Message, Status
from messaging.services.dispatch import MAX_BATCH, batches
from messaging.services.sending import message_send
from messaging.services.submit import messages_submit
from messaging.tasks import send_messages
from tenants.outbound import services as outbound
from tests import twilio_mocks as tw
from tests.concurrency import run_together
from tests.connections.helpers import connect
from tests.messaging.helpers import (
    MESSAGES_URL,
    form_of,
    forms,
    limiter,
    message_json,
    messages_create,
)
from tests.messaging.send_helpers import ALICE, BOB, T0
from tests.messaging.sweeper.helpers import OTHER_ACCOUNT


def waiting(personas, organization=None, n: int = 1, to: str = ALICE) -> list[Message]:
    """Messages created for later, so that creating them sends nothing; due once the clock
    moves past T0 + 1 minute."""
    return [
        message_send(
            organization=organization or personas.org,
            to=to,
            body=f"#{i}",
            send_after=T0 + datetime.timedelta(minutes=1),
            source="api",
        )
        for i in range(n)
    ]


def due(clock) -> None:
    clock.now = T0 + datetime.timedelta(minutes=1)


def capped(personas, rsps, cap: int) -> None:
    """Connected, with a frequency cap of ``cap`` messages, and Twilio accepting every create."""
    connect(personas)
    personas.org.frequency_cap = cap
    personas.org.save(update_fields=["frequency_cap"])
    messages_create(rsps)


def statements_to_submit(clock, ids: list[int]) -> list[str]:
    """Submits these waiting messages as one batch once due (every one is submitted), then
    puts the clock back at T0; the SQL of the statements the batch ran."""
    due(clock)
    with CaptureQueriesContext(db) as queries:
        assert set(messages_submit(ids).values()) == {"submitted"}
    clock.now = T0
    return [q["sql"] for q in queries.captured_queries]


def test_a_fan_out_is_cut_into_batches_that_keep_every_send_thread_busy():
    assert batches([]) == []
    assert [len(b) for b in batches(list(range(20)))] == [2] * 10
    assert [len(b) for b in batches(list(range(5)))] == [1] * 5
    assert [len(b) for b in batches(list(range(160)))] == [10] * 16
    assert [len(b) for b in batches(list(range(5000)))] == [40] * 125
    # A 100,000-message fan-out enqueues chunk by chunk: 200 broker messages in all.
    assert [len(b) for b in batches(list(range(1000)), total=100_000)] == [500, 500]
    assert [len(b) for b in batches(list(range(37)))] == [3] * 12 + [1]
    assert [len(b) for b in batches(list(range(1000)), total=2_000_000)] == [MAX_BATCH]
    assert list(itertools.chain(*batches(list(range(999))))) == list(range(999))


@pytest.mark.django_db
@pytest.mark.usefixtures("unlimited_slots")
def test_a_batch_mixing_organizations_sends_each_through_its_own_account(personas, rsps, clock):
    connect(personas)
    connect(personas, "outsider", account_sid=OTHER_ACCOUNT)
    messages_create(rsps)
    other_url = MESSAGES_URL.replace(tw.ACCOUNT_SID, OTHER_ACCOUNT)

    def other_answer(request):
        form = form_of(request)
        body = message_json(to=form["To"][0], body=form["Body"][0], from_=form["From"][0])
        return 201, {"Content-Type": "application/json"}, json.dumps(body)

    rsps.add_callback(responses.POST, other_url, callback=other_answer)
    ours = waiting(personas, n=2)
    theirs = waiting(personas, personas.other_org, n=1, to=BOB)
    due(clock)

    outcome = send_messages.delay([ours[0].pk, theirs[0].pk, ours[1].pk]).get()

    assert outcome == {"submitted": 3}
    assert sorted(f["Body"][0] for f in forms(rsps)) == ["#0", "#1"]
    theirs_sent = [form_of(c.request) for c in rsps.calls if c.request.url == other_url]
    assert [(f["To"], f["Body"]) for f in theirs_sent] == [([BOB], ["#0"])]
    assert set(Message.objects.values_list("status", flat=True)) == {Status.QUEUED}


@pytest.mark.django_db
@pytest.mark.usefixtures("unlimited_slots")
def test_one_batch_holds_a_retry_an_unknown_outcome_and_a_send(personas, rsps, clock):
    connect(personas)
    rsps.post(MESSAGES_URL, json=tw.error(20429, 429, "Too Many Requests"), status=429)
    rsps.post(MESSAGES_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    messages_create(rsps)
    first, second, third = waiting(personas, n=3)
    due(clock)

    outcomes = messages_submit([first.pk, second.pk, third.pk])

    assert outcomes == {first.pk: "retry", second.pk: "unknown", third.pk: "submitted"}
    rows = dict(Message.objects.values_list("pk", "status"))
    assert rows == {
        first.pk: Status.PENDING,  # with a backoff
        second.pk: Status.SUBMITTING,  # the sweeper looks it up before anything is sent again
        third.pk: Status.QUEUED,
    }
    assert len(forms(rsps)) == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("unlimited_slots")
def test_two_workers_taking_the_same_batch_send_each_message_once(personas, rsps, clock):
    connect(personas)
    messages_create(rsps)
    ids = [m.pk for m in waiting(personas, n=6)]
    due(clock)

    first, second = run_together(lambda: messages_submit(ids), lambda: messages_submit(ids))

    for message_id in ids:
        assert sorted([first.get(message_id, "-"), second.get(message_id, "-")]) in (
            ["-", "submitted"],  # the other worker loaded the batch after it was sent
            ["submitted", "taken"],
        )
    assert sorted(f["Body"][0] for f in forms(rsps)) == [f"#{i}" for i in range(6)]
    assert set(Message.objects.values_list("status", flat=True)) == {Status.QUEUED}


@pytest.mark.django_db
def test_a_rate_limit_holds_the_rest_of_the_batch_back_as_one_batch(
    personas, rsps, clock, monkeypatch
):
    connection = connect(personas)  # a local number: 1 segment per second
    messages_create(rsps)
    asked: list[str] = []

    def take(key: str, *, rate: float, cost: int = 1) -> float:
        asked.append(key)
        return 0.0 if len(asked) == 1 else 0.8  # a slot for the first, then "wait 0.8 s"

    limiter(monkeypatch, take)
    later: list[tuple] = []

    def apply_async(args, countdown=None, **options):
        later.append((args, countdown))  # what the worker would get, after the countdown

    monkeypatch.setattr(send_messages, "apply_async", apply_async)
    first, *rest = waiting(personas, n=4)
    due(clock)

    outcomes = messages_submit([first.pk, *(m.pk for m in rest)])

    assert outcomes == {first.pk: "submitted", **{m.pk: "deferred" for m in rest}}
    # The limiter was asked twice: once for the message sent, once for the one it refused.
    assert asked == [f"sender:{connection.pk}"] * 2
    assert later == [(([m.pk for m in rest],), 0.8)]
    assert len(forms(rsps)) == 1
    assert set(
        Message.objects.filter(pk__in=[m.pk for m in rest]).values_list("status", flat=True)
    ) == {Status.PENDING}


class FrozenTime:
    """``time.time`` for the limiter, moved by hand (it takes "now" from the caller)."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def time(self) -> float:
        return self.now


@pytest.mark.django_db
def test_a_batch_held_back_reserves_its_next_burst_and_sends_it_without_asking(
    personas, rsps, clock, monkeypatch
):
    connection = connect(personas)
    TwilioCredentials.objects.filter(connection=connection).update(send_rate=10)
    messages_create(rsps)
    limiter_time = FrozenTime()
    monkeypatch.setattr(ratelimit, "time", limiter_time)
    ratelimit.reset(f"sender:{connection.pk}")
    later: list[tuple] = []

    def apply_async(args, kwargs=None, countdown=None, **options):
        later.append((args, kwargs, countdown))  # what the worker would get, after the countdown

    monkeypatch.setattr(send_messages, "apply_async", apply_async)
    ids = [m.pk for m in waiting(personas, n=25)]
    due(clock)

    first = messages_submit(ids)

    # A burst (10) now; the next 10's slots reserved, due in 1 s; the last 5 wait with them.
    assert [first[i] for i in ids] == ["submitted"] * 10 + ["deferred"] * 15
    assert later == [((ids[10:],), {"reserved": ids[10:20]}, 1.0)]

    later.clear()
    limiter_time.now += 1.0
    clock.now += datetime.timedelta(seconds=1)
    second = send_messages(ids[10:], reserved=ids[10:20])

    # The 10 reserved go without asking; the 5 others reserve theirs (1.1 s … 1.5 s).
    assert second == {"submitted": 10, "deferred": 5}
    assert later == [((ids[20:],), {"reserved": ids[20:]}, 0.5)]
    assert len(forms(rsps)) == 20
    assert Message.objects.filter(pk__in=ids[:20], status=Status.QUEUED).count() == 20


class WorkerKilled(BaseException):
    """What a worker process dying mid-call looks like from inside it."""


@pytest.mark.django_db
@pytest.mark.usefixtures("unlimited_slots")
def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    personas, rsps, clock, monkeypatch, django_capture_on_commit_callbacks
):
    from messaging.services import dispatch, submit
    from messaging.services.sweeper import messages_sweep
    from tests.messaging.sweeper.helpers import twilio_lists

    connect(personas)
    first, second, third = waiting(personas, n=3)
    due(clock)
    enqueued: list[list[int]] = []
    delay = send_messages.delay
    monkeypatch.setattr(send_messages, "delay", enqueued.append)  # the broker took the batches
    assert dispatch.messages_enqueue_due() == 3
    assert sorted(itertools.chain(*enqueued)) == [first.pk, second.pk, third.pk]
    monkeypatch.setattr(send_messages, "delay", delay)
    sids = messages_create(rsps)
    real_call = submit._call_twilio

    def dies_on_the_second(message, connection, gateway):
        if message.pk == second.pk:
            raise WorkerKilled
        return real_call(message, connection, gateway)

    monkeypatch.setattr(submit, "_call_twilio", dies_on_the_second)
    with pytest.raises(WorkerKilled):
        messages_submit([first.pk, second.pk, third.pk])
    monkeypatch.setattr(submit, "_call_twilio", real_call)
    # The window claimed all three; Twilio's answer for the first was recorded on the way out
    # (a kill -9 would leave it ``submitting`` too, and the sweeper would adopt it).
    rows = dict(Message.objects.values_list("pk", "status"))
    assert rows == {
        first.pk: Status.QUEUED,
        second.pk: Status.SUBMITTING,
        third.pk: Status.SUBMITTING,
    }

    # Six minutes on, the sweeper finds both: Twilio has no message like them.
    clock.now += datetime.timedelta(minutes=6)
    twilio_lists(rsps, message_json(to=ALICE, body="#0", sid=sids[0], created=clock.now))
    with django_capture_on_commit_callbacks(execute=True):
        result = messages_sweep()

    assert (result.requeued, result.resent) == (0, 2)
    assert set(Message.objects.values_list("status", flat=True)) == {Status.QUEUED}
    assert sorted(f["Body"][0] for f in forms(rsps)) == ["#0", "#1", "#2"]


@pytest.mark.django_db
@pytest.mark.usefixtures("unlimited_slots")
def test_a_batch_costs_the_same_statements_whatever_its_size(personas, rsps, clock):
    from connections.models import Connection, TwilioCredentials

    connect(personas)
    messages_create(rsps)
    # Whether an outbound webhook wants status changes: read once, then cached (tenants.outbound).
    outbound.wanted(personas.org.pk, "message.status_changed")
    counted = {}
    for n in (2, 20):
        sql = statements_to_submit(clock, [m.pk for m in waiting(personas, n=n)])
        tables = (Connection._meta.db_table, TwilioCredentials._meta.db_table)
        reads = [q for q in sql if q.startswith("SELECT") and any(t in q for t in tables)]
        assert len(reads) == 1, reads  # connection and credentials: one query per batch
        counted[n] = len(sql)
    # The load, the connection with its credentials, the claim (lock, update), the rules
    # (opt-outs, invalid numbers) and the answers (lock, update, events): the same nine
    # statements (and the test's savepoints) for 2 messages as for 20.
    assert counted[2] == counted[20] == 13, sql


@pytest.mark.django_db
@pytest.mark.usefixtures("unlimited_slots")
def test_with_a_frequency_cap_and_dedupe_keys_a_batch_still_costs_the_same(personas, rsps, clock):
    capped(personas, rsps, 100)
    outbound.wanted(personas.org.pk, "message.status_changed")  # read once, then cached
    counted = {}
    for n in (2, 20):
        ids = [
            message_send(
                organization=personas.org,
                to=ALICE,
                body=f"#{i}",
                send_after=T0 + datetime.timedelta(minutes=1),
                dedupe_key=f"n{n}-{i}",
                source="api",
            ).pk
            for i in range(n)
        ]
        sql = statements_to_submit(clock, ids)
        counted[n] = len(sql)
    # Plus the number locks, the keys used and held, the counts, and the keys' insert.
    assert counted[2] == counted[20], sql


@pytest.mark.django_db
@pytest.mark.usefixtures("unlimited_slots")
def test_messages_of_one_window_take_the_frequency_cap_slots_in_order(personas, rsps, clock):
    capped(personas, rsps, 2)
    messages = waiting(personas, n=4)
    other = waiting(personas, n=1, to=BOB)
    due(clock)

    outcomes = messages_submit([m.pk for m in [*messages, *other]])

    assert [outcomes[m.pk] for m in [*messages, *other]] == [
        "submitted",
        "submitted",
        "suppressed",
        "suppressed",
        "submitted",
    ]
    rows = Message.objects.filter(pk__in=[m.pk for m in messages]).order_by("pk")
    assert [(m.status, m.suppressed_reason) for m in rows] == [
        (Status.QUEUED, ""),
        (Status.QUEUED, ""),
        (Status.SUPPRESSED, "frequency_cap"),
        (Status.SUPPRESSED, "frequency_cap"),
    ]
    assert sorted(f["Body"][0] for f in forms(rsps)) == ["#0", "#0", "#1"]
