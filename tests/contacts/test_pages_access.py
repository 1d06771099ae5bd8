"""Contact pages: who may see and do what, and other organizations."""

from __future__ import annotations

import pytest

from contacts.models import (
    Tag,
)
from tests.contacts.helpers import (
    PHONE,
    WRITERS,
    add,
    detail_path,
    follow,
    snapshot,
    tag_names,
)
from tests.factories import page_text

pytestmark = pytest.mark.django_db

LIST = "/contacts/"
NEW = "/contacts/new/"
BULK = "/contacts/bulk-tag/"


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


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "12345", "5f0c3a1e-8d2b-4c7a-9e61-0b4d2f8a7c35"])
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
