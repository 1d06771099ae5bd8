"""``make screenshots``: copies the pictures docs/guide.md shows from where the browser journeys
saved them (``var/screenshots/``) to ``docs/images/``.

``python -m tests.e2e.guide_images`` after the journeys ran; it stops, naming the picture, when
the guide shows one that no journey took.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"  # where the journeys save them (no Django needed)
GUIDE = ROOT / "docs" / "guide.md"
IMAGES = ROOT / "docs" / "images"
PICTURE = re.compile(r"\]\(images/([a-z0-9-]+\.png)\)")


def guide_pictures() -> list[str]:
    """The file names of the pictures the guide shows, in its order, each once."""
    return list(dict.fromkeys(PICTURE.findall(GUIDE.read_text())))


def main() -> int:
    IMAGES.mkdir(exist_ok=True)
    missing = [name for name in guide_pictures() if not (SCREENSHOTS / name).exists()]
    if missing:
        sys.stderr.write(f"No journey took {', '.join(missing)} (looked in {SCREENSHOTS}).\n")
        return 1
    for name in guide_pictures():
        shutil.copyfile(SCREENSHOTS / name, IMAGES / name)
    sys.stdout.write(f"Copied {len(guide_pictures())} pictures to {IMAGES.relative_to(ROOT)}/.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
