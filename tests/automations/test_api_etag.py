"""``ETag`` / ``If-Match`` on ``/api/v1/automations/<id>/``: two editors do not overwrite
each other; the second gets a 412 and nothing of theirs is kept."""

from __future__ import annotations

import pytest

from automations.models import Automation
from tests.automations.api_helpers import AUTOMATIONS, error, url
from tests.automations.test_api_crud import full_body

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]


def created(personas):
    sent, _templates = full_body(personas)
    answer = personas.api("marketer").post(AUTOMATIONS, sent, format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()["id"]


def test_a_read_carries_the_etag_that_a_change_then_replaces(personas):
    automation = created(personas)
    api = personas.api("marketer")
    first = api.get(url(automation))
    assert first["ETag"].startswith('"')
    assert first["ETag"].endswith('"')
    assert api.get(url(automation))["ETag"] == first["ETag"]  # the same version, the same tag

    changed = api.patch(
        url(automation), {"name": "Renamed"}, format="json", HTTP_IF_MATCH=first["ETag"]
    )

    assert changed.status_code == 200, changed.content
    assert changed["ETag"] != first["ETag"]
    assert api.get(url(automation))["ETag"] == changed["ETag"]


def test_the_second_of_two_editors_gets_412_and_changes_nothing(personas):
    automation = created(personas)
    tag = personas.api("viewer").get(url(automation))["ETag"]
    first = personas.api("marketer").patch(
        url(automation), {"name": "Ann's name"}, format="json", HTTP_IF_MATCH=tag
    )
    assert first.status_code == 200

    second = personas.api("admin").patch(
        url(automation),
        {"name": "Bob's name", "state": "archived"},
        format="json",
        HTTP_IF_MATCH=tag,
    )

    assert second.status_code == 412
    assert error(second)["code"] == "precondition_failed"
    assert "Someone changed this since you read it" in error(second)["message"]
    stored = Automation.objects.get()
    assert (stored.name, stored.state) == ("Ann's name", "draft")


@pytest.mark.parametrize("if_match", [None, "*", 'W/"other", {current}'])
def test_without_if_match_or_with_a_list_naming_it_the_change_goes_ahead(personas, if_match):
    automation = created(personas)
    api = personas.api("marketer")
    headers = {}
    if if_match is not None:
        headers["HTTP_IF_MATCH"] = if_match.format(current=api.get(url(automation))["ETag"])

    changed = api.patch(url(automation), {"name": "Changed"}, format="json", **headers)

    assert changed.status_code == 200, changed.content
    assert Automation.objects.get().name == "Changed"


def test_another_organizations_automation_is_404_before_any_precondition(personas):
    automation = created(personas)

    answer = personas.api("outsider").patch(
        url(automation), {"name": "x"}, format="json", HTTP_IF_MATCH='"stale"'
    )

    assert answer.status_code == 404
