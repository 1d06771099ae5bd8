"""docs/guide.md shows pictures the browser journeys take, and each is in docs/images/."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.guide_images import IMAGES, guide_pictures

E2E = Path(__file__).resolve().parent / "e2e"
WIDTHS = ("1280", "390")


def taken_by_journeys() -> set[str]:
    """The names the journeys give ``screenshot(page, name)``, with each width they run at."""
    source = "".join(path.read_text() for path in E2E.glob("test_journeys_*.py"))
    names = re.findall(r'screenshot\(page, "([a-z0-9-]+)"\)', source)
    return {f"{name}-{width}.png" for name in names for width in WIDTHS}


def test_every_picture_of_the_guide_is_taken_by_a_journey_and_kept_in_docs_images():
    pictures = guide_pictures()

    assert len(pictures) >= 10
    assert set(pictures) - taken_by_journeys() == set()
    assert [name for name in pictures if not (IMAGES / name).is_file()] == []
