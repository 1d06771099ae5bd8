"""The trigger registry: each trigger type is one module of this package.

A trigger says which events enrol a contact. It has a ``type`` (the API word), a card for the
builder (``label``, ``description``), and three functions: ``clean`` (the trigger's settings
as sent by a page or the API → the stored form, or an ``ApplicationError`` naming the field),
``describe`` (the settings in words: "When the tag new-lead is added") and ``matches`` (whether
an event fires an automation with these settings). A module registers itself with
``register``; ``automations.triggers.all_triggers`` lists them for the builder, in the order of
their ``position``. Adding a trigger is adding a module: every module of the package whose
name does not start with ``_`` is one.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tenants.errors import ApplicationError
from tenants.models import Organization

Settings = dict[str, Any]


@dataclass(frozen=True)
class Event:
    """Something that happened to contacts, as a receiver enqueued it.

    ``key`` is unique per event and stable across retries of its task: the occurrence key
    that makes a repeated event enrol once. ``data`` is the signal's own payload (``tag_name``,
    ``body``, ``is_keyword``, …)."""

    type: str
    organization_id: int
    contact_ids: tuple[int, ...]
    source: str
    key: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_task_args(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "organization_id": self.organization_id,
            "contact_ids": list(self.contact_ids),
            "source": self.source,
            "key": self.key,
            "data": dict(self.data),
        }

    @classmethod
    def from_task_args(cls, args: Mapping[str, Any]) -> Event:
        return cls(
            type=args["type"],
            organization_id=args["organization_id"],
            contact_ids=tuple(args["contact_ids"]),
            source=args["source"],
            key=args["key"],
            data=args.get("data") or {},
        )


@dataclass(frozen=True)
class Trigger:
    type: str
    event: str  # the event it fires on: a signal's name (``tag_added``, ``inbound_received``)
    label: str
    description: str
    clean: Callable[[Organization, Mapping[str, Any]], Settings]
    describe: Callable[[Settings], str]
    matches: Callable[[Settings, Event], bool]
    # The tag whose removal ends an enrolment under the exit rule ``on_trigger_tag_removed``.
    tag: Callable[[Settings], str | None] = lambda settings: None
    position: int = 100  # where its card stands in the builder


_REGISTRY: dict[str, Trigger] = {}
MODULES = tuple(
    sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
)


def register(trigger: Trigger) -> Trigger:
    _REGISTRY[trigger.type] = trigger
    return trigger


def _load() -> None:
    # Every module, whichever was imported first (importing one registers only that one).
    if len(_REGISTRY) < len(MODULES):
        for name in MODULES:
            trigger = importlib.import_module(f"{__name__}.{name}").TRIGGER
            _REGISTRY.setdefault(trigger.type, trigger)


def all_triggers() -> list[Trigger]:
    _load()
    return sorted(_REGISTRY.values(), key=lambda t: (t.position, t.type))


def trigger_of(type_: object) -> Trigger:
    """The trigger of that type, or an ``ApplicationError`` on ``trigger.type``."""
    _load()
    if not isinstance(type_, str) or type_ not in _REGISTRY:
        choices = ", ".join(t.type for t in all_triggers())
        raise ApplicationError.for_field("trigger.type", f"Choose a trigger: one of {choices}.")
    return _REGISTRY[type_]


def triggers_for_event(event_type: str) -> list[Trigger]:
    return [t for t in all_triggers() if t.event == event_type]


def trigger_clean(organization: Organization, data: object) -> Settings:
    if not isinstance(data, Mapping):
        raise ApplicationError.for_field("trigger", "Give the trigger as an object with a type.")
    trigger = trigger_of(data.get("type"))
    return {"type": trigger.type, **trigger.clean(organization, data)}


def trigger_describe(settings: Settings) -> str:
    return trigger_of(settings.get("type")).describe(settings)
