"""Fixtures shared by the SMS template tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from templates_sms import media


@pytest.fixture
def resolved(monkeypatch) -> Callable[..., list[str]]:
    """Makes every host resolve to the given addresses; records the hosts looked up."""
    lookups: list[str] = []

    def use(*addresses: str) -> list[str]:
        def resolve(host: str) -> list[str]:
            lookups.append(host)
            return list(addresses)

        monkeypatch.setattr(media, "resolve_host", resolve)
        return lookups

    return use
