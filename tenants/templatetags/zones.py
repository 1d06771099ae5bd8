"""Times with their zone named, for pages (which run in the organization's zone:
``tenants.access.OrganizationMiddleware``, or a ``{% timezone %}`` block's).

``{{ moment|zoned:"M j, H:i" }}`` is ``{{ moment|date:"M j, H:i" }}`` followed by the zone's
abbreviation, "Nov 1, 01:30 EST"; ``{% zone_abbreviation %}`` is the current zone's now.
Django's own ``T`` says nothing for a time in the hour that a fall-back repeats (01:30 on
November 1 in New York is EDT, and an hour later EST again): the one time a reader most needs
it. The converted time knows which of the two it is (its ``fold``), so its ``tzname()`` does.
"""

from __future__ import annotations

import datetime

from django import template
from django.utils import dateformat, timezone

register = template.Library()


def zoned_format(moment: datetime.datetime, format: str) -> str:
    """``moment`` in the current zone as ``format`` (the ``date`` filter's), then the zone's
    abbreviation ("EST", "IST"; the offset, "+04", for a zone without one)."""
    local = timezone.localtime(moment)
    return f"{dateformat.format(local, format)} {local.tzname()}"


@register.filter
def zoned(value: object, format: str) -> str:
    if not isinstance(value, datetime.datetime) or timezone.is_naive(value):
        return ""
    return zoned_format(value, format)


@register.simple_tag
def zone_abbreviation() -> str:
    return timezone.localtime().tzname() or ""
