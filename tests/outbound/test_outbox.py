"""The outbox: events are written in the transaction of the change, only when an enabled
endpoint wants the type, with one insert whatever their number; delivery follows the commit."""

from __future__ import annotations

import pytest
import responses
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tenants.outbound.models import DeliveryState, WebhookDelivery, WebhookEvent
from tenants.outbound.services import event_record, events_record, wanted
from tenants.outbound.services.endpoints import (
    endpoint_delete,
    endpoint_disable,
    endpoint_enable,
    endpoint_update,
)
from tests.outbound.conftest import URL, make_endpoint, record_event

pytestmark = pytest.mark.django_db(transaction=True)


def test_nothing_is_written_and_no_query_made_when_nothing_wants_the_type(personas):
    make_endpoint(personas.org, event_types=["contact.created"])
    assert wanted(personas.org.pk, "contact.created")  # warms the cache
    with CaptureQueriesContext(connection) as queries:
        recorded = event_record(
            organization_id=personas.org.pk, type="message.status_changed", data={"a": 1}
        )
    assert recorded is None
    assert len(queries) == 0
    assert not WebhookEvent.objects.exists()


def test_an_organization_without_endpoints_costs_one_cached_read(personas):
    event_record(organization_id=personas.org.pk, type="contact.created", data={})
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            event_record(organization_id=personas.org.pk, type="contact.created", data={})
    assert len(queries) == 0
    assert not WebhookEvent.objects.exists()


def test_an_event_is_delivered_once_its_transaction_commits(personas, rsps):
    make_endpoint(personas.org)
    rsps.add(responses.POST, URL, status=200)
    with transaction.atomic():
        delivery = record_event(personas.org, data={"a": 1})
        assert len(rsps.calls) == 0  # not before the commit
    assert len(rsps.calls) == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SUCCEEDED


def test_a_rollback_takes_its_events_with_it(personas, rsps):
    make_endpoint(personas.org)

    def change() -> None:
        with transaction.atomic():
            event_record(organization_id=personas.org.pk, type="message.status_changed", data={})
            raise RuntimeError

    with pytest.raises(RuntimeError):
        change()
    assert not WebhookEvent.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert len(rsps.calls) == 0


def test_many_events_take_one_insert_each_for_events_and_deliveries(personas, monkeypatch):
    make_endpoint(personas.org)
    make_endpoint(personas.org, url="https://other.example.com/hook")
    wanted(personas.org.pk, "message.status_changed")
    # Delivery is left to the beat here: no drain runs.
    monkeypatch.setattr("tenants.outbound.services.events.wake", lambda: None)
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        recorded = events_record(
            organization_id=personas.org.pk,
            type="message.status_changed",
            data=[{"n": n} for n in range(1000)],
        )
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(recorded) == 1000
    assert WebhookEvent.objects.count() == 1000
    assert WebhookDelivery.objects.count() == 2000
    writes = [sql for sql in statements if "INSERT INTO" in sql]
    reads = [sql for sql in statements if sql.startswith("SELECT")]
    if connection.vendor == "postgresql":
        # One statement: the events, and a delivery for each endpoint that wants them.
        assert (len(writes), len(reads)) == (1, 0)
        assert 'INSERT INTO "outbound_webhookevent"' in writes[0]
        assert 'INSERT INTO "outbound_webhookdelivery"' in writes[0]
    else:
        # The endpoints, then each table's inserts in as many statements as SQLite's 999
        # parameters need, whatever the number of events.
        assert len(reads) == 1
        assert {sql.split("(")[0] for sql in writes} == {
            'INSERT INTO "outbound_webhookevent" ',
            'INSERT INTO "outbound_webhookdelivery" ',
        }


def test_only_enabled_endpoints_subscribed_to_the_type_get_it(personas, rsps):
    wanting, _ = make_endpoint(personas.org, event_types=["contact.created"])
    make_endpoint(
        personas.org, url="https://other.example.com/hook", event_types=["message.received"]
    )
    disabled, _ = make_endpoint(
        personas.org, url="https://third.example.com/hook", event_types=["contact.created"]
    )
    endpoint_disable(endpoint=disabled)
    make_endpoint(personas.other_org, event_types=["contact.created"])
    rsps.add(responses.POST, URL, status=200)
    event_record(organization_id=personas.org.pk, type="contact.created", data={})
    assert list(WebhookDelivery.objects.values_list("endpoint", flat=True)) == [wanting.pk]


def test_the_cache_follows_every_change_of_an_endpoint(personas):
    endpoint, _ = make_endpoint(personas.org, event_types=["contact.created"])
    assert wanted(personas.org.pk, "contact.created")
    endpoint_update(endpoint=endpoint, event_types=["contact.opted_out"])
    assert not wanted(personas.org.pk, "contact.created")
    assert wanted(personas.org.pk, "contact.opted_out")
    endpoint_disable(endpoint=endpoint)
    assert not wanted(personas.org.pk, "contact.opted_out")
    endpoint_enable(endpoint=endpoint)
    assert wanted(personas.org.pk, "contact.opted_out")
    endpoint_delete(endpoint=endpoint)
    assert not wanted(personas.org.pk, "contact.opted_out")
    assert not wanted(personas.other_org.pk, "contact.opted_out")
