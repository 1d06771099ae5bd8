"""``tag_removed``: a contact loses a tag (``{"type": "tag_removed", "tag": "customer"}``)."""

from __future__ import annotations

from automations.triggers import Trigger, register
from automations.triggers.tag_added import clean, matches

TRIGGER = register(
    Trigger(
        type="tag_removed",
        event="tag_removed",
        label="Tag removed",
        description="A tag is taken off a contact.",
        clean=clean,
        describe=lambda settings: f"When the tag {settings['tag']} is removed",
        matches=matches,
        position=30,
    )
)
