"""The trigger registry lists every trigger module, whichever was imported first."""

from __future__ import annotations

from automations import triggers
from automations.triggers import contact_created


def test_all_triggers_when_only_one_module_had_registered(monkeypatch):
    monkeypatch.setattr(triggers, "_REGISTRY", {"contact_created": contact_created.TRIGGER})
    assert [t.type for t in triggers.all_triggers()] == list(triggers.MODULES)
