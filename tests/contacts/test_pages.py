"""The contact pages: the list (search, filters, sort, pages, bulk tag), create, detail, edit,
delete, tags and manual consent, for each role and against other organizations."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import (
    OPT_OUT_TAG,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentState,
    Contact,
    ContactTag,
    Tag,
)
from contacts.services.consent import consent_opt_out
from contacts.services.contacts import contact_create
from tenants.models import Organization
from tests.factories import page_text

pytestmark = pytest.mark.django_db

LIST = "/contacts/"
NEW = "/contacts/new/"
BULK = "/contacts/bulk-tag/"
WRITERS = ["owner", "admin", "marketer"]
PHONE = "+14155550123"
OTHER_PHONE = "+14155550124"
RESERVED_WORDS = "kept for opt-outs"
LOCKED_WORDS = "Only the person can opt back in"


def add(organization: Organization, phone: str = PHONE, **data: Any) -> Contact:
    return contact_create(organization=organization, source="test", phone=phone, **data)


def numbered(index: int) -> str:
    return f"+1415555{index:04d}"


def detail_path(contact: Contact) -> str:
    return f"/contacts/{contact.public_id}/"


def visible(response: Any) -> str:
    """The page's text without its markup, to read sentences split by inline tags."""
    return re.sub(r"<[^>]+>", "", page_text(response))


def follow(client: Any, response: Any) -> str:
    """The text of the page a redirect leads to (with its flash messages)."""
    assert response.status_code == 302, response.content
    return visible(client.get(response["Location"]))


def tag_names(contact: Contact) -> set[str]:
    return set(Tag.objects.filter(contacttag__contact_id=contact.pk).values_list("name", flat=True))


def row_count(response: Any) -> int:
    return page_text(response).count('type="checkbox" name="contact"')


def state_of(organization: Organization, phone: str = PHONE) -> ConsentState | None:
    return ConsentState.objects.filter(organization=organization, phone=phone).first()


def snapshot(organization: Organization) -> dict[str, Any]:
    """Everything a contact page could change in an organization."""
    contacts = Contact.objects.filter(organization=organization).order_by("pk")
    return {
        "contacts": [
            (
                c.public_id,
                c.phone,
                c.first_name,
                c.last_name,
                c.email,
                c.time_zone,
                c.custom_fields,
                sorted(tag_names(c)),
            )
            for c in contacts
        ],
        "tags": sorted(
            Tag.objects.filter(organization=organization).values_list("name", flat=True)
        ),
        "states": sorted(
            ConsentState.objects.filter(organization=organization).values_list(
                "phone", "opted_out", "opt_out_source"
            )
        ),
        "events": ConsentEvent.objects.filter(organization=organization).count(),
    }


@pytest.fixture
def alice(personas) -> Contact:
    return add(
        personas.org,
        PHONE,
        first_name="Alice",
        last_name="Smith",
        email="alice@example.com",
        custom_fields={"plan": "gold"},
        tags=["vip"],
    )


@pytest.fixture
def bob(personas) -> Contact:
    """Opted out by a user (so a user may opt him back in)."""
    contact = add(personas.org, OTHER_PHONE, first_name="Bob", last_name="Jones", tags=["vip"])
    consent_opt_out(
        organization=personas.org,
        phone=contact.phone,
        source=ConsentSource.USER,
        user=personas.owner,
    )
    return contact


def stop_by_keyword(organization: Organization, phone: str = PHONE) -> None:
    consent_opt_out(organization=organization, phone=phone, source=ConsentSource.INBOUND_KEYWORD)


# --- Who may see and do what ----------------------------------------------------------------


ANONYMOUS_REQUESTS = [
    ("get", LIST),
    ("get", NEW),
    ("post", NEW),
    ("post", BULK),
    ("get", "/contacts/{id}/"),
    ("get", "/contacts/{id}/edit/"),
    ("post", "/contacts/{id}/edit/"),
    ("get", "/contacts/{id}/delete/"),
    ("post", "/contacts/{id}/delete/"),
    ("post", "/contacts/{id}/tags/"),
    ("post", "/contacts/{id}/tags/vip/remove/"),
    ("post", "/contacts/{id}/opt-out/"),
    ("post", "/contacts/{id}/opt-in/"),
]


