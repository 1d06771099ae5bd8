"""``{% launches_card automation %}``: the Launches card of an automation's page (Run now,
the backfill offer, the launches' progress), built by ``launch_figures`` for the member who
asks, so that the page's own view needs to know nothing of launches."""

from __future__ import annotations

from typing import Any

from django import template

from automations.launch_figures import launches_panel
from automations.models import Automation

register = template.Library()


@register.inclusion_tag("automations/launch/_card.html", takes_context=True)
def launches_card(context: template.Context, automation: Automation) -> dict[str, Any]:
    return launches_panel(automation, context["request"].membership)
