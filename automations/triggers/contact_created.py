"""``contact_created``: a contact is created, optionally only from some sources
(``{"type": "contact_created", "sources": ["api", "import"]}``; none: from anywhere)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from automations.triggers import Event, Settings, Trigger, register
from tenants.errors import ApplicationError
from tenants.models import Organization
from tenants.sources import Source

# Where a contact can come from (a test send or the system never creates one).
SOURCES = (Source.UI, Source.API, Source.IMPORT, Source.INBOUND, Source.WEBHOOK)


def clean(organization: Organization, data: Mapping[str, Any]) -> Settings:
    sources = data.get("sources") or []
    if not isinstance(sources, list) or any(s not in SOURCES for s in sources):
        words = ", ".join(s.value for s in SOURCES)
        raise ApplicationError.for_field("trigger.sources", f"Sources are some of: {words}.")
    return {"sources": [s.value for s in SOURCES if s in sources]}


def describe(settings: Settings) -> str:
    sources = settings.get("sources") or []
    if not sources:
        return "When a contact is created"
    words = " or ".join(str(Source(s).label).lower() for s in sources)
    return f"When a contact is created by {words}"


def matches(settings: Settings, event: Event) -> bool:
    sources = settings.get("sources") or []
    return not sources or event.source in sources


TRIGGER = register(
    Trigger(
        type="contact_created",
        event="contact_created",
        label="Contact created",
        description="A new contact is added: in the app, by the API, an import or a reply.",
        clean=clean,
        describe=describe,
        matches=matches,
        position=10,
    )
)