@pytest.mark.parametrize(("method", "template"), ANONYMOUS_REQUESTS)
def test_it_sends_anonymous_visitors_to_the_login_page(client, personas, alice, method, template):
    before = snapshot(personas.org)
    path = template.format(id=alice.public_id)

    data = {"name": "promo", "phone": "+14155550999"} if method == "post" else None

    response = getattr(client, method)(path, data)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"
    assert snapshot(personas.org) == before


@pytest.mark.parametrize("persona", ["viewer", *WRITERS])
def test_it_lets_every_member_read_the_contacts_pages(personas, alice, persona):
    client = personas.client(persona)

    listing = client.get(LIST)
    detail = client.get(detail_path(alice))

    assert listing.status_code == 200
    assert "Alice Smith" in page_text(listing)
    assert detail.status_code == 200
    assert "alice@example.com" in page_text(detail)


def test_it_shows_a_viewer_no_write_controls(personas, alice):
    client = personas.client("viewer")

    listing = page_text(client.get(LIST))
    detail = page_text(client.get(detail_path(alice)))

    assert "Alice Smith" in listing
    assert f'href="{NEW}"' not in listing
    assert 'name="contact"' not in listing
    assert "Tag contacts" not in listing
    assert f'href="{detail_path(alice)}edit/"' not in detail
    assert f'href="{detail_path(alice)}delete/"' not in detail
    assert f'action="{detail_path(alice)}opt-out/"' not in detail
    assert f'action="{detail_path(alice)}tags/"' not in detail
    assert "tags/vip/remove/" not in detail


@pytest.mark.parametrize("persona", WRITERS)
def test_it_shows_writers_the_write_controls(personas, alice, persona):
    client = personas.client(persona)

    listing = page_text(client.get(LIST))
    detail = page_text(client.get(detail_path(alice)))

    assert f'href="{NEW}"' in listing
    assert f'value="{alice.public_id}"' in listing
    assert "Tag contacts" in listing
    assert f'href="{detail_path(alice)}edit/"' in detail
    assert f'href="{detail_path(alice)}delete/"' in detail
    assert f'action="{detail_path(alice)}opt-out/"' in detail
    assert f'action="{detail_path(alice)}tags/vip/remove/"' in detail


VIEWER_WRITES = [
    (NEW, {"phone": "+14155550999", "first_name": "Eve"}),
    ("/contacts/{alice}/edit/", {"phone": PHONE, "first_name": "Changed"}),
    ("/contacts/{alice}/delete/", {}),
    ("/contacts/{alice}/tags/", {"name": "promo"}),
    ("/contacts/{alice}/tags/vip/remove/", {}),
    (BULK, {"name": "promo", "scope": "matching", "query": ""}),
    ("/contacts/{alice}/opt-out/", {}),
    ("/contacts/{bob}/opt-in/", {}),
]


@pytest.mark.parametrize(("template", "data"), VIEWER_WRITES)
def test_it_refuses_a_viewers_writes_and_changes_nothing(personas, alice, bob, template, data):
    before = snapshot(personas.org)
    path = template.format(alice=alice.public_id, bob=bob.public_id)

    response = personas.client("viewer").post(path, data)

    assert response.status_code == 403
    assert snapshot(personas.org) == before


OBJECT_REQUESTS = [
    ("get", "/contacts/{alice}/"),
    ("get", "/contacts/{alice}/edit/"),
    ("post", "/contacts/{alice}/edit/"),
    ("get", "/contacts/{alice}/delete/"),
    ("post", "/contacts/{alice}/delete/"),
    ("post", "/contacts/{alice}/tags/"),
    ("post", "/contacts/{alice}/tags/vip/remove/"),
    ("post", "/contacts/{alice}/opt-out/"),
    ("post", "/contacts/{bob}/opt-in/"),
]
OBJECT_DATA = {"phone": "+14155550999", "first_name": "Changed", "name": "promo"}


