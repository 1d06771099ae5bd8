"""Builders and readers for the message log's tests: messages at given times, and the log's
rows, pagination links and counts read back from the HTML."""

from __future__ import annotations

import datetime
import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from messaging.models import Message, Status
from tenants.models import Organization
from tests.factories import page_text

LOG = "/messages/"
COUNTS = "/messages/counts/"
ROLES = ["owner", "admin", "marketer", "viewer"]
REMOVE = "\N{MULTIPLICATION SIGN} Remove"  # the contact chip's link
NOON = datetime.datetime(2024, 3, 4, 12, 0, tzinfo=datetime.UTC)


# --- Builders and readers -------------------------------------------------------------------


def add(
    organization: Organization, body: str, *, at: datetime.datetime | None = None, **fields: Any
) -> Message:
    """A message of ``organization`` created ``at`` (default: one hour before NOON)."""
    fields.setdefault("to", "+14155550100")
    fields.setdefault("status", Status.DELIVERED)
    message = Message.objects.create(organization=organization, body=body, **fields)
    message.created_at = at or NOON - datetime.timedelta(hours=1)
    Message.objects.filter(pk=message.pk).update(created_at=message.created_at)
    return message


def add_many(organization: Organization, count: int, **fields: Any) -> list[Message]:
    """``count`` messages "message 001" (newest) … one minute apart, newest first."""
    return [
        add(organization, f"message {n:03d}", at=NOON - datetime.timedelta(minutes=n), **fields)
        for n in range(1, count + 1)
    ]


def bodies(response: Any) -> list[str]:
    """The bodies the log lists, top to bottom."""
    assert response.status_code == 200
    cells = re.findall(r'<td class="message-body">(.*?)(?:<br>|</td>)', response.content.decode())
    return [html.unescape(cell) for cell in cells]


def numbered(first: int, last: int) -> list[str]:
    return [f"message {n:03d}" for n in range(first, last + 1)]


def link(response: Any, rel: str) -> str | None:
    """The href of the pagination link with that rel ("next" = Older, "prev" = Newer)."""
    found = re.search(rf'href="([^"]*)" rel="{rel}"', response.content.decode())
    return html.unescape(found.group(1)) if found else None


def counts(response: Any) -> dict[str, tuple[int, dict[str, list[str]]]]:
    """The counts fragment as {label: (count, query of its link)}."""
    assert response.status_code == 200
    found = {}
    for href, inner in re.findall(
        r'<li><a href="([^"]*)"[^>]*>(.*?)</a></li>', page_text(response)
    ):
        label, count = re.sub(r"<[^>]+>", "", inner).split()
        found[label] = (int(count), parse_qs(urlsplit(href).query))
    return found
