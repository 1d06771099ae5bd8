"""The SMS template list: names, excerpts, segments, paging and the editing links per role."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from tests.templates_sms.helpers import (
    LIST,
    NEW,
    SMART_QUOTES,
    WRITERS,
    add_contact,
    delete_path,
    duplicate_path,
    edit_path,
    visible,
)
from tests.templates_sms.helpers import page_add as add

pytestmark = pytest.mark.django_db


def rows(response: Any) -> list[str]:
    """The visible text of each row of the list's table body."""
    body = re.search(r"<tbody>(.*?)</tbody>", response.content.decode(), re.DOTALL)
    assert body is not None, "the list has no table"
    found = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.DOTALL)
    return [
        re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", row))).strip() for row in found
    ]


# The list


def test_it_lists_templates_with_name_excerpt_and_segments(personas):
    add(personas.org, "Welcome", "Hi {{ first_name }}, welcome aboard!")
    long_body = "Sale " + "x" * 145
    add(personas.org, "Long sale", long_body)
    add(personas.org, "Quotes", SMART_QUOTES, append_opt_out_footer=False)

    response = personas.client("viewer").get(LIST)

    assert response.status_code == 200
    listed = rows(response)
    assert len(listed) == 3
    long_row, quotes_row, welcome_row = listed  # ordered by name
    assert "Welcome" in welcome_row
    assert "Hi {{ first_name }}, welcome aboard!" in welcome_row
    assert "1 · GSM-7" in welcome_row
    assert "Long sale" in long_row
    assert long_body not in long_row  # an excerpt, not the whole body
    assert long_body[:79] + "…" in long_row
    assert "2 · GSM-7" in long_row  # 150 characters + the footer
    assert "Quotes" in quotes_row
    assert "1 · UCS-2" in quotes_row
    assert "No templates yet" not in visible(response)


def test_it_shows_the_empty_state_without_other_organizations_templates(personas):
    add(personas.other_org, "Beta secret", "Only for B")

    response = personas.client("marketer").get(LIST)

    assert response.status_code == 200
    text = visible(response)
    assert "No templates yet" in text
    assert "Beta secret" not in text
    assert "Only for B" not in text


def test_it_lists_only_the_current_organizations_templates(personas):
    add(personas.org, "Acme hello", "Hello from A")
    add(personas.other_org, "Beta hello", "Hello from B")

    text = visible(personas.client("owner").get(LIST))

    assert "Acme hello" in text
    assert "Beta hello" not in text
    assert "Hello from B" not in text


def test_it_lets_a_viewer_read_the_list_without_editing_links(personas):
    template = add(personas.org)

    response = personas.client("viewer").get(LIST)

    assert response.status_code == 200
    content = response.content.decode()
    assert "Welcome" in visible(response)
    assert NEW not in content
    assert edit_path(template) not in content
    assert delete_path(template) not in content
    assert duplicate_path(template) not in content


@pytest.mark.parametrize("persona", WRITERS)
def test_it_offers_the_editing_links_to_writers(personas, persona):
    template = add(personas.org)

    response = personas.client(persona).get(LIST)

    assert response.status_code == 200
    content = response.content.decode()
    assert f'href="{NEW}"' in content
    assert edit_path(template) in content
    assert delete_path(template) in content
    assert duplicate_path(template) in content


def test_it_pages_the_list_by_50(personas):
    for n in range(51):
        add(personas.org, f"T{n:02d}", f"Body {n}")
    client = personas.client("viewer")

    first = client.get(LIST)
    second = client.get(LIST, {"page": 2})

    assert len(rows(first)) == 50
    assert "Page 1 of 2" in visible(first)
    assert [row.split()[0] for row in rows(second)] == ["T50"]
    assert "Page 2 of 2" in visible(second)


def test_it_counts_segments_on_the_list_with_the_longest_custom_value(personas):
    add_contact(personas.org, custom_fields={"plan": "p" * 120})
    add(personas.org, "Plan", "Your plan: {{ custom.plan }}", append_opt_out_footer=False)

    response = personas.client("viewer").get(LIST)

    assert response.status_code == 200
    (row,) = rows(response)
    assert "1 · GSM-7" in row  # the sample contact has no plan