@pytest.mark.parametrize(("method", "template"), OBJECT_REQUESTS)
def test_it_answers_404_to_an_outsider_using_another_organizations_contact(
    personas, alice, bob, method, template
):
    before = snapshot(personas.org)
    outsider_before = snapshot(personas.other_org)
    path = template.format(alice=alice.public_id, bob=bob.public_id)

    data = OBJECT_DATA if method == "post" else None

    response = getattr(personas.client("outsider"), method)(path, data)

    assert response.status_code == 404
    assert "Alice" not in page_text(response)
    assert snapshot(personas.org) == before
    assert snapshot(personas.other_org)["contacts"] == outsider_before["contacts"]


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "12345", str(uuid.uuid4())])
@pytest.mark.parametrize(("method", "template"), OBJECT_REQUESTS)
def test_it_answers_404_to_malformed_or_unknown_contact_ids(
    personas, alice, bob, method, template, bad_id
):
    before = snapshot(personas.org)
    path = template.format(alice=bad_id, bob=bad_id)

    data = OBJECT_DATA if method == "post" else None

    response = getattr(personas.client("owner"), method)(path, data)

    assert response.status_code == 404
    assert snapshot(personas.org) == before


def test_it_does_not_list_another_organizations_contacts(personas, alice):
    add(personas.other_org, "+14155550777", first_name="Beatrice", last_name="Other")

    text = page_text(personas.client("owner").get(LIST))
    outsider_text = page_text(personas.client("outsider").get(LIST))

    assert "Alice Smith" in text
    assert "Beatrice" not in text
    assert "1 contact" in text
    assert "Beatrice Other" in outsider_text
    assert "Alice" not in outsider_text


def test_it_ignores_another_organizations_contacts_in_an_outsiders_bulk_tag(personas, alice):
    client = personas.client("outsider")

    response = client.post(
        BULK, {"name": "stolen", "scope": "selected", "contact": [str(alice.public_id)]}
    )

    assert "Tagged 0 contacts" in follow(client, response)
    assert tag_names(alice) == {"vip"}
    assert not Tag.objects.filter(organization=personas.org, name="stolen").exists()


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


# --- Creating -------------------------------------------------------------------------------


FORM = {
    "phone": "(415) 555-0123",
    "first_name": "  Alice ",
    "last_name": "Smith",
    "email": "Alice@Example.com",
    "time_zone": "",
    "tags": "vip, newsletter, vip",
    "custom_fields": "plan: gold\nrenewal_date: 2027-01-31\n",
}


def test_it_shows_the_create_form(personas):
    response = personas.client("marketer").get(NEW)

    assert response.status_code == 200
    text = page_text(response)
    assert "Add contact" in text
    for name in ("phone", "first_name", "last_name", "email", "time_zone", "tags"):
        assert f'name="{name}"' in text
    assert 'name="custom_fields"' in text


@pytest.mark.parametrize("persona", WRITERS)
def test_it_creates_a_contact_in_e164_with_tags_and_custom_fields(personas, persona):
    client = personas.client(persona)

    response = client.post(NEW, FORM)

    contact = Contact.objects.get(organization=personas.org)
    assert response.status_code == 302
    assert response["Location"] == detail_path(contact)
    assert contact.phone == PHONE
    assert contact.first_name == "Alice"
    assert contact.last_name == "Smith"
    assert contact.email == "alice@example.com"
    assert contact.time_zone == "America/Los_Angeles"
    assert contact.custom_fields == {"plan": "gold", "renewal_date": "2027-01-31"}
    assert tag_names(contact) == {"vip", "newsletter"}
    assert "Alice Smith was added." in follow(client, response)


def test_it_keeps_a_chosen_time_zone(personas):
    personas.client("marketer").post(NEW, {**FORM, "time_zone": "Europe/Paris"})

    assert Contact.objects.get(organization=personas.org).time_zone == "Europe/Paris"


