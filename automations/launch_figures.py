"""How launches read on the pages: the preflight's figures in words (money, segments,
countries, quiet hours, the cost lines), each launch as a row with its expected figures beside
what happened, and the Launches card of an automation's page (Run now, the backfill offer,
the progress), for ``views_launch`` and the ``launches_card`` tag."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from automations.models import Automation, Launch, LaunchKind, State
from automations.services.launches import backfill_offer
from automations.services.preflight import EXCLUSION_LABELS, EXCLUSIONS
from automations.triggers.manual import TRIGGER as MANUAL_TRIGGER
from tenants.models import Membership, Role, User
from tenants.sources import Source
from tenants.templatetags.zones import zoned_format

RECENT = 10  # launches on the automation's page
CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£"}
CENTS = Decimal("0.01")


# --- The figures in words ----------------------------------------------------------------------


def money(amount: Decimal | str, currency: str, *, exact: bool = False) -> str:
    """ "$12.34 USD"; ``exact`` keeps the price's own decimals ("$0.0083 USD")."""
    value = Decimal(amount)
    shown = value if exact else value.quantize(CENTS, rounding=ROUND_HALF_UP)
    return f"{CURRENCY_SIGNS.get(currency, '')}{shown} {currency}".strip()


def segments_words(count: int) -> str:
    return f"{count:,} segment{'' if count == 1 else 's'}"


def country_words(country: str) -> str:
    return country or "numbers of no known country"


@dataclass(frozen=True)
class CostLineWords:
    country: str
    segments: int
    unit_price: str
    subtotal: str


@dataclass(frozen=True)
class Figures:
    """A preflight's figures as recorded (``Preflight.as_dict``), said for a page."""

    audience: int
    exclusions: list[tuple[str, int]]  # (label, count) in the order they apply, zeros too
    excluded: int
    eligible: int
    quiet_hours: str
    segments: int
    cost: str  # the total, or why there is none
    lines: list[CostLineWords]
    unpriced: str  # the countries left out of the total, or ""


def _quiet_hours(figures: Mapping[str, Any]) -> str:
    if figures["send_waits"]:
        return "the first message comes after a wait"
    if not figures["deferred"]:
        return "none"
    until = datetime.datetime.fromisoformat(figures["deferred_until"])
    local = zoned_format(until, "M j, H:i")  # the organization's zone, current on its pages
    return f"{figures['deferred']:,} would wait for the sending window, until {local}"


def _cost(figures: Mapping[str, Any]) -> tuple[str, list[CostLineWords], str]:
    cost = figures["cost"]
    currency = cost["currency"]
    lines = [
        CostLineWords(
            country_words(line["country"]),
            line["segments"],
            money(line["unit_price"], currency, exact=True),
            money(line["subtotal"], currency),
        )
        for line in cost["lines"]
    ]
    unpriced = ", ".join(
        f"{country_words(c['country'])} ({segments_words(c['segments'])})" for c in cost["unpriced"]
    )
    if not cost["available"]:
        return cost["unavailable"], [], ""
    if not figures["segments"]:
        return "nothing: no message would be sent", [], ""
    if not lines:
        return "not known: Twilio has no price for these countries", [], unpriced
    return money(cost["total"], currency), lines, unpriced


def figures_words(figures: Mapping[str, Any]) -> Figures:
    """The figures in words, times in the current zone."""
    excluded = figures["excluded"]
    cost, lines, unpriced = _cost(figures)
    return Figures(
        audience=figures["audience"],
        exclusions=[(EXCLUSION_LABELS[key], excluded.get(key, 0)) for key in EXCLUSIONS],
        excluded=sum(excluded.values()),
        eligible=figures["eligible"],
        quiet_hours=_quiet_hours(figures),
        segments=figures["segments"],
        cost=cost,
        lines=lines,
        unpriced=unpriced,
    )


# --- The launches on the automation's page ------------------------------------------------------


@dataclass(frozen=True)
class LaunchRow:
    launch: Launch
    who: str
    # What the preflight said, beside the real counts once the launch has ended.
    expected: Figures | None


def _who(launch: Launch) -> str:
    user: User | None = launch.created_by
    if user is not None:
        return user.get_full_name()
    if launch.source == Source.API:  # a key, not a person
        return "The API"
    return "A bulk change" if launch.kind == LaunchKind.BULK_EVENT else "SMS Hub"


def _expected(launch: Launch) -> Figures | None:
    """The figures the ended launch recorded. An API client sends back the figures it showed,
    which may lack some or have another shape: those are not shown rather than fail the page."""
    if launch.is_open or not launch.preflight:
        return None
    try:
        return figures_words(launch.preflight)
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError):
        return None


def launch_rows(launches: list[Launch]) -> list[LaunchRow]:
    return [LaunchRow(launch, _who(launch), _expected(launch)) for launch in launches]


def can_run(automation: Automation) -> bool:
    """Run now is for an active automation with the manual trigger: other triggers have
    their own events (and a tag or date trigger its backfill)."""
    return automation.state == State.ACTIVE and automation.trigger_type == MANUAL_TRIGGER.type


def progress_context(automation: Automation, *, can_write: bool) -> dict[str, Any]:
    """The launches' progress: the newest, polled while one of them is open."""
    found = list(automation.launches.select_related("created_by")[: RECENT + 1])
    rows = launch_rows(found[:RECENT])
    return {
        "automation": automation,
        "rows": rows,
        "more": len(found) > RECENT,
        "polling": any(row.launch.is_open for row in rows),
        "can_write": can_write,
    }


def launches_panel(automation: Automation, membership: Membership) -> dict[str, Any]:
    """The automation page's Launches card: Run now, the backfill offer and the progress
    (the offer counted only for those who may take it up)."""
    can_write = Role.at_least(membership.role, Role.MARKETER)
    return {
        **progress_context(automation, can_write=can_write),
        "can_run": can_write and can_run(automation),
        "offer": backfill_offer(automation) if can_write else 0,
    }
