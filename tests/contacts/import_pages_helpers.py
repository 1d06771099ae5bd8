"""Shared by the import page tests: the addresses, the mapping form as a browser sends it,
and the page read as a person reads it."""

from __future__ import annotations

import html
import re
from typing import Any

from contacts.models import ContactImport
from tests.contacts.import_helpers import upload_file

IMPORTS = "/contacts/import/"
POLLING = 'hx-trigger="every 2s"'
PEOPLE = [
    ["Mobile", "First Name", "Last Name", "E-mail", "Birthday", "Notes"],
    ["(415) 555-0100", "Ann", "Lee", "ann@example.com", "1990-01-02", "likes cats"],
    ["415 555 0101", "Bob", "", "", "", ""],
    ["12", "Cy", "", "", "", ""],
]


def page_url(contact_import: ContactImport, action: str = "") -> str:
    """The import's page, or one of its actions (``start``, ``cancel``, ``errors.csv``…)."""
    url = f"{IMPORTS}{contact_import.public_id}/"
    if not action:
        return url
    return f"{url}{action}" if action.endswith(".csv") else f"{url}{action}/"


def form_data(contact_import: ContactImport, **changes: Any) -> dict[str, str]:
    """The mapping form as the page shows it for the import's stored mapping and options,
    with ``changes`` applied (``None`` leaves a field out, as an unticked box is)."""
    mapping = contact_import.mapping
    data: dict[str, str] = {}
    for index, target in enumerate(mapping["columns"]):
        if target.startswith("custom."):
            key = target.removeprefix("custom.")
            data[f"target_{index}"], data[f"custom_{index}"] = "custom", key
            if key in mapping["date_fields"]:
                data[f"date_{index}"] = "1"
        else:
            data[f"target_{index}"] = target
    options = contact_import.options
    data.update(
        tags=", ".join(options["tags"]),
        existing=options["existing"],
        country=options["country"],
        tag_separator=options["tag_separator"],
        action="start",
    )
    for flag in ("fire_automations", "consent"):
        if options[flag]:
            data[flag] = "1"
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def clean(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def text(response: Any) -> str:
    """The page's text, tags removed and spaces collapsed."""
    return clean(response.content.decode())


def table(response: Any, css: str) -> list[list[str]]:
    """The body rows of the ``<table class="table {css}">``, each as its cells' text."""
    found = re.search(
        rf'<table class="table {css}"[^>]*>.*?<tbody>(.*?)</tbody>', response.content.decode(), re.S
    )
    assert found, f"no {css} table"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", found.group(1), re.S)
    cell = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.S)
    return [[clean(c) for c in cell.findall(row)] for row in rows]


def selected(response: Any, name: str) -> str:
    """The value chosen in the ``<select name=…>`` ("" for none)."""
    found = re.search(rf'<select[^>]* name="{name}"[^>]*>(.*?)</select>', response.content.decode())
    assert found, f"no select {name}"
    chosen = re.search(r'<option value="([^"]*)" selected>', found.group(1))
    return chosen.group(1) if chosen else ""


def value(response: Any, name: str) -> str:
    found = re.search(rf'<input[^>]* name="{name}" value="([^"]*)"', response.content.decode())
    assert found, f"no input {name}"
    return html.unescape(found.group(1))


def checked(response: Any, name: str, value: str = "1") -> bool:
    found = re.search(
        rf'<input type="(?:checkbox|radio)"[^>]* name="{name}" value="{value}"([^>]*)>',
        response.content.decode(),
    )
    assert found, f"no box {name}={value}"
    return " checked" in found.group(1)


def post_file(client: Any, content: bytes, name: str = "people.csv") -> Any:
    """The upload form posted with a file made of ``content``."""
    return client.post(IMPORTS, {"file": upload_file(content, name)})
