"""``/api/v1/templates/``: listing, page by page, only the key's organization's templates."""

from __future__ import annotations

import pytest

from tests.templates_sms.helpers import API_BODY as BODY
from tests.templates_sms.helpers import FIELDS, TEMPLATES
from tests.templates_sms.helpers import api_add as add

pytestmark = pytest.mark.django_db


# Listing


def test_it_lists_the_organizations_templates(personas):
    first = add(personas.org, "Welcome", BODY)
    second = add(personas.org, "Reminder", "See you {{ first_name }}", append_opt_out_footer=False)
    add(personas.other_org, "Beta only", "Secret B text")

    response = personas.api("viewer").get(TEMPLATES)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"results", "next", "previous"}
    assert body["next"] is None
    assert body["previous"] is None
    by_id = {item["id"]: item for item in body["results"]}
    assert set(by_id) == {str(first.public_id), str(second.public_id)}
    item = by_id[str(second.public_id)]
    assert set(item) == FIELDS
    assert item["name"] == "Reminder"
    assert item["body"] == "See you {{ first_name }}"
    assert item["media_url"] == ""
    assert item["append_opt_out_footer"] is False
    assert "Secret B text" not in response.content.decode()


def test_it_pages_the_list(personas):
    created = {str(add(personas.org, f"Template {n}", f"Body {n}").public_id) for n in range(3)}
    api = personas.api("viewer")

    first = api.get(TEMPLATES, {"limit": 2})

    assert first.status_code == 200
    page = first.json()
    assert len(page["results"]) == 2
    assert page["previous"] is None
    assert page["next"]
    second = api.get(page["next"])
    assert second.status_code == 200
    rest = second.json()
    assert len(rest["results"]) == 1
    assert rest["next"] is None
    assert rest["previous"]
    seen = [item["id"] for item in page["results"] + rest["results"]]
    assert sorted(seen) == sorted(created)


def test_it_lists_nothing_for_an_organization_without_templates(personas):
    add(personas.org)

    response = personas.api("outsider").get(TEMPLATES)

    assert response.status_code == 200
    assert response.json() == {"results": [], "next": None, "previous": None}
