"""An organization's owners require two-factor sign-in of everyone who belongs to it."""

from __future__ import annotations

import pytest

from tenants.audit.models import AuditEvent
from tenants.models import Organization
from tests.factories import page_text
from tests.tenants.two_factor_helpers import LOGIN_CODE, PAGE, browser, code, sign_in, turn_on

pytestmark = pytest.mark.django_db

SETTING = "/settings/two-factor/"


def require(organization: Organization) -> None:
    Organization.objects.filter(pk=organization.pk).update(require_two_factor=True)


def required(organization: Organization) -> bool:
    return Organization.objects.get(pk=organization.pk).require_two_factor


@pytest.fixture
def owner_on(personas):
    device, _codes = turn_on(personas.owner)
    return sign_in(personas.owner, device)


# --- Who may require it ----------------------------------------------------------------------


def test_an_owner_with_two_factor_requires_it(personas, owner_on):
    response = owner_on.post(SETTING, {"require_two_factor": "on"}, follow=True)

    assert response.redirect_chain == [("/settings/#two-factor", 302)]
    assert "Two-factor sign-in is now required in Acme A." in page_text(response)
    assert required(personas.org)
    assert 'id="id_require_two_factor" name="require_two_factor" value="on" checked' in (
        page_text(response)
    )
    assert "Members using two-factor sign-in: 1 of 4." in page_text(response)
    owner_on.post(SETTING, {})
    owner_on.post(SETTING, {})  # no change: no event
    assert not required(personas.org)
    events = AuditEvent.objects.filter(organization=personas.org).order_by("at", "pk")
    assert [
        (e.action, e.actor_user, e.target_id, e.changes, e.address is not None) for e in events
    ] == [
        (
            "organization.two_factor_required",
            personas.owner,
            str(personas.org.public_id),
            {"require_two_factor": {"before": before, "after": after}},
            True,
        )
        for before, after in [(False, True), (True, False)]
    ]


def test_an_owner_without_two_factor_cannot_require_it(personas):
    client = personas.client("owner")

    response = client.post(SETTING, {"require_two_factor": "on"}, follow=True)

    assert "Turn on two-factor sign-in for yourself first" in page_text(response)
    assert not required(personas.org)


@pytest.mark.parametrize("persona", ["admin", "marketer", "viewer"])
def test_only_owners_may_change_it(personas, persona):
    client = personas.client(persona)

    response = client.post(SETTING, {"require_two_factor": "on"})
    settings_page = page_text(client.get("/settings/"))

    assert response.status_code == 403
    assert not required(personas.org)
    assert f'action="{SETTING}"' not in settings_page
    assert "Only owners can require it of everyone." in settings_page
    assert "Members using two-factor sign-in: 0 of 4." in settings_page


def test_another_organizations_owner_changes_only_their_own(personas, owner_on):
    outsider_device, _codes = turn_on(personas.outsider)
    outsider = sign_in(personas.outsider, outsider_device)

    outsider.post(SETTING, {"require_two_factor": "on"})

    assert required(personas.other_org)
    assert not required(personas.org)


# --- Members without it are sent to set it up ---------------------------------------------------


@pytest.mark.parametrize("page", ["/", "/contacts/", "/settings/", "/settings/members/"])
def test_a_member_without_it_is_sent_to_set_it_up_from_every_page(personas, page):
    require(personas.org)
    client = personas.client("marketer")

    response = client.get(page, follow=True)

    assert response.redirect_chain == [(PAGE, 302)]
    assert "Acme A requires two-factor sign-in. Turn it on to continue." in page_text(response)
    assert "Acme A requires two-factor sign-in: turn it on to go on." in page_text(response)


def test_a_write_is_refused_before_it_reaches_the_page(personas):
    require(personas.org)
    client = personas.client("admin")

    response = client.post("/settings/members/", {"email": "new@a.example.com", "role": "viewer"})

    assert response["Location"] == PAGE
    assert not personas.org.invitations.exists()


def test_setting_it_up_signing_out_and_switching_stay_open(personas):
    require(personas.org)
    client = personas.client("outsider")
    personas.org.memberships.create(user=personas.outsider, role="viewer")
    client.post("/organizations/switch/", {"organization": str(personas.org.public_id)})

    assert client.get(PAGE).status_code == 200
    assert client.post("/account/two-factor/setup/")["Location"] == PAGE
    assert client.get("/account/two-factor/qr.svg").status_code == 200
    switched = client.post(
        "/organizations/switch/", {"organization": str(personas.other_org.public_id)}
    )
    assert switched["Location"] == "/"
    assert client.get("/").status_code == 200  # Beta B does not require it
    assert client.post("/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_turning_it_on_opens_the_organization(personas):
    require(personas.org)
    client = personas.client("viewer")
    client.post("/account/two-factor/setup/")
    device = personas.viewer.totpdevice_set.get()

    client.post("/account/two-factor/confirm/", {"confirm-code": code(device)})

    assert client.get("/").status_code == 200
    assert client.get("/contacts/").status_code == 200


def test_a_member_signed_in_with_it_passes(personas):
    require(personas.org)
    device, _codes = turn_on(personas.marketer)
    client = sign_in(personas.marketer, device)

    assert client.get("/").status_code == 200
    assert client.get("/contacts/").status_code == 200


def test_a_session_from_before_it_was_on_finishes_signing_in_with_a_code(personas):
    """Signed in with the password only, then two-factor turned on elsewhere: the organization's
    pages ask this session for a code, and then go on to the page asked for."""
    older = personas.client("marketer")
    device, _codes = turn_on(personas.marketer)
    require(personas.org)

    asked = older.get("/contacts/")

    assert asked["Location"] == LOGIN_CODE
    assert "_auth_user_id" not in older.session
    finished = older.post(LOGIN_CODE, {"code": code(device)})
    assert finished["Location"] == "/contacts/"
    assert older.get("/contacts/").status_code == 200


# --- API keys are not people ----------------------------------------------------------------------


def test_api_keys_are_unaffected(personas):
    require(personas.org)
    api = personas.api("viewer")

    assert api.get("/api/v1/contacts/").status_code == 200
    answer = api.get("/api/v1/organization/")
    assert answer.status_code == 200
    assert answer.json()["require_two_factor"] is True


def test_a_key_cannot_change_the_requirement(personas):
    api = personas.api("owner")  # an admin key: keys are never owners

    response = api.patch(
        "/api/v1/organization/", {"require_two_factor": True, "name": "Renamed"}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "Only an owner" in response.json()["error"]["message"]
    organization = Organization.objects.get(pk=personas.org.pk)
    assert (organization.require_two_factor, organization.name) == (False, "Acme A")
    renamed = api.patch("/api/v1/organization/", {"name": "Renamed"}, format="json")
    assert renamed.status_code == 200
    assert renamed.json()["require_two_factor"] is False


def test_signed_out_visitors_still_reach_the_login_page(personas):
    require(personas.org)

    assert browser().get("/login/").status_code == 200