def test_it_refuses_a_duplicate_phone_written_another_way(personas, alice):
    response = personas.client("marketer").post(
        NEW, {**FORM, "phone": "415.555.0123", "first_name": "Twin"}
    )

    assert response.status_code == 400
    assert f"A contact with the number {PHONE} already exists." in page_text(response)
    assert Contact.objects.filter(organization=personas.org).count() == 1
    assert not Contact.objects.filter(first_name="Twin").exists()


def test_it_allows_the_same_phone_in_another_organization(personas, alice):
    response = personas.client("outsider").post(NEW, FORM)

    assert response.status_code == 302
    assert Contact.objects.filter(organization=personas.other_org, phone=PHONE).exists()
    assert Contact.objects.filter(organization=personas.org, phone=PHONE).count() == 1


@pytest.mark.parametrize(
    ("phone", "error"),
    [
        ("415-CALL-NOW", "A phone number has only digits, spaces, +, -, . and parentheses."),
        ("12", "too short"),
        ("", "This field is required."),
    ],
)
def test_it_refuses_a_phone_that_is_not_a_number(personas, phone, error):
    response = personas.client("marketer").post(NEW, {**FORM, "phone": phone})

    assert response.status_code == 400
    assert error in page_text(response)
    assert not Contact.objects.exists()


def test_it_refuses_the_reserved_tag_in_the_tags_field(personas):
    response = personas.client("marketer").post(NEW, {**FORM, "tags": "vip, twilio-message-stop"})

    assert response.status_code == 400
    assert RESERVED_WORDS in page_text(response)
    assert not Contact.objects.exists()
    assert not Tag.objects.filter(name="vip").exists()


def test_it_refuses_a_custom_field_line_without_a_colon(personas):
    response = personas.client("marketer").post(NEW, {**FORM, "custom_fields": "plan gold"})

    assert response.status_code == 400
    assert "Line 1: write each field as name: value." in page_text(response)
    assert not Contact.objects.exists()


def test_it_refuses_an_invalid_email(personas):
    response = personas.client("marketer").post(NEW, {**FORM, "email": "not-an-email"})

    assert response.status_code == 400
    assert "“not-an-email” is not an email address." in page_text(response)
    assert not Contact.objects.exists()


# --- The detail page ------------------------------------------------------------------------


def test_it_shows_the_contacts_fields_tags_and_consent(personas, alice):
    response = personas.client("viewer").get(detail_path(alice))

    assert response.status_code == 200
    text = visible(response)
    assert "Alice Smith" in text
    assert "+1 415-555-0123" in text
    assert PHONE in text
    assert "alice@example.com" in text
    assert "America/Los_Angeles" in text
    assert "custom.plan" in text
    assert "gold" in text
    assert "vip" in text
    assert "May be texted" in text
    assert "No opt-outs, opt-ins or help requests for this number." in text


def test_it_shows_the_opt_out_state_and_its_history(personas, alice):
    consent_opt_out(
        organization=personas.org, phone=PHONE, source=ConsentSource.USER, user=personas.owner
    )

    response = personas.client("marketer").get(detail_path(alice))

    text = visible(response)
    assert "Opted out" in text
    assert "changed by a user" in text
    assert "May be texted" not in text
    assert "Opted out · Changed by a user · Olivia Owner" in text
    assert OPT_OUT_TAG in text
    assert "No opt-outs, opt-ins or help requests" not in text
    assert "Opt back in" in text


def test_it_shows_the_history_of_a_keyword_stop(personas, alice):
    stop_by_keyword(personas.org)

    text = visible(personas.client("viewer").get(detail_path(alice)))

    assert "Opted out · Replied with a keyword" in text
    assert "replied with a keyword" in text


# --- Editing --------------------------------------------------------------------------------


