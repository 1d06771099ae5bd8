"""``manual``: no event fires it; a marketer launches it to an audience with **Run now**
(``{"type": "manual"}``)."""

from __future__ import annotations

from automations.triggers import Trigger, register

TRIGGER = register(
    Trigger(
        type="manual",
        event="",  # never an event: only a launch enrols
        label="Run now",
        description="You send it when you choose, to all contacts or some by tags and fields.",
        clean=lambda organization, data: {},
        describe=lambda settings: "When run by hand (Run now)",
        matches=lambda settings, event: False,
        position=70,
    )
)
