"""``tag_added``: a contact gains a tag (``{"type": "tag_added", "tag": "new-lead"}``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from automations.triggers import Event, Settings, Trigger, register
from automations.triggers._fields import tag_setting
from tenants.models import Organization


def clean(organization: Organization, data: Mapping[str, Any]) -> Settings:
    return {"tag": tag_setting(data.get("tag"), "trigger.tag")}


def matches(settings: Settings, event: Event) -> bool:
    return str(event.data.get("tag_name", "")).lower() == str(settings["tag"]).lower()


TRIGGER = register(
    Trigger(
        type="tag_added",
        event="tag_added",
        label="Tag added",
        description="A contact is given a tag, by a person, the API, an import or a flow.",
        clean=clean,
        describe=lambda settings: f"When the tag {settings['tag']} is added",
        matches=matches,
        tag=lambda settings: settings["tag"],
        position=20,
    )
)
