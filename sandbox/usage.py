"""Twilio's Usage Records per day: ``GET /2010-04-01/Accounts/{AccountSid}/Usage/Records/
Daily.json``, computed from the messages this sandbox was asked to send.

For each UTC day (Twilio's usage days are GMT) and category: ``sms`` counts the messages
without media and bills their segments, ``mms`` the messages with media, billed per message.
Every day of the range has a record for each category, zeros included, as Twilio answers.
Received messages are not counted: the figures are what the account sent.

``Category`` (one, or every category the sandbox bills), ``StartDate`` and ``EndDate``
(``YYYY-MM-DD``, or an offset such as ``-30days``; by default the month up to today),
``PageSize`` and ``Page`` are honoured, and each page but the last names the next in
``next_page_uri``, as Twilio's list resources do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from aiohttp import web

from sandbox.state import Account, Message, TwilioError, now_utc, segments
from sandbox.web import ACCOUNT, account_url, page_size, twilio_json

SMS, MMS = "sms", "mms"
CATEGORIES = (SMS, MMS)
DESCRIPTIONS = {SMS: "SMS", MMS: "MMS"}
# What one outbound SMS segment costs: the US price of the sandbox's own price list
# (sandbox.pricing), so the spend of a demo agrees with the cost estimated before sending.
SMS_SEGMENT_PRICE = Decimal("0.0083")
# What one outbound MMS costs, per message whatever its size: a realistic US figure, not
# Twilio's current price.
MMS_MESSAGE_PRICE = Decimal("0.0200")
ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
OFFSET = re.compile(r"^([+-])([0-9]{1,4})days$")
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class UsageDay:
    day: date
    category: str
    count: int  # messages
    usage: int  # billed units: segments for SMS, messages for MMS
    price: Decimal


def _category(message: Message) -> str:
    return MMS if message.media_url else SMS


def _billed(message: Message) -> int:
    return 1 if message.media_url else segments(message.body)


def daily_usage(
    messages: Iterable[Message], start: date, end: date, categories: Iterable[str]
) -> list[UsageDay]:
    """Each category's usage on each day from ``start`` to ``end`` (both included), by
    category and then day."""
    counts: dict[tuple[date, str], list[int]] = {}
    for message in messages:
        if message.direction == "inbound":
            continue
        key = (message.created.astimezone(UTC).date(), _category(message))
        totals = counts.setdefault(key, [0, 0])
        totals[0] += 1
        totals[1] += _billed(message)
    prices = {SMS: SMS_SEGMENT_PRICE, MMS: MMS_MESSAGE_PRICE}
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    found = []
    for category in categories:
        for day in days:
            count, usage = counts.get((day, category), (0, 0))
            found.append(UsageDay(day, category, count, usage, usage * prices[category]))
    return found


def _date(request: web.Request, name: str, default: date, today: date) -> date:
    value = request.query.get(name, "")
    if not value:
        return default
    offset = OFFSET.match(value)
    if offset:
        days = int(offset.group(2))
        return today + timedelta(days=days if offset.group(1) == "+" else -days)
    try:
        if ISO_DATE.match(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    # A 400 in Twilio's error shape; 20001 is Twilio's code for a parameter it cannot take.
    raise TwilioError(400, 20001, f"{name} must be a date in the format YYYY-MM-DD: {value}")


def _record_json(account: Account, usage: UsageDay, as_of: datetime) -> dict[str, object]:
    query = urlencode({"Category": usage.category, "StartDate": usage.day, "EndDate": usage.day})
    unit = "messages"
    return {
        "account_sid": account.options.account_sid,
        "api_version": "2010-04-01",
        "as_of": as_of.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "category": usage.category,
        "count": str(usage.count),
        "count_unit": unit,
        "description": DESCRIPTIONS[usage.category],
        "end_date": usage.day.isoformat(),
        "price": str(usage.price),
        "price_unit": "usd",
        "start_date": usage.day.isoformat(),
        "subresource_uris": {},
        "uri": account_url(account, f"/Usage/Records/Daily.json?{query}"),
        "usage": str(usage.usage),
        "usage_unit": unit,
    }


def _page_uri(request: web.Request, number: int) -> str:
    query = {key: value for key, value in request.query.items() if key != "PageToken"}
    query["Page"] = str(number)
    return f"{request.path}?{urlencode(query)}"


async def daily_records(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT]
    now = now_utc()
    today = now.date()
    end = _date(request, "EndDate", today, today)
    start = _date(request, "StartDate", end - timedelta(days=DEFAULT_DAYS), today)
    wanted = request.query.get("Category")
    categories = CATEGORIES if wanted is None else [c for c in CATEGORIES if c == wanted]
    records = daily_usage(account.messages.values(), start, end, categories)
    size = page_size(request)
    try:
        number = max(0, int(request.query.get("Page", 0)))
    except ValueError:
        number = 0
    first = number * size
    items = [_record_json(account, usage, now) for usage in records[first : first + size]]
    more = first + size < len(records)
    return twilio_json(
        {
            "usage_records": items,
            "end": first + max(len(items) - 1, 0),
            "first_page_uri": _page_uri(request, 0),
            "next_page_uri": _page_uri(request, number + 1) if more else None,
            "page": number,
            "page_size": size,
            "previous_page_uri": _page_uri(request, number - 1) if number else None,
            "start": first,
            "uri": str(request.rel_url),
        }
    )