def test_it_shows_the_edit_form_filled_in(personas, alice):
    response = personas.client("marketer").get(f"{detail_path(alice)}edit/")

    assert response.status_code == 200
    text = page_text(response)
    assert "Edit contact" in text
    assert f'value="{PHONE}"' in text
    assert 'value="Alice"' in text
    assert 'value="alice@example.com"' in text
    assert 'value="vip"' in text
    assert "plan: gold" in text


def test_it_leaves_the_reserved_tag_out_of_the_edit_form(personas, bob):
    text = page_text(personas.client("marketer").get(f"{detail_path(bob)}edit/"))

    assert 'value="vip"' in text
    assert OPT_OUT_TAG not in text


@pytest.mark.parametrize("persona", WRITERS)
def test_it_saves_an_edit(personas, alice, persona):
    client = personas.client(persona)

    response = client.post(
        f"{detail_path(alice)}edit/",
        {
            "phone": "+1 (415) 555 0199",
            "first_name": "Alicia",
            "last_name": "Smythe",
            "email": "alicia@example.com",
            "time_zone": "Europe/Paris",
            "tags": "newsletter",
            "custom_fields": "plan: silver",
        },
    )

    alice.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == detail_path(alice)
    assert alice.phone == "+14155550199"
    assert alice.name == "Alicia Smythe"
    assert alice.email == "alicia@example.com"
    assert alice.time_zone == "Europe/Paris"
    assert alice.custom_fields == {"plan": "silver"}
    assert tag_names(alice) == {"newsletter"}
    assert "Changes saved." in follow(client, response)


def test_it_finds_an_edited_contact_by_its_new_name(personas, alice):
    client = personas.client("marketer")
    client.post(f"{detail_path(alice)}edit/", {"phone": PHONE, "first_name": "Zelda"})

    response = client.get(LIST, {"q": "zelda"})

    assert detail_path(alice) in page_text(response)


def test_it_keeps_the_reserved_tag_when_an_opted_out_contact_is_edited(personas, bob):
    response = personas.client("marketer").post(
        f"{detail_path(bob)}edit/", {"phone": OTHER_PHONE, "first_name": "Bobby", "tags": "new"}
    )

    assert response.status_code == 302
    assert tag_names(bob) == {"new", OPT_OUT_TAG}
    assert state_of(personas.org, OTHER_PHONE).opted_out  # type: ignore[union-attr]


def test_it_refuses_to_edit_a_phone_into_another_contacts_number(personas, alice, bob):
    response = personas.client("marketer").post(
        f"{detail_path(alice)}edit/", {"phone": "(415) 555-0124", "first_name": "Alice"}
    )

    alice.refresh_from_db()
    assert response.status_code == 400
    assert f"A contact with the number {OTHER_PHONE} already exists." in page_text(response)
    assert alice.phone == PHONE


def test_it_refuses_an_edit_with_letters_in_the_phone(personas, alice):
    response = personas.client("marketer").post(
        f"{detail_path(alice)}edit/", {"phone": "call me", "first_name": "Changed"}
    )

    alice.refresh_from_db()
    assert response.status_code == 400
    assert "A phone number has only digits" in page_text(response)
    assert alice.first_name == "Alice"


# --- Deleting -------------------------------------------------------------------------------


def test_it_asks_before_deleting(personas, alice):
    response = personas.client("marketer").get(f"{detail_path(alice)}delete/")

    assert response.status_code == 200
    text = page_text(response)
    assert "Delete Alice Smith?" in text
    assert "Delete contact" in text
    assert f'href="{detail_path(alice)}"' in text
    assert Contact.objects.filter(pk=alice.pk).exists()


@pytest.mark.parametrize("persona", WRITERS)
def test_it_deletes_a_contact(personas, alice, persona):
    client = personas.client(persona)

    response = client.post(f"{detail_path(alice)}delete/")

    assert response.status_code == 302
    assert response["Location"] == LIST
    assert not Contact.objects.filter(pk=alice.pk).exists()
    assert not ContactTag.objects.filter(contact_id=alice.pk).exists()
    assert "Alice Smith was deleted." in follow(client, response)
    assert client.get(detail_path(alice)).status_code == 404


