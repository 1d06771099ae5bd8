"""The contacts CSV export: ``/contacts/export/`` and ``/api/v1/contacts/export.csv``."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from contacts import export
from contacts.export import safe_cell
from contacts.models import Contact, ContactTag, Tag
from tests.contacts.helpers import OTHER_PHONE, PHONE, add, error, numbered, stop_by_keyword
from tests.csv_download import download, rows
from tests.factories import page_text

pytestmark = pytest.mark.django_db

PAGE = "/contacts/export/"
API = "/api/v1/contacts/export.csv"
HEADER = "phone,first_name,last_name,email,time_zone,tags,opted_out,created_at"
CAROL = "+14155550125"


def phones(response: Any) -> list[str]:
    return [row[0] for row in rows(response)[1:]]


def created(contact: Contact, hour: int) -> None:
    """A known creation time, so that the rows' order and ``created_at`` are known."""
    at = datetime.datetime(2026, 12, 1, hour, 30, tzinfo=datetime.UTC)
    Contact.objects.filter(pk=contact.pk).update(created_at=at)


@pytest.fixture
def three(personas) -> list[Contact]:
    """Alice (vip, plan gold), Bob (vip, opted out by STOP), Carol (a birthday only)."""
    alice = add(
        personas.org,
        PHONE,
        first_name="Alice",
        last_name="Smith",
        email="alice@example.com",
        time_zone="Europe/Paris",
        custom_fields={"plan": "gold"},
        tags=["vip"],
    )
    bob = add(personas.org, OTHER_PHONE, first_name="Bob", last_name="Jones", tags=["vip"])
    stop_by_keyword(personas.org, OTHER_PHONE)
    carol = add(
        personas.org,
        CAROL,
        first_name="Carol",
        last_name="Kéré",
        custom_fields={"birthday": "1990-05-01"},
    )
    for hour, contact in enumerate([alice, bob, carol], start=8):
        created(contact, hour)
    return [alice, bob, carol]


# --- The file -------------------------------------------------------------------------------


def test_it_writes_the_exact_csv(personas, three):
    text = download(personas.client("viewer").get(PAGE))

    assert text == (
        f"{HEADER},custom.birthday,custom.plan\r\n"
        "'+14155550125,Carol,Kéré,,America/Los_Angeles,,no,2026-12-01T10:30:00Z,1990-05-01,\r\n"
        '\'+14155550124,Bob,Jones,,America/Los_Angeles,"Twilio-Message-stop, vip",yes,'
        "2026-12-01T09:30:00Z,,\r\n"
        "'+14155550123,Alice,Smith,alice@example.com,Europe/Paris,vip,no,"
        "2026-12-01T08:30:00Z,,gold\r\n"
    )


def test_it_names_the_file_by_the_date_in_the_organizations_time_zone(personas, monkeypatch):
    personas.org.time_zone = "Pacific/Auckland"
    personas.org.save()
    client = personas.client("viewer")
    noon = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)  # 4 December in Auckland
    monkeypatch.setattr(timezone, "now", lambda: noon)

    response = client.get(PAGE)

    assert response["Content-Disposition"] == 'attachment; filename="contacts-2026-12-04.csv"'


def test_an_empty_organization_gets_the_header_only(personas):
    assert download(personas.client("viewer").get(PAGE)) == HEADER + "\r\n"


DANGEROUS = ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"]
HARMLESS = ["1+1", "x=1", "a-b", "name@example", " =1", "'quoted", "Zoë", ""]


@pytest.mark.parametrize("value", DANGEROUS)
def test_a_cell_that_starts_like_a_formula_gets_an_apostrophe(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", HARMLESS)
def test_a_harmless_cell_is_written_as_it_is(value):
    assert safe_cell(value) == value


def test_every_cell_of_the_file_is_spreadsheet_safe(personas):
    """Values that came in some other way than the forms (which trim them) are escaped too,
    in every column: names, tags and custom fields."""
    keys = [f"k{n}" for n in range(len(DANGEROUS) + len(HARMLESS))]
    contact = add(personas.org, tags=["-minus"])
    Contact.objects.filter(pk=contact.pk).update(
        first_name="=1+1",
        last_name="@SUM(A1)",
        custom_fields=dict(zip(keys, DANGEROUS + HARMLESS, strict=True)),
    )

    [head, row] = rows(personas.client("viewer").get(PAGE))

    cells = dict(zip(head, row, strict=True))
    assert cells["phone"] == "'" + PHONE
    assert cells["first_name"] == "'=1+1"
    assert cells["last_name"] == "'@SUM(A1)"
    assert cells["tags"] == "'-minus"
    assert [cells[f"custom.{key}"] for key in keys] == [
        *("'" + value for value in DANGEROUS),
        *HARMLESS,
    ]


def test_a_custom_field_only_some_contacts_have_is_a_column_left_empty_for_others(personas, three):
    [head, *body] = rows(personas.client("viewer").get(PAGE))

    assert head[-2:] == ["custom.birthday", "custom.plan"]
    by_phone = {row[0]: dict(zip(head, row, strict=True)) for row in body}
    assert by_phone["'" + CAROL]["custom.birthday"] == "1990-05-01"
    assert by_phone["'" + PHONE]["custom.birthday"] == ""
    assert by_phone["'" + PHONE]["custom.plan"] == "gold"


def test_the_columns_name_the_keys_of_every_contact_even_when_filtered_out(personas, three):
    [head, *body] = rows(personas.client("viewer").get(PAGE, {"tag": "vip"}))

    assert head == [*HEADER.split(","), "custom.birthday", "custom.plan"]
    assert len(body) == 2


# --- Filters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "smith"}, [PHONE]),
        ({"q": "(415) 555-0125"}, [CAROL]),
        ({"tag": "VIP"}, [OTHER_PHONE, PHONE]),
        ({"opted_out": "yes"}, [OTHER_PHONE]),
        ({"opted_out": "no"}, [CAROL, PHONE]),
        ({"tag": "vip", "opted_out": "no"}, [PHONE]),
        ({"sort": "name"}, [OTHER_PHONE, CAROL, PHONE]),
        ({"q": "nobody"}, []),
    ],
)
def test_the_page_exports_the_lists_filters(personas, three, query, expected):
    exported = phones(personas.client("viewer").get(PAGE, query))

    assert exported == ["'" + phone for phone in expected]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "smith"}, [PHONE]),
        ({"tag": "vip"}, [OTHER_PHONE, PHONE]),
        ({"opted_out": "true"}, [OTHER_PHONE]),
        ({"opted_out": "false"}, [CAROL, PHONE]),
        ({"phone": "415 555 0124"}, [OTHER_PHONE]),
    ],
)
def test_the_api_exports_the_list_apis_filters(personas, three, query, expected):
    exported = phones(personas.api("viewer").get(API, query))

    assert exported == ["'" + phone for phone in expected]


