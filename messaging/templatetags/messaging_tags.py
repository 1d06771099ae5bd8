"""``{% status_badge message %}``: a message's status as a coloured badge, what it means in
words, and the reason when it was not delivered or not sent."""

from __future__ import annotations

from typing import Any

from django import template

from messaging.models import Message, Status
from messaging.statuses import STATUS_WORDS

register = template.Library()


def reason(message: Message) -> str:
    if message.status == Status.SUPPRESSED and message.suppressed_reason:
        return str(message.get_suppressed_reason_display())
    if message.status in (Status.FAILED, Status.UNDELIVERED, Status.CANCELED):
        return message.error_message or ""
    return ""


@register.inclusion_tag("messaging/_status.html")
def status_badge(message: Message, explain: bool = True) -> dict[str, Any]:
    words = STATUS_WORDS[Status(message.status)]
    return {
        "words": words,
        "reason": reason(message),
        "explain": explain,
        "attention": message.needs_attention,
    }