def test_it_keeps_a_deleted_numbers_opt_out(personas, bob):
    client = personas.client("marketer")

    response = client.post(f"{detail_path(bob)}delete/")

    assert response.status_code == 302
    assert not Contact.objects.filter(pk=bob.pk).exists()
    state = state_of(personas.org, OTHER_PHONE)
    assert state is not None
    assert state.opted_out
    assert ConsentEvent.objects.filter(organization=personas.org, phone=OTHER_PHONE).exists()
    again = client.post(NEW, {"phone": "415 555 0124", "first_name": "Bob"})
    assert again.status_code == 302
    back = Contact.objects.get(organization=personas.org, phone=OTHER_PHONE)
    assert OPT_OUT_TAG in tag_names(back)
    assert "Opted out" in visible(client.get(detail_path(back)))


# --- Tags on one contact --------------------------------------------------------------------


@pytest.mark.parametrize("persona", WRITERS)
def test_it_adds_a_tag(personas, alice, persona):
    client = personas.client(persona)

    response = client.post(f"{detail_path(alice)}tags/", {"name": " summer  sale "})

    assert response["Location"] == detail_path(alice)
    assert tag_names(alice) == {"vip", "summer sale"}
    assert "Tagged “summer sale”." in follow(client, response)


def test_it_does_not_add_a_tag_twice(personas, alice):
    client = personas.client("marketer")

    response = client.post(f"{detail_path(alice)}tags/", {"name": "VIP"})

    assert "The contact already has that tag." in follow(client, response)
    assert ContactTag.objects.filter(contact=alice).count() == 1
    assert Tag.objects.filter(organization=personas.org, name__iexact="vip").count() == 1


@pytest.mark.parametrize("name", [OPT_OUT_TAG, "twilio-message-STOP"])
def test_it_refuses_to_add_the_reserved_tag(personas, alice, name):
    client = personas.client("marketer")

    response = client.post(f"{detail_path(alice)}tags/", {"name": name})

    assert RESERVED_WORDS in follow(client, response)
    assert tag_names(alice) == {"vip"}
    assert state_of(personas.org) is None


def test_it_refuses_a_tag_name_with_odd_characters(personas, alice):
    client = personas.client("marketer")

    response = client.post(f"{detail_path(alice)}tags/", {"name": "<b>bold</b>"})

    assert "tag names have letters, digits" in follow(client, response)
    assert tag_names(alice) == {"vip"}


@pytest.mark.parametrize("persona", WRITERS)
def test_it_removes_a_tag(personas, alice, persona):
    client = personas.client(persona)

    response = client.post(f"{detail_path(alice)}tags/vip/remove/")

    assert response["Location"] == detail_path(alice)
    assert tag_names(alice) == set()
    assert "Removed “vip”." in follow(client, response)


def test_it_says_when_the_removed_tag_was_not_there(personas, alice):
    client = personas.client("marketer")

    response = client.post(f"{detail_path(alice)}tags/other/remove/")

    assert "The contact did not have that tag." in follow(client, response)
    assert tag_names(alice) == {"vip"}


def test_it_does_not_offer_to_remove_the_reserved_tag(personas, bob):
    text = page_text(personas.client("owner").get(detail_path(bob)))

    assert OPT_OUT_TAG in text
    assert f'action="{detail_path(bob)}tags/vip/remove/"' in text
    assert f"tags/{OPT_OUT_TAG}/remove/" not in text


def test_it_refuses_a_forged_removal_of_the_reserved_tag(personas, bob):
    client = personas.client("owner")
    before = snapshot(personas.org)

    response = client.post(f"{detail_path(bob)}tags/{OPT_OUT_TAG}/remove/")

    assert response.status_code == 302
    assert RESERVED_WORDS in follow(client, response)
    assert snapshot(personas.org) == before
    assert OPT_OUT_TAG in tag_names(bob)
    assert state_of(personas.org, OTHER_PHONE).opted_out  # type: ignore[union-attr]


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


# --- Manual consent -------------------------------------------------------------------------


