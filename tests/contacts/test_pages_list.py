"""The contact list: counts, search, filters, sort, pages and bulk tag."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import (
    OPT_OUT_TAG,
    ConsentSource,
    ConsentState,
    Contact,
    Tag,
)
from contacts.services.consent import consent_opt_out
from tests.contacts.helpers import (
    OTHER_PHONE,
    PHONE,
    RESERVED_WORDS,
    WRITERS,
    add,
    detail_path,
    follow,
    numbered,
    row_count,
    snapshot,
    tag_names,
    visible,
)
from tests.factories import page_text

pytestmark = pytest.mark.django_db

LIST = "/contacts/"
NEW = "/contacts/new/"
BULK = "/contacts/bulk-tag/"


# --- The list: counts, search, filters, sort, pages -----------------------------------------


def test_it_shows_an_empty_state_before_any_contact(personas):
    response = personas.client("marketer").get(LIST)

    assert response.status_code == 200
    text = page_text(response)
    assert "No contacts yet" in text
    assert "0 contacts" in text
    assert "Add your first contact" in text


def test_it_counts_the_contacts(personas, alice, bob):
    add(personas.org, "+14155550125", first_name="Carol", last_name="King")

    text = visible(personas.client("viewer").get(LIST))

    assert "3 contacts" in text
    assert "No contacts yet" not in text
    assert "Alice Smith" in text
    assert "Bob Jones" in text
    assert "Carol King" in text


def test_it_counts_the_contacts_matching_the_filters(personas, alice, bob):
    add(personas.org, "+14155550125", first_name="Carol", last_name="King")
    client = personas.client("viewer")

    one = visible(client.get(LIST, {"q": "carol"}))
    two = visible(client.get(LIST, {"tag": "vip"}))
    none = visible(client.get(LIST, {"q": "nobody"}))

    assert "1 contact matches these filters" in one
    assert "2 contacts match these filters" in two
    assert "0 contacts match these filters" in none
    assert "No contacts match" in none
    assert "No contacts yet" not in none


@pytest.fixture
def people(personas) -> dict[str, Contact]:
    return {
        "alice": add(
            personas.org, PHONE, first_name="Alice", last_name="Smith", email="alice@example.com"
        ),
        "bob": add(
            personas.org, OTHER_PHONE, first_name="Bob", last_name="Jones", email="bob@work.org"
        ),
        "carol": add(
            personas.org, "+12125550100", first_name="Carol", last_name="Alison", tags=["vip"]
        ),
    }


def listed(response: Any, people: dict[str, Contact]) -> set[str]:
    text = page_text(response)
    return {key for key, contact in people.items() if detail_path(contact) in text}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ali", {"alice", "carol"}),
        ("SMITH", {"alice"}),
        ("bob@work.org", {"bob"}),
        ("work.org", {"bob"}),
        ("415.555.0123", {"alice"}),
        ("(415) 555-0124", {"bob"}),
        ("+1 212 555 0100", {"carol"}),
        ("555-012", {"alice", "bob"}),
        ("nobody", set()),
    ],
)
def test_it_searches_by_name_email_or_phone_in_any_format(personas, people, query, expected):
    response = personas.client("viewer").get(LIST, {"q": query})

    assert response.status_code == 200
    assert listed(response, people) == expected
    assert f'value="{query}"' in page_text(response)


def test_it_filters_by_tag_in_any_case(personas, people):
    client = personas.client("viewer")

    response = client.get(LIST, {"tag": "VIP"})

    assert listed(response, people) == {"carol"}
    assert '<option value="vip" selected>' in page_text(response)


def test_it_filters_by_the_reserved_opt_out_tag(personas, people):
    consent_opt_out(organization=personas.org, phone=OTHER_PHONE, source=ConsentSource.USER)
    client = personas.client("viewer")

    response = client.get(LIST, {"tag": OPT_OUT_TAG})

    assert listed(response, people) == {"bob"}
    assert f'<option value="{OPT_OUT_TAG}" selected>' in page_text(response)


def test_it_offers_the_reserved_tag_in_the_filter_before_anyone_opted_out(personas, people):
    text = page_text(personas.client("viewer").get(LIST))

    assert f'<option value="{OPT_OUT_TAG}"' in text
    assert '<option value="vip"' in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [("yes", {"bob"}), ("no", {"alice", "carol"}), ("", {"alice", "bob", "carol"})],
)
def test_it_filters_by_consent(personas, people, value, expected):
    consent_opt_out(organization=personas.org, phone=OTHER_PHONE, source=ConsentSource.USER)

    response = personas.client("viewer").get(LIST, {"opted_out": value})

    assert listed(response, people) == expected
    if value == "yes":
        assert "opted out" in page_text(response)


def test_it_combines_search_tag_and_consent_filters(personas, people):
    add(personas.org, "+12125550101", first_name="Alison", last_name="Brie", tags=["vip"])
    consent_opt_out(organization=personas.org, phone="+12125550101", source=ConsentSource.USER)

    response = personas.client("viewer").get(LIST, {"q": "ali", "tag": "vip", "opted_out": "no"})

    assert listed(response, people) == {"carol"}
    assert "Alison Brie" not in page_text(response)
    assert "1 contact matches these filters" in visible(response)


def positions(text: str, names: list[str]) -> list[int]:
    return [text.index(name) for name in names]


def test_it_sorts_by_name(personas):
    for phone, first, last in [
        (PHONE, "Zoe", "Adams"),
        (OTHER_PHONE, "Amy", "Young"),
        ("+14155550125", "Bob", "Miller"),
        ("+14155550126", "Al", "Miller"),
    ]:
        add(personas.org, phone, first_name=first, last_name=last)
    client = personas.client("viewer")
    names = ["Zoe Adams", "Al Miller", "Bob Miller", "Amy Young"]

    by_name = visible(client.get(LIST, {"sort": "name"}))
    by_name_reversed = visible(client.get(LIST, {"sort": "-name"}))

    found = positions(by_name, names)
    assert found == sorted(found)
    found_reversed = positions(by_name_reversed, names)
    assert found_reversed == sorted(found_reversed, reverse=True)


def test_it_lists_the_newest_first_by_default(personas):
    add(personas.org, PHONE, first_name="First", last_name="Added")
    add(personas.org, OTHER_PHONE, first_name="Second", last_name="Added")

    text = visible(personas.client("viewer").get(LIST))

    assert text.index("Second Added") < text.index("First Added")


@pytest.fixture
def sixty(personas) -> list[Contact]:
    return [
        add(
            personas.org,
            numbered(100 + i),
            first_name=f"Person{i:02d}",
            last_name="Crowd",
            tags=["vip"],
        )
        for i in range(60)
    ]


def test_it_shows_50_contacts_per_page_and_keeps_the_filters_in_the_page_links(personas, sixty):
    add(personas.org, "+12125550100", first_name="Not", last_name="Tagged")
    client = personas.client("marketer")

    first = client.get(LIST, {"tag": "vip", "sort": "name"})
    second = client.get(LIST, {"tag": "vip", "sort": "name", "page": "2"})

    first_text = page_text(first)
    assert "Page 1 of 2" in first_text
    assert "60 contacts match these filters" in visible(first)
    assert row_count(first) == 50
    assert 'href="?tag=vip&sort=name&page=2"' in first_text
    assert 'rel="prev"' not in first_text
    assert "Not Tagged" not in first_text
    second_text = page_text(second)
    assert "Page 2 of 2" in second_text
    assert row_count(second) == 10
    assert 'href="?tag=vip&sort=name&page=1"' in second_text
    assert 'rel="next"' not in second_text
    on_pages = {c.public_id for c in sixty if detail_path(c) in first_text + second_text}
    assert on_pages == {c.public_id for c in sixty}


def test_it_shows_no_page_links_for_one_page(personas, alice):
    text = page_text(personas.client("viewer").get(LIST))

    assert "Page 1 of" not in text
    assert 'rel="next"' not in text


def test_it_loads_the_list_in_as_many_queries_for_60_contacts_as_for_5(personas):
    for i in range(5):
        add(personas.org, numbered(100 + i), first_name=f"P{i}", tags=["red", "blue"])
    client = personas.client("marketer")
    client.get(LIST)  # the first visit may create the reserved tag and warm the session

    with CaptureQueriesContext(connection) as few:
        small = client.get(LIST)
    for i in range(5, 60):
        add(personas.org, numbered(100 + i), first_name=f"P{i}", tags=["red", "blue"])
    with CaptureQueriesContext(connection) as many:
        large = client.get(LIST)

    assert row_count(small) == 5
    assert row_count(large) == 50
    assert page_text(large).count('<span class="tag">red</span>') == 50
    assert len(many.captured_queries) == len(few.captured_queries), [
        q["sql"] for q in many.captured_queries
    ]


# --- Bulk tag -------------------------------------------------------------------------------


def test_it_offers_to_tag_all_matching_contacts_with_their_count(personas, people):
    client = personas.client("marketer")

    everyone = page_text(client.get(LIST))
    filtered = page_text(client.get(LIST, {"q": "ali"}))

    assert "All 3 matching" in everyone
    assert "All 2 matching" in filtered
    assert 'name="query" value="q=ali"' in filtered


@pytest.mark.parametrize("persona", WRITERS)
def test_it_tags_the_checked_contacts(personas, people, persona):
    client = personas.client(persona)
    checked = [people["alice"], people["bob"]]

    response = client.post(
        BULK,
        {
            "name": "promo",
            "scope": "selected",
            "contact": [str(c.public_id) for c in checked],
            "query": "sort=name",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?sort=name"
    assert "promo" in tag_names(people["alice"])
    assert "promo" in tag_names(people["bob"])
    assert "promo" not in tag_names(people["carol"])
    assert "Tagged 2 contacts “promo”." in follow(client, response)


def test_it_skips_malformed_ids_among_the_checked_contacts(personas, people):
    client = personas.client("marketer")

    response = client.post(
        BULK,
        {
            "name": "promo",
            "scope": "selected",
            "contact": ["not-a-uuid", str(people["carol"].public_id)],
        },
    )

    assert response["Location"] == LIST
    assert "Tagged 1 contact “promo”." in follow(client, response)
    assert "promo" in tag_names(people["carol"])
    assert "promo" not in tag_names(people["alice"])


def test_it_tags_all_contacts_matching_the_current_filters(personas, people):
    add(personas.org, "+12125550101", first_name="Alison", last_name="Brie", tags=["vip"])
    consent_opt_out(organization=personas.org, phone="+12125550101", source=ConsentSource.USER)
    client = personas.client("marketer")

    response = client.post(
        BULK,
        {
            "name": "promo",
            "scope": "matching",
            "contact": [str(people["bob"].public_id)],  # checked boxes do not count here
            "query": "q=ali&opted_out=no",
        },
    )

    assert response["Location"] == f"{LIST}?q=ali&opted_out=no"
    tagged = set(Contact.objects.filter(tags__name="promo").values_list("first_name", flat=True))
    assert tagged == {"Alice", "Carol"}
    assert "Tagged 2 contacts “promo”." in follow(client, response)


def test_it_tags_matching_contacts_beyond_the_first_page(personas, sixty):
    other = add(personas.org, "+12125550100", first_name="Not", last_name="Vip")
    client = personas.client("marketer")

    response = client.post(BULK, {"name": "promo", "scope": "matching", "query": "tag=vip"})

    assert "Tagged 60 contacts “promo”." in follow(client, response)
    assert Contact.objects.filter(tags__name="promo").count() == 60
    assert "promo" not in tag_names(other)


def test_it_counts_only_the_contacts_that_gained_the_tag(personas, people):
    client = personas.client("marketer")

    response = client.post(BULK, {"name": "VIP", "scope": "matching", "query": ""})

    assert "Tagged 2 contacts “VIP”." in follow(client, response)
    assert Contact.objects.filter(tags__name="vip").count() == 3
    assert Tag.objects.filter(organization=personas.org, name__iexact="vip").count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "scope": "matching", "query": "tag=vip"},
        {"name": "promo", "scope": "everyone", "query": "tag=vip"},
    ],
)
def test_it_refuses_a_bulk_tag_without_a_name_or_scope(personas, people, data):
    client = personas.client("marketer")
    before = snapshot(personas.org)

    response = client.post(BULK, data)

    assert response["Location"] == f"{LIST}?tag=vip"
    assert "Give a tag name and choose which contacts to tag." in follow(client, response)
    assert snapshot(personas.org) == before


def test_it_refuses_the_reserved_tag_in_a_bulk_tag(personas, people):
    client = personas.client("marketer")
    before = snapshot(personas.org)

    response = client.post(BULK, {"name": OPT_OUT_TAG, "scope": "matching", "query": ""})

    assert RESERVED_WORDS in follow(client, response)
    assert snapshot(personas.org) == before
    assert not ConsentState.objects.filter(organization=personas.org).exists()
