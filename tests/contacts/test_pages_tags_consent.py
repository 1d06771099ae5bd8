"""Tags on one contact, and manual opt-out and opt-in, in the browser."""

from __future__ import annotations

import pytest

from contacts.models import (
    OPT_OUT_TAG,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentState,
    ContactTag,
    Tag,
)
from tests.contacts.helpers import (
    LOCKED_WORDS,
    OTHER_PHONE,
    PHONE,
    RESERVED_WORDS,
    WRITERS,
    detail_path,
    follow,
    snapshot,
    state_of,
    stop_by_keyword,
    tag_names,
    visible,
)
from tests.factories import page_text

pytestmark = pytest.mark.django_db

LIST = "/contacts/"
NEW = "/contacts/new/"
BULK = "/contacts/bulk-tag/"


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
