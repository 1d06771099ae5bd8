"""Number formats of the dashboard."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def intcomma0(value: int | float | None) -> str:
    """1234 → "1,234" (whatever the locale: figures read the same everywhere on the page)."""
    return f"{value or 0:,.0f}"


@register.filter
def pct(value: float | None) -> str:
    """A share as a percentage with one decimal; "—" when there is nothing to divide."""
    return "—" if value is None else f"{value * 100:.1f}%"


@register.filter
def money(value: Decimal | float | None) -> str:
    return f"{value or 0:,.2f}"
