"""``{% automation_url automation %}``: where an automation's name links to, its own page
when there is one (``automation_detail``), else its editor."""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse

from automations.models import Automation

register = template.Library()


@register.simple_tag
def automation_url(automation: Automation) -> str:
    try:
        return reverse("automation_detail", args=[automation.public_id])
    except NoReverseMatch:
        return reverse("automation_edit", args=[automation.public_id])