@pytest.mark.parametrize("persona", WRITERS)
def test_it_opts_a_contact_out(personas, alice, persona):
    client = personas.client(persona)

    response = client.post(f"{detail_path(alice)}opt-out/")

    assert response["Location"] == detail_path(alice)
    state = state_of(personas.org)
    assert state is not None
    assert state.opted_out
    assert state.opted_out_at is not None
    assert state.opt_out_source == ConsentSource.USER
    event = ConsentEvent.objects.get(organization=personas.org, phone=PHONE)
    assert event.kind == ConsentKind.OPT_OUT
    assert event.source == ConsentSource.USER
    assert event.user == personas.user(persona)
    assert event.contact_id == alice.pk
    assert OPT_OUT_TAG in tag_names(alice)
    text = follow(client, response)
    assert "Opted out: nothing will be sent to this number." in text
    assert "Opt back in" in text


def test_it_says_when_the_contact_was_already_opted_out(personas, bob):
    client = personas.client("marketer")

    response = client.post(f"{detail_path(bob)}opt-out/")

    assert "Already opted out." in follow(client, response)
    assert state_of(personas.org, OTHER_PHONE).opted_out  # type: ignore[union-attr]


@pytest.mark.parametrize("persona", WRITERS)
def test_it_opts_a_contact_back_in_after_a_users_opt_out(personas, bob, persona):
    client = personas.client(persona)

    response = client.post(f"{detail_path(bob)}opt-in/")

    assert response["Location"] == detail_path(bob)
    state = state_of(personas.org, OTHER_PHONE)
    assert state is not None
    assert not state.opted_out
    assert state.opted_out_at is None
    assert OPT_OUT_TAG not in tag_names(bob)
    kinds = list(
        ConsentEvent.objects.filter(organization=personas.org, phone=OTHER_PHONE)
        .order_by("pk")
        .values_list("kind", flat=True)
    )
    assert kinds == [ConsentKind.OPT_OUT, ConsentKind.OPT_IN]
    text = follow(client, response)
    assert "Opted back in." in text
    assert "May be texted" in text


def test_it_says_when_the_contact_was_not_opted_out(personas, alice):
    client = personas.client("marketer")

    response = client.post(f"{detail_path(alice)}opt-in/")

    assert "This number was not opted out." in follow(client, response)
    assert not ConsentState.objects.filter(organization=personas.org, opted_out=True).exists()


def test_it_refuses_to_opt_in_after_the_persons_stop(personas, alice):
    stop_by_keyword(personas.org)
    client = personas.client("owner")
    before = snapshot(personas.org)

    response = client.post(f"{detail_path(alice)}opt-in/")

    assert response["Location"] == detail_path(alice)
    assert LOCKED_WORDS in follow(client, response)
    assert snapshot(personas.org) == before
    state = state_of(personas.org)
    assert state is not None
    assert state.opted_out
    assert state.opt_out_source == ConsentSource.INBOUND_KEYWORD
    assert OPT_OUT_TAG in tag_names(alice)
    assert not ConsentEvent.objects.filter(kind=ConsentKind.OPT_IN).exists()


def test_it_offers_no_opt_in_button_after_the_persons_stop(personas, alice):
    stop_by_keyword(personas.org)

    response = personas.client("owner").get(detail_path(alice))

    text = visible(response)
    assert "Opted out" in text
    assert "only they can opt back in, by replying START" in text
    assert "Opt back in" not in text
    assert f'action="{detail_path(alice)}opt-in/"' not in page_text(response)


def test_it_locks_a_users_opt_out_once_the_person_replies_stop(personas, bob):
    stop_by_keyword(personas.org, OTHER_PHONE)
    client = personas.client("owner")

    response = client.post(f"{detail_path(bob)}opt-in/")

    assert LOCKED_WORDS in follow(client, response)
    assert state_of(personas.org, OTHER_PHONE).opted_out  # type: ignore[union-attr]
    assert "Opt back in" not in visible(client.get(detail_path(bob)))
