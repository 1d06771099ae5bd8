"""HTML in a template is text: on the list, in the editor and in the preview fragment."""

from __future__ import annotations

import re

import pytest

from tests.templates_sms.helpers import HTML_BODY, LIST, NEW, edit_path, form, preview
from tests.templates_sms.helpers import page_add as add

pytestmark = pytest.mark.django_db


# HTML in a template is text


def test_it_escapes_html_on_the_list(personas):
    add(personas.org, "<i>Fancy</i>", HTML_BODY)

    response = personas.client("viewer").get(LIST)

    content = response.content.decode()
    assert response.status_code == 200
    assert "&lt;script&gt;" in content
    assert "<script>alert" not in content
    assert "<i>Fancy</i>" not in content
    assert "<b>bold</b>" not in content


def test_it_escapes_html_in_the_editor(personas):
    template = add(personas.org, "<i>Fancy</i>", HTML_BODY)

    response = personas.client("marketer").get(edit_path(template))

    content = response.content.decode()
    assert response.status_code == 200
    assert re.search(r"<textarea[^>]*>\s*&lt;b&gt;bold&lt;/b&gt;&lt;script&gt;", content)
    assert "<script>alert" not in content
    assert "<i>Fancy</i>" not in content


def test_it_escapes_html_in_the_editor_after_an_error(personas):
    add(personas.org, "Taken", "x")

    response = personas.client("marketer").post(NEW, form(name="Taken", body=HTML_BODY))

    content = response.content.decode()
    assert response.status_code == 400
    assert "&lt;script&gt;" in content
    assert "<script>alert" not in content


def test_it_escapes_html_in_the_preview(personas):
    response = preview(personas.client("marketer"), HTML_BODY)

    content = response.content.decode()
    assert response.status_code == 200
    assert "&lt;script&gt;" in content
    assert "<script>alert" not in content
    assert "<b>bold</b>" not in content
