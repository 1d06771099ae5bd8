"""The API reference is reachable: from every page's footer and from Settings → API keys."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db

FOOTER = re.compile(r'<footer class="app-footer">(.*?)</footer>', re.S)


def _links(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


@pytest.mark.parametrize("persona", ["owner", "viewer"])
def test_the_footer_links_the_docs_and_the_schema(personas, persona):
    client = personas.client(persona)
    page = client.get("/").content.decode()
    footer = FOOTER.search(page)
    assert footer, "no footer"
    links = _links(footer.group(1))
    assert "/api/v1/docs/" in links
    assert "/api/v1/schema/?format=yaml" in links
    for link in links:
        assert client.get(link).status_code == 200, link


def test_a_visitor_signing_in_finds_the_docs_too(client):
    footer = FOOTER.search(client.get("/login/").content.decode())
    assert footer
    assert "/api/v1/docs/" in _links(footer.group(1))


def test_the_api_keys_page_links_the_docs_and_the_schema(personas):
    client = personas.client("admin")
    page = client.get("/settings/api-keys/").content.decode()
    assert re.search(r'<a href="/api/v1/docs/" id="api-docs-link">API reference</a>', page)
    links = _links(page)
    assert {"/api/v1/schema/", "/api/v1/schema/?format=yaml"} <= set(links)
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b'id="swagger-ui"' in docs.content
