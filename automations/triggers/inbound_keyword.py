"""``inbound_keyword``: a contact texts a keyword
(``{"type": "inbound_keyword", "keywords": ["JOIN"], "match": "exact" | "first_word"}``).

Case and surrounding spaces never matter. Consent words (STOP, START, HELP and their
synonyms) belong to consent: refused here, and a reply that is one never fires a keyword."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from automations.triggers import Event, Settings, Trigger, register
from messaging.services.webhooks import HELP_WORDS, START_WORDS, STOP_WORDS
from tenants.errors import ApplicationError
from tenants.models import Organization

CONSENT_WORDS = STOP_WORDS | START_WORDS | HELP_WORDS
KEYWORD = re.compile(r"^[^\s]{1,40}( [^\s]{1,40}){0,4}$")
MATCHES = ("exact", "first_word")
MAX_KEYWORDS = 20


def normal(text: str) -> str:
    return " ".join(text.split()).upper()


def clean(organization: Organization, data: Mapping[str, Any]) -> Settings:
    raw = data.get("keywords")
    if isinstance(raw, str):
        raw = raw.split(",")
    if not isinstance(raw, list) or not any(isinstance(k, str) and k.strip() for k in raw):
        raise ApplicationError.for_field("trigger.keywords", "Give at least one keyword.")
    keywords: list[str] = []
    for word in raw:
        keyword = normal(word) if isinstance(word, str) else ""
        if not keyword:
            continue
        if not KEYWORD.match(keyword):
            raise ApplicationError.for_field(
                "trigger.keywords", f"“{keyword[:40]}”: a keyword is up to five words of 40."
            )
        if keyword in CONSENT_WORDS or keyword.split()[0] in CONSENT_WORDS:
            raise ApplicationError.for_field(
                "trigger.keywords",
                f"“{keyword}” is a consent word (STOP, START, HELP and their synonyms opt "
                "people out, back in, or answer for help): choose another keyword.",
            )
        if keyword not in keywords:
            keywords.append(keyword)
    if len(keywords) > MAX_KEYWORDS:
        raise ApplicationError.for_field(
            "trigger.keywords", f"At most {MAX_KEYWORDS} keywords per automation."
        )
    match = data.get("match") or "exact"
    if match not in MATCHES:
        raise ApplicationError.for_field("trigger.match", "Match is exact or first_word.")
    return {"keywords": keywords, "match": match}


def describe(settings: Settings) -> str:
    words = " or ".join(settings["keywords"])
    how = "starting with" if settings["match"] == "first_word" else ""
    return f"When a contact texts {how} {words}".replace("  ", " ")


def matches(settings: Settings, event: Event) -> bool:
    if event.data.get("is_keyword"):
        return False
    body = normal(str(event.data.get("body", "")))
    if body in CONSENT_WORDS:
        return False
    for keyword in settings["keywords"]:
        if body == keyword:
            return True
        if settings["match"] == "first_word" and body.startswith(keyword + " "):
            return True
    return False


TRIGGER = register(
    Trigger(
        type="inbound_keyword",
        event="inbound_received",
        label="Inbound keyword",
        description="A contact texts a keyword to your number, such as JOIN or PRICES.",
        clean=clean,
        describe=describe,
        matches=matches,
        position=40,
    )
)
