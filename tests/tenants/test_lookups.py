"""``field__any``: the same rows as ``field__in``, one array parameter on PostgreSQL."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants.models import Organization, User
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def users() -> list[User]:
    return [make_user() for _ in range(4)]


def test_it_finds_the_rows_in_a_list_of_ids_as_in_does(users):
    wanted = [users[0].pk, users[2].pk, 10**9]
    with CaptureQueriesContext(connection) as queries:
        found = sorted(User.objects.filter(pk__any=wanted).values_list("pk", flat=True))
    assert found == sorted(User.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    assert found == sorted([users[0].pk, users[2].pk])
    [query] = queries.captured_queries
    # One parameter for the whole list on PostgreSQL; the IN list elsewhere.
    assert ("= ANY(" in query["sql"]) is (connection.vendor == "postgresql")


def test_it_prepares_strings_uuids_and_foreign_keys(users):
    assert set(User.objects.filter(email__any=[users[1].email, "nobody@example.com"])) == {users[1]}
    assert set(User.objects.filter(public_id__any=[users[3].public_id])) == {users[3]}
    organization = Organization.objects.create(name="Acme", slug="acme")
    organization.memberships.create(user=users[0], role="owner")
    assert list(
        Organization.objects.filter(memberships__user_id__any=[users[0].pk]).values_list(
            "slug", flat=True
        )
    ) == ["acme"]


def test_an_empty_list_matches_nothing_and_updates_nothing(users):
    assert list(User.objects.filter(pk__any=[])) == []
    assert User.objects.filter(pk__any=[]).update(full_name="X") == 0
    assert not User.objects.filter(full_name="X").exists()
