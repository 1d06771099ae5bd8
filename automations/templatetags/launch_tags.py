"""``{% launches_card automation %}``: the Launches card of an automation's page (Run now,
the backfill offer, the launches' progress), built by ``views_launch`` for the member who
asks, so that the page's own view needs to know nothing of launches."""

from __future__ import annotations

from typing import Any

from django import template

from automations.models import Automation
from automations.views_launch import launches_panel

register = template.Library()


@register.inclusion_tag("automations/launch/_card.html", takes_context=True)
def launches_card(context: template.Context, automation: Automation) -> dict[str, Any]:
    return launches_panel(automation, context["request"].membership)
