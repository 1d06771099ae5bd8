"""The trigger registry lists every trigger module, whichever was imported first."""

from __future__ import annotations

from automations import triggers
from automations.triggers import contact_created


def test_all_triggers_when_only_one_module_had_registered(monkeypatch):
    monkeypatch.setattr(triggers, "_REGISTRY", {"contact_created": contact_created.TRIGGER})
    listed = triggers.all_triggers()
    assert sorted(t.type for t in listed) == sorted(triggers.MODULES)
    assert [t.position for t in listed] == sorted(t.position for t in listed)
    assert [t.type for t in listed][:4] == [
        "contact_created",
        "tag_added",
        "tag_removed",
        "inbound_keyword",
    ]