def test_the_list_links_to_the_export_with_its_filters(personas, three):
    text = page_text(personas.client("viewer").get("/contacts/", {"tag": "vip", "page": "1"}))

    assert 'href="/contacts/export/?tag=vip"' in text
    assert "Exports the 2 matching contacts as a CSV file" in text
    assert "Export CSV" in text


# --- Streaming ------------------------------------------------------------------------------


def many(personas, count: int) -> None:
    """``count`` contacts in a few queries, every other one tagged and with a custom field."""
    made = Contact.objects.bulk_create(
        Contact(
            organization=personas.org,
            phone=numbered(n),
            first_name=f"P{n}",
            time_zone="UTC",
            custom_fields={"plan": "gold"} if n % 2 else {},
        )
        for n in range(count)
    )
    tag, _ = Tag.objects.get_or_create(organization=personas.org, name="vip")
    ContactTag.objects.bulk_create(ContactTag(contact=c, tag=tag) for c in made[::2])


def queries_to_export(client: Any, path: str) -> tuple[int, int]:
    """The queries of a whole download (its streamed rows read), and the rows."""
    with CaptureQueriesContext(connection) as captured:
        exported = rows(client.get(path))
    return len(captured), len(exported) - 1


@pytest.mark.parametrize("path", [PAGE, API])
def test_the_queries_do_not_grow_with_the_rows(personas, path):
    client = personas.api("viewer") if path == API else personas.client("viewer")
    client.get(path)  # a key's first use is written down once (last_used_at)
    many(personas, 30)
    small, thirty = queries_to_export(client, path)
    Contact.objects.filter(organization=personas.org).delete()
    many(personas, 300)
    big, three_hundred = queries_to_export(client, path)

    assert (thirty, three_hundred) == (30, 300)
    assert small == big
    assert big <= 10


def test_each_chunk_gets_its_own_contacts_tags(personas, monkeypatch):
    """Chunks of 7 instead of 2,000: 30 contacts in 5 chunks, one tags query each."""
    many(personas, 30)
    client = personas.client("viewer")
    one_chunk, _ = queries_to_export(client, PAGE)
    monkeypatch.setattr(export, "CHUNK_SIZE", 7)

    with CaptureQueriesContext(connection) as captured:
        [head, *body] = rows(client.get(PAGE))

    cells = [dict(zip(head, row, strict=True)) for row in body]
    assert len(captured) == one_chunk + 4
    assert sorted(c["first_name"] for c in cells) == sorted(f"P{n}" for n in range(30))
    assert {c["first_name"] for c in cells if c["tags"] == "vip"} == {
        f"P{n}" for n in range(0, 30, 2)
    }
    assert {c["first_name"] for c in cells if c["custom.plan"] == "gold"} == {
        f"P{n}" for n in range(1, 30, 2)
    }


# --- Who may export -------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["viewer", "marketer", "admin", "owner"])
def test_every_member_may_export_on_the_page_and_the_api(personas, three, persona):
    page = phones(personas.client(persona).get(PAGE))
    api = phones(personas.api(persona).get(API, HTTP_ACCEPT="text/csv"))

    assert len(page) == 3
    assert api == page


def test_anonymous_visitors_go_to_the_login_page(client, personas, three):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={PAGE}"


def test_the_api_answers_401_in_its_error_shape_without_a_key(personas, three):
    response = APIClient(HTTP_X_FORWARDED_PROTO="https").get(API, HTTP_ACCEPT="text/csv")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert error(response)["code"] == "not_authenticated"


def test_the_api_answers_a_bad_filter_in_its_error_shape(personas, three):
    response = personas.api("viewer").get(API, {"opted_out": "maybe"}, HTTP_ACCEPT="text/csv")

    assert response.status_code == 400
    assert error(response)["code"] == "validation_error"
    assert "opted_out" in error(response)["fields"]


def test_another_organizations_contacts_never_appear(personas, three):
    add(personas.other_org, "+14155550999", first_name="Oscar", custom_fields={"secret": "x"})

    own_page = rows(personas.client("outsider").get(PAGE))
    own_api = rows(personas.api("outsider").get(API))
    theirs = download(personas.client("owner").get(PAGE))

    assert [row[0] for row in own_page[1:]] == ["'+14155550999"]
    assert own_api == own_page
    assert own_page[0][-1] == "custom.secret"
    assert "Alice" not in download(personas.client("outsider").get(PAGE))
    assert "Oscar" not in theirs
    assert "custom.secret" not in theirs
