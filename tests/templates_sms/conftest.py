"""Fixtures shared by the SMS template tests."""

from __future__ import annotations

import pytest

from templates_sms import media


@pytest.fixture
def _no_dns(monkeypatch):
    """Every host resolves to a public address unless a test says otherwise."""
    monkeypatch.setattr(media, "resolve_host", lambda host: ["93.184.216.34"])
